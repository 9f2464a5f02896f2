"""Playback as a small state machine around one output stream (no Qt).

States: STOPPED -> PLAYING <-> PAUSED, and PLAYING -> STOPPING -> STOPPED when the audio runs out.
The audio callback does as little as possible: it copies the next block out of a preallocated
buffer and, at the end of the data, only switches to STOPPING. It never stops its own stream (that
deadlocks or glitches in PortAudio); the owner calls :meth:`Player.poll` from its own thread (the
GUI polls on a timer) and the stream is stopped and closed there. Friture's player works the same way.

``append`` grows the buffer while playing, so generated audio can be streamed in gaplessly: load the
first chunk with ``complete=False``, append the rest, then :meth:`Player.mark_complete`. Running out
of data before that is an underrun: silence is played and playback carries on when data arrives.

Listeners get every state change; the switch to STOPPING is reported from the audio thread, so a
listener must be quick and must not touch a GUI.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from valle_studio.audio.devices import AudioStream, AudioUnavailable, StreamFactory, default_stream_factory

log = logging.getLogger(__name__)


class PlayerState(str, enum.Enum):
    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"
    STOPPING = "stopping"  # the data ran out; the stream is still open until poll() closes it


StateListener = Callable[[PlayerState], None]


def _as_mono_float32(samples: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(samples)
    if array.ndim != 1:
        raise ValueError(f"{what} must be mono [S] samples, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{what} must be float samples in [-1, 1], got dtype {array.dtype}")
    return array.astype(np.float32, copy=False)


class Player:
    """Plays one mono float32 clip ``[S]`` through a :class:`StreamFactory`; all methods are thread-safe."""

    def __init__(
        self, stream_factory: StreamFactory | None = None, device: int | None = None, blocksize: int = 512
    ) -> None:
        self._factory = stream_factory or default_stream_factory()
        self.device = device
        self._blocksize = blocksize
        self._lock = threading.Lock()  # guards the fields the callback reads; never held across stream calls
        self._control = threading.RLock()  # serialises play/pause/stop so stream calls never interleave
        self._buf = np.zeros(0, dtype=np.float32)
        self._len = 0
        self._pos = 0
        self._sr = 0
        self._complete = True
        self._state = PlayerState.STOPPED
        self._stream: AudioStream | None = None
        self._stream_sr = 0
        self._listeners: list[StateListener] = []
        self._ended = threading.Event()
        self._underruns = 0
        self.error: str | None = None  # why the last playback ended early, if it did

    # --- queries ---------------------------------------------------------------------------

    @property
    def state(self) -> PlayerState:
        return self._state

    @property
    def sample_rate(self) -> int:
        return self._sr

    @property
    def duration(self) -> float:
        """Seconds of audio loaded so far."""
        return self._len / self._sr if self._sr else 0.0

    @property
    def position(self) -> float:
        """Seconds into the clip that are being heard now (the output latency taken off)."""
        if not self._sr:
            return 0.0
        seconds = self._pos / self._sr
        stream = self._stream
        if self._state is PlayerState.PLAYING and stream is not None:
            latency = getattr(stream, "latency", 0.0)
            seconds -= latency if isinstance(latency, float) else 0.0
        return max(0.0, seconds)

    @property
    def underruns(self) -> int:
        """How many callbacks found no data while streaming (audio arrived too slowly)."""
        return self._underruns

    def unavailable_reason(self) -> str | None:
        """None when the output device can be used, else why not."""
        return self._factory.output_unavailable_reason(self.device)

    def add_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: StateListener) -> None:
        self._listeners.remove(listener)

    # --- data ------------------------------------------------------------------------------

    def load(self, samples: np.ndarray, sample_rate: int, *, complete: bool = True) -> None:
        """Replace the clip (``samples: [S]`` float); stops playback and rewinds."""
        data = _as_mono_float32(samples, "audio to play")
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {sample_rate}")
        with self._control:
            self.stop()
            buf = np.zeros(max(len(data), sample_rate), dtype=np.float32)
            buf[: len(data)] = data
            with self._lock:
                self._buf, self._len, self._pos = buf, len(data), 0
                self._sr, self._complete, self._underruns = sample_rate, complete, 0

    def append(self, chunk: np.ndarray) -> None:
        """Add ``chunk: [S]`` after the loaded audio, even while it is playing."""
        data = _as_mono_float32(chunk, "appended audio")
        if not self._sr:
            raise RuntimeError("load() the first chunk (with its sample rate) before append()")
        with self._lock:
            need = self._len + len(data)
            if need > len(self._buf):  # grow geometrically so appends stay amortised O(1)
                grown = np.zeros(max(need, 2 * len(self._buf)), dtype=np.float32)
                grown[: self._len] = self._buf[: self._len]
                self._buf = grown
            self._buf[self._len : need] = data
            self._len = need

    def mark_complete(self) -> None:
        """No more appends: playback stops when it reaches the end."""
        with self._lock:
            self._complete = True
            ended = self._state is PlayerState.PLAYING and self._pos >= self._len
            if ended:
                self._state = PlayerState.STOPPING
        if ended:
            self._ended.set()
            self._notify(PlayerState.STOPPING)

    # --- control ---------------------------------------------------------------------------

    def play(self, start_s: float | None = None) -> None:
        """Start or resume, from ``start_s`` seconds when given. Raises :class:`AudioUnavailable`."""
        with self._control:
            self.poll()
            if not self._sr:
                raise RuntimeError("nothing is loaded to play")
            if start_s is not None:
                self.seek(start_s)
            if self._state is PlayerState.PLAYING:
                return
            with self._lock:
                if self._complete and self._pos >= self._len:
                    self._pos = 0
            if self._stream is not None and self._stream_sr != self._sr:
                self._close_stream()
            if self._stream is None:
                self._stream = self._factory.open_output(
                    sample_rate=self._sr,
                    channels=1,
                    device=self.device,
                    blocksize=self._blocksize,
                    callback=self._callback,
                    finished_callback=self._on_finished,
                )
                self._stream_sr = self._sr
            self.error = None
            self._ended.clear()
            self._set_state(PlayerState.PLAYING)
            try:
                self._stream.start()
            except Exception as exc:
                self.stop()
                raise AudioUnavailable(f"Could not start playback: {exc}") from exc

    def pause(self) -> None:
        """Hold the position; :meth:`play` resumes from it."""
        with self._control:
            if self._state is not PlayerState.PLAYING:
                return
            self._set_state(PlayerState.PAUSED)
            if self._stream is not None:
                self._stream.stop()

    def toggle(self) -> None:
        """Pause when playing, otherwise play."""
        with self._control:
            if self._state is PlayerState.PLAYING:
                self.pause()
            else:
                self.play()

    def stop(self) -> None:
        """Stop, close the stream and rewind to the start."""
        with self._control:
            # Leave PLAYING first, so the stream's finished callback is not taken for a lost device.
            with self._lock:
                previous, self._state, self._pos = self._state, PlayerState.STOPPED, 0
            self._close_stream()
            if previous is not PlayerState.STOPPED:
                self._notify(PlayerState.STOPPED)

    def seek(self, seconds: float) -> None:
        """Move the play head; clamped to the loaded audio. Keeps the current state."""
        with self._control:
            self.poll()
            with self._lock:
                self._pos = round(min(max(seconds, 0.0), self.duration) * self._sr) if self._sr else 0

    def poll(self) -> PlayerState:
        """Finish a playback that ran out (close its stream). Call from the owning thread, e.g. a timer."""
        with self._control:
            if self._state is PlayerState.STOPPING:
                self.stop()
            return self._state

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback reaches the end (then close it); False on timeout. For scripts and tests."""
        if self._state is PlayerState.PLAYING and not self._ended.wait(timeout):
            return False
        self.poll()
        return self._state is not PlayerState.PLAYING

    def close(self) -> None:
        """Release the device."""
        self.stop()

    # --- internals -------------------------------------------------------------------------

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        # Runs on the audio thread: copy, advance, flag the end. No allocation, no I/O, no stream calls.
        notify = False
        with self._lock:
            if self._state is not PlayerState.PLAYING:
                outdata.fill(0)
                return
            n = max(0, min(frames, self._len - self._pos))
            outdata[:n] = self._buf[self._pos : self._pos + n, None]
            outdata[n:] = 0
            self._pos += n
            if self._pos >= self._len:
                if self._complete:
                    self._state = PlayerState.STOPPING
                    notify = True
                elif n < frames:
                    self._underruns += 1
        if notify:
            self._ended.set()
            self._notify(PlayerState.STOPPING)

    def _on_finished(self) -> None:
        # The stream stopped. When we did not ask for it (still PLAYING) the device went away.
        with self._lock:
            vanished = self._state is PlayerState.PLAYING
            if vanished:
                self._state = PlayerState.STOPPING
        if vanished:
            self.error = "Playback stopped: the audio output device is no longer available"
            log.warning(self.error)
            self._ended.set()
            self._notify(PlayerState.STOPPING)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
            stream.close()
        except Exception as exc:  # a vanished device can fail to stop; the stream is gone either way
            log.warning("closing the output stream failed: %s", exc)

    def _set_state(self, state: PlayerState) -> None:
        with self._lock:
            changed = state is not self._state
            self._state = state
        if changed:
            self._notify(state)

    def _notify(self, state: PlayerState) -> None:
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:  # a broken listener must not break the audio thread
                log.exception("player listener failed")
