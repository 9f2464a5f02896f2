"""Runs a batch queue on its own ``QThread``, with pause, resume and cancel from the UI thread.

:class:`BatchController` lives on the UI thread. Each run gets a fresh thread with a
:class:`~valle_studio.batch.runner.BatchRunner` in it; the runner's events travel back as queued
signals, so slots connected to :attr:`BatchController.event` may touch widgets. The runner saves
the project after every row itself, so closing the app mid-run loses at most the row in progress.

Cancelling stops the engine at its next model step; the run then ends with ``finished`` carrying a
summary whose ``cancelled`` is True. Events of a run that was cancelled are still delivered (they
describe rows that did finish) until ``finished``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, QThread, Signal, Slot

from valle_studio.batch.project import BatchProject
from valle_studio.batch.runner import BatchEvent, BatchRunner, PauseGate, RunSummary
from valle_studio.engine.progress import CancelToken
from valle_studio.errors import describe

log = logging.getLogger(__name__)


class _RunWorker(QObject):
    event = Signal(object)  # BatchEvent
    done = Signal(object)  # RunSummary, or str: why the run itself broke

    def __init__(self, runner: BatchRunner, row_ids: list[str]) -> None:
        super().__init__()
        self._runner = runner
        self._row_ids = row_ids
        runner.on_event = self.event.emit  # called on the worker thread; the signal queues it

    @Slot()
    def run(self) -> None:
        try:
            summary = self._runner.run(self._row_ids)
        except Exception as exc:  # a row failing is not this; this is the run itself breaking
            log.error("batch run failed:\n%s", traceback.format_exc())
            self.done.emit(describe(exc, gui=True))
            return
        self.done.emit(summary)


class BatchController(QObject):
    """See the module docstring. One run at a time."""

    event = Signal(object)  # BatchEvent, on the UI thread
    finished = Signal(object)  # RunSummary
    failed = Signal(str)  # the run stopped on an error that was not one row's
    running_changed = Signal(bool)
    paused_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _RunWorker | None = None
        self._cancel: CancelToken | None = None
        self._gate = PauseGate()

    @property
    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def is_paused(self) -> bool:
        return self.is_running and self._gate.paused

    def start(self, project: BatchProject, synthesizer: Any, row_ids: Sequence[str], *, voices: Any = None) -> bool:
        """Start generating ``row_ids``; False (and nothing happens) when a run is already going."""
        if self.is_running or not row_ids:
            return False
        self._cancel = CancelToken()
        self._gate = PauseGate()
        runner = BatchRunner(project, synthesizer, voices=voices, cancel=self._cancel, gate=self._gate,
                             describe_error=lambda exc: describe(exc, gui=True))
        self._worker = _RunWorker(runner, list(row_ids))
        self._thread = QThread()
        self._thread.setObjectName("valle-batch")
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._thread.finished.connect(self._worker.deleteLater)
        self._worker.event.connect(self._on_event)
        self._worker.done.connect(self._on_done)
        self._thread.start()
        self.running_changed.emit(True)
        return True

    def pause(self) -> None:
        if self.is_running and not self._gate.paused:
            self._gate.pause()
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self._gate.paused:
            self._gate.resume()
            self.paused_changed.emit(False)

    def cancel(self) -> None:
        """Stop at the next model step (a paused run is released so it can stop)."""
        if self._cancel is not None:
            self._cancel.cancel()
        self.resume()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel and wait until the run has ended (the app is closing). True when it did in time.

        The run ends through a queued signal, so this keeps the event loop turning while it waits."""
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        deadline = QDeadlineTimer(timeout_ms)
        while self._thread is thread and not deadline.hasExpired():
            QCoreApplication.processEvents()
            thread.wait(20)
        return self._thread is not thread

    @Slot(object)
    def _on_event(self, event: BatchEvent) -> None:
        self.event.emit(event)

    @Slot(object)
    def _on_done(self, outcome: Any) -> None:
        thread = self._thread
        self._thread, self._worker, self._cancel = None, None, None
        if thread is not None:
            thread.quit()
            thread.wait()
        if self._gate.paused:
            self._gate.resume()
            self.paused_changed.emit(False)
        self.running_changed.emit(False)
        if isinstance(outcome, RunSummary):
            self.finished.emit(outcome)
        else:
            self.failed.emit(str(outcome))
