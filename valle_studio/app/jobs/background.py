"""Work that needs no model (downloads, imports, exports, decoding a file) on a thread of its own.

``BackgroundTask(fn)`` runs ``fn(progress, cancel)`` on a fresh Python thread. ``fn`` reports through
``progress(Progress)`` (throttled here, see :class:`~valle_studio.engine.progress.ProgressThrottle`)
and checks ``cancel`` (a :class:`~valle_studio.engine.progress.CancelToken`). The task answers with
exactly one of ``finished(result)``, ``failed(message)`` or ``cancelled()``, all delivered on the UI
thread as queued signals; a cancelled task never emits ``finished``.

Model work never goes here: it is a job of :class:`~valle_studio.app.jobs.controller.EngineController`.
A task has no Qt parent and keeps itself alive until its thread has ended, so closing the widget that
started it can never destroy it mid-run; the owner cancels and :meth:`BackgroundTask.wait` s on close.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from valle_studio.engine.progress import Cancelled, CancelToken, Progress, ProgressThrottle

log = logging.getLogger(__name__)

TaskFunction = Callable[[Callable[[Progress], None], CancelToken], Any]
#: A download reports every chunk; a bar needs no more than ~20 updates a second.
PROGRESS_INTERVAL_S = 0.05


class BackgroundTask(QObject):
    """See the module docstring. ``name`` names the thread (log lines, crash reports)."""

    progress = Signal(object)  # Progress
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    _progressed = Signal(object)  # emitted on the task's thread, queued to the UI thread
    _done = Signal(str, object)  # outcome ("finished" | "failed" | "cancelled"), payload

    _alive: ClassVar[set[BackgroundTask]] = set()  # tasks whose thread runs: no owner can drop them

    def __init__(self, fn: TaskFunction, *, name: str = "valle-task") -> None:
        super().__init__()
        self.token = CancelToken()
        self._fn = fn
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._progressed.connect(self._on_progress)
        self._done.connect(self._on_done)
        self._answered = False

    def start(self) -> None:
        BackgroundTask._alive.add(self)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop; it answers ``cancelled`` at its next check."""
        self.token.cancel()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Cancel and block until the thread ended (shutdown, tests). True when it did in time."""
        self.cancel()
        if self._thread.ident is not None:
            self._thread.join(timeout_ms / 1000)
        if self._thread.is_alive():
            return False
        BackgroundTask._alive.discard(self)  # its answer may never be delivered now (the app is closing)
        return True

    def _run(self) -> None:  # on the task's thread
        throttle = ProgressThrottle(self._progressed.emit, PROGRESS_INTERVAL_S)
        try:
            result = self._fn(throttle, self.token)
        except Cancelled:
            self._done.emit("cancelled", None)
            return
        except Exception as exc:
            from valle_studio.errors import describe, is_out_of_memory

            log.error("background task failed:\n%s", traceback.format_exc())
            self._done.emit("failed", describe(exc, gui=True) if is_out_of_memory(exc) else
                            str(exc) or type(exc).__name__)
            return
        self._done.emit("cancelled" if self.token.cancelled else "finished", result)

    def _release(self) -> None:
        BackgroundTask._alive.discard(self)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if not self._answered and not self.token.cancelled:
            self.progress.emit(progress)

    @Slot(str, object)
    def _on_done(self, outcome: str, payload: Any) -> None:
        self._thread.join()  # it has nothing left to do: "running" is False for whoever hears the answer
        # Let go only after this event was delivered: an owner that drops the task in a slot below
        # must not destroy it while Qt is still delivering to it.
        QTimer.singleShot(0, self._release)
        if self._answered:
            return
        self._answered = True
        if outcome == "finished":
            self.finished.emit(payload)
        elif outcome == "failed":
            self.failed.emit(str(payload))
        else:
            self.cancelled.emit()


__all__ = ["BackgroundTask", "TaskFunction"]
