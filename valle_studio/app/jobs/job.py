"""One submitted engine job as the UI thread sees it: its signals, its state, its cancel button.

:meth:`EngineController.submit <valle_studio.app.jobs.controller.EngineController.submit>` returns a
:class:`Job`. Its signals are delivered on the UI thread and follow one contract (superqt's
``test_abort_does_not_return``): exactly one of ``finished(result)``, ``failed(message)`` or
``cancelled()``, then ``stopped(outcome)`` once the engine thread is done with it. A job cancelled
while it runs answers ``cancelled`` at once and never ``finished``, unless it was submitted with
``keep_after_cancel`` (a batch: it still reports the rows it finished, then ``finished``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from valle_studio.app.jobs.engine_thread import StepToken, Work
from valle_studio.app.jobs.records import JobFunction, JobInfo, JobKind

if TYPE_CHECKING:
    from valle_studio.app.jobs.controller import EngineController


class Job(QObject):
    """See the module docstring. Keep a reference as long as its signals matter to you."""

    started = Signal()  # the engine thread began it (it may have waited in the queue)
    progress = Signal(object)  # Progress
    partial = Signal(object)  # an audio chunk, a batch event, ...: what the job hands out as it goes
    finished = Signal(object)  # the result
    failed = Signal(str)  # why, in one sentence
    cancelled = Signal()
    stopped = Signal(str)  # "finished" | "failed" | "cancelled": the engine thread is done with it

    def __init__(self, engine: EngineController, job_id: int, kind: JobKind, fn: JobFunction, token: StepToken, *,
                 title: str = "", needs_model: bool = True, keep_after_cancel: bool = False) -> None:
        super().__init__()
        self._engine = engine
        self.id = job_id
        self.kind = kind
        self.title = title
        self.keep_after_cancel = keep_after_cancel
        self.token = token
        self.work = Work(job_id, fn, token, needs_model=needs_model, keep_after_cancel=keep_after_cancel)
        self.running = False  # on the engine thread now
        self.done = False  # the engine thread is done with it (``stopped`` was emitted)
        self.answered = False  # finished, failed or cancelled was emitted

    @property
    def cancel_requested(self) -> bool:
        return self.token.cancelled

    @property
    def info(self) -> JobInfo:
        return JobInfo(self.id, self.kind, self.title, self.cancel_requested)

    @property
    def forwards(self) -> bool:
        """Whether what the engine reports about this job still reaches the UI."""
        return not self.answered and (self.keep_after_cancel or not self.cancel_requested)

    def cancel(self) -> None:
        """Stop within one model step (see the module docstring for what is answered)."""
        self._engine.cancel(self.id)


__all__ = ["Job"]
