"""A device that delivers nonsense stops the recording with a clear reason, keeping only the good audio."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio.fake_stream import FakeStreamFactory
from tests.audio.test_recording import SR, tone, wait_until
from valle_studio.audio.recording import FULL, JUNK, Recorder, junk_kind


def record_until_stopped(source: np.ndarray, *, max_seconds: float = 600.0) -> tuple[Recorder, np.ndarray]:
    factory = FakeStreamFactory(speed=50, source=source)
    rec = Recorder(sample_rate=SR, stream_factory=factory, blocksize=256, max_seconds=max_seconds)
    rec.start()
    wait_until(lambda: rec.poll() is not None or rec.full, timeout=10)
    return rec, rec.stop()


@pytest.mark.parametrize(("junk", "kind"), [
    (np.full(SR, np.nan, np.float32), "invalid"),
    (np.full(SR, np.inf, np.float32), "invalid"),
    (np.full(SR, 12345.0, np.float32), "invalid"),  # a wrong sample format read as float
    (np.full(SR, 0.3, np.float32), "flat"),  # a stuck converter
    (np.sign(np.random.default_rng(0).standard_normal(SR)).astype(np.float32), "full-scale"),
])
def test_nonsense_stops_and_keeps_what_came_before(junk: np.ndarray, kind: str) -> None:
    good = tone(0.5, 0.4)
    source = np.concatenate([good, junk, tone(3.0, 0.4)])
    rec, audio = record_until_stopped(source)
    assert rec.error is not None and rec.error.startswith(JUNK[kind][1])
    assert rec.stop_reason == rec.error
    # Cut back to the block where the nonsense began: the good tone, give or take the one block that holds
    # both (kept when it reads as audio, dropped when it does not), and nothing after.
    assert len(good) - 256 <= len(audio) <= len(good) + 256
    n = min(len(audio), len(good))
    np.testing.assert_array_equal(audio[:n], good[:n])
    assert f"the {len(audio) / SR:.1f} s before it are kept" in rec.error
    assert np.isfinite(audio).all()


def test_digital_silence_stops_after_five_seconds_instead_of_filling_the_cap() -> None:
    good = tone(0.5, 0.4)  # then the fake delivers exact zeros, as a muted input does
    rec, audio = record_until_stopped(good, max_seconds=600.0)
    assert rec.error is not None and rec.error.startswith(JUNK["silent"][1])
    assert not rec.full
    assert len(good) <= len(audio) <= len(good) + 256
    np.testing.assert_array_equal(audio[: len(good)], good)


def test_a_short_glitch_is_kept_with_its_invalid_samples_zeroed() -> None:
    source = np.concatenate([tone(0.5, 0.4), np.full(800, np.nan, np.float32), tone(0.5, 0.4)])
    factory = FakeStreamFactory(speed=50, source=source)
    rec = Recorder(sample_rate=SR, stream_factory=factory, blocksize=256)
    rec.start()
    wait_until(lambda: rec.duration >= len(source) / SR)
    assert rec.poll() is None
    audio = rec.stop()
    assert np.isfinite(audio).all()
    np.testing.assert_array_equal(audio[:7936], source[:7936])  # the blocks before the glitch, untouched


def test_the_cap_says_why_it_stopped() -> None:
    rec, audio = record_until_stopped(tone(2.0, 0.3), max_seconds=0.25)
    assert rec.full and rec.error is None
    assert rec.stop_reason == FULL.format(limit=0.25)
    assert len(audio) == int(0.25 * SR)


@pytest.mark.parametrize(("block", "kind"), [
    (tone(0.05, 0.3), None),
    (tone(0.05, 0.001), None),  # a quiet room still moves
    (np.concatenate([np.ones(100, np.float32), tone(0.02, 0.5)]), None),  # clipped speech is speech
    (np.zeros(512, np.float32), "silent"),
    (np.full(512, -0.2, np.float32), "flat"),
    (np.array([0.1, np.nan] * 100, np.float32), "invalid"),
    (np.zeros(0, np.float32), None),
])
def test_junk_kind(block: np.ndarray, kind: str | None) -> None:
    assert junk_kind(block) == kind
