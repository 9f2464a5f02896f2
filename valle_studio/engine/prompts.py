"""Reference prompts: audio files, clips or code arrays turned into one ``[T, 8]`` code matrix.

Upstream encodes each reference separately, concatenates them in the order given, and only then
repeats/trims the result to the requested length, keeping its start
(``shared/reference/generation-semantics.md``, "Prompts").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from valle_studio.engine.requests import PromptSource

if TYPE_CHECKING:
    from valle_studio.engine.codec import Codec

N_LEVELS = 8
CODEBOOK_SIZE = 1024
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".oga", ".aiff", ".aif"}


class PromptError(ValueError):
    """A reference prompt cannot be used; the message names the prompt and the problem."""


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


def prompt_codes(source: PromptSource, codec: Codec | None) -> np.ndarray:
    """One prompt as int64 ``[T, 8]`` codes (audio is encoded with ``codec``)."""
    if isinstance(source, np.ndarray):
        return validate_codes(source, "prompt codes")
    if isinstance(source, tuple):
        samples, sample_rate = source
        return _encode(np.asarray(samples, dtype=np.float32), int(sample_rate), codec, "recorded clip")
    path = Path(source)
    if not path.exists():
        raise PromptError(f"{path}: prompt file not found")
    if path.is_dir():
        raise PromptError(f"{path}: is a folder, not an audio or .npy file")
    if path.suffix.lower() == ".npy":
        return _load_npy(path)
    from valle_studio.audio.io import load_audio

    clip = load_audio(path)
    return _encode(clip.samples, clip.sample_rate, codec, str(path))


def _encode(samples: np.ndarray, sample_rate: int, codec: Codec | None, name: str) -> np.ndarray:
    if codec is None:
        raise PromptError(f"{name}: audio prompts need the codec weights; give .npy codes instead, "
                          "or install the codec from the model manager")
    from valle_studio.audio.processing import is_silent

    if samples.size == 0:
        raise PromptError(f"{name}: the clip is empty")
    if is_silent(samples):
        raise PromptError(f"{name}: the clip is silent; record or choose a clip with speech in it")
    codes = codec.encode(samples, sample_rate)
    return validate_codes(np.asarray(codes.cpu() if hasattr(codes, "cpu") else codes), name)


def combine_prompts(sources: Sequence[PromptSource], codec: Codec | None, length_frames: int = 0
                    ) -> np.ndarray | None:
    """All prompts concatenated in order, then repeated/trimmed to ``length_frames`` (0 = as is).

    Returns None when there is no prompt (the model then runs without the prompt segment).
    """
    if not sources:
        return None
    codes = np.concatenate([prompt_codes(s, codec) for s in sources], axis=0)
    if length_frames > 0:
        repeats = -(-length_frames // len(codes))  # ceil
        codes = np.tile(codes, (repeats, 1))[:length_frames]
    return codes
