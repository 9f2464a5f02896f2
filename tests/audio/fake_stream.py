"""A test double for :class:`valle_studio.audio.devices.StreamFactory` that behaves like PortAudio.

Each started stream runs its own thread and calls the callback with real numpy buffers, paced at
``speed`` times real time. Output buffers are filled with NaN before each call, so a callback that
leaves samples unwritten is caught; input buffers are reused and overwritten with garbage after each
call, as PortAudio does, so a recorder that keeps a reference instead of copying is caught too.
``vanish_after_frames`` makes the device disappear: the callbacks stop, ``finished_callback`` runs,
``active`` turns False and ``stop()`` raises, which is what a pulled USB microphone looks like.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from valle_studio.audio.devices import AudioDevice


class FakePortAudioError(Exception):
    pass


class FakeStatus:
    """Stands in for sounddevice.CallbackFlags: falsy unless a flag is set."""

    def __init__(self, overflow: bool = False) -> None:
        self.input_overflow = overflow

    def __bool__(self) -> bool:
        return self.input_overflow


class FakeStream:
    def __init__(
        self,
        *,
        kind: str,
        sample_rate: int,
        channels: int,
        blocksize: int,
        callback: Callable[[np.ndarray, int, Any, Any], None],
        finished_callback: Callable[[], None],
        speed: float,
        source: np.ndarray | None,
        vanish_after_frames: int | None,
    ) -> None:
        self.kind = kind
        self.sample_rate = sample_rate
        self.channels = channels
        self.blocksize = blocksize or 256
        self.callback = callback
        self.finished_callback = finished_callback
        self.speed = speed
        self.source = np.zeros(0, np.float32) if source is None else np.asarray(source, np.float32)
        self.vanish_after_frames = vanish_after_frames
        self.latency = 0.0
        self.written: list[np.ndarray] = []  # output blocks, as the device received them
        self.frames_done = 0
        self.callback_threads: set[int] = set()
        self.starts = 0
        self.closed = False
        self.vanished = False
        self._run = threading.Event()
        self._halt = threading.Event()  # wakes the pacing sleep at once on stop()
        self._thread: threading.Thread | None = None
        self._buffer = np.zeros((self.blocksize, channels), np.float32)

    @property
    def active(self) -> bool:
        return self._run.is_set() and not self.vanished

    def start(self) -> None:
        if self.closed:
            raise FakePortAudioError("stream is closed")
        if self.active:
            return
        self.starts += 1
        self._halt.clear()
        self._run.set()
        self._thread = threading.Thread(target=self._loop, name=f"fake-{self.kind}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self.vanished:
            raise FakePortAudioError("Unanticipated host error [PaErrorCode -9999]")
        if not self._run.is_set():
            return
        self._run.clear()
        self._halt.set()
        assert self._thread is not None
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
            assert not self._thread.is_alive(), "fake stream thread did not stop"
        self.finished_callback()

    def close(self) -> None:
        if self.active:
            self.stop()
        self.closed = True

    def output(self) -> np.ndarray:
        """Channel 0 of everything written so far: ``[S]``."""
        if not self.written:
            return np.zeros(0, np.float32)
        return np.concatenate(self.written)[:, 0]

    def _loop(self) -> None:
        period = self.blocksize / self.sample_rate / self.speed
        while self._run.is_set():
            frames = self.blocksize
            self.callback_threads.add(threading.get_ident())
            if self.kind == "output":
                self._buffer.fill(np.nan)
                self.callback(self._buffer, frames, None, FakeStatus())
                self.written.append(self._buffer.copy())
            else:
                start = self.frames_done
                chunk = self.source[start : start + frames]
                self._buffer.fill(0.0)
                self._buffer[: len(chunk), :] = chunk[:, None]
                self.callback(self._buffer, frames, None, FakeStatus())
                self._buffer.fill(12345.0)  # PortAudio reuses the buffer
            self.frames_done += frames
            if self.vanish_after_frames is not None and self.frames_done >= self.vanish_after_frames:
                self.vanished = True
                self._run.clear()
                self.finished_callback()
                return
            if self._halt.wait(period):
                return


class FakeStreamFactory:
    """Opens :class:`FakeStream` objects; ``output_reason``/``input_reason`` simulate a missing device."""

    def __init__(
        self,
        *,
        speed: float = 20.0,
        source: np.ndarray | None = None,
        vanish_after_frames: int | None = None,
        output_reason: str | None = None,
        input_reason: str | None = None,
        rates: set[int] | None = None,
    ) -> None:
        self.speed = speed
        self.source = source
        self.vanish_after_frames = vanish_after_frames
        self.output_reason = output_reason
        self.input_reason = input_reason
        self.rates = rates  # sample rates the devices accept (None = any, as with a PulseAudio device)
        self.streams: list[FakeStream] = []
        self.devices = [
            AudioDevice(index=3, name="Fake USB microphone", host_api="ALSA", channels=1,
                        default_sample_rate=48000.0, is_default=True),
            AudioDevice(index=5, name="Fake headset", host_api="ALSA", channels=2,
                        default_sample_rate=44100.0, is_default=False),
        ]

    def output_unavailable_reason(self, device: int | None = None) -> str | None:
        return self.output_reason

    def input_unavailable_reason(self, device: int | None = None) -> str | None:
        return self.input_reason

    def input_devices(self) -> list[AudioDevice]:
        return [] if self.input_reason else list(self.devices)

    def output_devices(self) -> list[AudioDevice]:
        return [] if self.output_reason else list(self.devices)

    def _open(self, kind: str, **kwargs: Any) -> FakeStream:
        from valle_studio.audio.devices import AudioUnavailable

        reason = self.output_reason if kind == "output" else self.input_reason
        if reason:
            raise AudioUnavailable(reason)
        kwargs.pop("device")
        if self.rates is not None and kwargs["sample_rate"] not in self.rates:
            raise AudioUnavailable(f"Could not open the audio {kind} device: Invalid sample rate "
                                   "[PaErrorCode -9997]")
        stream = FakeStream(
            kind=kind,
            speed=self.speed,
            source=self.source if kind == "input" else None,
            vanish_after_frames=self.vanish_after_frames,
            **kwargs,
        )
        self.streams.append(stream)
        return stream

    def open_output(self, **kwargs: Any) -> FakeStream:
        return self._open("output", **kwargs)

    def open_input(self, **kwargs: Any) -> FakeStream:
        return self._open("input", **kwargs)
