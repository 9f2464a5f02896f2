"""Sound devices behind a small interface, so the rest of the app never touches sounddevice directly.

Two things can go wrong before a single sample moves, and both are normal on real machines:
importing sounddevice fails when the PortAudio shared library is missing, and a machine (a server, a
VM, a container) can have no input or output device at all. Both surface as :class:`AudioUnavailable`
with a sentence a user can act on.

Streams are opened through a :class:`StreamFactory`. The real one wraps ``sounddevice``; tests pass a
factory whose streams call the callback from their own thread with real buffers, as PortAudio does.
Callbacks follow sounddevice's signatures: ``callback(outdata, frames, time, status)`` for output
(``outdata: [frames, channels] float32``, to be filled) and ``callback(indata, frames, time, status)``
for input (``indata: [frames, channels] float32``, valid only during the call). ``finished_callback()``
runs once the stream has stopped, whether asked to or because the device went away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

MISSING_PORTAUDIO = "The PortAudio library is missing: install libportaudio2"
NO_OUTPUT = "No audio output device found"
NO_INPUT = "No audio input device (microphone) found"

OutputCallback = Callable[[np.ndarray, int, Any, Any], None]
InputCallback = Callable[[np.ndarray, int, Any, Any], None]


class AudioUnavailable(RuntimeError):
    """Sound cannot be played or recorded here; ``reason`` is a sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AudioDevice:
    """One input or output device as PortAudio lists it."""

    index: int  # PortAudio device index, what streams take as ``device``
    name: str
    host_api: str  # e.g. "ALSA", "Windows WASAPI", "Core Audio"
    channels: int  # maximum input (or output) channels
    default_sample_rate: float
    is_default: bool  # the system's default device of this direction

    @property
    def label(self) -> str:
        """Text for a device picker."""
        return f"{self.name} ({self.host_api})"


class AudioStream(Protocol):
    """The part of ``sounddevice.OutputStream``/``InputStream`` the app uses."""

    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class StreamFactory(Protocol):
    """Opens streams and says whether a direction is usable at all."""

    def output_unavailable_reason(self, device: int | None = None) -> str | None:
        """None when output can be opened, else a sentence saying why not."""
        ...

    def input_unavailable_reason(self, device: int | None = None) -> str | None:
        """None when input can be opened, else a sentence saying why not."""
        ...

    def input_devices(self) -> list[AudioDevice]: ...

    def output_devices(self) -> list[AudioDevice]: ...

    def open_output(
        self,
        *,
        sample_rate: int,
        channels: int,
        device: int | None,
        blocksize: int,
        callback: OutputCallback,
        finished_callback: Callable[[], None],
    ) -> AudioStream:
        """An output stream, not started. Raises :class:`AudioUnavailable`."""
        ...

    def open_input(
        self,
        *,
        sample_rate: int,
        channels: int,
        device: int | None,
        blocksize: int,
        callback: InputCallback,
        finished_callback: Callable[[], None],
    ) -> AudioStream:
        """An input stream, not started. Raises :class:`AudioUnavailable`."""
        ...


def _sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio into :class:`AudioUnavailable`."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when it cannot find the PortAudio library
        log.info("sounddevice unavailable: %s", exc)
        raise AudioUnavailable(MISSING_PORTAUDIO) from exc
    return sounddevice


def _devices(kind: str) -> list[AudioDevice]:
    """Devices with at least one channel of ``kind`` ("input" or "output")."""
    sd = _sounddevice()
    key = f"max_{kind}_channels"
    try:
        raw = sd.query_devices()
        apis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        log.warning("could not list audio devices: %s", exc)
        return []
    default = sd.default.device[0 if kind == "input" else 1]
    devices = []
    for info in raw:
        if info[key] <= 0:
            continue
        devices.append(
            AudioDevice(
                index=int(info["index"]),
                name=str(info["name"]),
                host_api=str(apis[info["hostapi"]]["name"]),
                channels=int(info[key]),
                default_sample_rate=float(info["default_samplerate"]),
                is_default=int(info["index"]) == default,
            )
        )
    return devices


def list_input_devices() -> list[AudioDevice]:
    """Every device that can record. Raises :class:`AudioUnavailable` when PortAudio is missing."""
    return _devices("input")


def list_output_devices() -> list[AudioDevice]:
    """Every device that can play. Raises :class:`AudioUnavailable` when PortAudio is missing."""
    return _devices("output")


class SoundDeviceStreamFactory:
    """The real :class:`StreamFactory`, backed by sounddevice/PortAudio."""

    def _reason(self, kind: str, device: int | None) -> str | None:
        try:
            sd = _sounddevice()
        except AudioUnavailable as exc:
            return exc.reason
        try:
            sd.query_devices(device, kind=kind)
        except (sd.PortAudioError, ValueError) as exc:
            log.info("no %s device (%s): %s", kind, device, exc)
            if device is None or not _devices(kind):
                return NO_INPUT if kind == "input" else NO_OUTPUT
            return f"The audio {kind} device #{device} is not available ({exc})"
        return None

    def output_unavailable_reason(self, device: int | None = None) -> str | None:
        return self._reason("output", device)

    def input_unavailable_reason(self, device: int | None = None) -> str | None:
        return self._reason("input", device)

    def input_devices(self) -> list[AudioDevice]:
        try:
            return list_input_devices()
        except AudioUnavailable:
            return []

    def output_devices(self) -> list[AudioDevice]:
        try:
            return list_output_devices()
        except AudioUnavailable:
            return []

    def _open(self, cls_name: str, kind: str, device: int | None, **kwargs: Any) -> AudioStream:
        reason = self._reason(kind, device)
        if reason is not None:
            raise AudioUnavailable(reason)
        sd = _sounddevice()
        try:
            stream: AudioStream = getattr(sd, cls_name)(device=device, dtype="float32", **kwargs)
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioUnavailable(f"Could not open the audio {kind} device: {exc}") from exc
        return stream

    def open_output(
        self,
        *,
        sample_rate: int,
        channels: int,
        device: int | None,
        blocksize: int,
        callback: OutputCallback,
        finished_callback: Callable[[], None],
    ) -> AudioStream:
        return self._open(
            "OutputStream",
            "output",
            device,
            samplerate=sample_rate,
            channels=channels,
            blocksize=blocksize,
            callback=callback,
            finished_callback=finished_callback,
        )

    def open_input(
        self,
        *,
        sample_rate: int,
        channels: int,
        device: int | None,
        blocksize: int,
        callback: InputCallback,
        finished_callback: Callable[[], None],
    ) -> AudioStream:
        return self._open(
            "InputStream",
            "input",
            device,
            samplerate=sample_rate,
            channels=channels,
            blocksize=blocksize,
            callback=callback,
            finished_callback=finished_callback,
        )


def default_stream_factory() -> StreamFactory:
    """The factory the app uses unless a test injects another."""
    return SoundDeviceStreamFactory()
