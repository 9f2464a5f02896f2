"""Reference prompts: audio files, clips or code arrays turned into one ``[T, 8]`` code matrix.

Upstream encodes each reference separately, concatenates them in the order given, and only then
repeats/trims the result to the requested length, keeping its start
(``shared/reference/generation-semantics.md``, "Prompts").

Reading and encoding are two steps: :func:`read_prompts` opens and checks every reference without the
codec (missing, unreadable, silent or far too long files are reported before anything heavy loads),
:func:`encode_prompts` then turns the audio into codes. :func:`combine_prompts` does both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from valle_studio.engine.requests import PromptSource
from valle_studio.engine.settings import FRAMES_PER_SECOND

if TYPE_CHECKING:
    from valle_studio.engine.codec import Codec

N_LEVELS = 8
CODEBOOK_SIZE = 1024
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".oga", ".aiff", ".aif"}
#: Longest reference used as a prompt (the prompt-length setting's own maximum). The model was trained
#: on 3-6 s prompts; minutes of prompt only cost memory and time (a 10 min clip is 45,000 frames).
MAX_PROMPT_SECONDS = 60.0
_CUT_MARGIN_S = 1.0  # audio kept past the prompt length, so the codec sees the same context there


class PromptError(ValueError):
    """A reference prompt cannot be used; the message names the prompt and the problem."""


@dataclass(frozen=True, eq=False)
class PromptAudio:
    """A reference clip ready for encoding: ``samples [S] float32`` mono at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int
    name: str  # the file, or "voice clip 2", for messages
    notes: tuple[str, ...] = ()  # advice about the file (clipping, low sample rate, length)

    @property
    def seconds(self) -> float:
        return self.samples.size / self.sample_rate


#: One read prompt: int64 codes ``[T, 8]`` or audio still to encode.
PromptPart = np.ndarray | PromptAudio


def validate_codes(codes: np.ndarray, name: str) -> np.ndarray:
    """Check a code matrix and return it as int64 ``[T, 8]``."""
    if codes.dtype.kind not in "iu":
        raise PromptError(f"{name}: codes must be integers, got {codes.dtype}")
    if codes.ndim != 2 or codes.shape[1] != N_LEVELS:
        raise PromptError(f"{name}: codes must be shaped [T, {N_LEVELS}], got {list(codes.shape)}")
    if codes.shape[0] == 0:
        raise PromptError(f"{name}: the code matrix is empty")
    if codes.min() < 0 or codes.max() >= CODEBOOK_SIZE:
        raise PromptError(f"{name}: codes must lie in 0..{CODEBOOK_SIZE - 1}")
    return codes.astype(np.int64, copy=False)


def _load_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)  # never unpickle a prompt file
    except (OSError, ValueError) as exc:
        raise PromptError(f"{path}: not a readable .npy code file ({exc})") from exc
    return validate_codes(np.asarray(array), str(path))


def _length(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d} min" if minutes else f"{seconds:.1f} s"


def _too_long(name: str, seconds: float) -> PromptError:
    return PromptError(
        f"{name}: the reference is {_length(seconds)} long, but at most {MAX_PROMPT_SECONDS:.0f} s can be used "
        "as a voice prompt (3-10 s of clean speech works best). Trim it to its best few seconds, or set a "
        "prompt length (Reference length; --prompt-length) to use only its start")


