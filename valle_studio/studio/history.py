"""Take history: every generation kept as a FLAC file plus one JSON index, surviving restarts.

Layout under ``user_data_dir()/history`` (or any folder given to :class:`History`)::

    index.json          {"version": 1, "takes": [take, ...]}   newest last
    audio/<take id>.flac
    trash/<take id>.flac   audio of takes deleted in this session, until :meth:`History.restore`
                           brings one back (emptied when the history is opened again)

Each take is a :class:`~valle_studio.studio.takes.Take` (the record batch projects use too) in its
``to_dict`` form.

Both kinds of file are written through :func:`valle_studio.core.atomic.atomic_write`, so a crash
mid-write leaves the previous state intact. A damaged index is set aside as
``index.json.corrupt`` and the history starts empty rather than refusing to start the app.
No Qt here: the GUI wraps this in a list model.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from valle_studio.core.atomic import AtomicWriteError, atomic_write, atomic_write_json
from valle_studio.engine.requests import SynthesisResult
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.takes import Take

log = logging.getLogger(__name__)

INDEX_VERSION = 1
INDEX_NAME = "index.json"
AUDIO_DIR = "audio"
TRASH_DIR = "trash"


class HistoryError(RuntimeError):
    """A take could not be stored or read back; the message names the file."""


def _write_flac(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    import soundfile as sf

    # 24-bit FLAC: lossless for anything a 16/24-bit export could hold, half the size of float WAV.
    atomic_write(path, lambda tmp: sf.write(tmp, np.clip(audio, -1.0, 1.0), sample_rate,
                                            format="FLAC", subtype="PCM_24"))


def _move(source: Path, target: Path) -> None:
    """Move a finished audio file between the history's folders (audio/ and trash/): a rename on one file
    system, so the file is whole in one place or the other, never half written."""
    os.replace(source, target)


def _new_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class History:
    """The takes of one user, oldest first, persisted in ``folder``.

    ``max_takes`` bounds the history: adding beyond it deletes the oldest takes and their audio.
    Not thread-safe; the GUI calls it from its own thread only.
    """

    def __init__(self, folder: Path, *, max_takes: int = 500) -> None:
        if max_takes < 1:
            raise ValueError(f"max_takes must be at least 1, got {max_takes}")
        self.folder = Path(folder)
        self.max_takes = max_takes
        (self.folder / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
        self._takes: list[Take] = self._read_index()
        self._removed_at: dict[str, int] = {}  # take id -> its index when removed with undoable
        self.empty_trash()  # what an earlier session deleted can no longer be undone

    @classmethod
    def default(cls) -> History:
        """The history in the user's data folder (``valle_studio.paths.user_data_dir()/history``)."""
        from valle_studio.paths import user_data_dir

        return cls(user_data_dir() / "history")

    # -- reading -------------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.folder / INDEX_NAME

    def takes(self) -> list[Take]:
        """All takes, oldest first."""
        return list(self._takes)

    def __len__(self) -> int:
        return len(self._takes)

    def __iter__(self) -> Iterator[Take]:
        return iter(list(self._takes))

    def get(self, take_id: str) -> Take:
        for take in self._takes:
            if take.id == take_id:
                return take
        raise KeyError(f"no take {take_id!r} in {self.index_path}")

    def audio_path(self, take: Take) -> Path:
        return self.folder / take.audio_file

    def load_audio(self, take: Take) -> tuple[np.ndarray, int]:
        """The take's clip: mono float32 ``[S]`` and its sample rate."""
        import soundfile as sf

        path = self.audio_path(take)
        try:
            audio, rate = sf.read(path, dtype="float32", always_2d=False)
        except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError types
            raise HistoryError(f"cannot read the audio of take {take.id} from {path}: {exc}") from exc
        if audio.ndim > 1:
            audio = audio[:, 0]
        return np.ascontiguousarray(audio, dtype=np.float32), int(rate)

    # -- writing -------------------------------------------------------------------------------
    def add(self, result: SynthesisResult, *, text: str, voice: str, language: str, model: str,
            settings: GenerationSettings, extra: dict[str, Any] | None = None) -> Take:
        """Store a finished generation as a new take and return it.

        ``result.audio`` must be mono float32 ``[S]``; ``settings`` are those the request carried
        (their ``seed`` may be None: the seed the run drew, ``result.seed``, is recorded instead).
        """
        if result.audio is None:
            raise HistoryError("this result has no audio (the synthesizer ran without a codec)")
        audio = np.asarray(result.audio, dtype=np.float32).reshape(-1)
        now = datetime.now(timezone.utc)
        take_id = _new_id(now)
        rel = f"{AUDIO_DIR}/{take_id}.flac"
        try:
            _write_flac(self.folder / rel, audio, result.sample_rate)
        except Exception as exc:  # AtomicWriteError, or soundfile's own error types
            raise HistoryError(f"cannot write take audio to {self.folder / rel}: {exc}") from exc
        rtf = result.real_time_factor
        take = Take(
            id=take_id, created=now.isoformat(timespec="seconds"), text=text, voice=voice,
            language=language, model=model, settings=settings.replace(seed=result.seed),
            seed=result.seed, modality=result.modality, duration_s=len(audio) / result.sample_rate,
            elapsed_s=result.elapsed_s, real_time_factor=rtf if math.isfinite(rtf) else None,
            sample_rate=result.sample_rate, audio_file=rel, extra=dict(extra or {}),
        )
        self._takes.append(take)
        dropped = self._takes[: max(0, len(self._takes) - self.max_takes)]
        self._takes = self._takes[len(dropped):]
        self._write_index()
        for old in dropped:
            self.audio_path(old).unlink(missing_ok=True)
        return take

    def set_extra(self, take_id: str, **changes: Any) -> Take:
        """Update keys of a take's ``extra`` (its quality check, once its best-of run is decided) and
        rewrite the index; returns the updated take."""
        take = self.get(take_id)
        updated = replace(take, extra={**take.extra, **changes})
        self._takes = [updated if t.id == take_id else t for t in self._takes]
        self._write_index()
        return updated

    def remove(self, take_id: str, *, undoable: bool = False) -> Take:
        """Delete one take and return it. Its audio file is deleted too or, when ``undoable``, moved to the
        trash folder so that :meth:`restore` can bring the take back."""
        take = self.get(take_id)
        audio = self.audio_path(take)
        if undoable and audio.is_file():
            trash = self._trash_path(take)
            trash.parent.mkdir(parents=True, exist_ok=True)
            try:
                _move(audio, trash)
            except OSError as exc:
                raise HistoryError(f"cannot move the audio of take {take.id} to {trash}: {exc}") from exc
        position = next(i for i, t in enumerate(self._takes) if t.id == take_id)
        before, self._takes = self._takes, [t for t in self._takes if t.id != take_id]
        try:
            self._write_index()
        except HistoryError:
            self._takes = before  # nothing changed after all
            if undoable and self._trash_path(take).is_file():
                _move(self._trash_path(take), audio)
            raise
        if undoable:
            self._removed_at[take.id] = position  # where restore() puts it back (times tie within a second)
        else:
            audio.unlink(missing_ok=True)
        return take

    def restore(self, take: Take) -> Take:
        """Bring back a take deleted with ``remove(..., undoable=True)``: its audio out of the trash, the take
        at its place in time. Raises HistoryError when its audio is gone (the history was opened since)."""
        if any(t.id == take.id for t in self._takes):
            return take
        trash, audio = self._trash_path(take), self.audio_path(take)
        if not trash.is_file():
            raise HistoryError(f"the audio of take {take.id} is no longer in {trash.parent}: it cannot be restored")
        try:
            _move(trash, audio)
        except OSError as exc:
            raise HistoryError(f"cannot move the audio of take {take.id} back to {audio}: {exc}") from exc
        at = self._removed_at.pop(take.id, None)
        if at is None or at > len(self._takes):
            at = next((i for i, t in enumerate(self._takes) if t.created > take.created), len(self._takes))
        self._takes.insert(at, take)
        try:
            self._write_index()
        except HistoryError:
            self._takes.pop(at)
            _move(audio, trash)
            raise
        return take

    def empty_trash(self) -> None:
        """Delete the audio of takes removed with ``undoable`` (they can no longer be restored)."""
        folder = self.folder / TRASH_DIR
        if folder.is_dir():
            for path in folder.iterdir():
                path.unlink(missing_ok=True)

    def _trash_path(self, take: Take) -> Path:
        return self.folder / TRASH_DIR / Path(take.audio_file).name

    def clear(self) -> None:
        """Delete every take."""
        takes, self._takes = self._takes, []
        self._write_index()
        for take in takes:
            self.audio_path(take).unlink(missing_ok=True)

    # -- index file ----------------------------------------------------------------------------
    def _write_index(self) -> None:
        data = {"version": INDEX_VERSION, "takes": [t.to_dict() for t in self._takes]}
        try:
            atomic_write_json(self.index_path, data, indent=1)
        except AtomicWriteError as exc:
            raise HistoryError(f"cannot write the history index {self.index_path}: {exc}") from exc

    def _read_index(self) -> list[Take]:
        path = self.index_path
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("takes"), list):
                raise ValueError("expected an object with a 'takes' list")
            if int(data.get("version", 0)) > INDEX_VERSION:
                log.warning("%s was written by a newer version (%s); reading what is known",
                            path, data.get("version"))
        except (OSError, ValueError) as exc:
            backup = path.with_name(path.name + ".corrupt")
            log.error("history index %s is unreadable (%s); moved aside to %s", path, exc, backup)
            os.replace(path, backup)
            return []
        takes: list[Take] = []
        for i, entry in enumerate(data["takes"]):
            try:
                take = Take.from_dict(entry)
            except ValueError as exc:
                log.warning("%s: skipping take #%d: %s", path, i, exc)
                continue
            if not (self.folder / take.audio_file).is_file():
                log.warning("%s: skipping take %s, its audio %s is missing", path, take.id, take.audio_file)
                continue
            takes.append(take)
        return takes


__all__ = ["History", "HistoryError", "Take"]
