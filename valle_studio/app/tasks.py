"""One-off background jobs (downloads, imports) on their own thread, with progress and cancel.

``BackgroundTask(fn)`` runs ``fn(progress, cancel)`` on a fresh ``QThread``. ``fn`` reports through
``progress(Progress)`` and checks ``cancel`` (a :class:`~valle_studio.engine.progress.CancelToken`);
the task answers with exactly one of ``finished(result)``, ``failed(message)`` or ``cancelled()``,
all delivered on the UI thread. A cancelled task never emits ``finished``.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from valle_studio.engine.progress import Cancelled, CancelToken, Progress

log = logging.getLogger(__name__)

TaskFunction = Callable[[Callable[[Progress], None], CancelToken], Any]


class _Runner(QObject):
    progress = Signal(object)
    done = Signal(str, object)  # outcome ("finished" | "failed" | "cancelled"), payload

    def __init__(self, fn: TaskFunction, token: CancelToken) -> None:
        super().__init__()
        self._fn = fn
        self._token = token
        self._last = 0.0

    def _report(self, progress: Progress) -> None:
        now = time.monotonic()
        # A download reports every chunk; the bar needs no more than ~20 updates a second.
        if now - self._last >= 0.05 or (progress.total and progress.done >= progress.total):
            self._last = now
            self.progress.emit(progress)

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self._report, self._token)
        except Cancelled:
            self.done.emit("cancelled", None)
            return
        except Exception as exc:
            from valle_studio.errors import describe, is_out_of_memory

            log.error("background task failed:\n%s", traceback.format_exc())
            self.done.emit("failed", describe(exc, gui=True) if is_out_of_memory(exc) else
                           str(exc) or type(exc).__name__)
            return
        self.done.emit("cancelled" if self._token.cancelled else "finished", result)


class BackgroundTask(QObject):
    """See the module docstring. Keep a reference until it has answered."""

    progress = Signal(object)  # Progress
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: TaskFunction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.token = CancelToken()
        self._thread = QThread()
        self._thread.setObjectName("valle-task")
        self._runner = _Runner(fn, self.token)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._thread.finished.connect(self._runner.deleteLater)
        self._runner.progress.connect(self._on_progress)
        self._runner.done.connect(self._on_done)
        self._answered = False

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop; it answers ``cancelled`` at its next check."""
        self.token.cancel()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    @property
    def thread(self) -> QThread:
        return self._thread

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Cancel and block until the thread ended (shutdown, tests)."""
        self.cancel()
        self._thread.quit()
        return bool(self._thread.wait(timeout_ms))

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if not self._answered and not self.token.cancelled:
            self.progress.emit(progress)

    @Slot(str, object)
    def _on_done(self, outcome: str, payload: Any) -> None:
        self._thread.quit()
        self._thread.wait()
        if self._answered:
            return
        self._answered = True
        if outcome == "finished":
            self.finished.emit(payload)
        elif outcome == "failed":
            self.failed.emit(str(payload))
        else:
            self.cancelled.emit()
