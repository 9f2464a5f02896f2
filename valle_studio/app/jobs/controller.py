"""The one owner of the engine thread and the loaded model: a queue of jobs and a busy state.

:class:`EngineController` lives on the UI thread and is the only way into the model for the whole app.
Every model job is a :class:`~valle_studio.app.jobs.job.Job` of one :class:`~valle_studio.app.jobs.records.JobKind`
(studio take, streamed take, transcription, batch run, or any function that needs the synthesizer).
Jobs run one at a time, in order, on the engine thread; the controller hands the next one over when
the last has ended, so it always knows what runs and what waits (:attr:`EngineController.state`,
announced by ``state_changed``).

Queue rules (what a new job does while another one is *active*: queued or running, not cancelled):

- a studio take replaces the active studio take (it is cancelled, the new one waits for it to wind down);
- anything else is refused with :class:`~valle_studio.app.jobs.records.EngineBusy` unless it asked to
  queue: Generate during a batch, a batch during a take. A job that was cancelled and is only winding
  down holds nothing: what comes next waits behind it and never runs beside it;
- a model change cancels the active jobs and says so (``notice``), or waits behind them; the new model
  loads after the old one was dropped, so two models are never in memory;
- the phoneme preview is a light request: it jumps the queue and is answered between two model steps
  of whatever runs (see :mod:`valle_studio.app.jobs.engine_thread`); only the latest one is answered.

Signals carry the job id; a job cancelled while it runs is reported cancelled at once and nothing it
reports afterwards reaches anybody (``job_stopped`` tells when the thread has really let go of it).
torch is imported only on the engine thread, so the window shows before the slow import.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from valle_studio.app.jobs import kinds
from valle_studio.app.jobs.engine_thread import CANCELLED, FAILED, FINISHED, EngineWorker, LightInbox, StepToken
from valle_studio.app.jobs.job import Job
from valle_studio.app.jobs.records import (
    EngineBusy,
    EngineState,
    JobFunction,
    JobKind,
    Loader,
    LoadSpec,
    WhenBusy,
)
from valle_studio.engine.interfaces import ModelInfoProtocol
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.requests import PromptSource, SynthesisRequest
from valle_studio.engine.text.lexicon import Lexicon

log = logging.getLogger(__name__)

#: How a kind behaves when another job is active, unless the caller says otherwise.
DEFAULT_WHEN_BUSY = {JobKind.TAKE: WhenBusy.REPLACE, JobKind.STREAM: WhenBusy.REPLACE}


class EngineController(QObject):
    """See the module docstring."""

    devices_changed = Signal(list)  # list[str], best first
    model_loading = Signal(object)  # LoadSpec
    model_loaded = Signal(object, object)  # LoadSpec, synthesizer info
    model_load_failed = Signal(object, str)  # LoadSpec, message
    state_changed = Signal(object)  # EngineState: what runs, what waits, what loads
    notice = Signal(str)  # one line for the user: work the engine stopped on its own (a model change)
    job_progress = Signal(int, object)  # job id, Progress
    job_chunk = Signal(int, object)  # job id, AudioChunk: audio of a streamed take as it is generated
    job_candidate = Signal(int, object)  # job id, Candidate: one checked take of a best-of studio take
    job_finished = Signal(int, object)  # job id, result (SynthesisResult for a take)
    job_failed = Signal(int, str)
    job_cancelled = Signal(int)
    # Every job the engine thread ends, cancelled ones included: (job id, "finished" | "failed" |
    # "cancelled"). Tells when the thread has let go of a job; a job cancelled in time says "cancelled".
    job_stopped = Signal(int, str)
    phonemes_ready = Signal(object)  # list[Piece] (engine/text/analysis.py), or str: why there are none

    # Requests to the worker; queued because the worker lives on the engine thread.
    _do_probe = Signal()
    _do_load = Signal(object)
    _do_run = Signal(object)
    _do_serve_light = Signal()

    def __init__(self, loader: Loader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("valle-engine")
        self._inbox = LightInbox()
        self._worker = EngineWorker(loader, self._inbox)
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._do_probe.connect(self._worker.probe)
        self._do_load.connect(self._worker.load)
        self._do_run.connect(self._worker.run)
        self._do_serve_light.connect(self._worker.serve_queued_light)
        self._worker.devices_found.connect(self._on_devices)
        self._worker.loaded.connect(self._on_loaded)
        self._worker.load_failed.connect(self._on_load_failed)
        self._worker.started.connect(self._on_started)
        self._worker.progress.connect(self._on_progress)
        self._worker.partial.connect(self._on_partial)
        self._worker.ended.connect(self._on_ended)
        self._worker.light_done.connect(self._on_light_done)
        self.devices: list[str] = ["cpu"]
        self.info: ModelInfoProtocol | None = None
        self.spec: LoadSpec | None = None
        self._loading: LoadSpec | None = None
        self._queue: deque[Job | LoadSpec] = deque()
        self._running: Job | LoadSpec | None = None
        self._jobs: dict[int, Job] = {}  # every job the engine thread is not done with yet
        self._next_id = 0
        self._phoneme_request = 0
        self._started = False
        self._closed = False
        self._last_state = EngineState()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine thread and look for devices (imports torch there)."""
        if not self._started and not self._closed:
            self._started = True
            self._thread.start()
            self._do_probe.emit()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job, stop the thread and wait for it. True when it stopped in time."""
        self.cancel_all()
        self._closed = True
        if not self._started:
            return True
        self._thread.quit()
        stopped = self._thread.wait(timeout_ms)
        if not stopped:
            log.error("the engine thread did not stop within %d ms", timeout_ms)
        return bool(stopped)

    @property
    def worker_thread(self) -> QThread:
        return self._thread

    # -- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> EngineState:
        running = self._running.info if isinstance(self._running, Job) else None
        queued = tuple(item.info for item in self._queue if isinstance(item, Job))
        return EngineState(running, queued, self._loading.model if self._loading is not None else None)

    @property
    def is_loaded(self) -> bool:
        return self.info is not None or self.spec is not None

    @property
    def is_loading(self) -> bool:
        return self._loading is not None

    @property
    def is_busy(self) -> bool:
        """A job holds the engine (queued or running, not cancelled)."""
        return self.state.busy

    def job(self, job_id: int) -> Job | None:
        """The job with that id, while the engine thread is not done with it."""
        return self._jobs.get(job_id)

    # -- jobs ----------------------------------------------------------------------------------
    def submit(self, kind: JobKind, fn: JobFunction, *, title: str = "", when_busy: WhenBusy | None = None,
               needs_model: bool = True, keep_after_cancel: bool = False) -> Job:
        """Queue ``fn(context)`` as a job of ``kind`` (see the module docstring for the queue rules).

        Raises :class:`EngineBusy` when the job is refused; nothing is queued then.
        """
        self.start()
        policy = when_busy or DEFAULT_WHEN_BUSY.get(kind, WhenBusy.REFUSE)
        active = self.state.active
        if active is not None and policy is not WhenBusy.QUEUE:
            if policy is WhenBusy.REPLACE and active.kind.is_studio_take and kind.is_studio_take:
                self.cancel_studio_takes()
            else:
                raise EngineBusy(active, kind)
        self._next_id += 1
        job = Job(self, self._next_id, kind, fn, StepToken(self._worker.serve_light), title=title,
                  needs_model=needs_model, keep_after_cancel=keep_after_cancel)
        self._jobs[job.id] = job
        self._queue.append(job)
        self._changed()
        self._dispatch()
        return job

    def generate(self, request: SynthesisRequest, *, stream: bool = False, quality: QualityOptions | None = None,
                 check_unknown: bool = False) -> int:
        """Queue a studio take (replacing the active one); returns its job id. Raises EngineBusy while
        other work holds the engine. ``stream``: hand the audio out as it is generated (``job_chunk``).
        ``quality``: run the best-of loop and check the takes (``job_candidate`` for each; the job's
        result is then the :class:`~valle_studio.engine.quality.best_of.Candidates`, not one result);
        a streamed take is checked once it has ended. ``check_unknown``: when the text would send
        ``<unk>`` to the model, generate nothing and finish with
        :class:`~valle_studio.app.jobs.kinds.UnknownSymbolsFound` instead."""
        kind = JobKind.STREAM if stream else JobKind.TAKE
        if quality is not None:
            make = kinds.checked_stream if stream else kinds.checked_take
            fn = make(request, quality, check_unknown=check_unknown)
        else:
            fn = (kinds.stream if stream else kinds.take)(request, check_unknown=check_unknown)
        return self.submit(kind, fn).id

    def transcribe(self, source: PromptSource, language: str, *, when_busy: WhenBusy | None = None) -> Job:
        """Queue speech-to-phonemes of one clip; the job finishes with the IPA ``str``."""
        return self.submit(JobKind.TRANSCRIBE, kinds.transcribe(source, language), when_busy=when_busy)

    def call(self, fn: JobFunction, *, title: str, when_busy: WhenBusy | None = None,
             keep_after_cancel: bool = False) -> Job:
        """Queue any function that needs the synthesizer (``fn(context)`` on the engine thread)."""
        return self.submit(JobKind.CALL, fn, title=title, when_busy=when_busy, keep_after_cancel=keep_after_cancel)

    def phonemize(self, text: str, language: str, split: str, lexicon: Lexicon | None = None) -> None:
        """Ask for the pieces the model would get (with ``lexicon`` applied); answered by ``phonemes_ready``
        (latest only) with ``list[Piece]`` or a ``str`` saying why there are none."""
        self.start()
        self._phoneme_request += 1
        self._inbox.put(self._phoneme_request, kinds.phonemize(text, language, split, lexicon))
        self._do_serve_light.emit()

    def cancel(self, job_id: int | None = None) -> None:
        """Cancel one job, or (no id) the active studio take: it stops within one model step."""
        if job_id is None:
            self.cancel_studio_takes()
            return
        job = self._jobs.get(job_id)
        if job is None or job.cancel_requested:
            return
        job.token.cancel()
        if not job.running and job in self._queue:  # never started: it ends here and now
            self._queue.remove(job)
            self._end(job, CANCELLED, None)
        elif not job.keep_after_cancel:
            self._answer(job, CANCELLED, None)  # the UI hears at once; job_stopped follows
        self._changed()

    def cancel_studio_takes(self) -> None:
        for job in [j for j in self._jobs.values() if j.kind.is_studio_take and not j.cancel_requested]:
            self.cancel(job.id)

    def cancel_all(self) -> list[Job]:
        """Cancel every job not cancelled yet; returns them."""
        self._inbox.clear()
        jobs = [j for j in self._jobs.values() if not j.cancel_requested]
        for job in jobs:
            self.cancel(job.id)
        return jobs

    # -- models --------------------------------------------------------------------------------
    def load(self, spec: LoadSpec, *, wait: bool = False) -> None:
        """Load a model on the engine thread; answers with ``model_loaded`` or ``model_load_failed``.

        Active jobs are cancelled first (``notice`` says which), or with ``wait`` the model changes
        once they have finished. The old model is dropped before the new one loads.
        """
        self.start()
        if wait:
            waiting = [j for j in self._jobs.values() if not j.cancel_requested]
            if waiting:
                self.notice.emit(f"The model changes to {spec.model} once {waiting[0].info.label} has finished.")
        else:
            stopped = self.cancel_all()
            if stopped:
                what = ", ".join(dict.fromkeys(job.info.label for job in stopped))
                self.notice.emit(f"Stopped {what} to change the model to {spec.model}.")
        self._queue = deque(item for item in self._queue if not isinstance(item, LoadSpec))  # newest only
        self.info, self.spec, self._loading = None, None, spec
        self._queue.append(spec)
        self.model_loading.emit(spec)
        self._changed()
        self._dispatch()

    # -- the queue -----------------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Hand the next item to the engine thread when it has nothing."""
        if self._running is not None or not self._queue or self._closed:
            return
        item = self._queue.popleft()
        self._running = item
        if isinstance(item, LoadSpec):
            self._do_load.emit(item)
        else:
            item.running = True
            self._do_run.emit(item.work)
        self._changed()

    def _changed(self) -> None:
        state = self.state
        if state != self._last_state:
            self._last_state = state
            self.state_changed.emit(state)

    def _answer(self, job: Job, outcome: str, payload: Any) -> None:
        """The job's one answer: finished, failed or cancelled (on the job and here)."""
        if job.answered:
            return
        job.answered = True
        if outcome == FINISHED:
            job.finished.emit(payload)
            self.job_finished.emit(job.id, payload)
        elif outcome == FAILED:
            job.failed.emit(str(payload))
            self.job_failed.emit(job.id, str(payload))
        else:
            job.cancelled.emit()
            self.job_cancelled.emit(job.id)

    def _end(self, job: Job, outcome: str, payload: Any) -> None:
        """The engine thread is done with ``job``: its answer (unless given already), then ``stopped``."""
        self._jobs.pop(job.id, None)
        job.running, job.done = False, True
        if self._running is job:
            self._running = None
        self._changed()
        self.job_stopped.emit(job.id, outcome)
        self._answer(job, outcome, payload)
        job.stopped.emit(outcome)

    # -- answers from the worker ---------------------------------------------------------------
    @Slot(list)
    def _on_devices(self, devices: list[str]) -> None:
        self.devices = list(devices)
        self.devices_changed.emit(self.devices)

    def _load_ended(self, spec: LoadSpec) -> bool:
        """The worker is done with a load; False when a newer one was asked for meanwhile."""
        if self._running == spec:
            self._running = None
        current = spec == self._loading
        if current:
            self._loading = None
        self._changed()
        self._dispatch()
        return current

    @Slot(object, object)
    def _on_loaded(self, spec: LoadSpec, info: ModelInfoProtocol | None) -> None:
        if self._load_ended(spec):
            self.spec, self.info = spec, info
            self.model_loaded.emit(spec, info)

    @Slot(object, str)
    def _on_load_failed(self, spec: LoadSpec, message: str) -> None:
        if self._load_ended(spec):
            self.model_load_failed.emit(spec, message)

    @Slot(int)
    def _on_started(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.forwards:
            job.started.emit()

    @Slot(int, object)
    def _on_progress(self, job_id: int, progress: Any) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.forwards:
            job.progress.emit(progress)
            self.job_progress.emit(job_id, progress)

    @Slot(int, object)
    def _on_partial(self, job_id: int, item: Any) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.forwards:
            job.partial.emit(item)
            if job.kind is JobKind.STREAM:
                self.job_chunk.emit(job_id, item)
            elif job.kind is JobKind.TAKE:
                self.job_candidate.emit(job_id, item)

    @Slot(int, str, object)
    def _on_ended(self, job_id: int, outcome: str, payload: Any) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            return
        self._end(job, outcome, payload)
        self._dispatch()

    @Slot(int, object)
    def _on_light_done(self, request_id: int, answer: Any) -> None:
        if request_id == self._phoneme_request:
            self.phonemes_ready.emit(answer)


__all__ = ["DEFAULT_WHEN_BUSY", "EngineController"]
