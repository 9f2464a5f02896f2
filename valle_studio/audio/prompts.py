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
from valle_studio.core.codec_format import FRAMES_PER_SECOND, LEVELS, SAMPLE_RATE
from valle_studio.core.files import NotARegularFileError, require_regular_file
from valle_studio.core.resample import resample

#: A prompt file with this suffix holds codes; any other is read as audio.
CODES_SUFFIX = ".npy"
#: The most frames a code prompt may have: as long as the longest clip an audio prompt may be.
MAX_CODE_FRAMES = int(MAX_CLIP_SECONDS * FRAMES_PER_SECOND)


def read_codes_file(path: str | os.PathLike[str]) -> np.ndarray:
    """Int64 codes ``[T, 8]`` from a ``.npy`` file; never unpickles. Raises :class:`PromptError`.

    The header is read and checked first (an integer ``[T, 8]`` array, at most
    :data:`MAX_CODE_FRAMES` frames, exactly as many data bytes as it announces), so a file whose header
    claims billions of frames is refused in a sentence instead of being allocated.
    """
    path = require_prompt_file(path)
    if path.stat().st_size == 0:
        raise PromptError(f"{path}: the code file is empty (0 bytes)")
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            else:  # 3.0 only exists for structured types with unicode field names: never codes
                raise ValueError(f".npy format {version[0]}.{version[1]} is not used for code arrays")
            offset = handle.tell()
    except (OSError, ValueError, EOFError) as exc:
        reason = " ".join(str(exc).split()) or "the file ends early"
        raise PromptError(f"{path}: not a readable .npy code file ({reason})") from exc
    _check_code_header(path, tuple(shape), dtype, offset)
    try:
        array = np.load(path, allow_pickle=False)  # never unpickle a prompt file
    except (OSError, ValueError, EOFError) as exc:
        raise PromptError(f"{path}: not a readable .npy code file ({exc})") from exc
    del fortran  # np.load honours the order itself
    return validate_codes(np.asarray(array), str(path))


def _check_code_header(path: Path, shape: tuple[int, ...], dtype: np.dtype, offset: int) -> None:
    """Refuse a ``.npy`` header that cannot describe codes, before its data is allocated."""
    if dtype.hasobject:
        raise PromptError(f"{path}: not a readable .npy code file (it holds Python objects, which are never "
                          "unpickled)")
    if dtype.kind not in "iu":
        raise PromptError(f"{path}: codes must be integers, the file holds {dtype}")
    if len(shape) != 2 or shape[1] != LEVELS:
        raise PromptError(f"{path}: codes must be shaped [T, {LEVELS}], the file holds {list(shape)}")
    if shape[0] > MAX_CODE_FRAMES:
        raise PromptError(f"{path}: its header claims {shape[0]:,} frames ({shape[0] / FRAMES_PER_SECOND / 3600:,.0f} "
                          f"hours); a prompt has at most {MAX_CODE_FRAMES:,} ({MAX_CLIP_SECONDS / 60:.0f} minutes)")
    expected = offset + shape[0] * shape[1] * dtype.itemsize
    size = path.stat().st_size
    if size != expected:
        raise PromptError(f"{path}: its header announces {expected - offset:,} bytes of codes but the file has "
                          f"{max(0, size - offset):,} (a truncated or damaged file)")


def require_prompt_file(path: str | os.PathLike[str]) -> Path:
    """``path`` if it is a regular file; a :class:`PromptError` naming it otherwise (missing, a folder,
    a named pipe or a device: read without this check, a pipe would block and a device never end)."""
    path = Path(path)
    try:
        return require_regular_file(path, "an audio or .npy file")
    except FileNotFoundError:
        raise PromptError(f"{path}: prompt file not found") from None
    except NotARegularFileError as exc:
        raise PromptError(str(exc)) from None
    except OSError as exc:
        raise PromptError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def read_prompt_file(path: str | os.PathLike[str], *, max_seconds: float = MAX_CLIP_SECONDS) -> Prompt:
    """One reference prompt from ``path``: a 24 kHz mono clip named by the path (with the file's
    advice in ``notes``), or int64 codes ``[T, 8]`` for a ``.npy`` file.

    Raises :class:`~valle_studio.core.clip.PromptError` (missing, a folder, bad codes) or
    :class:`~valle_studio.audio.io.AudioError` (unreadable audio), naming the file.
    """
    path = require_prompt_file(path)
    if path.suffix.lower() == CODES_SUFFIX:
        return read_codes_file(path)
    clip = load_audio(path, max_seconds=max_seconds)
    samples = resample(clip.samples, clip.sample_rate, SAMPLE_RATE)
    return Clip(samples, SAMPLE_RATE, str(path), clip.notes)


def read_prompt_files(paths: Sequence[str | os.PathLike[str]]) -> list[Prompt]:
    """:func:`read_prompt_file` for each path, in order."""
    return [read_prompt_file(p) for p in paths]


__all__ = ["CODES_SUFFIX", "MAX_CODE_FRAMES", "read_codes_file", "read_prompt_file", "read_prompt_files",
           "require_prompt_file"]
