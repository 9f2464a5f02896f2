"""Recorder against a fake input stream that reuses its buffer and can vanish mid-recording."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.audio.devices import (
    NO_INPUT,
    AudioUnavailable,
    SoundDeviceStreamFactory,
    list_input_devices,
)
from valle_studio.audio.recording import VANISHED, Recorder

SR = 16000


def tone(seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_records_exactly_what_the_device_delivered() -> None:
    source = tone(1.0, 0.5)
    factory = FakeStreamFactory(speed=50, source=source)
    rec = Recorder(sample_rate=SR, stream_factory=factory)
    rec.start()
    assert rec.is_recording
    wait_until(lambda: rec.duration >= 1.0)
    audio = rec.stop()
    assert not rec.is_recording
    assert audio.dtype == np.float32 and audio.ndim == 1
    # The fake overwrites its buffer after each call: a recorder that kept references would differ.
    np.testing.assert_array_equal(audio[: len(source)], source)
    assert rec.error is None
    assert not rec.clipped
    assert factory.streams[0].closed


def test_level_meter_follows_the_input() -> None:
    factory = FakeStreamFactory(speed=20, source=tone(0.5, 0.1))  # -20 dBFS peak
    rec = Recorder(sample_rate=SR, stream_factory=factory)
    assert rec.level_dbfs == float("-inf")
    rec.start()
    wait_until(lambda: rec.duration > 0.2)
    assert rec.level_dbfs == pytest.approx(-20.0, abs=1.0)
    rec.stop()


def test_clipping_sets_a_sticky_flag_that_start_resets() -> None:
    source = np.concatenate([tone(0.2, 0.3), np.ones(100, np.float32), tone(0.2, 0.3)])
    factory = FakeStreamFactory(speed=50, source=source)
    rec = Recorder(sample_rate=SR, stream_factory=factory)
    rec.start()
    wait_until(lambda: rec.duration > 0.45)
    assert rec.clipped
    rec.stop()
    assert rec.clipped
    factory.source = tone(0.2, 0.3)
    rec.start()
    wait_until(lambda: rec.duration > 0.1)
    assert not rec.clipped
    rec.stop()


def test_device_vanishing_keeps_the_audio_so_far() -> None:
    source = tone(2.0, 0.4)
    factory = FakeStreamFactory(speed=50, source=source, vanish_after_frames=4096)
    rec = Recorder(sample_rate=SR, stream_factory=factory, blocksize=256)
    rec.start()
    wait_until(lambda: factory.streams[0].vanished)
    assert rec.poll() == VANISHED
    assert not rec.is_recording
    audio = rec.stop()  # the fake's stop() raises like PortAudio does; the recorder survives it
    assert len(audio) == 4096
    np.testing.assert_array_equal(audio, source[:4096])


def test_a_stalled_device_is_noticed_by_poll() -> None:
    factory = FakeStreamFactory(speed=0.001, source=tone(1.0, 0.2))  # one block, then silence for ages
    rec = Recorder(sample_rate=SR, stream_factory=factory, stall_timeout_s=0.05)
    rec.start()
    time.sleep(0.1)
    assert rec.poll() == VANISHED
    rec.stop()


def test_max_seconds_caps_memory() -> None:
    factory = FakeStreamFactory(speed=50, source=tone(1.0, 0.2))
    rec = Recorder(sample_rate=SR, stream_factory=factory, max_seconds=0.25)
    rec.start()
    wait_until(lambda: rec.full)
    audio = rec.stop()
    assert len(audio) == int(0.25 * SR)


def test_unavailable_input() -> None:
    rec = Recorder(stream_factory=FakeStreamFactory(input_reason=NO_INPUT))
    assert rec.unavailable_reason() == NO_INPUT
    with pytest.raises(AudioUnavailable, match="microphone"):
        rec.start()
    assert not rec.is_recording
    assert len(rec.stop()) == 0


def test_real_factory_on_a_machine_without_microphone() -> None:
    if list_input_devices():
        pytest.skip("this machine has an input device")
    rec = Recorder(stream_factory=SoundDeviceStreamFactory())
    assert rec.unavailable_reason() == NO_INPUT
    with pytest.raises(AudioUnavailable, match=re.escape(NO_INPUT)):
        rec.start()


def test_device_that_refuses_the_rate_is_recorded_at_its_own_and_resampled() -> None:
    # The fake's default input device runs at 48 kHz only (like many raw ALSA hw devices).
    source = (0.5 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000)).astype(np.float32)
    factory = FakeStreamFactory(speed=50, source=source, rates={48000})
    rec = Recorder(sample_rate=24000, stream_factory=factory)
    rec.start()
    assert rec.device_sample_rate == 48000
    assert factory.streams[0].sample_rate == 48000
    wait_until(lambda: rec.duration >= 1.0)
    audio = rec.stop()
    assert len(audio) >= 24000
    spectrum = np.abs(np.fft.rfft(audio[2000:22000]))
    peak_hz = np.argmax(spectrum) * 24000 / 20000
    assert peak_hz == pytest.approx(440, abs=2)
    assert np.max(np.abs(audio[2000:22000])) == pytest.approx(0.5, abs=0.01)


def test_read_new_hands_out_each_sample_once_across_chunk_borders(monkeypatch: pytest.MonkeyPatch) -> None:
    import valle_studio.audio.recording as recording

    monkeypatch.setattr(recording, "_CHUNK_S", 0.1)  # storage chunks of 1600 frames: many borders
    source = tone(1.0, 0.3)
    factory = FakeStreamFactory(speed=20, source=source)
    rec = Recorder(sample_rate=SR, stream_factory=factory, blocksize=300)
    rec.start()
    pieces = []
    while rec.duration < 1.0:
        pieces.append(rec.read_new())
        time.sleep(0.003)
    audio = rec.stop()
    pieces.append(rec.read_new())
    live = np.concatenate(pieces)
    np.testing.assert_array_equal(live, audio)
    np.testing.assert_array_equal(audio[: len(source)], source)
