"""A batch project on disk: the rows of a script, their takes and approvals, saved atomically.

Layout of a project folder::

    project.json              rows, settings, takes, approvals, export records (atomic writes only)
    lexicon.tsv               the project's pronunciation lexicon, when it has one (studio/lexicons.py)
    takes/<row>-<take>.flac   24-bit FLAC of every take
    .lock                     held by the process that has the project open (see lock.py)

Format 2 stores each take as the studio's :class:`~valle_studio.studio.takes.Take` record (the history's
fields: ``audio_file``, ``modality``, ``real_time_factor``, ...); format-1 projects, whose takes named
their audio ``file``, open as they are and are saved as format 2 from then on.

Crash safety rests on one ordering: a take's audio file is complete on disk before ``project.json``
mentions it, and ``project.json`` is replaced atomically after every finished row. So after a crash
or a kill the saved project never names a missing file, and every row it calls finished stays
finished; a row that was being generated is simply still pending. Take files no saved project
mentions (the row in flight at the crash) are removed when the project is next opened.

All mutation goes through methods that hold :attr:`BatchProject.lock`, because the GUI edits rows
on its thread while the runner adds takes on the worker thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from valle_studio.audio.io import load_audio, save_audio
from valle_studio.batch.lock import ProjectLock
from valle_studio.batch.rows import (
    CHANGED,
    DONE,
    FAILED,
    NEEDS_WORK,
    PENDING,
    ExportRecord,
    Row,
    Take,
    new_id,
)
from valle_studio.batch.script import ScriptLine
from valle_studio.core.atomic import atomic_write_json
from valle_studio.engine.settings import SPECS, GenerationSettings
from valle_studio.engine.text.lexicon import Lexicon
from valle_studio.studio.takes import rtf_of

log = logging.getLogger(__name__)

PROJECT_FILE = "project.json"
LEXICON_FILE = "lexicon.tsv"
TAKES_DIR = "takes"
FORMAT = "valle-studio-batch"
#: 2: takes are :class:`~valle_studio.studio.takes.Take` records (1: batch-only takes; still read).
VERSION = 2
_ROW_FIELDS = ("text", "voice", "seed", "filename", "language", "settings")


class ProjectError(ValueError):
    """A project cannot be created, read or changed as asked; the message names the file or row."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class BatchProject:
    """See the module docstring. Build with :meth:`create` or :meth:`open`; :meth:`close` when done."""

    def __init__(self, folder: Path, *, name: str, rows: list[Row], settings: GenerationSettings,
                 language: str = "en", default_voice: str = "", prompt_files: Sequence[str] = (),
                 model: str = "", script: dict[str, Any] | None = None, created: str = "",
                 exports: list[ExportRecord] | None = None) -> None:
        self.folder = Path(folder)
        self.name = name
        self.rows = rows
        self.settings = settings
        self.language = language
        self.default_voice = default_voice
        self.prompt_files = list(prompt_files)
        self.model = model
        self.script = dict(script or {})  # {"path", "sha256", "format"}
        self.created = created or _now()
        self.exports = list(exports or [])
        self.warnings: list[str] = []
        self.lock = threading.RLock()
        self._process_lock: ProjectLock | None = None

    # -- creating and opening --------------------------------------------------------------------
    @staticmethod
    def exists(folder: str | Path) -> bool:
        return (Path(folder) / PROJECT_FILE).is_file()

    @classmethod
    def create(cls, folder: str | Path, lines: Iterable[ScriptLine], *, name: str,
               settings: GenerationSettings, lock: bool = True, **meta: Any) -> BatchProject:
        """A new project in ``folder`` (created if needed; must not hold a project yet), saved at once.
        ``meta``: ``language``, ``default_voice``, ``prompt_files``, ``model``, ``script``."""
        folder = Path(folder)
        if cls.exists(folder):
            raise ProjectError(f"{folder} already holds a batch project; open it instead")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / TAKES_DIR).mkdir(exist_ok=True)
        taken: set[str] = set()
        rows = []
        for line in lines:
            row_id = new_id(taken, "r")
            taken.add(row_id)
            rows.append(Row(row_id, line.text, line.voice, line.seed, line.filename, line.language,
                            settings=line.settings(), source_line=line.line))
        project = cls(folder, name=name, rows=rows, settings=settings, **meta)
        if lock:
            project._process_lock = ProjectLock(folder).acquire()
        try:
            project.save()
        except BaseException:
            project.close()
            raise
        return project

    @classmethod
    def open(cls, folder: str | Path, *, lock: bool = True) -> BatchProject:
        """Read the project in ``folder``. With ``lock`` (the default) the folder is locked against
        other processes and leftovers of an interrupted run are cleaned up.

        Raises:
            ProjectError: no project there, or ``project.json`` is damaged.
            ProjectBusy: another process has the project open.
        """
        folder = Path(folder)
        path = folder / PROJECT_FILE
        process_lock = ProjectLock(folder).acquire() if lock and path.is_file() else None
        try:
            project = cls._read(folder, path)
        except BaseException:
            if process_lock is not None:
                process_lock.release()
            raise
        project._process_lock = process_lock
        project._check_takes()
        if process_lock is not None:
            project._remove_leftovers()
        return project

    @classmethod
    def _read(cls, folder: Path, path: Path) -> BatchProject:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProjectError(f"no batch project in {folder} ({PROJECT_FILE} is missing)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProjectError(f"{path} cannot be read: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ProjectError(f"{path} is not a VALL-E Studio batch project")
        if int(data.get("version", 0)) > VERSION:
            raise ProjectError(f"{path} was written by a newer VALL-E Studio (format {data['version']}); "
                               "update the app to open it")
        try:
            return cls(folder, name=str(data.get("name") or folder.name),
                       rows=[Row.from_dict(r) for r in data["rows"]],
                       settings=GenerationSettings.from_dict(data.get("settings") or {}),
                       language=str(data.get("language") or "en"),
                       default_voice=str(data.get("default_voice") or ""),
                       prompt_files=[str(p) for p in data.get("prompt_files") or []],
                       model=str(data.get("model") or ""), script=data.get("script") or {},
                       created=str(data.get("created") or ""),
                       exports=[ExportRecord.from_dict(e) for e in data.get("exports") or []])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(f"{path} is damaged: {exc}") from exc

    def _check_takes(self) -> None:
        """Forget takes whose audio file vanished (deleted by hand), with a warning."""
        for index, row in enumerate(self.rows):
            missing = [t for t in row.takes if not (self.folder / t.audio_file).is_file()]
            if not missing:
                continue
            row.takes = [t for t in row.takes if t not in missing]
            if row.approved_take is None:
                row.approved = row.takes[-1].id if row.takes else None
            self.warnings.append(f"row {index + 1}: {len(missing)} take file(s) are missing and were dropped")

    def _remove_leftovers(self) -> None:
        """Delete take files no row mentions (generated when a crash hit) and stale temporary files."""
        known = {t.audio_file for row in self.rows for t in row.takes}
        for folder in (self.folder, self.folder / TAKES_DIR):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                relative = path.relative_to(self.folder).as_posix()
                stale_temp = path.name.startswith(".") and path.name.endswith(".tmp")
                orphan = folder.name == TAKES_DIR and path.suffix == ".flac" and relative not in known
                if stale_temp or orphan:
                    with contextlib.suppress(OSError):
                        path.unlink()

    def close(self) -> None:
        """Release the process lock (the project object stays readable)."""
        if self._process_lock is not None:
            self._process_lock.release()
            self._process_lock = None

    def __enter__(self) -> BatchProject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- saving ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"format": FORMAT, "version": VERSION, "name": self.name, "created": self.created,
                    "script": self.script, "model": self.model, "language": self.language,
                    "default_voice": self.default_voice, "prompt_files": self.prompt_files,
                    "settings": self.settings.to_dict(), "rows": [r.to_dict() for r in self.rows],
                    "exports": [e.to_dict() for e in self.exports]}

    def save(self) -> None:
        """Replace ``project.json`` atomically with the current state."""
        with self.lock:
            atomic_write_json(self.folder / PROJECT_FILE, self.to_dict())

    # -- queries ---------------------------------------------------------------------------------
    def row(self, row_id: str) -> Row:
        for row in self.rows:
            if row.id == row_id:
                return row
        raise ProjectError(f"the project has no row {row_id!r}")

    def index_of(self, row_id: str) -> int:
        for index, row in enumerate(self.rows):
            if row.id == row_id:
                return index
        raise ProjectError(f"the project has no row {row_id!r}")

    def voice_for(self, row: Row) -> str:
        """The saved voice a row is spoken with ("" = the project's prompt files, or none)."""
        return row.voice or self.default_voice

    def voice_label(self, row: Row) -> str:
        """What the ``{voice}`` field and manifests call the row's voice."""
        if self.voice_for(row):
            return self.voice_for(row)
        return Path(self.prompt_files[0]).stem if self.prompt_files else "voice"

    def language_for(self, row: Row) -> str:
        return row.language or self.language

    def settings_for(self, row: Row) -> GenerationSettings:
        """The project's settings with the row's own changes (validated)."""
        if not row.settings:
            return self.settings
        return GenerationSettings.from_dict({**self.settings.to_dict(), **row.settings})

    def status(self, row: Row) -> str:
        """``pending``, ``done``, ``failed`` or ``changed`` (see :mod:`valle_studio.batch.rows`)."""
        take = row.approved_take
        if take is None:
            return FAILED if row.error else PENDING
        if (take.text, take.voice, take.language) != (row.text, self.voice_label(row), self.language_for(row)):
            return CHANGED
        return DONE

    def ids_with_status(self, *statuses: str) -> list[str]:
        with self.lock:
            return [r.id for r in self.rows if self.status(r) in statuses]

    def ids_needing_work(self) -> list[str]:
        """Rows a "run all" generates: pending, failed and changed ones, in order."""
        return self.ids_with_status(*NEEDS_WORK)

    def counts(self) -> dict[str, int]:
        with self.lock:
            counts = dict.fromkeys((PENDING, DONE, FAILED, CHANGED), 0)
            for row in self.rows:
                counts[self.status(row)] += 1
            return counts

    def take_audio(self, take: Take) -> tuple[np.ndarray, int]:
        """``(samples [S] float32, sample_rate)`` of a take."""
        clip = load_audio(self.folder / take.audio_file)
        return clip.samples, clip.sample_rate

    # -- changes (each saves) ---------------------------------------------------------------------
    def update_row(self, row_id: str, **changes: Any) -> Row:
        """Change ``text``, ``voice``, ``seed``, ``filename``, ``language`` or ``settings`` of a row."""
        unknown = set(changes) - set(_ROW_FIELDS)
        if unknown:
            raise ProjectError(f"cannot change {', '.join(sorted(unknown))} of a row")
        with self.lock:
            row = self.row(row_id)
            if "text" in changes and not " ".join(str(changes["text"]).split()):
                raise ProjectError(f"row {self.index_of(row_id) + 1}: the text cannot be empty")
            if "settings" in changes:
                overrides = dict(changes["settings"] or {})
                GenerationSettings.from_dict({**self.settings.to_dict(), **overrides})  # validates
                changes["settings"] = {k: v for k, v in overrides.items() if self.settings.to_dict().get(k) != v}
            if changes.get("seed") is not None and not SPECS["seed"].allows(int(changes["seed"])):
                raise ProjectError("a seed must be between 0 and 2^63 - 1")
            for key, value in changes.items():
                setattr(row, key, " ".join(value.split()) if key == "text" else value)
            self.save()
            return row

    def insert_row(self, index: int, text: str, **fields: Any) -> Row:
        with self.lock:
            row = Row(new_id({r.id for r in self.rows}, "r"), " ".join(text.split()) or "…")
            self.rows.insert(max(0, min(index, len(self.rows))), row)
            for key, value in fields.items():
                setattr(row, key, value)
            self.save()
            return row

    def remove_rows(self, row_ids: Iterable[str]) -> None:
        """Delete rows and their take files (the files go after the save, so a crash keeps them)."""
        ids = set(row_ids)
        with self.lock:
            gone = [t for r in self.rows if r.id in ids for t in r.takes]
            self.rows = [r for r in self.rows if r.id not in ids]
            self.save()
        for take in gone:
            (self.folder / take.audio_file).unlink(missing_ok=True)

    @property
    def lexicon_path(self) -> Path:
        """The project's own pronunciation lexicon (it need not exist); merged over the global and voice
        lexicons for every row (:func:`valle_studio.studio.lexicons.combined`)."""
        return self.folder / LEXICON_FILE

    def set_lexicon(self, lexicon: Lexicon) -> None:
        """Replace the project's lexicon (an empty one removes the file); rows generated later use it."""
        from valle_studio.studio.lexicons import save_lexicon

        with self.lock:
            save_lexicon(self.lexicon_path, lexicon)

    def set_settings(self, settings: GenerationSettings) -> None:
        with self.lock:
            self.settings = settings
            self.save()

    def set_defaults(self, *, default_voice: str | None = None, language: str | None = None) -> None:
        with self.lock:
            if default_voice is not None:
                self.default_voice = default_voice
            if language is not None:
                self.language = language
            self.save()

    def approve(self, row_id: str, take_id: str) -> None:
        with self.lock:
            row = self.row(row_id)
            row.take(take_id)  # raises for an unknown take
            row.approved = take_id
            self.save()

    def delete_take(self, row_id: str, take_id: str) -> None:
        with self.lock:
            row = self.row(row_id)
            take = row.take(take_id)
            row.takes.remove(take)
            if row.approved == take_id:
                row.approved = row.takes[-1].id if row.takes else None
            self.save()
        (self.folder / take.audio_file).unlink(missing_ok=True)

    # -- used by the runner (the caller saves) ----------------------------------------------------
    def add_take(self, row_id: str, audio: np.ndarray, sample_rate: int, *, seed: int,
                 settings: GenerationSettings, text: str, voice: str, language: str, model: str,
                 elapsed_s: float, modality: str = "", approve: bool = True,
                 extra: dict[str, Any] | None = None) -> Take:
        """Write ``audio`` (``[S]`` float32) as a new take of the row, then record it. The audio file is
        complete before the row mentions it; call :meth:`save` afterwards to make the take durable.
        ``modality``: the generation path that ran (the result's), "" when unknown; ``extra``: what the
        take record keeps besides (its quality check)."""
        with self.lock:
            row = self.row(row_id)
            take_id = new_id({t.id for t in row.takes})
        relative = f"{TAKES_DIR}/{row_id}-{take_id}.flac"
        (self.folder / TAKES_DIR).mkdir(exist_ok=True)
        save_audio(self.folder / relative, audio, sample_rate, subtype="PCM_24")
        duration_s = len(audio) / sample_rate
        take = Take(id=take_id, created=_now(), text=text, voice=voice, language=language, model=model,
                    settings=settings.replace(seed=int(seed)), seed=int(seed), modality=modality,
                    duration_s=duration_s, elapsed_s=elapsed_s, real_time_factor=rtf_of(elapsed_s, duration_s),
                    sample_rate=int(sample_rate), audio_file=relative, extra=dict(extra or {}))
        with self.lock:
            row = self.row(row_id)
            row.takes.append(take)
            row.error = ""
            if approve or row.approved is None:
                row.approved = take.id
        return take

    def mark_failed(self, row_id: str, message: str) -> None:
        with self.lock:
            self.row(row_id).error = message or "failed"

    def export_record(self, folder: Path) -> ExportRecord | None:
        key = str(Path(folder).resolve())
        with self.lock:
            return next((e for e in self.exports if e.folder == key), None)


__all__ = ["PROJECT_FILE", "TAKES_DIR", "BatchProject", "ProjectError"]
