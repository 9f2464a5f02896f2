"""Levels, trimming, loudness, selection and envelopes on synthetic signals with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from valle_studio.audio.processing import (
    active_rms_dbfs,
    clipping_ratio,
    is_silent,
    normalize_loudness,
    peak_dbfs,
    rms_dbfs,
    select,
    trim_bounds,
    trim_silence,
    waveform_envelope,
)

SR = 24_000


def tone(seconds: float, amplitude: float = 0.5, freq: float = 440.0, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(round(seconds * sr), np.float32)


def test_levels_of_known_signals() -> None:
    assert peak_dbfs(tone(1.0, 0.5)) == pytest.approx(20 * math.log10(0.5), abs=1e-3)
    assert rms_dbfs(tone(1.0, 1.0)) == pytest.approx(-3.0103, abs=1e-3)  # full-scale sine
    assert rms_dbfs(np.full(100, 0.1, np.float32)) == pytest.approx(-20.0, abs=1e-4)
    assert peak_dbfs(silence(0.1)) == -math.inf and rms_dbfs(np.zeros(0, np.float32)) == -math.inf


def test_is_silent() -> None:
    rng = np.random.default_rng(0)
    assert is_silent(silence(1.0)) and is_silent(np.zeros(0, np.float32))
    assert is_silent((rng.standard_normal(SR) * 1e-4).astype(np.float32))  # ~ -70 dBFS peaks
    assert not is_silent(tone(0.5, 0.01))  # -40 dBFS: quiet but audible
    assert is_silent(tone(0.5, 0.01), threshold_db=-30.0)


def test_clipping_ratio() -> None:
    x = np.zeros(1000, np.float32)
    x[:10] = 1.0
    x[10:15] = -1.0
    assert clipping_ratio(x) == pytest.approx(0.015)
    assert clipping_ratio(tone(1.0, 0.9)) == 0.0 and clipping_ratio(np.zeros(0, np.float32)) == 0.0


def test_trim_silence_keeps_the_sound_plus_padding() -> None:
    rng = np.random.default_rng(1)
    clip = np.concatenate([silence(0.5), tone(1.0, 0.3), silence(0.7)])
    clip += (rng.standard_normal(clip.size) * 1e-4).astype(np.float32)  # -80 dB noise floor
    start, end = trim_bounds(clip, SR, pad=0.1)
    frame = SR // 100
    assert abs(start - round(0.4 * SR)) <= frame
    assert abs(end - round(1.6 * SR)) <= frame
    trimmed = trim_silence(clip, SR, pad=0.1)
    assert trimmed.size == end - start and np.array_equal(trimmed, clip[start:end])
    tight = trim_silence(clip, SR, pad=0.0)
    assert abs(tight.size - SR) <= 2 * frame


def test_trim_threshold_is_relative_to_the_loudest_part() -> None:
    quiet = np.concatenate([silence(0.3), tone(0.5, 0.003), silence(0.3)])  # -50 dBFS peak speech
    assert abs(trim_silence(quiet, SR, pad=0.0).size - SR // 2) <= 2 * SR // 100


def test_trim_edge_cases() -> None:
    assert trim_silence(silence(1.0), SR).size == 0
    assert trim_silence(np.zeros(0, np.float32), SR).size == 0
    full = tone(0.5)
    assert np.array_equal(trim_silence(full, SR), full)
    with pytest.raises(ValueError, match="threshold_db"):
        trim_bounds(full, SR, threshold_db=3.0)
    with pytest.raises(ValueError, match="mono"):
        trim_silence(np.zeros((10, 2), np.float32), SR)


def test_normalize_reaches_target_rms() -> None:
    out = normalize_loudness(tone(1.0, 0.05), SR, target_dbfs=-20.0)
    assert out.dtype == np.float32
    assert rms_dbfs(out) == pytest.approx(-20.0, abs=0.02)


def test_normalize_ignores_pauses() -> None:
    # Speech-like: sound, long pause, sound. The gated level is the level of the sound alone.
    clip = np.concatenate([tone(0.5, 0.05), silence(1.5), tone(0.5, 0.05)])
    out = normalize_loudness(clip, SR, target_dbfs=-20.0)
    assert rms_dbfs(out[: SR // 2]) == pytest.approx(-20.0, abs=0.05)
    assert active_rms_dbfs(out, SR) == pytest.approx(-20.0, abs=0.05)


def test_normalize_respects_peak_ceiling() -> None:
    clicks = np.zeros(SR, np.float32)
    clicks[::2400] = 0.2  # crest factor ~ 20 dB: -20 dBFS RMS would need peaks far above 0 dBFS
    out = normalize_loudness(clicks, SR, target_dbfs=-20.0, peak_ceiling_dbfs=-1.0)
    assert peak_dbfs(out) == pytest.approx(-1.0, abs=1e-3)
    assert rms_dbfs(out) < -20.0


def test_normalize_silence_and_bad_targets() -> None:
    assert np.array_equal(normalize_loudness(silence(0.5), SR), silence(0.5))
    with pytest.raises(ValueError, match="dBFS"):
        normalize_loudness(tone(0.1), SR, target_dbfs=3.0)


def test_select() -> None:
    ramp = np.arange(SR * 2, dtype=np.float32)
    part = select(ramp, SR, 0.5, 1.25)
    assert part.size == round(0.75 * SR) and part[0] == SR // 2
    assert select(ramp, SR, 1.5).size == SR // 2
    assert select(ramp, SR, 1.5, 99.0).size == SR // 2  # end clamped
    part[0] = -1
    assert ramp[SR // 2] == SR // 2  # a copy, not a view
    for start, end in [(-0.1, 1.0), (1.0, 1.0), (1.2, 0.5), (3.0, 4.0)]:
        with pytest.raises(ValueError):
            select(ramp, SR, start, end)


def test_waveform_envelope_exact_on_small_input() -> None:
    x = np.array([0, 1, -1, 2, -3, 4, 0.5, -0.5], np.float32)
    mins, maxs = waveform_envelope(x, 4)
    assert np.array_equal(mins, [0, -1, -3, -0.5]) and np.array_equal(maxs, [1, 2, 4, 0.5])
    mins, maxs = waveform_envelope(x[:3], 6)  # fewer samples than bins
    assert mins.shape == (6,) and np.array_equal(mins, maxs) and set(mins.tolist()) == {0.0, 1.0, -1.0}
    zeros = waveform_envelope(np.zeros(0, np.float32), 5)
    assert all(np.array_equal(z, np.zeros(5)) for z in zeros)
    with pytest.raises(ValueError, match="n_bins"):
        waveform_envelope(x, 0)


def test_waveform_envelope_bounds_a_long_signal() -> None:
    x = tone(3.0, 0.7, freq=3.0)  # slow sine: each bin's extremes follow the curve
    mins, maxs = waveform_envelope(x, 300)
    assert mins.shape == maxs.shape == (300,) and np.all(mins <= maxs)
    assert maxs.max() == pytest.approx(0.7, abs=1e-3) and mins.min() == pytest.approx(-0.7, abs=1e-3)
    assert float(x.max()) == float(maxs.max()) and float(x.min()) == float(mins.min())
