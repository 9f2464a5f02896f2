"""The voice library: named voices, each made of one or more prepared reference clips.

Layout under ``user_data_dir()/voices`` (or any folder given to :class:`VoiceLibrary`)::

    <voice id>/voice.json       {"version": 1, "name": "Alice", "created": ..., "clips": [clip, ...]}
    <voice id>/clip-<id>.flac   mono, 24-bit, at the clip's own sample rate
    <voice id>/lexicon.tsv      the voice's pronunciation lexicon, when it has one (studio/lexicons.py)

A *blended* voice (experimental, :meth:`VoiceLibrary.save_blend`) is saved like any voice, in a folder of
its own: its manifest is version 2, ``{"kind": "blend", "members": [{"name": "Alice", "weight": 0.6,
"clips": [clip, ...]}, ...]}``, and it holds copies of its members' clips, so it still works after a
member is renamed or deleted. Older versions of the app skip it (an unknown manifest version) instead of
mistaking it for one voice of all those clips. The engine mixes the members at the prompt embedding
(``engine/model/prompt_mix.py``).

Folders are named by a random id, not by the voice name, so any name a person types is safe on every
file system and renaming only rewrites the manifest. Every file goes through the atomic writer, and
the manifest is written last: a crash while saving leaves a folder without a manifest, which the
library ignores. A deleted voice's folder is first renamed to a hidden name, so it vanishes at once
even if removing the files is slow or fails half-way.
"""

from __future__ import annotations

import builtins  # VoiceLibrary has a method called list: its annotations say builtins.list
import json
import logging
import secrets
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from valle_studio.audio.io import load_audio, save_audio
from valle_studio.audio.processing import normalize_loudness, trim_silence
from valle_studio.core.atomic import atomic_write, atomic_write_json
from valle_studio.core.clip import Clip
from valle_studio.engine.requests import BlendPart
from valle_studio.paths import user_data_dir

log = logging.getLogger(__name__)

MANIFEST = "voice.json"
#: The voice's own pronunciation lexicon (studio/lexicons.py), beside its manifest.
LEXICON_FILE = "lexicon.tsv"
VERSION = 1
BLEND_VERSION = 2  # the manifest of a blended voice (see the module docstring)
MAX_BLEND = 8  # voices in one blend
MAX_NAME_LENGTH = 60
CLIP_SUFFIX = ".flac"
MIN_PROMPT_S, MAX_PROMPT_S = 3.0, 12.0  # VALL-E copies a voice best from a few seconds of clean speech


class VoiceError(ValueError):
    """A voice operation was refused; the message says why in words for the user."""


class VoiceNotFound(VoiceError, LookupError):
    """No voice of that name."""


class VoiceExists(VoiceError):
    """Another voice already has that name."""


@dataclass(frozen=True)
class PromptClip:
    """A reference clip in memory: ``samples: [S] float32`` at ``sample_rate``; ``label`` names its source."""

    samples: np.ndarray
    sample_rate: int
    label: str

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class VoiceClip:
    """One stored reference clip."""

    path: Path
    sample_rate: int
    duration_s: float

    def load(self) -> tuple[np.ndarray, int]:
        """``(samples [S] float32, sample_rate)``. Raises :class:`valle_studio.audio.io.AudioError`."""
        clip = load_audio(self.path)
        return clip.samples, clip.sample_rate


@dataclass(frozen=True)
class BlendMember:
    """One voice of a blend: the name it had, its weight, and the copies of its clips."""

    name: str
    weight: float
    clips: tuple[VoiceClip, ...]


