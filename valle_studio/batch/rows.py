"""The records a batch project is made of: rows, their takes, and what was exported where.

Plain dataclasses with ``to_dict``/``from_dict`` for ``project.json``; :class:`~valle_studio.batch.
project.BatchProject` owns them and does all the locking and saving. A row's takes are the studio's
own :class:`~valle_studio.studio.takes.Take` records (re-exported here), so a take has the same
fields in the history and in a batch.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from valle_studio.studio.takes import Take

# Persisted states of a row (see Row.status). "queued" and "running" exist only while a run is going.
PENDING = "pending"  # no take yet
DONE = "done"  # the approved take matches the row's text, voice and language
FAILED = "failed"  # the last attempt raised; ``Row.error`` says why
CHANGED = "changed"  # has a take, but the text, voice or language was edited since
NEEDS_WORK = (PENDING, FAILED, CHANGED)


def new_id(taken: set[str] | None = None, prefix: str = "") -> str:
    """A short random id not in ``taken``."""
    while True:
        candidate = prefix + secrets.token_hex(4)
        if not taken or candidate not in taken:
            return candidate


@dataclass
class Row:
    """One line of the script. Empty ``voice``/``language`` mean the project's default;
    ``settings`` holds only the fields that differ from the project's settings."""

    id: str
    text: str
    voice: str = ""
    seed: int | None = None
    filename: str = ""
    language: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    takes: list[Take] = field(default_factory=list)
    approved: str | None = None
    error: str = ""
    source_line: int = 0

    @property
    def approved_take(self) -> Take | None:
        return next((t for t in self.takes if t.id == self.approved), None)

    def take(self, take_id: str) -> Take:
        for take in self.takes:
            if take.id == take_id:
                return take
        raise KeyError(f"row {self.id} has no take {take_id}")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "voice": self.voice, "seed": self.seed,
                "filename": self.filename, "language": self.language, "settings": self.settings,
                "takes": [t.to_dict() for t in self.takes], "approved": self.approved, "error": self.error,
                "source_line": self.source_line}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        seed = data.get("seed")
        return cls(id=str(data["id"]), text=str(data["text"]), voice=str(data.get("voice") or ""),
                   seed=None if seed is None else int(seed), filename=str(data.get("filename") or ""),
                   language=str(data.get("language") or ""), settings=dict(data.get("settings") or {}),
                   takes=[Take.from_dict(t) for t in data.get("takes") or []],
                   approved=data.get("approved"), error=str(data.get("error") or ""),
                   source_line=int(data.get("source_line") or 0))


@dataclass
class ExportedFile:
    """One file an export wrote (or reserved) in its folder.

    ``take`` is None while the name is only reserved (planned before generation), so a file found
    there after a crash is known to be this project's own. ``sha256`` is the content written; a
    file whose content no longer matches was changed by someone else and is never overwritten.
    """

    name: str
    base: str  # the stem the template gave, before any "-2" was added
    take: str | None = None
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "base": self.base, "take": self.take, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportedFile:
        return cls(name=str(data["name"]), base=str(data.get("base", "")), take=data.get("take"),
                   sha256=data.get("sha256"))


@dataclass
class ExportRecord:
    """Everything exported into one folder. ``files`` maps a row id (or ``@manifest.csv`` and the
    like for the project-wide files) to what was written for it."""

    folder: str  # absolute path
    template: str
    files: dict[str, ExportedFile] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "template": self.template,
                "files": {key: f.to_dict() for key, f in self.files.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportRecord:
        return cls(folder=str(data["folder"]), template=str(data["template"]),
                   files={str(k): ExportedFile.from_dict(v) for k, v in (data.get("files") or {}).items()})


__all__ = ["CHANGED", "DONE", "FAILED", "NEEDS_WORK", "PENDING", "ExportRecord", "ExportedFile", "Row",
           "Take", "new_id"]
