"""Recording from a microphone into memory (no Qt).

The input callback copies each block into preallocated storage, updates a decaying peak for the
level meter and a sticky clip flag, and does nothing else. The owner reads :attr:`Recorder.level_dbfs`
and calls :meth:`Recorder.poll` on a timer; ``poll`` notices a device that went away (the stream
finished on its own or stopped delivering blocks). Whatever was recorded before that is kept:
:meth:`Recorder.stop` always returns it.

A device can also deliver nonsense instead of going away: samples that are not numbers or far outside
[-1, 1], a flat line, digital silence from a muted input, or blocks pinned at full scale. Each block is
classified in the callback (a few vectorised checks); a run of such blocks longer than its limit stops
the recording with a sentence that says what came in, and the take is cut back to where the run began,
so it keeps only what was good instead of filling the whole length with garbage. Short runs (a dropout,
one clipped shout) are kept, with invalid samples zeroed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import numpy as np

from valle_studio.audio.devices import AudioStream, AudioUnavailable, StreamFactory, default_stream_factory
from valle_studio.core.codec_format import SAMPLE_RATE
from valle_studio.core.resample import resample

log = logging.getLogger(__name__)

VANISHED = "The microphone stopped delivering audio (was it unplugged?); the recording so far is kept"
FULL = "Recording stopped at its {limit:g} s limit; everything up to it is kept"
# What the device sent -> (seconds of it that stop the recording, what the user is told)
JUNK: dict[str, tuple[float, str]] = {
    "invalid": (0.25, "The microphone delivered invalid samples (not numbers, or far outside the audio range)"),
    "flat": (0.5, "The microphone delivered a flat, unchanging signal (a driver or format fault)"),
    "full-scale": (0.5, "The microphone delivered noise pinned at full scale (a wrong input or sample format?)"),
    "silent": (5.0, "The microphone delivered only digital silence for 5 s (is it muted, or in use by another "
               "program?)"),
}
JUNK_TAIL = "; recording stopped and the {kept:.1f} s before it are kept"
_OUT_OF_RANGE = 2.0  # float input is nominally within [-1, 1]; some drivers overshoot a little, never this far
_PINNED_SHARE = 0.5  # a block with more than half its samples at full scale is not clipped speech
_CHUNK_S = 10.0  # storage grows in blocks of this many seconds, so the callback rarely allocates


class Recorder:
    """Records mono float32 audio ``[S]`` at ``sample_rate`` from ``device`` (None = system default)."""

    def __init__(
        self,
        device: int | None = None,
        sample_rate: int = SAMPLE_RATE,
        stream_factory: StreamFactory | None = None,
        *,
        max_seconds: float = 600.0,
        blocksize: int = 0,
        clip_threshold: float = 0.999,
        meter_decay_db_per_s: float = 24.0,
        stall_timeout_s: float = 2.0,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if max_seconds <= 0:
            raise ValueError(f"max_seconds must be positive, got {max_seconds}")
        self.device = device
        self.sample_rate = sample_rate
        self._factory = stream_factory or default_stream_factory()
        self._max_seconds = max_seconds
        self._decay_db_per_s = meter_decay_db_per_s
        self._capture_rate = sample_rate  # the device's rate; differs when it refused sample_rate
        self._max_frames = int(max_seconds * sample_rate)
        self._blocksize = blocksize
        self._clip_threshold = clip_threshold
        self._decay_db_per_frame = meter_decay_db_per_s / sample_rate
        self._stall_timeout = stall_timeout_s
        self._lock = threading.Lock()
        self._stream: AudioStream | None = None
        self._recording = False
        self._chunks: list[np.ndarray] = []
        self._fill = 0  # frames used in the last chunk
        self._frames = 0
        self._read = 0  # frames already handed out by read_new()
        self._peak = 0.0
        self._last_block = 0.0  # monotonic time of the last callback
        self._clipped = False
        self._full = False
        self._overflows = 0
        self._junk_kind: str | None = None  # the kind of nonsense arriving now, if any ...
        self._junk_start = 0  # ... since this frame of the take
        self.error: str | None = None  # set when the device failed (or delivered nonsense) mid-recording
        self.stop_reason: str | None = None  # why the recording stopped by itself: error, or the cap

    # --- queries ---------------------------------------------------------------------------

    @property
    def is_recording(self) -> bool:
        return self._recording

    @property
    def duration(self) -> float:
        """Seconds recorded so far."""
        return self._frames / self._capture_rate

    @property
    def level_dbfs(self) -> float:
        """Recent peak level for a meter, in dBFS; falls by ``meter_decay_db_per_s`` when quiet."""
        peak = self._peak
        if peak <= 0.0:
            return float("-inf")
        if self._recording:  # decay across the time since the last block, so a stalled input drops
            since = max(0.0, time.monotonic() - self._last_block) * self._capture_rate
            return 20.0 * math.log10(peak) - since * self._decay_db_per_frame
        return 20.0 * math.log10(peak)

    @property
    def device_sample_rate(self) -> int:
        """The rate the device records at; :meth:`stop` resamples to ``sample_rate`` when it differs."""
        return self._capture_rate

    @property
    def clipped(self) -> bool:
        """True once any sample reached the clip threshold during this recording."""
        return self._clipped

    @property
    def full(self) -> bool:
        """True when ``max_seconds`` were reached; later audio is dropped."""
        return self._full

    @property
    def overflows(self) -> int:
        """Blocks PortAudio flagged (input overflow: samples were lost)."""
        return self._overflows

    def unavailable_reason(self) -> str | None:
        """None when the input device can be used, else why not."""
        return self._factory.input_unavailable_reason(self.device)

    # --- control ---------------------------------------------------------------------------

    def start(self) -> None:
        """Open the device and start recording from silence. Raises :class:`AudioUnavailable`."""
        if self._recording:
            return
        with self._lock:
            self._chunks = []  # a failed start must not hand back the previous take
            self._fill = self._frames = self._read = 0
            self._peak = 0.0
            self._clipped = self._full = False
            self._overflows = 0
            self._junk_kind = None
            self.error = self.stop_reason = None
        self._stream = self._open()
        self._last_block = time.monotonic()
        self._recording = True
        try:
            self._stream.start()
        except Exception as exc:
            self._recording = False
            self._close_stream()
            raise AudioUnavailable(f"Could not start recording: {exc}") from exc

    def stop(self) -> np.ndarray:
        """Stop (if still running) and return everything recorded: ``[S]`` float32 at ``sample_rate``."""
        self._recording = False
        self._close_stream()
        with self._lock:
            audio = self._copy(0, self._frames)
        if self._capture_rate != self.sample_rate:
            audio = resample(audio, self._capture_rate, self.sample_rate)
        return audio

    def read_new(self) -> np.ndarray:
        """A copy of what arrived since the last call, ``[S]`` float32 at :attr:`device_sample_rate`.

        For a live waveform; :meth:`stop` still returns the whole take.
        """
        with self._lock:
            start, self._read = self._read, self._frames
            return self._copy(start, self._frames)

    def poll(self) -> str | None:
        """Check on the device from the owner's thread; returns :attr:`error` (None while all is well)."""
        if self._recording:
            stream = self._stream
            stalled = time.monotonic() - self._last_block > self._stall_timeout
            if stream is None or not stream.active or stalled:
                self._fail(VANISHED)
        return self.error

    # --- internals -------------------------------------------------------------------------

    def _open(self) -> AudioStream:
        """Open at ``sample_rate``; if the device refuses, at its own default rate (resampled in stop)."""
        attempts = [self.sample_rate]
        native = self._native_rate()
        if native and native != self.sample_rate:
            attempts.append(native)
        for i, rate in enumerate(attempts):
            try:
                stream = self._factory.open_input(
                    sample_rate=rate,
                    channels=1,
                    device=self.device,
                    blocksize=self._blocksize,
                    callback=self._callback,
                    finished_callback=self._on_finished,
                )
            except AudioUnavailable as exc:
                if i + 1 == len(attempts) or self._factory.input_unavailable_reason(self.device):
                    raise
                log.info("input device refused %d Hz (%s); trying %d Hz", rate, exc, attempts[i + 1])
                continue
            self._set_capture_rate(rate)
            return stream
        raise AssertionError("unreachable")

    def _native_rate(self) -> int | None:
        for dev in self._factory.input_devices():
            if dev.index == self.device or (self.device is None and dev.is_default):
                return int(dev.default_sample_rate)
        return None

    def _set_capture_rate(self, rate: int) -> None:
        self._capture_rate = rate
        self._max_frames = int(self._max_seconds * rate)
        self._decay_db_per_frame = self._decay_db_per_s / rate
        with self._lock:
            self._chunks = [np.empty(int(_CHUNK_S * rate), dtype=np.float32)]

    def _callback(self, indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        # Audio thread: copy the block out (PortAudio reuses indata), update the meter, nothing more.
        if status:
            self._overflows += 1
        if not self._recording or frames == 0:
            return
        block = indata[:frames, 0]
        self._last_block = time.monotonic()
        kind = junk_kind(block, self._clip_threshold)
        if kind == "invalid":
            block = np.clip(np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0)
        peak = float(np.max(np.abs(block)))
        if peak >= self._clip_threshold and kind is None:
            self._clipped = True
        decayed = self._peak * 10.0 ** (-self._decay_db_per_frame * frames / 20.0)
        self._peak = max(peak, decayed)
        stop_message = None
        with self._lock:
            if kind != self._junk_kind:  # a run of nonsense starts (or ends) here
                self._junk_kind, self._junk_start = kind, self._frames
            self._store(block)
            if kind is not None and self._frames - self._junk_start >= JUNK[kind][0] * self._capture_rate:
                self._truncate(self._junk_start)  # keep what came before the nonsense, none of it
                stop_message = JUNK[kind][1] + JUNK_TAIL.format(kept=self._frames / self._capture_rate)
        if stop_message is not None:
            self._fail(stop_message)

    def _copy(self, start: int, end: int) -> np.ndarray:
        """Frames ``start:end`` of the take as one new array (the chunks all have one length)."""
        if end <= start or not self._chunks:
            return np.zeros(0, dtype=np.float32)
        size = len(self._chunks[0])
        parts = []
        while start < end:
            index, offset = divmod(start, size)
            take = min(size - offset, end - start)
            parts.append(self._chunks[index][offset : offset + take])
            start += take
        return np.concatenate(parts)

    def _truncate(self, frames: int) -> None:
        """Cut the take back to its first ``frames`` frames (under the lock)."""
        if frames >= self._frames or not self._chunks:
            return
        size = len(self._chunks[0])
        keep = max(1, -(-frames // size))  # chunks holding those frames (at least one, for later blocks)
        del self._chunks[keep:]
        self._fill = frames - (keep - 1) * size
        self._frames = frames
        self._read = min(self._read, frames)

    def _store(self, block: np.ndarray) -> None:
        done = 0
        while done < len(block):
            if self._frames >= self._max_frames:
                if not self._full:
                    self._full = True
                    self.stop_reason = FULL.format(limit=self._max_seconds)
                return
            chunk = self._chunks[-1]
            if self._fill == len(chunk):  # once per _CHUNK_S seconds
                chunk = np.empty_like(chunk)
                self._chunks.append(chunk)
                self._fill = 0
            n = min(len(block) - done, len(chunk) - self._fill, self._max_frames - self._frames)
            chunk[self._fill : self._fill + n] = block[done : done + n]
            self._fill += n
            self._frames += n
            done += n

    def _on_finished(self) -> None:
        # The stream ended; when we did not stop it ourselves the device went away.
        if self._recording:
            self._fail(VANISHED)

    def _fail(self, message: str) -> None:
        if self.error is None:
            log.warning("recording: %s", message)
            self.error = self.stop_reason = message
        self._recording = False

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
            stream.close()
        except Exception as exc:  # a vanished device often refuses to stop cleanly; the audio is safe
            log.warning("closing the input stream failed: %s", exc)


def junk_kind(block: np.ndarray, clip_threshold: float = 0.999) -> str | None:
    """What is wrong with one input block: "invalid", "flat", "silent", "full-scale", or None (audio).

    Real input, even a quiet room, moves a little: an exactly constant block is a fault (all zeros:
    a muted or blocked device). Clipped speech touches full scale in a few samples, never in most.
    """
    if not len(block):
        return None
    if not np.isfinite(block).all() or float(np.max(np.abs(block))) > _OUT_OF_RANGE:
        return "invalid"
    low, high = float(np.min(block)), float(np.max(block))
    if len(block) >= 16 and low == high:
        return "silent" if high == 0.0 else "flat"
    if np.count_nonzero(np.abs(block) >= clip_threshold) > _PINNED_SHARE * len(block):
        return "full-scale"
    return None
