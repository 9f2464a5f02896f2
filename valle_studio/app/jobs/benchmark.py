"""Help → Benchmark this machine as an engine job: the benchmark on the engine thread, with progress and cancel.

:class:`BenchmarkController` lives on the UI thread. :meth:`BenchmarkController.start` submits one
``call`` job to the :class:`~valle_studio.app.jobs.controller.EngineController` (so the benchmark never
runs beside a take or a batch, and the loaded model is left alone: it measures copies of the installed
model, or random weights of its shapes). On the engine thread :func:`benchmark_job` runs
:func:`~valle_studio.engine.bench.runner.run_benchmark` and saves the record atomically once it is
complete; a cancelled or failed run saves nothing and leaves an earlier result as it was. torch is
imported only there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.job import Job
from valle_studio.app.jobs.records import JobContext, JobFunction, JobKind
from valle_studio.engine.interfaces import ModelStoreProtocol

log = logging.getLogger(__name__)
TITLE = "the benchmark"


def installed_checkpoint(store: ModelStoreProtocol) -> Path | None:
    """The default installed model's file (else the first installed one), or None when none is installed."""
    try:
        installed = list(store.installed())
        chosen = store.default_model if store.default_model in installed else (installed[0] if installed else None)
        path_of = getattr(store, "path_of", None)
        return None if chosen is None or path_of is None else Path(path_of(chosen))
    except Exception:  # a broken models folder: measure random weights instead
        log.exception("could not find the installed model for the benchmark")
        return None


def benchmark_job(*, quick: bool, model: Path | None, store: ModelStoreProtocol | None,
                  save_to: Path | None = None) -> JobFunction:
    """The engine-thread side: measure, then save the record (returns it, with the path it was saved to)."""

    def run(context: JobContext) -> tuple[Any, Path]:
        from valle_studio.engine.bench.record import save_record
        from valle_studio.engine.bench.runner import BenchOptions, run_benchmark
        from valle_studio.engine.resources import resolve_codec

        def codec(device: Any) -> Any:  # the installed codec; None (random weights of its shape) without one
            has_codec = store is not None and hasattr(store, "codec_paths")
            return resolve_codec(store, device=device) if has_codec else None

        record = run_benchmark(BenchOptions(quick=quick, model=model), codec_factory=codec,
                               progress=context.progress, cancel=context.cancel)
        context.cancel.check()  # a cancel after the last measurement still saves nothing
        return record, save_record(record, save_to)

    return run


class BenchmarkController(QObject):
    """See the module docstring. One run at a time; signals arrive on the UI thread."""

    progress = Signal(object)  # Progress
    finished = Signal(object, object)  # BenchRecord, the Path it was saved to
    failed = Signal(str)
    cancelled = Signal()
    running_changed = Signal(bool)

    def __init__(self, engine: EngineController, store: ModelStoreProtocol | None, parent: QObject | None = None,
                 *, save_to: Path | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.store = store
        self.save_to = save_to
        self._job: Job | None = None

    @property
    def running(self) -> bool:
        return self._job is not None

    def start(self, *, quick: bool, model: Path | None = None) -> Job:
        """Queue a run (``model``: None measures the installed default model, or random weights without one).

        Raises :class:`~valle_studio.app.jobs.records.EngineBusy` while a take or a batch holds the engine."""
        if self._job is not None:
            return self._job
        target = model if model is not None else (installed_checkpoint(self.store) if self.store else None)
        job = self.engine.submit(JobKind.CALL, benchmark_job(quick=quick, model=target, store=self.store,
                                                              save_to=self.save_to),
                                 title=TITLE, needs_model=False)
        self._job = job
        job.progress.connect(self.progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self.running_changed.emit(True)
        return job

    def cancel(self) -> None:
        """Stop at the next measurement; nothing is saved."""
        if self._job is not None:
            self._job.cancel()

    def _end(self) -> None:
        self._job = None
        self.running_changed.emit(False)

    @Slot(object)
    def _on_finished(self, result: tuple[Any, Path]) -> None:
        self._end()
        record, path = result
        self.finished.emit(record, path)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        log.error("benchmark failed: %s", message)
        self._end()
        self.failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self._end()
        self.cancelled.emit()


__all__ = ["TITLE", "BenchmarkController", "benchmark_job", "installed_checkpoint"]
