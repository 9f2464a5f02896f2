"""A batch run on a Ray cluster from the Batch tab, and the switch between it and the in-process run.

:class:`ClusterController` runs :func:`~valle_studio.cluster.session.run_on_cluster` on a thread of its own
(the engine thread stays free: the workers load the model themselves, the one the window has loaded, on
the same device and precision). It has the signals of
:class:`~valle_studio.app.jobs.batch.BatchController`, plus ``cluster_progress`` (a
:class:`~valle_studio.cluster.progress.ClusterProgress`), all delivered on the UI thread. Pause stops
handing out lines; cancel stops every running line at its next model step and the workers go away
(``finished`` then carries a cancelled summary). The driver (this thread) is the project's one writer.

:class:`RunSwitch` is what the Batch tab holds as its controller: it starts each run on the cluster when
the :class:`~valle_studio.app.widgets.cluster_option.ClusterOption` says so, else in-process, and
forwards both controllers' signals.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from valle_studio.app.jobs.batch import BatchController, PausableRun
from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.widgets.cluster_option import ClusterOption
from valle_studio.batch.project import BatchProject
from valle_studio.batch.runner import PauseGate, RunSummary
from valle_studio.engine.progress import Cancelled, CancelToken
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.errors import describe
from valle_studio.studio.voices import VoiceLibrary

log = logging.getLogger(__name__)


class ClusterController(PausableRun, QObject):
    """See the module docstring. One run at a time."""

    batch_event = Signal(object)
    cluster_progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)
    waiting_changed = Signal(bool)  # never: a cluster run does not wait for the engine thread
    paused_changed = Signal(bool)
    _done = Signal(str, object)  # emitted on the run's thread, queued to the UI thread

    def __init__(self, engine: EngineController, option: ClusterOption, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.option = option
        self._thread: threading.Thread | None = None
        self._cancel = CancelToken()
        self._gate = PauseGate()
        self._done.connect(self._on_done)

    @property
    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def is_waiting(self) -> bool:
        return False

    @property
    def is_paused(self) -> bool:
        return self.is_running and self._gate.paused

    def start(self, project: BatchProject, row_ids: Sequence[str], *, voices: VoiceLibrary | None = None,
              quality: QualityOptions | None = None) -> bool:
        """Start ``row_ids`` on the cluster with the window's loaded model; False when there is nothing to
        do, a run goes, or no model is loaded."""
        from valle_studio.cluster.options import ModelSpec

        loaded = self.engine.spec
        if self.is_running or not row_ids or loaded is None:
            return False
        spec = ModelSpec.here(loaded.model, device=loaded.device, dtype=loaded.precision)
        options = self.option.options()
        self._cancel, self._gate = CancelToken(), PauseGate()
        cancel, gate, ids = self._cancel, self._gate, list(row_ids)

        def run() -> None:
            from valle_studio.cluster.session import run_on_cluster

            try:
                summary = run_on_cluster(project, ids, spec=spec, options=options, cancel=cancel, gate=gate,
                                         voices=voices, quality=quality, on_event=self.batch_event.emit,
                                         on_workers=self.cluster_progress.emit,
                                         describe_error=lambda exc: describe(exc, gui=True))
            except Cancelled:
                self._done.emit("finished", RunSummary(cancelled=True))
            except Exception as exc:
                log.error("cluster run failed:\n%s", traceback.format_exc())
                self._done.emit("failed", str(exc) or type(exc).__name__)
            else:
                self._done.emit("finished", summary)

        self._thread = threading.Thread(target=run, name="valle-cluster-batch", daemon=True)
        self.running_changed.emit(True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        """Stop every running line at its next model step (a paused run is released so it can stop)."""
        self._cancel.cancel()
        self.resume()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel and wait for the run's thread (the app is closing). True when it ended in time."""
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        thread.join(timeout_ms / 1000)
        return not thread.is_alive()

    @Slot(str, object)
    def _on_done(self, outcome: str, payload: Any) -> None:
        if self._thread is not None:
            self._thread.join()
        self._thread = None
        if self._gate.paused:
            self._gate.resume()
            self.paused_changed.emit(False)
        self.running_changed.emit(False)
        if outcome == "finished":
            self.finished.emit(payload)
        else:
            self.failed.emit(str(payload))


class RunSwitch(QObject):
    """See the module docstring: the Batch tab's controller, in-process or on the cluster per run."""

    batch_event = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)
    waiting_changed = Signal(bool)
    paused_changed = Signal(bool)

    def __init__(self, engine: EngineController, option: ClusterOption, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.option = option
        self.local = BatchController(engine, self)
        self.cluster = ClusterController(engine, option, self)
        self.active: BatchController | ClusterController = self.local
        for controller in (self.local, self.cluster):
            for name in ("batch_event", "finished", "failed", "running_changed", "waiting_changed", "paused_changed"):
                getattr(controller, name).connect(getattr(self, name))
        self.running_changed.connect(option.set_running)
        self.cluster.cluster_progress.connect(option.show_progress)

    @property
    def is_running(self) -> bool:
        return self.active.is_running

    @property
    def is_waiting(self) -> bool:
        return self.active.is_waiting

    @property
    def is_paused(self) -> bool:
        return self.active.is_paused

    def start(self, project: BatchProject, row_ids: Sequence[str], *, voices: VoiceLibrary | None = None,
              quality: QualityOptions | None = None) -> bool:
        if self.is_running:
            return False
        self.active = self.cluster if self.option.enabled else self.local
        if self.active is self.cluster:
            self.option.show_progress(None)
        return self.active.start(project, row_ids, voices=voices, quality=quality)

    def pause(self) -> None:
        self.active.pause()

    def resume(self) -> None:
        self.active.resume()

    def cancel(self) -> None:
        self.active.cancel()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        return self.local.shutdown(timeout_ms) and self.cluster.shutdown(timeout_ms)


__all__ = ["ClusterController", "RunSwitch"]
