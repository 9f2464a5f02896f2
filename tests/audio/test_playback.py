"""Player state machine against a fake PortAudio stream that calls back from its own thread."""

from __future__ import annotations

import builtins
import threading
import time

import numpy as np
import pytest

from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.audio.devices import (
    MISSING_PORTAUDIO,
    NO_OUTPUT,
    AudioUnavailable,
    SoundDeviceStreamFactory,
)
from valle_studio.audio.playback import Player, PlayerState

SR = 8000


def ramp(seconds: float) -> np.ndarray:
    """Distinct values everywhere, so any dropped, repeated or shifted block is visible."""
    n = int(seconds * SR)
    return np.linspace(-0.9, 0.9, n, dtype=np.float32)


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_plays_every_sample_once_then_stops_outside_the_callback() -> None:
    factory = FakeStreamFactory(speed=50)
    player = Player(factory)
    events: list[tuple[PlayerState, int]] = []
    player.add_listener(lambda s: events.append((s, threading.get_ident())))
    clip = ramp(0.5)
    player.load(clip, SR)
    player.play()
    assert player.state is PlayerState.PLAYING
    assert player.wait(timeout=5)
    assert player.state is PlayerState.STOPPED
    stream = factory.streams[0]
    out = stream.output()
    assert not np.isnan(out).any(), "the callback left output samples unwritten"
    np.testing.assert_array_equal(out[: len(clip)], clip)
    assert not out[len(clip) :].any()
    # STOPPING came from the audio thread; the stream was stopped and closed from ours.
    states = [s for s, _ in events]
    assert states == [PlayerState.PLAYING, PlayerState.STOPPING, PlayerState.STOPPED]
    assert events[1][1] in stream.callback_threads
    assert events[2][1] == threading.get_ident()
    assert stream.closed and not stream.active
    assert player.position == 0.0


def test_pause_resume_and_position() -> None:
    factory = FakeStreamFactory(speed=10)
    player = Player(factory)
    clip = ramp(2.0)
    player.load(clip, SR)
    player.play()
    wait_until(lambda: player.position > 0.3)
    player.pause()
    assert player.state is PlayerState.PAUSED
    held = player.position
    time.sleep(0.05)
    assert player.position == held, "position moved while paused"
    player.toggle()
    assert player.state is PlayerState.PLAYING
    assert player.wait(timeout=5)
    out = factory.streams[0].output()
    # Paused blocks are silence; dropping them leaves the clip intact, in order, without repeats.
    played = out[out != 0]
    np.testing.assert_array_equal(played, clip[clip != 0])
    assert factory.streams[0].starts == 2


def test_seek_and_play_from_start_s() -> None:
    factory = FakeStreamFactory(speed=50)
    player = Player(factory)
    clip = ramp(1.0)
    player.load(clip, SR)
    player.play(start_s=0.75)
    assert player.wait(timeout=5)
    out = factory.streams[0].output()
    np.testing.assert_array_equal(out[: len(clip) - 6000], clip[6000:])
    player.seek(0.5)
    assert player.position == pytest.approx(0.5)
    player.seek(99)
    assert player.position == pytest.approx(1.0)
    player.seek(-1)
    assert player.position == 0.0


def test_stop_rewinds_and_closes() -> None:
    factory = FakeStreamFactory(speed=5)
    player = Player(factory)
    player.load(ramp(3.0), SR)
    player.play()
    wait_until(lambda: player.position > 0.1)
    player.stop()
    assert player.state is PlayerState.STOPPED
    assert player.position == 0.0
    assert factory.streams[0].closed
    assert player.error is None, "our own stop was mistaken for a lost device"


def test_appended_chunks_play_gaplessly() -> None:
    factory = FakeStreamFactory(speed=20)
    player = Player(factory)
    clip = ramp(1.5)
    chunks = np.array_split(clip, 6)
    player.load(chunks[0], SR, complete=False)
    player.play()
    for chunk in chunks[1:]:
        player.append(chunk)
        time.sleep(0.005)
    player.mark_complete()
    assert player.wait(timeout=5)
    out = factory.streams[0].output()
    played = out[out != 0]  # underruns (if any) play silence; the audio itself has no gaps or repeats
    np.testing.assert_array_equal(played, clip[clip != 0])


def test_underrun_waits_for_data_instead_of_stopping() -> None:
    factory = FakeStreamFactory(speed=50)
    player = Player(factory)
    player.load(ramp(0.05), SR, complete=False)
    player.play()
    wait_until(lambda: player.underruns > 0)
    assert player.state is PlayerState.PLAYING
    player.append(ramp(0.05))
    player.mark_complete()
    assert player.wait(timeout=5)
    assert player.state is PlayerState.STOPPED


def test_vanished_output_device_is_reported() -> None:
    factory = FakeStreamFactory(speed=50, vanish_after_frames=2048)
    player = Player(factory)
    player.load(ramp(2.0), SR)
    player.play()
    assert player.wait(timeout=5)
    assert player.state is PlayerState.STOPPED
    assert player.error is not None and "output device" in player.error


def test_unavailable_device_raises_with_reason() -> None:
    player = Player(FakeStreamFactory(output_reason=NO_OUTPUT))
    player.load(ramp(0.1), SR)
    assert player.unavailable_reason() == NO_OUTPUT
    with pytest.raises(AudioUnavailable, match="No audio output device found"):
        player.play()
    assert player.state is PlayerState.STOPPED


def test_bad_input_is_refused() -> None:
    player = Player(FakeStreamFactory())
    with pytest.raises(ValueError, match="mono"):
        player.load(np.zeros((10, 2), np.float32), SR)
    with pytest.raises(ValueError, match="float"):
        player.load(np.zeros(10, np.int16), SR)
    with pytest.raises(RuntimeError, match="nothing is loaded"):
        player.play()


def test_real_factory_without_devices_or_portaudio(monkeypatch: pytest.MonkeyPatch) -> None:
    import valle_studio.audio.devices as devices

    factory = SoundDeviceStreamFactory()
    if not devices.list_output_devices():  # this CI machine: PortAudio present, no sound card
        assert factory.output_unavailable_reason() == NO_OUTPUT
        player = Player(factory)
        player.load(ramp(0.1), SR)
        with pytest.raises(AudioUnavailable, match=NO_OUTPUT):
            player.play()

    # sounddevice raises OSError at import time when libportaudio cannot be found.
    real_import = builtins.__import__

    def import_without_portaudio(name: str, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", import_without_portaudio)
    assert factory.output_unavailable_reason() == MISSING_PORTAUDIO
    assert factory.input_devices() == []
    with pytest.raises(AudioUnavailable, match="install libportaudio2"):
        devices.list_output_devices()