@dataclass(frozen=True)
class Voice:
    """A named voice: its folder and its clips, in the order they were added. A blended voice has
    ``members`` (its clips are all of theirs, member after member)."""

    name: str
    folder: Path
    created: str  # ISO 8601, UTC
    clips: tuple[VoiceClip, ...]
    members: tuple[BlendMember, ...] = ()

    @property
    def is_blend(self) -> bool:
        return bool(self.members)

    @property
    def duration_s(self) -> float:
        """Total length of all clips."""
        return sum(c.duration_s for c in self.clips)

    def prompts(self) -> tuple[Clip, ...]:
        """Every clip as a :class:`~valle_studio.core.clip.Clip` at its stored rate, in order, ready to
        prompt the engine (which checks, resamples and encodes them). Raises
        :class:`valle_studio.audio.io.AudioError` for a clip file that cannot be read, and
        :class:`VoiceError` for a blend (use :meth:`blend_parts`: a blend is not one voice's clips)."""
        if self.is_blend:
            raise VoiceError(f"'{self.name}' is a blend of {len(self.members)} voices, not a voice of its own clips")
        return tuple(Clip(*c.load()) for c in self.clips)

    def blend_parts(self) -> tuple[BlendPart, ...]:
        """A blend's members as the engine's :class:`~valle_studio.engine.requests.BlendPart` records."""
        return tuple(BlendPart(tuple(Clip(*c.load(), f"{m.name} {i + 1}") for i, c in enumerate(m.clips)),
                               m.weight, m.name) for m in self.members)

    def request_voice(self) -> tuple[tuple[Clip, ...], tuple[BlendPart, ...]]:
        """What a :class:`~valle_studio.engine.requests.SynthesisRequest` needs of this voice, as its
        ``(prompts, blend)``: the clips of a plain voice, or the members of a blended one."""
        return ((), self.blend_parts()) if self.is_blend else (self.prompts(), ())

    def load_clips(self) -> list[PromptClip]:
        """Every clip decoded, labelled "<name> <n>"."""
        return [PromptClip(*c.load(), f"{self.name} {i + 1}") for i, c in enumerate(self.clips)]


