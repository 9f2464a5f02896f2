"""Reference prompts from files: what the CLI, batch and the studio hand the engine (which opens no file).

:func:`read_prompt_file` turns an audio file into a :class:`~valle_studio.core.clip.Clip` at the
codec's 24 kHz (mono, resampled with :func:`~valle_studio.core.resample.resample`), or a ``.npy`` file
into checked int codes ``[T, 8]``. The checks that make a clip usable as a prompt (silence, length)
are the engine's (``Synthesizer.encode_prompts``), so a clip from a file, a recording or a saved voice
passes the same ones.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from valle_studio.audio.io import MAX_CLIP_SECONDS, load_audio
from valle_studio.core.clip import Clip, Prompt, PromptError, validate_codes
from valle_studio.core.codec_format import SAMPLE_RATE
from valle_studio.core.resample import resample

#: A prompt file with this suffix holds codes; any other is read as audio.
CODES_SUFFIX = ".npy"


def read_codes_file(path: str | os.PathLike[str]) -> np.ndarray:
    """Int64 codes ``[T, 8]`` from a ``.npy`` file; never unpickles. Raises :class:`PromptError`."""
    path = Path(path)
    try:
        array = np.load(path, allow_pickle=False)  # never unpickle a prompt file
    except (OSError, ValueError) as exc:
        raise PromptError(f"{path}: not a readable .npy code file ({exc})") from exc
    return validate_codes(np.asarray(array), str(path))


def read_prompt_file(path: str | os.PathLike[str], *, max_seconds: float = MAX_CLIP_SECONDS) -> Prompt:
    """One reference prompt from ``path``: a 24 kHz mono clip named by the path (with the file's
    advice in ``notes``), or int64 codes ``[T, 8]`` for a ``.npy`` file.

    Raises :class:`~valle_studio.core.clip.PromptError` (missing, a folder, bad codes) or
    :class:`~valle_studio.audio.io.AudioError` (unreadable audio), naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise PromptError(f"{path}: prompt file not found")
    if path.is_dir():
        raise PromptError(f"{path}: is a folder, not an audio or .npy file")
    if path.suffix.lower() == CODES_SUFFIX:
        return read_codes_file(path)
    clip = load_audio(path, max_seconds=max_seconds)
    samples = resample(clip.samples, clip.sample_rate, SAMPLE_RATE)
    return Clip(samples, SAMPLE_RATE, str(path), clip.notes)


def read_prompt_files(paths: Sequence[str | os.PathLike[str]]) -> list[Prompt]:
    """:func:`read_prompt_file` for each path, in order."""
    return [read_prompt_file(p) for p in paths]


__all__ = ["CODES_SUFFIX", "read_codes_file", "read_prompt_file", "read_prompt_files"]