def read_prompt(source: PromptSource, name: str = "voice clip", *, keep_seconds: float = 0.0) -> PromptPart:
    """Open and check one prompt without the codec.

    ``keep_seconds`` > 0 keeps only that much of the start of audio (the rest could not be used).
    Raises :class:`PromptError` or :class:`~valle_studio.audio.io.AudioError` naming the prompt.
    """
    if isinstance(source, np.ndarray):
        return validate_codes(source, "prompt codes")
    if isinstance(source, tuple):
        samples, sample_rate = source
        audio = PromptAudio(np.asarray(samples, dtype=np.float32).reshape(-1), int(sample_rate), name)
    else:
        path = Path(source)
        if not path.exists():
            raise PromptError(f"{path}: prompt file not found")
        if path.is_dir():
            raise PromptError(f"{path}: is a folder, not an audio or .npy file")
        if path.suffix.lower() == ".npy":
            return _load_npy(path)
        from valle_studio.audio.io import load_audio

        clip = load_audio(path)
        audio = PromptAudio(clip.samples, clip.sample_rate, str(path), clip.notes)
    from valle_studio.audio.processing import is_silent

    if audio.sample_rate <= 0:
        raise PromptError(f"{audio.name}: invalid sample rate {audio.sample_rate}")
    if audio.samples.size == 0:
        raise PromptError(f"{audio.name}: the clip is empty")
    if not np.all(np.isfinite(audio.samples)):
        raise PromptError(f"{audio.name}: the clip contains invalid samples (NaN or infinity)")
    if is_silent(audio.samples):
        raise PromptError(f"{audio.name}: the clip is silent; record or choose a clip with speech in it")
    if keep_seconds > 0 and audio.seconds > keep_seconds:
        audio = PromptAudio(audio.samples[: int(keep_seconds * audio.sample_rate)], audio.sample_rate, audio.name,
                            audio.notes)
    return audio


def _seconds(part: PromptPart) -> float:
    return part.seconds if isinstance(part, PromptAudio) else len(part) / FRAMES_PER_SECOND


def read_prompts(sources: Sequence[PromptSource], length_frames: int = 0) -> list[PromptPart]:
    """Read and check every prompt in order (see :func:`read_prompt`); nothing is encoded yet.

    With ``length_frames`` > 0 only the start that the repeat/trim step keeps is retained, so a long
    recording with a short prompt length is fine. Without it the prompts together may last at most
    :data:`MAX_PROMPT_SECONDS`.
    """
    parts: list[PromptPart] = []
    remaining = length_frames / FRAMES_PER_SECOND
    for index, source in enumerate(sources):
        name = f"voice clip {index + 1}" if len(sources) > 1 else "voice clip"
        keep = max(remaining, 0.0) + _CUT_MARGIN_S if length_frames > 0 else 0.0
        part = read_prompt(source, name, keep_seconds=keep)
        if length_frames <= 0 and _seconds(part) > MAX_PROMPT_SECONDS:
            raise _too_long(part.name if isinstance(part, PromptAudio) else name, _seconds(part))
        parts.append(part)
        remaining -= _seconds(part)
    total = sum(_seconds(p) for p in parts)
    if length_frames <= 0 and total > MAX_PROMPT_SECONDS:
        raise _too_long(f"the {len(parts)} voice clips together", total)
    return parts


def needs_codec(parts: Sequence[PromptPart]) -> bool:
    """Whether any part is audio (codes need no codec)."""
    return any(isinstance(p, PromptAudio) for p in parts)


def _encode(audio: PromptAudio, codec: Codec | None) -> np.ndarray:
    if codec is None:
        raise PromptError(f"{audio.name}: audio prompts need the codec weights; give .npy codes instead, "
                          "or install the codec from the model manager")
    codes = codec.encode(audio.samples, audio.sample_rate)
    return validate_codes(np.asarray(codes.cpu() if hasattr(codes, "cpu") else codes), audio.name)


def encode_prompts(parts: Sequence[PromptPart], codec: Codec | None, length_frames: int = 0) -> np.ndarray | None:
    """All parts as codes, concatenated in order, then repeated/trimmed to ``length_frames`` (0 = as is).

    Returns None when there is no prompt (the model then runs without the prompt segment).
    """
    if not parts:
        return None
    codes = np.concatenate([_encode(p, codec) if isinstance(p, PromptAudio) else p for p in parts], axis=0)
    if length_frames > 0:
        repeats = -(-length_frames // len(codes))  # ceil
        codes = np.tile(codes, (repeats, 1))[:length_frames]
    return codes


def prompt_codes(source: PromptSource, codec: Codec | None) -> np.ndarray:
    """One prompt as int64 ``[T, 8]`` codes (audio is encoded with ``codec``)."""
    part = read_prompt(source)
    return part if isinstance(part, np.ndarray) else _encode(part, codec)


def combine_prompts(sources: Sequence[PromptSource], codec: Codec | None, length_frames: int = 0
                    ) -> np.ndarray | None:
    """:func:`read_prompts` then :func:`encode_prompts`; None when there is no prompt."""
    return encode_prompts(read_prompts(sources, length_frames), codec, length_frames)
