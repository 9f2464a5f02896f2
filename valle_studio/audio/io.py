"""Reading and writing audio files (numpy + soundfile only; no torch, no Qt).

:func:`load_audio` reads anything the bundled libsndfile understands (WAV, FLAC, OGG/Vorbis, MP3 with
libsndfile >= 1.1, AIFF, ...) into a mono ``float32`` clip at the file's own rate and turns every
failure into an :class:`AudioError` whose message names the file and says what is wrong.
:func:`save_audio` writes WAV/FLAC/OGG through :func:`~valle_studio.core.atomic.atomic_write`.
Resampling is :func:`valle_studio.core.resample.resample`; reading a file as a voice prompt (24 kHz, or
``.npy`` codes) is :func:`valle_studio.audio.prompts.read_prompt_file`.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from valle_studio.audio.processing import clipping_ratio, is_silent
from valle_studio.core.atomic import atomic_write
from valle_studio.core.clip import SILENCE_DBFS
from valle_studio.core.files import NotARegularFileError, require_regular_file

# Past this a clip still loads, with a note that suggests trimming: it is also the most reference audio
# the engine uses as a prompt (engine.prompts.MAX_PROMPT_SECONDS) unless a prompt length is set.
LONG_CLIP_SECONDS = 60.0
MAX_CLIP_SECONDS = 1800.0  # hard cap: 30 min at 48 kHz is ~350 MB of float32 already
_MAX_MONO_SAMPLES = int(MAX_CLIP_SECONDS * 48_000)  # caps memory for very high sample rates too
_BLOCK_FRAMES = 1 << 18
_SILENCE_DB = SILENCE_DBFS

# extension -> (libsndfile format, default subtype, allowed subtypes)
_SAVE_FORMATS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    ".wav": ("WAV", "FLOAT", ("FLOAT", "PCM_16", "PCM_24")),
    ".flac": ("FLAC", "PCM_16", ("PCM_16", "PCM_24")),
    ".ogg": ("OGG", "VORBIS", ("VORBIS",)),
}


class AudioError(Exception):
    """An audio file could not be used. ``kind`` is a stable tag for code, ``str(err)`` is for people.

    Kinds: ``missing``, ``directory``, ``not_a_file`` (a named pipe, a device), ``unreadable`` (OS
    refused), ``not_audio``, ``corrupt``,
    ``truncated``, ``empty`` (0 bytes or 0 samples), ``too_long``, ``invalid_samples`` (NaN/inf),
    ``silent``, ``write_failed``.
    """

    def __init__(self, path: Path, kind: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.kind = kind


@dataclass(frozen=True, eq=False)
class AudioClip:
    """A decoded clip. ``samples`` is ``[S] float32`` mono (the mean of the file's channels)."""

    samples: np.ndarray
    sample_rate: int
    source: Path
    channels: int  # channel count of the file before the mono mixdown
    duration: float  # seconds
    format: str = ""  # libsndfile's name for the container, e.g. "WAV", "FLAC", "MP3"
    notes: tuple[str, ...] = ()  # advice worth showing the user (long clip, clipping, low rate)


def _describe(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d} min" if minutes else f"{seconds:.1f} s"


def _wav_shortfall(path: Path) -> tuple[int, int] | None:
    """For a RIFF/WAVE file whose data chunk is cut short: (bytes the header promises, bytes present)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            handle.seek(pos)
            chunk = handle.read(8)
            length = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                if length in (0, 0xFFFFFFFF):  # streaming writers leave the size unknown
                    return None
                present = size - pos - 8
                return (length, present) if present < length else None
            pos += 8 + length + (length & 1)
    return None


def _open(path: Path) -> sf.SoundFile:
    """Check the path and open it with libsndfile, mapping every failure onto an :class:`AudioError`."""
    if not path.exists():
        raise AudioError(path, "missing", f"Audio file '{path}' does not exist.")
    if path.is_dir():
        raise AudioError(path, "directory", f"'{path}' is a folder, not an audio file.")
    try:
        require_regular_file(path, "an audio file")  # a pipe would block libsndfile, a device never end
    except NotARegularFileError as exc:
        raise AudioError(path, "not_a_file", f"'{path}' is {exc.kind}, not an audio file.") from None
    except OSError as exc:
        raise AudioError(path, "unreadable", f"Cannot read '{path}': {exc.strerror or exc}.") from exc
    try:
        if path.stat().st_size == 0:
            raise AudioError(path, "empty", f"Audio file '{path}' is empty (0 bytes).")
        shortfall = _wav_shortfall(path)
        handle = sf.SoundFile(path)
    except OSError as exc:
        raise AudioError(path, "unreadable", f"Cannot read '{path}': {exc.strerror or exc}.") from exc
    except (sf.SoundFileError, RuntimeError) as exc:
        if "not recognised" in str(exc).lower():
            raise AudioError(path, "not_audio", f"'{path}' is not an audio file this app can read "
                                                "(WAV, FLAC, OGG, MP3, AIFF, ...).") from exc
        raise AudioError(path, "corrupt", f"'{path}' looks like audio but is damaged or truncated "
                                          f"and cannot be decoded (libsndfile: {exc}).") from exc
    if shortfall is not None:
        handle.close()
        promised, present = shortfall
        raise AudioError(path, "truncated", f"'{path}' is truncated: its header promises {promised} bytes "
                                            f"of audio but only {present} are there (an interrupted "
                                            "copy or recording?).")
    return handle


def _read_mono(handle: sf.SoundFile, path: Path, max_samples: int) -> np.ndarray:
    """Decode every block and average the channels into one ``[S] float32`` array."""
    blocks: list[np.ndarray] = []
    total = 0
    try:
        while True:
            block = handle.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
            if block.shape[0] == 0:
                break
            total += block.shape[0]
            if total > max_samples:
                raise AudioError(path, "too_long", f"'{path}' is longer than this app can load at "
                                                   f"{handle.samplerate} Hz; trim it first.")
            blocks.append(block[:, 0].copy() if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32))
    except (sf.SoundFileError, RuntimeError) as exc:
        where = f" after {total} samples" if total else ""
        raise AudioError(path, "corrupt", f"'{path}' is damaged or truncated: decoding failed{where} "
                                          f"(libsndfile: {exc}).") from exc
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def _notes(samples: np.ndarray, sample_rate: int, duration: float) -> tuple[str, ...]:
    notes = []
    if duration > LONG_CLIP_SECONDS:
        notes.append(f"This clip is {_describe(duration)} long; a voice prompt needs only 3-10 seconds of "
                     f"clean speech and at most {LONG_CLIP_SECONDS:.0f} s is used. Consider trimming it to "
                     "the best part.")
    ratio = clipping_ratio(samples)
    if ratio > 0.001:
        notes.append(f"{ratio:.1%} of the samples are clipped (distorted); a cleaner recording "
                     "clones better.")
    if sample_rate < 16_000:
        notes.append(f"Recorded at only {sample_rate} Hz; expect a muffled clone.")
    if is_silent(samples, _SILENCE_DB):
        notes.append(f"This clip is silent (its loudest sample is below {_SILENCE_DB:.0f} dBFS); a voice "
                     "prompt needs audible speech.")
    return tuple(notes)


def load_audio(path: str | os.PathLike[str], *, max_seconds: float = MAX_CLIP_SECONDS,
               reject_silent: bool = False) -> AudioClip:
    """Read an audio file as a mono clip (``samples: [S] float32`` at the file's own rate).

    Clips longer than :data:`LONG_CLIP_SECONDS` load with a note in ``AudioClip.notes`` suggesting a
    trim; clips longer than ``max_seconds`` are refused. With ``reject_silent`` an all-silent clip
    (peak below -60 dBFS) raises instead of loading.

    Raises:
        AudioError: see its ``kind`` values; the message always names the file.
    """
    path = Path(path)
    with _open(path) as handle:
        sample_rate = int(handle.samplerate)
        channels = int(handle.channels)
        declared = int(handle.frames)
        container = str(handle.format)
        if declared > 0 and declared / sample_rate > max_seconds:
            length = _describe(declared / sample_rate)
            raise AudioError(path, "too_long", f"'{path}' is {length} long; at most {_describe(max_seconds)} "
                                               "can be loaded. Trim it to a short excerpt (3-10 s of "
                                               "speech is enough for a voice).")
        limit = min(_MAX_MONO_SAMPLES, math.ceil(max_seconds * sample_rate))
        samples = _read_mono(handle, path, limit)
    if samples.size == 0:
        raise AudioError(path, "empty", f"'{path}' contains no audio (zero length).")
    # Compressed formats estimate their length from the header; a big shortfall means a cut-off file.
    if declared > 0 and samples.size < declared - max(4096, declared // 100):
        raise AudioError(path, "truncated", f"'{path}' is truncated: it should hold {declared} samples "
                                            f"per channel but only {samples.size} could be decoded.")
    if not np.all(np.isfinite(samples)):
        raise AudioError(path, "invalid_samples", f"'{path}' contains invalid samples (NaN or infinity).")
    if reject_silent and is_silent(samples, _SILENCE_DB):
        raise AudioError(path, "silent", f"'{path}' is silent (its loudest sample is below "
                                         f"{_SILENCE_DB:.0f} dBFS); choose a clip with audible speech.")
    duration = samples.size / sample_rate
    return AudioClip(samples=samples, sample_rate=sample_rate, source=path, channels=channels,
                     duration=duration, format=container, notes=_notes(samples, sample_rate, duration))


def save_audio(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int, *,
               subtype: str | None = None) -> Path:
    """Atomically write ``samples`` (``[S]`` mono or ``[S, C]``, float, full scale 1.0) to ``path``.

    The format follows the extension: ``.wav`` (default subtype ``FLOAT``; ``PCM_16``/``PCM_24``),
    ``.flac`` (``PCM_16`` default, ``PCM_24``) or ``.ogg`` (Vorbis). Integer and Vorbis outputs are
    clipped to [-1, 1] first, because libsndfile would otherwise wrap around. Returns the path.

    The file is encoded in memory (:func:`encode_audio`) and then handed to the atomic writer as bytes:
    libsndfile reports a full disk as "System error." (WAV, FLAC) or not at all (Ogg, which then leaves
    a cut-off file), while the atomic writer names the disk-full, read-only and missing-folder cases.
    """
    path = Path(path)
    return atomic_write(path, encode_audio(path, samples, sample_rate, subtype=subtype))


def encode_audio(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int, *,
                 subtype: str | None = None) -> bytes:
    """The bytes :func:`save_audio` would write to ``path`` (format from its extension), nothing written:
    for callers that commit several files together (``valle_studio.core.commit``)."""
    path = Path(path)
    spec = _SAVE_FORMATS.get(path.suffix.lower())
    if spec is None:
        raise ValueError(f"Cannot save '{path}': unsupported extension '{path.suffix}' "
                         f"(use {', '.join(_SAVE_FORMATS)}).")
    fmt, default_subtype, allowed = spec
    subtype = (subtype or default_subtype).upper()
    if subtype not in allowed:
        raise ValueError(f"Cannot save '{path}': subtype {subtype} is not offered for {fmt} "
                         f"(choose one of {', '.join(allowed)}).")
    if int(sample_rate) <= 0:
        raise ValueError(f"Cannot save '{path}': sample_rate must be positive, got {sample_rate}.")
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim not in (1, 2) or data.shape[0] == 0:
        raise ValueError(f"Cannot save '{path}': samples must be a non-empty [S] or [S, C] array, "
                         f"got shape {data.shape}.")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"Cannot save '{path}': samples contain NaN or infinity.")
    if subtype != "FLOAT":
        data = np.clip(data, -1.0, 1.0)

    buffer = io.BytesIO()
    try:
        sf.write(buffer, data, int(sample_rate), format=fmt, subtype=subtype)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise AudioError(path, "write_failed", f"Cannot save '{path}' as {fmt}/{subtype}: {exc}") from exc
    return buffer.getvalue()
