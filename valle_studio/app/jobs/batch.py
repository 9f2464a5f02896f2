"""A batch run as an engine job: the BatchRunner loop on the engine thread, with pause, resume, cancel.

:class:`BatchController` lives on the UI thread. :meth:`BatchController.start` submits one job of kind
``batch`` to the :class:`~valle_studio.app.jobs.controller.EngineController`; on the engine thread a
:class:`~valle_studio.batch.runner.BatchRunner` generates the rows with the loaded synthesizer and
hands each :class:`~valle_studio.batch.runner.BatchEvent` out as a partial result, so slots connected
to :attr:`BatchController.batch_event` may touch widgets. The runner saves the project after every row
itself, so closing the app mid-run loses at most the row in progress.

The engine refuses the run while a studio take is active (:class:`~valle_studio.app.jobs.records.EngineBusy`),
and queues it behind a take that was stopped and is still winding down (``waiting_changed``).
Pausing holds the runner between two model steps; the engine thread stays with the batch meanwhile.
Cancelling (by the user or by a model change) stops at the next model step; the run then ends with
``finished`` carrying a summary whose ``cancelled`` is True. Events of a cancelled run are still
delivered (they describe rows that did finish) until ``finished``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, QThread, Signal, Slot

from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.job import Job
from valle_studio.app.jobs.records import JobContext, JobFunction, JobKind
from valle_studio.batch.project import BatchProject
from valle_studio.batch.runner import BatchEvent, BatchRunner, PauseGate, RunSummary
from valle_studio.engine.progress import Cancelled
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.errors import describe
from valle_studio.studio.voices import VoiceLibrary

log = logging.getLogger(__name__)


def batch_job(project: BatchProject, row_ids: Sequence[str], *, voices: VoiceLibrary | None, gate: PauseGate,
              describe_error: Callable[[BaseException], str] = lambda exc: describe(exc, gui=True),
              quality: QualityOptions | None = None) -> JobFunction:
    """The engine-thread side of a run: a :class:`BatchRunner` over ``row_ids`` (each line checked, best
    of ``quality.best_of``); returns its summary."""
    ids = list(row_ids)

    def run(context: JobContext) -> RunSummary:
        runner = BatchRunner(project, context.model, voices=voices, on_event=context.emit, cancel=context.cancel,
                             gate=gate, describe_error=describe_error, quality=quality)
        try:
            return runner.run(ids)
        except Cancelled:
            raise
        except Exception as exc:  # a row failing is not this; this is the run itself breaking
            raise RuntimeError(describe_error(exc)) from exc

    return run


class PausableRun:
    """Pause and Resume of a run through its :class:`PauseGate` (``_gate``): the in-process and the cluster
    controllers share them. The class using it has ``is_running`` and a ``paused_changed(bool)`` signal."""

    _gate: PauseGate
    paused_changed: Any  # the Signal(bool) of the class using it

    @property
    def is_running(self) -> bool:
        raise NotImplementedError  # each controller says whether its run is going

    def pause(self) -> None:
        if self.is_running and not self._gate.paused:
            self._gate.pause()
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self._gate.paused:
            self._gate.resume()
            self.paused_changed.emit(False)


class BatchController(PausableRun, QObject):
    """See the module docstring. One run at a time."""

    batch_event = Signal(object)  # BatchEvent, on the UI thread
    finished = Signal(object)  # RunSummary
    failed = Signal(str)  # the run stopped on an error that was not one row's
    running_changed = Signal(bool)  # a run was accepted (it may still wait for the engine) / has ended
    waiting_changed = Signal(bool)  # the run waits for the engine thread (a stopped take winding down)
    paused_changed = Signal(bool)

    def __init__(self, engine: EngineController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._job: Job | None = None
        self._gate = PauseGate()
        self._waiting = False

    @property
    def is_running(self) -> bool:
        """A run was accepted and has not ended (waiting for the engine counts)."""
        return self._job is not None

    @property
    def is_waiting(self) -> bool:
        return self._waiting

    @property
    def is_paused(self) -> bool:
        return self.is_running and self._gate.paused

    def start(self, project: BatchProject, row_ids: Sequence[str], *, voices: VoiceLibrary | None = None,
              quality: QualityOptions | None = None) -> bool:
        """Start generating ``row_ids`` (``quality``: the takes each line gets; default one, checked);
        False when there is nothing to do or a run of this controller is going. Raises
        :class:`~valle_studio.app.jobs.records.EngineBusy` while other work holds the engine (the caller
        says what)."""
        if self.is_running or not row_ids:
            return False
        self._gate = PauseGate()
        job = self.engine.submit(JobKind.BATCH, batch_job(project, row_ids, voices=voices, gate=self._gate,
                                                          quality=quality),
                                 title=f'the batch "{project.name}"', keep_after_cancel=True)
        self._job = job
        job.started.connect(self._on_started)
        job.partial.connect(self._on_event)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self.running_changed.emit(True)
        if not job.running:  # something is still winding down on the engine thread
            self._set_waiting(True)
        return True

    def cancel(self) -> None:
        """Stop at the next model step (a paused run is released so it can stop)."""
        if self._job is not None:
            self._job.cancel()
        self.resume()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel and wait until the run has ended (the app is closing). True when it did in time.

        The run ends through a queued signal, so this keeps the event loop turning while it waits."""
        job = self._job
        if job is None:
            return True
        self.cancel()
        deadline = QDeadlineTimer(timeout_ms)
        while not job.done and not deadline.hasExpired() and self.engine.worker_thread.isRunning():
            QCoreApplication.processEvents()
            QThread.msleep(10)
        return job.done or not self.engine.worker_thread.isRunning()

    def _set_waiting(self, waiting: bool) -> None:
        if waiting != self._waiting:
            self._waiting = waiting
            self.waiting_changed.emit(waiting)

    @Slot()
    def _on_started(self) -> None:
        self._set_waiting(False)

    @Slot(object)
    def _on_event(self, event: BatchEvent) -> None:
        self.batch_event.emit(event)

    def _end(self) -> None:
        self._job = None
        self._set_waiting(False)
        if self._gate.paused:
            self._gate.resume()
            self.paused_changed.emit(False)
        self.running_changed.emit(False)

    @Slot(object)
    def _on_finished(self, summary: RunSummary) -> None:
        self._end()
        self.finished.emit(summary)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        log.error("batch run failed: %s", message)
        self._end()
        self.failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        # Only a run cancelled before the engine thread took it up answers like this (a run that
        # started reports its own summary): nothing was generated.
        self._end()
        self.finished.emit(RunSummary(cancelled=True))


__all__ = ["BatchController", "batch_job"]
