"""The engine thread: loading, phonemizing and synthesizing off the UI thread.

:class:`EngineController` lives on the UI thread and is what widgets talk to. It owns one
``QThread`` with an :class:`_EngineWorker` in it; requests travel to the worker as queued signals
and results come back the same way, so no widget is ever touched from the worker.

One generation runs at a time. Each gets a job id; :meth:`EngineController.cancel` sets the job's
:class:`~valle_studio.engine.progress.CancelToken`, which the engine checks every model step. A
cancelled job ends with ``job_cancelled`` and never with ``job_finished``, even when cancellation
lands after the last step: the worker checks the token once more before reporting success, and the
controller drops results of any job it no longer considers current.

torch is imported only inside the worker thread (by the loader and :func:`probe_devices`), so the
window shows before the slow import.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from valle_studio.engine.progress import Cancelled, CancelToken, Progress
from valle_studio.engine.requests import SynthesisRequest, SynthesisResult

log = logging.getLogger(__name__)

#: Least time between two progress signals of the same stage (the bar cannot show more).
PROGRESS_INTERVAL_S = 0.04


@dataclass(frozen=True)
class LoadSpec:
    """Which model to load and how. ``model`` is a catalog name or a file path."""

    model: str
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", "mps"
    precision: str = "auto"  # "auto", "float32", "float16", "bfloat16"


#: Builds a synthesizer for a spec; called on the engine thread (it may import torch and take long).
Loader = Callable[[LoadSpec], Any]


def probe_devices() -> list[str]:
    """Compute devices usable here, best first: ``["cuda", "cpu"]`` etc. Imports torch."""
    import torch

    devices = []
    if torch.cuda.is_available():
        devices += ["cuda"] if torch.cuda.device_count() == 1 else [
            f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    devices.append("cpu")
    return devices


def _error_text(exc: BaseException) -> str:
    from valle_studio.errors import describe, is_out_of_memory

    if is_out_of_memory(exc):
        text = describe(exc, gui=True)
        return text[:1].upper() + text[1:] + "."
    text = str(exc) or type(exc).__name__
    # Our own errors (CheckpointError, StoreError, ...) and the common built-in kinds already say what
    # is wrong in plain words; only an unexpected kind keeps its class name as a hint.
    ours = type(exc).__module__.startswith("valle_studio.")
    plain = ours or isinstance(exc, (ValueError, OSError, RuntimeError))
    return text if plain else f"{type(exc).__name__}: {text}"


class _EngineWorker(QObject):
    """Runs on the engine thread; every slot is entered through a queued connection."""

    devices_found = Signal(list)
    loaded = Signal(object, object)  # LoadSpec, synthesizer info
    load_failed = Signal(object, str)  # LoadSpec, message
    progress = Signal(int, object)  # job id, Progress
    finished = Signal(int, object)  # job id, SynthesisResult
    failed = Signal(int, str)
    cancelled = Signal(int)
    chunk = Signal(int, object)  # job id, AudioChunk (streamed generation only)
    phonemized = Signal(int, object)  # request id, list[str] | str (an error message)

    def __init__(self, loader: Loader) -> None:
        super().__init__()
        self._loader = loader
        self._synth: Any = None

    @Slot()
    def probe(self) -> None:
        try:
            devices = probe_devices()
        except Exception:  # a broken torch install must not kill the thread; CPU is still offered
            log.exception("device probe failed")
            devices = ["cpu"]
        self.devices_found.emit(devices)

    @Slot(object)
    def load(self, spec: LoadSpec) -> None:
        t0 = time.perf_counter()
        self._synth = None
        try:
            synth = self._loader(spec)
        except Exception as exc:
            log.error("loading %s failed:\n%s", spec.model, traceback.format_exc())
            self.load_failed.emit(spec, _error_text(exc))
            return
        self._synth = synth
        log.info("loaded %s in %.1f s", spec.model, time.perf_counter() - t0)
        self.loaded.emit(spec, getattr(synth, "info", None))

    @Slot(int, object, object)
    def synthesize(self, job_id: int, request: SynthesisRequest, token: CancelToken) -> None:
        self._run(job_id, request, token, streaming=False)

    @Slot(int, object, object)
    def stream(self, job_id: int, request: SynthesisRequest, token: CancelToken) -> None:
        """Like :meth:`synthesize`, handing out ``chunk`` signals as the audio is generated."""
        self._run(job_id, request, token, streaming=True)

    def _run(self, job_id: int, request: SynthesisRequest, token: CancelToken, *, streaming: bool) -> None:
        if token.cancelled:  # cancelled while waiting in the queue
            self.cancelled.emit(job_id)
            return
        if self._synth is None:
            self.failed.emit(job_id, "No voice model is loaded.")
            return
        last = {"stage": "", "at": 0.0}

        def on_progress(p: Progress) -> None:
            now = time.monotonic()
            # Throttle: a tiny model reports thousands of steps a second; the bar needs ~25 a second.
            if p.stage != last["stage"] or p.done >= p.total or now - last["at"] >= PROGRESS_INTERVAL_S:
                last["stage"], last["at"] = p.stage, now
                self.progress.emit(job_id, p)

        try:
            if streaming and hasattr(self._synth, "stream"):
                stream = self._synth.stream(request, progress=on_progress, cancel=token)
                for piece in stream:
                    self.chunk.emit(job_id, piece)
                result: SynthesisResult = stream.result
            else:
                result = self._synth.synthesize(request, progress=on_progress, cancel=token)
        except Cancelled:
            self.cancelled.emit(job_id)
            return
        except Exception as exc:
            log.error("generation failed:\n%s", traceback.format_exc())
            self.failed.emit(job_id, _error_text(exc))
            return
        if token.cancelled:
            self.cancelled.emit(job_id)
        else:
            self.finished.emit(job_id, result)

    @Slot(int, str, str, str)
    def phonemize(self, request_id: int, text: str, language: str, split: str) -> None:
        if self._synth is None:
            self.phonemized.emit(request_id, "Load a voice model to see its phonemes.")
            return
        try:
            pieces = list(self._synth.phonemize(text, language, split))
        except Exception as exc:
            log.info("phonemizing failed: %s", exc)
            self.phonemized.emit(request_id, _error_text(exc))
            return
        self.phonemized.emit(request_id, pieces)


class EngineController(QObject):
    """The UI thread's handle on the engine thread (see the module docstring).

    Signals carry the job id so a window can tell its own job apart; only the current job's
    signals are forwarded at all.
    """

    devices_changed = Signal(list)  # list[str], best first
    model_loading = Signal(object)  # LoadSpec
    model_loaded = Signal(object, object)  # LoadSpec, synthesizer info
    model_load_failed = Signal(object, str)  # LoadSpec, message
    job_started = Signal(int)
    job_progress = Signal(int, object)  # job id, Progress
    job_finished = Signal(int, object)  # job id, SynthesisResult
    job_failed = Signal(int, str)
    job_cancelled = Signal(int)
    job_chunk = Signal(int, object)  # job id, AudioChunk: audio of a streamed job as it is generated
    busy_changed = Signal(bool)
    # Every job the worker ends, current or stale: (job id, "finished" | "failed" | "cancelled").
    # Tells when the engine thread is idle again; a job the user cancelled reports "cancelled" here.
    job_stopped = Signal(int, str)
    phonemes_ready = Signal(object)  # list[str], or str: why there are none

    # Requests to the worker; queued because the worker lives on another thread.
    _do_probe = Signal()
    _do_load = Signal(object)
    _do_synthesize = Signal(int, object, object)
    _do_stream = Signal(int, object, object)
    _do_phonemize = Signal(int, str, str, str)

    def __init__(self, loader: Loader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("valle-engine")
        self._worker = _EngineWorker(loader)
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._do_probe.connect(self._worker.probe)
        self._do_load.connect(self._worker.load)
        self._do_synthesize.connect(self._worker.synthesize)
        self._do_stream.connect(self._worker.stream)
        self._do_phonemize.connect(self._worker.phonemize)
        self._worker.devices_found.connect(self._on_devices)
        self._worker.loaded.connect(self._on_loaded)
        self._worker.load_failed.connect(self._on_load_failed)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.chunk.connect(self._on_chunk)
        self._worker.phonemized.connect(self._on_phonemized)
        self.devices: list[str] = ["cpu"]
        self.info: Any = None
        self.spec: LoadSpec | None = None
        self._loading: LoadSpec | None = None
        self._next_id = 0
        self._job: int | None = None
        self._token: CancelToken | None = None
        self._phoneme_request = 0
        self._started = False

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine thread and look for devices (imports torch there)."""
        if not self._started:
            self._started = True
            self._thread.start()
            self._do_probe.emit()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel the running job, stop the thread and wait for it. True when it stopped in time."""
        self.cancel()
        if not self._started:
            return True
        self._thread.quit()
        stopped = self._thread.wait(timeout_ms)
        if not stopped:
            log.error("the engine thread did not stop within %d ms", timeout_ms)
        return bool(stopped)

    @property
    def thread(self) -> QThread:
        return self._thread

    # -- state ---------------------------------------------------------------------------------
    @property
    def is_loaded(self) -> bool:
        return self.info is not None or self.spec is not None

    @property
    def is_loading(self) -> bool:
        return self._loading is not None

    @property
    def is_busy(self) -> bool:
        return self._job is not None

    @property
    def synthesizer(self) -> Any:
        """The loaded Synthesizer (None before a model is loaded). Other workers (batch) may run it
        on their own thread while this controller is idle; the window keeps the two apart."""
        return self._worker._synth

    # -- requests ------------------------------------------------------------------------------
    def load(self, spec: LoadSpec) -> None:
        """Load a model on the engine thread; answers with ``model_loaded`` or ``model_load_failed``."""
        self.start()
        self.info, self.spec, self._loading = None, None, spec
        self.model_loading.emit(spec)
        self._do_load.emit(spec)

    def generate(self, request: SynthesisRequest, *, stream: bool = False) -> int:
        """Queue a generation; cancels the one running. Returns the new job id.

        ``stream``: hand the audio out as it is generated (``job_chunk`` signals before ``job_finished``).
        """
        self.start()
        self.cancel()
        self._next_id += 1
        self._job, self._token = self._next_id, CancelToken()
        self.busy_changed.emit(True)
        self.job_started.emit(self._job)
        (self._do_stream if stream else self._do_synthesize).emit(self._job, request, self._token)
        return self._job

    def cancel(self) -> None:
        """Stop the current job within one model step; ``job_cancelled`` follows at once."""
        if self._job is None or self._token is None:
            return
        job = self._job
        self._token.cancel()
        self._end_job()
        self.job_cancelled.emit(job)

    def phonemize(self, text: str, language: str, split: str) -> None:
        """Ask for the phonemes the model would get; answered by ``phonemes_ready`` (latest only)."""
        self.start()
        self._phoneme_request += 1
        self._do_phonemize.emit(self._phoneme_request, text, language, split)

    # -- answers from the worker ---------------------------------------------------------------
    def _end_job(self) -> None:
        self._job, self._token = None, None
        self.busy_changed.emit(False)

    @Slot(list)
    def _on_devices(self, devices: list[str]) -> None:
        self.devices = list(devices)
        self.devices_changed.emit(self.devices)

    @Slot(object, object)
    def _on_loaded(self, spec: LoadSpec, info: Any) -> None:
        if spec != self._loading:
            return  # a newer load was requested meanwhile
        self._loading, self.spec, self.info = None, spec, info
        self.model_loaded.emit(spec, info)

    @Slot(object, str)
    def _on_load_failed(self, spec: LoadSpec, message: str) -> None:
        if spec != self._loading:
            return
        self._loading = None
        self.model_load_failed.emit(spec, message)

    @Slot(int, object)
    def _on_progress(self, job_id: int, progress: Progress) -> None:
        if job_id == self._job:
            self.job_progress.emit(job_id, progress)

    @Slot(int, object)
    def _on_chunk(self, job_id: int, chunk: Any) -> None:
        if job_id == self._job:
            self.job_chunk.emit(job_id, chunk)

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: SynthesisResult) -> None:
        self.job_stopped.emit(job_id, "finished")
        if job_id == self._job:
            self._end_job()
            self.job_finished.emit(job_id, result)

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        self.job_stopped.emit(job_id, "failed")
        if job_id == self._job:
            self._end_job()
            self.job_failed.emit(job_id, message)

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        # The controller already reported this job as cancelled when cancel() was called; a worker
        # that cancels on its own (it never does today) would still end the job here.
        self.job_stopped.emit(job_id, "cancelled")
        if job_id == self._job:
            self._end_job()
            self.job_cancelled.emit(job_id)

    @Slot(int, object)
    def _on_phonemized(self, request_id: int, pieces: Any) -> None:
        if request_id == self._phoneme_request:
            self.phonemes_ready.emit(pieces)


__all__ = ["EngineController", "LoadSpec", "Loader", "probe_devices"]
