"""Qt front ends for the audio layer: :class:`PlaybackController`, :class:`RecordingController` and
:class:`AudioFileLoader`.

The audio objects know nothing of Qt and call nothing on the UI thread. These controllers poll them
from a ~30 Hz ``QTimer`` on the UI thread instead (the display timer of Friture): position, level and
state are read there, the end of playback is finished there (the stream is stopped outside its own
callback), and a device lost mid-stream is noticed there. So every signal below is emitted on the UI
thread and widgets may touch themselves in any slot.

With no usable device (no PortAudio, no sound card) the controllers still construct: ``available``
is False, ``unavailable_reason`` says why in a sentence, and the start methods emit ``error``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from valle_studio.app.jobs.background import BackgroundTask
from valle_studio.audio.devices import AudioDevice, AudioUnavailable, StreamFactory, default_stream_factory
from valle_studio.audio.io import AudioClip, AudioError, load_audio
from valle_studio.audio.playback import Player, PlayerState
from valle_studio.audio.recording import Recorder
from valle_studio.core.codec_format import SAMPLE_RATE

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 33  # ~30 Hz: smooth enough for a cursor and a meter, cheap enough to ignore


class PlaybackController(QObject):
    """Plays one clip at a time for the whole window; widgets share it and check :attr:`owner`."""

    position_changed = Signal(float)  # seconds
    state_changed = Signal(str)  # a PlayerState value: "stopped", "playing", "paused", "stopping"
    loaded = Signal()  # a new clip replaced the previous one (another owner may have taken over)
    error = Signal(str)  # a sentence for the user

    def __init__(
        self,
        player: Player | None = None,
        parent: QObject | None = None,
        *,
        stream_factory: StreamFactory | None = None,
    ) -> None:
        super().__init__(parent)
        self._player = player or Player(stream_factory or default_stream_factory())
        self._owner: object | None = None
        self._state = self._player.state
        self._position = -1.0
        self._error_seen: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self.refresh_availability()

    # --- queries ---------------------------------------------------------------------------

    @property
    def player(self) -> Player:
        return self._player

    @property
    def available(self) -> bool:
        return self._reason is None

    @property
    def unavailable_reason(self) -> str:
        """Why nothing can be played ("" when playback works)."""
        return self._reason or ""

    def refresh_availability(self) -> bool:
        """Look for an output device again (after the user plugged one in); returns :attr:`available`."""
        self._reason = self._player.unavailable_reason()
        return self._reason is None

    @property
    def owner(self) -> object | None:
        """Whoever loaded the current clip (a widget passes itself), so others leave the cursor alone."""
        return self._owner

    @property
    def state(self) -> str:
        return self._player.state.value

    @property
    def is_playing(self) -> bool:
        return self._player.state is PlayerState.PLAYING

    @property
    def position(self) -> float:
        return self._player.position

    @property
    def duration(self) -> float:
        return self._player.duration

    # --- control ---------------------------------------------------------------------------

    def load(self, samples: np.ndarray, sample_rate: int, owner: object | None = None, *,
             complete: bool = True) -> None:
        """Replace the clip (``samples: [S]`` float32); stops what was playing."""
        self._player.load(samples, sample_rate, complete=complete)
        self._owner = owner
        self.loaded.emit()
        self._tick()

    def append(self, chunk: np.ndarray) -> None:
        """Stream more audio after the loaded clip (see :meth:`Player.append`)."""
        self._player.append(chunk)

    def mark_complete(self) -> None:
        self._player.mark_complete()

    def play(self, start_s: float | None = None) -> None:
        if not self.available:
            self.error.emit(self.unavailable_reason)
            return
        try:
            self._player.play(start_s)
        except (AudioUnavailable, RuntimeError) as exc:
            self.error.emit(getattr(exc, "reason", str(exc)))
        self._tick()

    def pause(self) -> None:
        self._player.pause()
        self._tick()

    def toggle(self) -> None:
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def stop(self) -> None:
        self._player.stop()
        self._tick()

    def seek(self, seconds: float) -> None:
        self._player.seek(seconds)
        self._tick()

    def shutdown(self) -> None:
        """Release the device (call when the window closes)."""
        self._timer.stop()
        self._player.close()

    # --- polling ---------------------------------------------------------------------------

    def _tick(self) -> None:
        state = self._player.poll()  # finishes a playback that ran out, on this (the UI) thread
        position = self._player.position
        if position != self._position:
            self._position = position
            self.position_changed.emit(position)
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state.value)
        if self._player.error and self._player.error != self._error_seen:
            self._error_seen = self._player.error
            self.error.emit(self._player.error)
        if state is PlayerState.PLAYING and not self._timer.isActive():
            self._timer.start()
        elif state is not PlayerState.PLAYING and self._timer.isActive():
            self._timer.stop()


class RecordingController(QObject):
    """Records from the chosen input device; reports level, clipping and the finished take."""

    level_changed = Signal(float)  # dBFS peak, -inf when silent
    duration_changed = Signal(float)  # seconds recorded so far
    clip_warning = Signal(bool)  # True once the input clipped during this take
    recording_changed = Signal(bool)
    live_audio = Signal(object, int)  # samples [S] float32 new since the last tick, their sample rate
    finished = Signal(object, int)  # samples [S] float32, sample rate; also after a device failure
    error = Signal(str)
    stopped_itself = Signal(str)  # why a take ended without Stop (the length cap, nonsense, a lost device)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        stream_factory: StreamFactory | None = None,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        super().__init__(parent)
        self._factory = stream_factory or default_stream_factory()
        self.sample_rate = sample_rate
        self.device: int | None = None
        self._recorder: Recorder | None = None
        self._clipped = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self.refresh_availability()

    @property
    def available(self) -> bool:
        return self._reason is None

    @property
    def unavailable_reason(self) -> str:
        """Why nothing can be recorded from the chosen device ("" when it works)."""
        return self._reason or ""

    def refresh_availability(self) -> bool:
        """Check the chosen input device again (after one was plugged in); returns :attr:`available`."""
        self._reason = self._factory.input_unavailable_reason(self.device)
        return self._reason is None

    def input_devices(self) -> list[AudioDevice]:
        return self._factory.input_devices()

    def set_device(self, device: int | None) -> None:
        """Pick the input device (PortAudio index) for the next recording; None = system default."""
        self.device = device
        self.refresh_availability()

    @property
    def is_recording(self) -> bool:
        return self._recorder is not None and self._recorder.is_recording

    @property
    def level_dbfs(self) -> float:
        return self._recorder.level_dbfs if self._recorder else float("-inf")

    @property
    def clipped(self) -> bool:
        """True when the current (or last) take clipped."""
        return self._clipped

    def start(self) -> bool:
        """Start a new take; False (and ``error``) when the device cannot be opened."""
        if self.is_recording:
            return True
        recorder = Recorder(self.device, self.sample_rate, self._factory)
        try:
            recorder.start()
        except AudioUnavailable as exc:
            self.error.emit(exc.reason)
            return False
        self._recorder = recorder
        self._clipped = False
        self.clip_warning.emit(False)
        self.recording_changed.emit(True)
        self._timer.start()
        return True

    def stop(self) -> np.ndarray:
        """End the take; returns it (``[S]`` float32) and emits ``finished``."""
        recorder, self._recorder = self._recorder, None
        self._timer.stop()
        if recorder is None:
            return np.zeros(0, np.float32)
        audio = recorder.stop()
        self.level_changed.emit(float("-inf"))
        self.recording_changed.emit(False)
        self.finished.emit(audio, self.sample_rate)
        return audio

    def _tick(self) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        problem = recorder.poll()
        fresh = recorder.read_new()
        if len(fresh):
            self.live_audio.emit(fresh, recorder.device_sample_rate)
        self.level_changed.emit(recorder.level_dbfs)
        self.duration_changed.emit(recorder.duration)
        if recorder.clipped and not self._clipped:
            self._clipped = True
            self.clip_warning.emit(True)
        if problem is not None or recorder.full:
            if problem is not None:
                self.error.emit(problem)
            self.stop()
            if recorder.stop_reason:
                self.stopped_itself.emit(recorder.stop_reason)


class AudioFileLoader(QObject):
    """Decodes audio files off the UI thread (long files take seconds), one background task each.

    Results arrive as queued signals on the UI thread. :meth:`load` returns a ticket, so a caller can
    drop the answer to a request it no longer wants (the user picked another file meanwhile).
    """

    loaded = Signal(int, object)  # ticket, AudioClip
    failed = Signal(int, str)  # ticket, message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ticket = 0
        self._tasks: list[BackgroundTask] = []

    def load(self, path: Path) -> int:
        self._ticket += 1
        ticket = self._ticket
        task = BackgroundTask(lambda _progress, _cancel: (ticket, _decode(path)), name="valle-file-loader")
        task.finished.connect(self._on_done)
        self._tasks.append(task)
        task.start()
        return ticket

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Wait for decodes still running (the window is closing)."""
        for task in self._tasks:
            task.wait(timeout_ms)
        self._tasks.clear()

    def _on_done(self, answer: tuple[int, AudioClip | str]) -> None:
        self._tasks = [task for task in self._tasks if task.running]
        ticket, outcome = answer
        if isinstance(outcome, str):
            self.failed.emit(ticket, outcome)
        else:
            self.loaded.emit(ticket, outcome)


def _decode(path: Path) -> AudioClip | str:
    """The clip, or a sentence saying why it cannot be opened (on the task's thread)."""
    try:
        return load_audio(path)
    except AudioError as exc:
        return str(exc)
    except Exception as exc:  # anything else is a bug, but the user still gets an answer
        log.exception("loading %s failed", path)
        return f"Could not open '{path}': {exc}"
