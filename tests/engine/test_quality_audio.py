"""Each audio check of the quality guard fires on constructed audio that shows its fault and stays quiet
on clean speech-like audio: leading, trailing and inner silence, a silent take, level, clipping."""

from __future__ import annotations

import numpy as np
import pytest

from valle_studio.engine.quality import audio_checks as ac
from valle_studio.engine.quality.verdict import BAD, GOOD, SUSPECT

SR = 24_000


def voiced(seconds: float, amplitude: float = 0.3) -> np.ndarray:
    """A tone with a syllable rhythm (4 Hz) whose dips stay well above silence: speech as the checks see it."""
    t = np.arange(round(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * 200 * t) * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SR), np.float32)


def by_name(findings):
    return {f.name: f for f in findings}


def test_clean_speech_passes_every_audio_check() -> None:
    audio = np.concatenate([quiet(0.2), voiced(3.0), quiet(0.4), voiced(2.0), quiet(0.3)])
    found = by_name(ac.check_audio(audio, SR, reference_db=ac.speech_level(voiced(3.0), SR)))
    assert {f.level for f in found.values()} == {GOOD}
    assert found[ac.LEADING].value == pytest.approx(0.2, abs=0.03)
    assert found[ac.TRAILING].value == pytest.approx(0.3, abs=0.03)
    assert found[ac.INTERNAL].value == pytest.approx(0.4, abs=0.03)
    assert abs(found[ac.LEVEL].value) < 1.0 and found[ac.CLIPPED].value == 0.0


def test_leading_silence_fires() -> None:
    waited = by_name(ac.check_silences(np.concatenate([quiet(3.0), voiced(2.0)]), SR))[ac.LEADING]
    assert waited.level == BAD and "starts with 3.0 s of silence" in waited.reason
    late = by_name(ac.check_silences(np.concatenate([quiet(1.2), voiced(2.0)]), SR))[ac.LEADING]
    assert late.level == SUSPECT


def test_trailing_silence_fires() -> None:
    found = by_name(ac.check_silences(np.concatenate([voiced(2.0), quiet(3.5)]), SR))
    assert found[ac.TRAILING].level == BAD and "ends with 3.5 s of silence" in found[ac.TRAILING].reason
    assert found[ac.LEADING].level == GOOD


def test_inner_silence_fires_beyond_the_pause_asked_for() -> None:
    audio = np.concatenate([voiced(1.5), quiet(2.0), voiced(1.5)])
    inner = by_name(ac.check_silences(audio, SR))[ac.INTERNAL]
    assert inner.level == SUSPECT and "falls silent for 2.0 s" in inner.reason
    assert by_name(ac.check_silences(audio, SR, gap_s=1.0))[ac.INTERNAL].level == GOOD  # the gap it was asked for
    long_gap = np.concatenate([voiced(1.5), quiet(3.5), voiced(1.5)])
    assert by_name(ac.check_silences(long_gap, SR))[ac.INTERNAL].level == BAD


def test_quiet_speech_is_not_silence() -> None:
    audio = np.concatenate([quiet(0.2), voiced(3.0, amplitude=0.01), quiet(0.2)])  # about -45 dBFS
    assert {f.level for f in ac.check_silences(audio, SR)} == {GOOD}


def test_a_silent_or_empty_take_is_bad() -> None:
    for audio in (quiet(2.0), np.zeros(0, np.float32), voiced(2.0, amplitude=0.001)):
        found = ac.check_silences(audio, SR)
        assert found[0].level == BAD and "silent" in found[0].reason


def test_a_take_far_quieter_than_its_reference_fires() -> None:
    reference = ac.speech_level(voiced(3.0, amplitude=0.3), SR)
    faded = ac.check_level(voiced(3.0, amplitude=0.3 / 30), SR, reference)  # -29.5 dB
    assert faded.level == BAD and faded.value == pytest.approx(-29.5, abs=0.5)
    assert "quieter than the reference clip" in faded.reason
    assert ac.check_level(voiced(3.0, amplitude=0.3 / 8), SR, reference).level == SUSPECT  # -18 dB
    assert ac.check_level(voiced(3.0, amplitude=0.6), SR, reference).level == GOOD  # louder is fine
    assert ac.check_level(voiced(3.0), SR, None).value is None


def test_clipping_fires() -> None:
    audio = voiced(2.0)
    hot = audio.copy()
    hot[::40] = 1.0  # 2.5 % of the samples at full scale
    assert ac.check_clipping(hot).level == BAD and "at full scale" in ac.check_clipping(hot).reason
    warm = audio.copy()
    warm[::500] = -1.0  # 0.2 %
    assert ac.check_clipping(warm).level == SUSPECT
    assert ac.check_clipping(audio).level == GOOD


def test_without_audio_the_audio_checks_are_skipped_and_say_so() -> None:
    found = ac.check_audio(None, SR, reference_db=-10.0)
    assert all(f.value is None for f in found)
    assert all("not decoded to audio" in f.reason for f in found)
