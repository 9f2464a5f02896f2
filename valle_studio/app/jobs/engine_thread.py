"""The engine thread's side: the one place the synthesizer lives and every model job runs.

:class:`EngineWorker` sits in the engine ``QThread``; its slots are entered through queued signals
from :class:`~valle_studio.app.jobs.controller.EngineController`, one job at a time, and everything it
reports travels back as queued signals. It holds the only reference to the loaded synthesizer: a job's
function sees it through its :class:`~valle_studio.app.jobs.records.JobContext` while it runs, and a
new model is only loaded after the old one was dropped.

Light jobs (the phoneme preview) do not wait for a long job to end: they are put in a
:class:`LightInbox`, and the worker serves the inbox whenever it is idle *and* at every model step of
the job that runs (through :class:`StepToken`, whose ``check()`` the engine calls between steps). They
run on this thread too, between two steps, so the model is never used by two threads at once.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from valle_studio.app.jobs.records import JobContext, JobFunction, Loader, LoadSpec
from valle_studio.engine.interfaces import SynthesizerProtocol
from valle_studio.engine.progress import Cancelled, CancelToken, ProgressThrottle

log = logging.getLogger(__name__)

#: Least time between two progress signals of the same stage (the bar cannot show more).
PROGRESS_INTERVAL_S = 0.04
NO_MODEL = "No voice model is loaded."
FINISHED, FAILED, CANCELLED = "finished", "failed", "cancelled"


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


def error_text(exc: BaseException) -> str:
    """One sentence for a dialog: our own errors as they are, others with their class as a hint."""
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


@dataclass(frozen=True)
class Work:
    """A job as the engine thread gets it. ``keep_after_cancel``: the job answers with its own result
    after a cancel (a batch reports the rows it finished) instead of ending as cancelled."""

    id: int
    fn: JobFunction
    token: CancelToken
    needs_model: bool = True
    keep_after_cancel: bool = False


class LightInbox:
    """Light jobs waiting for the engine thread (thread-safe); a newer one replaces those not yet run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: deque[tuple[int, JobFunction]] = deque()

    def put(self, request_id: int, fn: JobFunction) -> None:
        with self._lock:
            self._items.clear()  # only the latest answer is wanted
            self._items.append((request_id, fn))

    def take(self) -> tuple[int, JobFunction] | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class StepToken(CancelToken):
    """A job's cancel token that also serves the light inbox at every model step (see the module
    docstring). The engine only sees a :class:`CancelToken`."""

    def __init__(self, between_steps: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._between_steps = between_steps

    def check(self) -> None:
        if self._between_steps is not None:
            self._between_steps()
        super().check()


class EngineWorker(QObject):
    """Runs on the engine thread; every slot is entered through a queued connection."""

    devices_found = Signal(list)
    loaded = Signal(object, object)  # LoadSpec, synthesizer info
    load_failed = Signal(object, str)  # LoadSpec, message
    started = Signal(int)  # job id
    progress = Signal(int, object)  # job id, Progress (throttled)
    partial = Signal(int, object)  # job id, a partial result (AudioChunk, BatchEvent, ...)
    ended = Signal(int, str, object)  # job id, "finished" | "failed" | "cancelled", result | message | None
    light_done = Signal(int, object)  # light request id, its answer

    def __init__(self, loader: Loader, inbox: LightInbox) -> None:
        super().__init__()
        self._loader = loader
        self._inbox = inbox
        self._synth: SynthesizerProtocol | None = None
        self._serving = False  # inside serve_light (a light job never serves the inbox itself)
        self._ident: int | None = None  # the engine thread, seen by the first slot entered

    def _enter(self) -> None:
        self._ident = threading.get_ident()

    @Slot()
    def probe(self) -> None:
        self._enter()
        try:
            devices = probe_devices()
        except Exception:  # a broken torch install must not kill the thread; CPU is still offered
            log.exception("device probe failed")
            devices = ["cpu"]
        self.devices_found.emit(devices)

    @Slot(object)
    def load(self, spec: LoadSpec) -> None:
        self._enter()
        t0 = time.perf_counter()
        self._drop_model()  # first: the old model and the new one are never in memory together
        try:
            synth = self._loader(spec)
        except Exception as exc:
            log.error("loading %s failed:\n%s", spec.model, traceback.format_exc())
            self.load_failed.emit(spec, error_text(exc))
            return
        self._synth = synth
        log.info("loaded %s in %.1f s", spec.model, time.perf_counter() - t0)
        self.loaded.emit(spec, getattr(synth, "info", None))

    def _drop_model(self) -> None:
        if self._synth is None:
            return
        self._synth = None
        gc.collect()  # reference cycles (a traceback kept by a failed batch row) may still hold it
        engine = sys.modules.get("valle_studio.engine.synthesizer")
        if engine is not None:  # torch is loaded: give its cached accelerator memory back too
            engine.release_memory()

    @Slot(object)
    def run(self, work: Work) -> None:
        self._enter()
        if work.token.cancelled and not work.keep_after_cancel:  # cancelled before it started
            self.ended.emit(work.id, CANCELLED, None)
            return
        if work.needs_model and self._synth is None:
            self.ended.emit(work.id, FAILED, NO_MODEL)
            return
        self.started.emit(work.id)
        context = JobContext(
            synth=self._synth,
            progress=ProgressThrottle(lambda p: self.progress.emit(work.id, p), PROGRESS_INTERVAL_S),
            emit=lambda item: self.partial.emit(work.id, item),
            cancel=work.token,
        )
        try:
            result = work.fn(context)
        except Cancelled:
            self.ended.emit(work.id, CANCELLED, None)
            return
        except Exception as exc:
            log.error("job %d failed:\n%s", work.id, traceback.format_exc())
            self.ended.emit(work.id, FAILED, error_text(exc))
            return
        finally:
            del context  # the job's hold on the model ends with the job
        # A cancel that landed after the last model step still wins: a cancelled take never finishes.
        if work.token.cancelled and not work.keep_after_cancel:
            self.ended.emit(work.id, CANCELLED, None)
        else:
            self.ended.emit(work.id, FINISHED, result)

    @Slot()
    def serve_queued_light(self) -> None:
        """The inbox got a job while the thread was idle (entered through a queued signal)."""
        self._enter()
        self.serve_light()

    def serve_light(self) -> None:
        """Run every light job in the inbox (idle, or between two model steps of the running job).

        Only ever on the engine thread: a token checked anywhere else (it is not, today) serves nothing."""
        if self._serving or threading.get_ident() != self._ident:
            return
        self._serving = True
        try:
            while (item := self._inbox.take()) is not None:
                request_id, fn = item
                context = JobContext(synth=self._synth, progress=lambda _p: None, emit=lambda _x: None,
                                     cancel=CancelToken())
                try:
                    answer: Any = fn(context)
                except Exception as exc:
                    log.info("light job %d failed: %s", request_id, exc)
                    answer = error_text(exc)
                self.light_done.emit(request_id, answer)
        finally:
            self._serving = False


__all__ = ["CANCELLED", "FAILED", "FINISHED", "NO_MODEL", "PROGRESS_INTERVAL_S", "EngineWorker", "LightInbox",
           "StepToken", "Work", "error_text", "probe_devices"]
