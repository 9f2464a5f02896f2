"""The local audit log: one JSON line per exported file (what was said, voice, model, where it went, when,
and whether the watermark was confirmed in it).

The log is ``exports.jsonl`` in ``$VALLE_AUDIT_DIR`` when that is set (tests), else in
``user_data_dir()/audit``. The app, the CLI and a batch can export at the same moment from several
processes, so every append holds a :class:`filelock.FileLock` on ``exports.jsonl.lock``. Appending (not
rewriting through ``core.atomic``) is deliberate: an audit log only grows, and rewriting a growing file
on every export would cost more each time; a line is written with one ``write`` and fsynced, and a reader
skips a torn last line a crash could leave (:meth:`AuditLog.entries`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from valle_studio.core.provenance import Provenance

AUDIT_ENV = "VALLE_AUDIT_DIR"
LOG_NAME = "exports.jsonl"
LOCK_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)


def audit_dir() -> Path:
    """Where the audit log lives (``$VALLE_AUDIT_DIR``, else the app's data folder ``/audit``); created."""
    override = os.environ.get(AUDIT_ENV)
    if override:
        folder = Path(override)
    else:
        from valle_studio.paths import user_data_dir

        folder = user_data_dir() / "audit"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class AuditEntry:
    """One exported file. ``source`` says what exported it ("studio", "synth", "batch");
    ``time`` is ISO 8601 UTC (when the file was written), ``path`` absolute."""

    time: str
    source: str
    path: str
    text: str
    voice: str
    model: str
    watermark: bool
    app_version: str

    @classmethod
    def of(cls, record: Provenance, path: Path, source: str, time: str | None = None) -> AuditEntry:
        from valle_studio.core.provenance import utc_now

        return cls(time=time or utc_now(), source=source, path=str(Path(path).absolute()), text=record.text,
                   voice=record.voice, model=record.model, watermark=record.watermark,
                   app_version=record.app_version)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditEntry:
        return cls(time=str(data["time"]), source=str(data.get("source", "")), path=str(data["path"]),
                   text=str(data.get("text", "")), voice=str(data.get("voice", "")),
                   model=str(data.get("model", "")), watermark=bool(data.get("watermark", False)),
                   app_version=str(data.get("app_version", "")))


def _ends_torn(path: Path) -> bool:
    """Whether the file's last line lacks its newline (a write cut off by a crash)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except FileNotFoundError:
        return False


class AuditLog:
    """The log in ``folder`` (default :func:`audit_dir`); see the module docstring."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self._folder = Path(folder) if folder is not None else None

    @property
    def folder(self) -> Path:
        folder = self._folder if self._folder is not None else audit_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def path(self) -> Path:
        return self.folder / LOG_NAME

    def append(self, entry: AuditEntry) -> None:
        """Add one line, under the lock (several processes may append at once). Raises OSError."""
        from filelock import FileLock

        line = json.dumps(asdict(entry), ensure_ascii=False, sort_keys=True) + "\n"
        path = self.path
        with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S):
            if _ends_torn(path):
                line = "\n" + line  # a crash left half a line: the new one must not be glued onto it
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())

    def record(self, record: Provenance, path: Path, source: str) -> AuditEntry:
        """Append the entry of one export and return it."""
        entry = AuditEntry.of(record, path, source)
        self.append(entry)
        return entry

    def entries(self) -> list[AuditEntry]:
        """Every readable entry, oldest first; a damaged line (a torn write, an edit) is skipped and logged."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        found = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                found.append(AuditEntry.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                log.warning("%s: skipping unreadable line %d", self.path, number)
        return found


__all__ = ["AUDIT_ENV", "LOG_NAME", "AuditEntry", "AuditLog", "audit_dir"]
