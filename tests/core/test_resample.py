"""The one resampler (core.resample, soxr): frequency and amplitude kept, no aliasing, lengths, channels.

Moved here from tests/audio/test_io.py with the resampler itself (audio.io -> core.resample).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from valle_studio.core.resample import resample, resampled_length

SR = 24_000


def tone(seconds: float, freq: float = 440.0, amplitude: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def fit_sine(y: np.ndarray, sr: int, freq: float) -> tuple[float, float]:
    """Least-squares amplitude of a ``freq`` sine in the middle half of ``y``, and the residual RMS.

    A small residual means the signal is a sine of exactly that frequency.
    """
    n = y.size
    t = np.arange(n // 4, 3 * n // 4) / sr
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    part = y[n // 4: 3 * n // 4].astype(np.float64)
    coef, *_ = np.linalg.lstsq(basis, part, rcond=None)
    return float(np.hypot(*coef)), float(np.sqrt(np.mean((part - basis @ coef) ** 2)))


@pytest.mark.parametrize(("src", "dst"), [(44_100, 24_000), (48_000, 24_000), (22_050, 24_000),
                                          (16_000, 24_000), (24_000, 44_100), (24_000, 16_000)])
def test_resample_keeps_frequency_and_amplitude(src: int, dst: int) -> None:
    x = tone(1.0, freq=1000.0, amplitude=0.5, sr=src)
    y = resample(x, src, dst)
    assert y.dtype == np.float32 and y.size == math.ceil(x.size * dst / src)
    amplitude, residual = fit_sine(y, dst, 1000.0)
    assert amplitude == pytest.approx(0.5, rel=1e-3)  # within 0.01 dB
    assert residual < 1e-4  # nothing but a 1 kHz sine is left


def test_resample_does_not_alias() -> None:
    # 15 kHz cannot exist at 24 kHz (Nyquist 12 kHz): it must vanish, not fold down to 9 kHz.
    y = resample(tone(1.0, freq=15_000.0, amplitude=0.5, sr=48_000), 48_000, 24_000)
    middle = y[1000:-1000]
    assert 20 * np.log10(np.sqrt(np.mean(middle**2)) / (0.5 / np.sqrt(2))) < -70.0


def test_resample_dc_identity_and_channels() -> None:
    y = resample(np.full(4410, 0.25, np.float32), 44_100, 24_000)
    np.testing.assert_allclose(y[200:-200], 0.25, atol=1e-5)
    x = tone(0.1)
    same = resample(x, SR, SR)
    assert np.array_equal(same, x) and same is not x
    stereo = resample(np.stack([x, 0.5 * x], axis=1), SR, 16_000)
    assert stereo.shape == (math.ceil(x.size * 2 / 3), 2)
    np.testing.assert_allclose(stereo[:, 1], 0.5 * stereo[:, 0], atol=1e-6)
    assert resample(np.zeros(0, np.float32), 44_100, SR).size == 0
    with pytest.raises(ValueError):
        resample(x, 0, SR)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 441, 1000, 66_151])
def test_length_is_the_ceiling_for_any_input(n: int) -> None:
    """soxr itself rounds; the wrapper always covers every input sample, as torchaudio does."""
    y = resample(np.ones(n, np.float32), 44_100, SR)
    assert y.size == resampled_length(n, 44_100, SR) == math.ceil(n * SR / 44_100)