def validate_name(name: str) -> str:
    """The name with surrounding spaces removed; raises :class:`VoiceError` when it cannot be used."""
    if not isinstance(name, str):
        raise VoiceError(f"A voice name must be text, not {type(name).__name__}.")
    cleaned = name.strip()
    if not cleaned:
        raise VoiceError("A voice needs a name.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise VoiceError(f"The voice name is too long ({len(cleaned)} characters; "
                         f"at most {MAX_NAME_LENGTH}).")
    if "/" in cleaned or "\\" in cleaned:
        raise VoiceError(f"The voice name '{cleaned}' contains / or \\; please leave those out.")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise VoiceError("The voice name contains control characters (tabs, line breaks, ...).")
    if cleaned in {".", ".."}:
        raise VoiceError(f"'{cleaned}' cannot be used as a voice name.")
    return cleaned


def clean_up_clip(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Trim leading/trailing silence, then normalise loudness: ``[S]`` float32 in, ``[S']`` out.

    Raises :class:`VoiceError` when nothing but silence is left.
    """
    trimmed = trim_silence(samples, sample_rate)
    if trimmed.size == 0:
        raise VoiceError("The clip is silent: there is no speech to keep.")
    return normalize_loudness(trimmed, sample_rate)


def prompt_length_advice(seconds: float) -> str:
    """"" when a reference clip of ``seconds`` suits a prompt, else a sentence of advice."""
    if seconds < MIN_PROMPT_S:
        return (f"Shorter than {MIN_PROMPT_S:.0f} s: the voice may not come through. "
                "Use a longer clip, or add more clips to the voice.")
    if seconds > MAX_PROMPT_S:
        return (f"Longer than {MAX_PROMPT_S:.0f} s: select the best {MIN_PROMPT_S:.0f}-{MAX_PROMPT_S:.0f} s "
                "and press \u201cCrop\u201d.")
    return ""


def _check_clip(samples: np.ndarray, sample_rate: int, what: str) -> np.ndarray:
    array = np.asarray(samples)
    if array.ndim != 1 or array.size == 0:
        raise VoiceError(f"{what} must be non-empty mono audio [S], got shape {array.shape}.")
    if int(sample_rate) <= 0:
        raise VoiceError(f"{what} has an invalid sample rate ({sample_rate}).")
    if not np.all(np.isfinite(array)):
        raise VoiceError(f"{what} contains invalid samples (NaN or infinity).")
    return array.astype(np.float32, copy=False)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class VoiceLibrary:
    """Named voices persisted under ``root`` (default: ``user_data_dir()/voices``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else user_data_dir() / "voices"
        self.root.mkdir(parents=True, exist_ok=True)

    # --- reading ---------------------------------------------------------------------------

    def list(self) -> list[Voice]:
        """Every readable voice, sorted by name (case-insensitive). Damaged ones are logged and skipped."""
        voices: dict[str, Voice] = {}
        for folder in sorted(self.root.iterdir()):
            if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
                continue
            try:
                voice = self._read(folder)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("skipping voice folder %s: %s", folder, exc)
                continue
            key = voice.name.casefold()
            # Two manifests with one name can only come from a crash mid-replace: the newer one won.
            if key not in voices or voice.created > voices[key].created:
                voices[key] = voice
        return sorted(voices.values(), key=lambda v: v.name.casefold())

    def names(self) -> builtins.list[str]:
        return [v.name for v in self.list()]

    def get(self, name: str) -> Voice:
        """The voice called ``name`` (case-insensitive). Raises :class:`VoiceNotFound`."""
        key = name.strip().casefold()
        for voice in self.list():
            if voice.name.casefold() == key:
                return voice
        raise VoiceNotFound(f"There is no voice called '{name}'.")

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except VoiceNotFound:
            return False
        return True

    # --- writing ---------------------------------------------------------------------------

    def save(self, name: str, clips: Sequence[tuple[np.ndarray, int]], *, replace: bool = False) -> Voice:
        """Store a new voice from ``clips`` (each ``(samples [S] float, sample_rate)``).

        Raises :class:`VoiceExists` when the name is taken, unless ``replace`` is set, in which case
        the old voice is removed only after the new one is complete.
        """
        name = validate_name(name)
        if not clips:
            raise VoiceError(f"The voice '{name}' needs at least one clip.")
        checked = [(_check_clip(s, sr, f"Clip {i + 1}"), int(sr)) for i, (s, sr) in enumerate(clips)]
        old = self._find(name)
        if old is not None and not replace:
            raise VoiceExists(f"A voice called '{old.name}' already exists; choose another name.")
        folder = self.root / secrets.token_hex(6)
        folder.mkdir()
        entries = [self._write_clip(folder, samples, sr) for samples, sr in checked]
        if old is not None and (old.folder / LEXICON_FILE).is_file():  # the voice keeps its pronunciations
            atomic_write(folder / LEXICON_FILE, (old.folder / LEXICON_FILE).read_bytes())
        voice = self._write_manifest(folder, name, _now(), entries)
        if old is not None:
            self._remove_folder(old.folder)
        return voice

    def save_blend(self, name: str, members: Sequence[tuple[str, float]], *, replace: bool = False) -> Voice:
        """Save a blend of saved voices, ``members`` ``(voice name, weight)`` (weights: any positive numbers,
        normalised when used), as a new voice ``name``; its members' clips are copied into it.

        Raises :class:`VoiceError` for fewer than two voices, a voice named twice, a blend as a member,
        a weight that is not a positive number; :class:`VoiceNotFound` / :class:`VoiceExists` as
        :meth:`save` does.
        """
        name = validate_name(name)
        if not 2 <= len(members) <= MAX_BLEND:
            raise VoiceError(f"A blend needs 2 to {MAX_BLEND} voices, not {len(members)}.")
        voices: list[tuple[Voice, float]] = []
        for member, weight in members:
            voice = self.get(member)
            if voice.is_blend:
                raise VoiceError(f"'{voice.name}' is a blend itself; blend the voices it is made of instead.")
            if any(v.folder == voice.folder for v, _ in voices):
                raise VoiceError(f"'{voice.name}' is named twice in the blend.")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0 \
                    or weight == float("inf"):
                raise VoiceError(f"The weight of '{voice.name}' must be a number above 0, not {weight!r}.")
            voices.append((voice, float(weight)))
        old = self._find(name)
        if old is not None and not replace:
            raise VoiceExists(f"A voice called '{old.name}' already exists; choose another name.")
        if old is not None and any(v.folder == old.folder for v, _ in voices):
            raise VoiceError(f"'{old.name}' cannot be replaced by a blend of itself.")
        folder = self.root / secrets.token_hex(6)
        folder.mkdir()
        entries = []
        for voice, weight in voices:
            clips = [self._write_clip(folder, *c.load()) for c in voice.clips]
            entries.append({"name": voice.name, "weight": weight, "clips": clips})
        atomic_write_json(folder / MANIFEST, {"version": BLEND_VERSION, "kind": "blend", "name": name,
                                              "created": _now(), "members": entries})
        if old is not None:
            self._remove_folder(old.folder)
        return self._read(folder)

    def add_clip(self, name: str, samples: np.ndarray, sample_rate: int) -> Voice:
        """Append one clip to an existing voice."""
        voice = self.get(name)
        if voice.is_blend:
            raise VoiceError(f"'{voice.name}' is a blend: its clips are its voices'. Make a new blend instead.")
        checked = _check_clip(samples, sample_rate, "The clip")
        entry = self._write_clip(voice.folder, checked, int(sample_rate))
        return self._write_manifest(voice.folder, voice.name, voice.created, [*self._entries(voice), entry])

    def remove_clip(self, name: str, index: int) -> Voice:
        """Drop clip ``index`` (0-based). A voice keeps at least one clip: delete the voice instead."""
        voice = self.get(name)
        if voice.is_blend:
            raise VoiceError(f"'{voice.name}' is a blend: its clips are its voices'. Make a new blend instead.")
        if not 0 <= index < len(voice.clips):
            raise VoiceError(f"The voice '{voice.name}' has no clip {index + 1}.")
        if len(voice.clips) == 1:
            raise VoiceError(f"'{voice.name}' has only this clip; delete the voice instead.")
        entries = self._entries(voice)
        del entries[index]
        updated = self._write_manifest(voice.folder, voice.name, voice.created, entries)
        voice.clips[index].path.unlink(missing_ok=True)
        return updated

    def rename(self, old: str, new: str) -> Voice:
        """Give a voice a new name (changing only the letter case is allowed)."""
        voice = self.get(old)
        new = validate_name(new)
        other = self._find(new)
        if other is not None and other.folder != voice.folder:
            raise VoiceExists(f"A voice called '{other.name}' already exists; choose another name.")
        if voice.is_blend:
            data = json.loads((voice.folder / MANIFEST).read_text(encoding="utf-8"))
            atomic_write_json(voice.folder / MANIFEST, {**data, "name": new})
            return self._read(voice.folder)
        return self._write_manifest(voice.folder, new, voice.created, self._entries(voice))

    def delete(self, name: str) -> None:
        """Remove a voice and its clips."""
        self._remove_folder(self.get(name).folder)

    # --- internals -------------------------------------------------------------------------

    def _find(self, name: str) -> Voice | None:
        try:
            return self.get(name)
        except VoiceNotFound:
            return None

    def _read(self, folder: Path) -> Voice:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        version = data.get("version") if isinstance(data, dict) else None
        if version == BLEND_VERSION and data.get("kind") == "blend":
            return self._read_blend(folder, data)
        if version != VERSION:
            raise ValueError(f"unsupported manifest version {version!r}")
        clips = self._clips(folder, data["clips"])
        return Voice(name=validate_name(data["name"]), folder=folder, created=str(data["created"]),
                     clips=tuple(clips))

    def _read_blend(self, folder: Path, data: dict[str, Any]) -> Voice:
        members = []
        for entry in data["members"]:
            weight = float(entry["weight"])
            if not weight > 0 or weight == float("inf"):
                raise ValueError(f"bad blend weight {weight!r}")
            members.append(BlendMember(str(entry["name"]), weight, tuple(self._clips(folder, entry["clips"]))))
        if len(members) < 2:
            raise ValueError("a blend needs two voices")
        return Voice(name=validate_name(data["name"]), folder=folder, created=str(data["created"]),
                     clips=tuple(c for m in members for c in m.clips), members=tuple(members))

    @staticmethod
    def _clips(folder: Path, entries: builtins.list[dict[str, Any]]) -> builtins.list[VoiceClip]:
        clips = []
        for entry in entries:
            file = str(entry["file"])
            if Path(file).name != file or file.startswith("."):  # a manifest must not point outside
                raise ValueError(f"bad clip file name {file!r}")
            clips.append(VoiceClip(folder / file, int(entry["sample_rate"]), float(entry["duration_s"])))
        if not clips:
            raise ValueError("no clips")
        return clips

    @staticmethod
    def _entries(voice: Voice) -> builtins.list[dict[str, Any]]:
        return [{"file": c.path.name, "sample_rate": c.sample_rate, "duration_s": c.duration_s}
                for c in voice.clips]

    @staticmethod
    def _write_clip(folder: Path, samples: np.ndarray, sample_rate: int) -> dict[str, Any]:
        file = f"clip-{secrets.token_hex(4)}{CLIP_SUFFIX}"
        save_audio(folder / file, samples, sample_rate, subtype="PCM_24")
        return {"file": file, "sample_rate": sample_rate, "duration_s": round(len(samples) / sample_rate, 4)}

    def _write_manifest(self, folder: Path, name: str, created: str, entries: builtins.list[dict[str, Any]]) -> Voice:
        atomic_write_json(folder / MANIFEST, {"version": VERSION, "name": name, "created": created,
                                              "clips": entries})
        return self._read(folder)

    def _remove_folder(self, folder: Path) -> None:
        trash = folder.with_name(f".deleted-{folder.name}")
        folder.rename(trash)  # atomic: the voice is gone from list() from here on
        shutil.rmtree(trash, ignore_errors=True)
