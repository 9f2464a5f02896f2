"""The project's one resampler: soxr (libsoxr's "high quality" recipe) with a fixed output length.

Files read as prompts (``audio.prompts``), recordings from a device that refused 24 kHz
(``audio.recording``) and clips handed to the codec at another rate (``engine.codec``) all go
through :func:`resample`, so a clip gets the same samples, and so the same codes, whichever way it
came in.

Upstream resamples with torchaudio's windowed sinc (``encodec.utils.convert_audio``). The two differ
near the lower Nyquist frequency: soxr is flat to about 92 % of it and then falls steeply (-40 dB at
98 %), torchaudio's filter rolls off earlier (-1 dB at 83 %, -3 dB at 92 %) and lets some aliasing
through (-9 dB at 104 %). ``tests/engine/test_prompt_resampling.py`` measures what that does to prompt codes.
"""

from __future__ import annotations

import math

import numpy as np
import soxr

#: libsoxr's 20-bit recipe (its default).
QUALITY = "HQ"


def resampled_length(n_samples: int, from_sr: int, to_sr: int) -> int:
    """Samples :func:`resample` returns for ``n_samples``: ``ceil(n * to_sr / from_sr)`` (every input
    sample is covered, as torchaudio's resampler does)."""
    return -(-int(n_samples) * int(to_sr) // int(from_sr))


def resample(samples: np.ndarray, from_sr: int, to_sr: int) -> np.ndarray:
    """Band-limited resampling of ``[S]`` or ``[S, C]`` audio from ``from_sr`` to ``to_sr`` Hz.

    Returns float32 ``[ceil(S * to_sr / from_sr)]`` (or ``[.., C]``), a new array even when the rates
    are equal. The signal is taken as zero beyond both ends, and the output is aligned with the input
    (soxr compensates its filter delay).
    """
    if int(from_sr) <= 0 or int(to_sr) <= 0:
        raise ValueError(f"sample rates must be positive, got {from_sr} -> {to_sr}")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim not in (1, 2):
        raise ValueError(f"samples must be [S] or [S, C], got shape {x.shape}")
    if from_sr == to_sr:
        return x.copy()
    length = resampled_length(x.shape[0], from_sr, to_sr)
    if length == 0:
        return np.zeros((0, *x.shape[1:]), np.float32)
    # soxr rounds its output length to the nearest sample; a few zeros past the end give it enough
    # input for the ceil length, and are what the signal is taken to be there anyway.
    pad = math.ceil(from_sr / to_sr) + 2
    padded = np.concatenate([x, np.zeros((pad, *x.shape[1:]), np.float32)])
    out = soxr.resample(np.ascontiguousarray(padded), int(from_sr), int(to_sr), quality=QUALITY)
    return np.ascontiguousarray(out[:length], dtype=np.float32)


__all__ = ["QUALITY", "resample", "resampled_length"]
