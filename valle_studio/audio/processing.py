"""Small numpy tools for mono clips: levels, silence trimming, loudness, selection, drawing envelopes.

Every function takes ``samples: [S] float`` (mono, full scale = 1.0) and returns new arrays; the input
is never modified. Levels are in dBFS: 0 dBFS is a full-scale peak, digital silence is ``-inf``.
"""

from __future__ import annotations

import numpy as np

from valle_studio.core.clip import SILENCE_DBFS

_FRAME_S = 0.010  # analysis frame for trimming and gated loudness; short enough to find word edges
_EPS = 1e-12


def _mono(samples: np.ndarray, name: str = "samples") -> np.ndarray:
    array = np.asarray(samples)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a mono [S] array, got shape {array.shape}")
    return array.astype(np.float32, copy=False)


def _db(power_or_amplitude: float, *, power: bool) -> float:
    if power_or_amplitude <= 0.0:
        return float("-inf")
    return float((10.0 if power else 20.0) * np.log10(power_or_amplitude))


def peak_dbfs(samples: np.ndarray) -> float:
    """Highest absolute sample in dBFS (``-inf`` for an empty or all-zero clip)."""
    x = _mono(samples)
    return _db(float(np.max(np.abs(x))) if x.size else 0.0, power=False)


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level of the whole clip in dBFS (a full-scale sine reads -3.01)."""
    x = _mono(samples)
    return _db(float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0, power=True)


def is_silent(samples: np.ndarray, threshold_db: float = SILENCE_DBFS) -> bool:
    """True when the clip is empty or its peak stays below ``threshold_db`` dBFS."""
    return peak_dbfs(samples) < threshold_db


def clipping_ratio(samples: np.ndarray, threshold: float = 0.999) -> float:
    """Fraction of samples (0..1) whose magnitude reaches ``threshold`` (i.e. are likely clipped)."""
    x = _mono(samples)
    if x.size == 0:
        return 0.0
    return float(np.count_nonzero(np.abs(x) >= threshold) / x.size)


def _frame_rms_db(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """Per-frame RMS level ``[F]`` in dB over non-overlapping frames, and the frame length."""
    frame = max(1, round(_FRAME_S * sample_rate))
    n_frames = -(-x.size // frame)
    padded = np.zeros(n_frames * frame, dtype=np.float64)
    padded[: x.size] = x
    power = np.mean(np.square(padded.reshape(n_frames, frame)), axis=1)
    return 10.0 * np.log10(power + _EPS), frame


def _check_rate(sample_rate: int) -> None:
    if int(sample_rate) <= 0:
        raise ValueError(f"sample_rate must be a positive number of Hz, got {sample_rate}")


def trim_bounds(samples: np.ndarray, sample_rate: int, threshold_db: float = -45.0,
                pad: float = 0.1) -> tuple[int, int]:
    """Sample range ``[start, end)`` left after cutting leading and trailing silence.

    A 10 ms frame counts as sound when its RMS is within ``|threshold_db|`` dB of the loudest frame
    (relative, so quiet but clean recordings trim the same way as loud ones) and above -90 dBFS.
    ``pad`` seconds of context are kept on each side. An all-silent clip gives ``(0, 0)``.
    """
    x = _mono(samples)
    _check_rate(sample_rate)
    if threshold_db >= 0:
        raise ValueError(f"threshold_db must be negative (dB below the loudest frame), got {threshold_db}")
    if pad < 0:
        raise ValueError(f"pad must be >= 0 seconds, got {pad}")
    if x.size == 0:
        return 0, 0
    levels, frame = _frame_rms_db(x, sample_rate)
    floor = max(float(levels.max()) + threshold_db, -90.0)
    loud = np.flatnonzero(levels > floor)
    if loud.size == 0:
        return 0, 0
    pad_samples = round(pad * sample_rate)
    start = max(0, int(loud[0]) * frame - pad_samples)
    end = min(x.size, (int(loud[-1]) + 1) * frame + pad_samples)
    return start, end


def trim_silence(samples: np.ndarray, sample_rate: int, threshold_db: float = -45.0,
                 pad: float = 0.1) -> np.ndarray:
    """Copy of ``samples`` without leading/trailing silence (see :func:`trim_bounds`); may be empty."""
    start, end = trim_bounds(samples, sample_rate, threshold_db, pad)
    return _mono(samples)[start:end].copy()


def active_rms_dbfs(samples: np.ndarray, sample_rate: int, gate_db: float = -45.0) -> float:
    """RMS level in dBFS over the frames within ``|gate_db|`` dB of the loudest one.

    Pauses between words do not drag the level down, so speech with and without gaps reads alike.
    """
    x = _mono(samples)
    _check_rate(sample_rate)
    if x.size == 0 or not np.any(x):
        return float("-inf")
    levels, _ = _frame_rms_db(x, sample_rate)
    keep = levels > max(float(levels.max()) + gate_db, -90.0)
    power = np.mean(np.power(10.0, levels[keep] / 10.0))
    return _db(float(power), power=True)


def normalize_loudness(samples: np.ndarray, sample_rate: int, target_dbfs: float = -20.0,
                       peak_ceiling_dbfs: float = -1.0) -> np.ndarray:
    """Scale the clip so its gated RMS (:func:`active_rms_dbfs`) reaches ``target_dbfs``.

    The gain is lowered if needed so no sample peaks above ``peak_ceiling_dbfs``; the target level
    is then not reached (a single gain never distorts). A silent clip is returned unchanged.
    Returns ``[S] float32``.
    """
    x = _mono(samples)
    if target_dbfs > 0 or peak_ceiling_dbfs > 0:
        raise ValueError(f"target_dbfs ({target_dbfs}) and peak_ceiling_dbfs ({peak_ceiling_dbfs}) "
                         "must be <= 0 dBFS")
    level = active_rms_dbfs(x, sample_rate)
    if not np.isfinite(level):
        return x.copy()
    gain_db = min(target_dbfs - level, peak_ceiling_dbfs - peak_dbfs(x))
    return (x * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


def select(samples: np.ndarray, sample_rate: int, start_s: float, end_s: float | None = None) -> np.ndarray:
    """Copy of the part between ``start_s`` and ``end_s`` seconds (``None`` = to the end).

    Times past the end are clamped to the clip; a start that is negative or not before the end is
    an error.
    """
    x = _mono(samples)
    _check_rate(sample_rate)
    duration = x.size / sample_rate
    if start_s < 0:
        raise ValueError(f"start_s must be >= 0 seconds, got {start_s}")
    if end_s is not None and end_s <= start_s:
        raise ValueError(f"end_s ({end_s}) must be after start_s ({start_s})")
    if start_s >= duration:
        raise ValueError(f"start_s ({start_s:.3f} s) is past the end of the clip ({duration:.3f} s)")
    start = round(start_s * sample_rate)
    end = x.size if end_s is None else min(x.size, round(end_s * sample_rate))
    return x[start:end].copy()


def waveform_envelope(samples: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max sample per bin, for drawing: two ``[n_bins] float32`` arrays.

    The clip is split into ``n_bins`` nearly equal spans. When there are fewer samples than bins,
    each bin shows the sample under it (min == max). An empty clip gives zeros.
    """
    x = _mono(samples)
    if n_bins <= 0:
        raise ValueError(f"n_bins must be a positive number of bins, got {n_bins}")
    if x.size == 0:
        return np.zeros(n_bins, np.float32), np.zeros(n_bins, np.float32)
    if x.size < n_bins:
        picks = x[(np.arange(n_bins) * x.size) // n_bins]
        return picks.copy(), picks.copy()
    edges = (np.arange(n_bins) * x.size) // n_bins  # strictly increasing because S >= n_bins
    return np.minimum.reduceat(x, edges).astype(np.float32), np.maximum.reduceat(x, edges).astype(np.float32)
