"""The batch queue: generate rows one after another, saving the project after every row (no Qt).

:class:`BatchRunner` runs on whatever thread calls :meth:`BatchRunner.run` (the CLI's main thread,
or the GUI's batch worker thread). It reports through a plain callback of :class:`BatchEvent`,
stops at the next model step when its :class:`~valle_studio.engine.progress.CancelToken` fires,
and holds still (mid-row, between model steps) while its :class:`PauseGate` is closed.

Each row is one request through the engine's best-of loop
(:func:`~valle_studio.engine.quality.best_of.run_best_of`): its candidates are checked, all of them are
kept among the row's takes and the chosen one is approved. A row that raises is marked failed with the
reason and the queue goes on; a cancelled row is left exactly as it was (pending), so nothing half-done
is ever recorded. Each voice's reference clips are checked and encoded once per run, not once per row,
by the synthesizer's own :meth:`~valle_studio.engine.synthesizer.Synthesizer.encode_prompts` (the
checks of a single take); the rows then get the codes.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from valle_studio.batch.eta import EtaEstimator, row_cost
from valle_studio.batch.project import BatchProject, ProjectError
from valle_studio.batch.quality import add_candidates
from valle_studio.batch.rows import DONE, Row, Take
from valle_studio.engine.progress import Cancelled, CancelToken, Progress, ProgressThrottle
from valle_studio.engine.quality.best_of import Candidate, Candidates, loop_fraction, run_best_of
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.quality.report import verdict_line
from valle_studio.engine.requests import BlendPart, PromptSource, SynthesisRequest
from valle_studio.engine.settings import GenerationSettings
from valle_studio.errors import describe

if TYPE_CHECKING:
    from valle_studio.engine.interfaces import SynthesizerProtocol
    from valle_studio.engine.text.lexicon import Lexicon
    from valle_studio.studio.voices import VoiceLibrary

log = logging.getLogger(__name__)

ROW_STARTED = "row_started"
ROW_PROGRESS = "row_progress"
ROW_FINISHED = "row_finished"
ROW_FAILED = "row_failed"
TAKE_CHECKED = "take_checked"  # one candidate of a row was made and checked; ``message`` is its verdict line
PAUSED = "paused"
RESUMED = "resumed"

PROGRESS_INTERVAL_S = 0.05
# Where each engine stage sits within the generation of one sentence (decoding and the quality check
# share the row's last 10 %).
_STAGE_SPANS = {"predicting length": (0.0, 0.05), "demasking": (0.05, 0.75), "generating": (0.0, 0.75),
                "refining": (0.75, 1.0)}
_END_SPANS = {"decoding": (0.9, 0.95), "checking": (0.95, 1.0)}
_SENTENCE = re.compile(r"sentence (\d+)/(\d+)")


@dataclass(frozen=True)
class BatchEvent:
    """Something happened in a run. ``index`` is the row's position in the project (0-based);
    ``done``/``total`` count this run's rows; ``fraction`` is the run's share done (by text length)."""

    kind: str
    row_id: str
    index: int
    done: int
    total: int
    fraction: float
    row_fraction: float
    eta_s: float | None
    message: str = ""  # the engine stage for progress, the reason for a failure


@dataclass(frozen=True)
class RunSummary:
    """How a run ended: rows that got a take, rows that failed (id -> reason), whether it was cancelled."""

    finished: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled


class PauseGate:
    """Pause/resume shared between the UI (or a signal handler) and the runner; thread-safe."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    def pause(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    def wait(self, cancel: CancelToken | None) -> float:
        """Block while paused; returns the seconds waited. Raises Cancelled if cancelled meanwhile."""
        if self._open.is_set():
            return 0.0
        started = time.monotonic()
        while not self._open.wait(0.05):
            if cancel is not None:
                cancel.check()
        return time.monotonic() - started


@dataclass(frozen=True)
class LineSnapshot:
    """One row as it is generated: its text, voice (the saved voice's name, "" for the project's prompt
    files), the voice's label for manifests, language and settings (seed resolved)."""

    text: str
    voice: str
    label: str
    language: str
    settings: GenerationSettings


@dataclass(frozen=True)
class VoicePrompts:
    """A row voice's prompt as the request takes it: the clips' codes, or (a blended voice) its members'."""

    prompts: tuple[PromptSource, ...] = ()
    blend: tuple[BlendPart, ...] = ()


def line_request(line: LineSnapshot, prompts: VoicePrompts, lexicon: Lexicon | None) -> SynthesisRequest:
    """The engine request of one row (the in-process runner and the cluster workers build the same one)."""
    return SynthesisRequest(text=line.text, language=line.language, prompts=prompts.prompts, blend=prompts.blend,
                            settings=line.settings, lexicon=lexicon)


def row_fraction(event: Progress) -> float:
    """Rough share of one row done, from an engine progress event (a best-of run's candidates, tagged
    ``take i/N`` in the detail, share the row)."""
    within = event.done / event.total if event.total else 0.0
    if event.stage in _END_SPANS:
        start, end = _END_SPANS[event.stage]
        return loop_fraction(event.detail, start + (end - start) * within)
    start, end = _STAGE_SPANS.get(event.stage, (0.0, 1.0))
    sentence, sentences = 0, 1
    match = _SENTENCE.search(event.detail or "")
    if match:
        sentence, sentences = int(match.group(1)) - 1, max(1, int(match.group(2)))
    return loop_fraction(event.detail, 0.9 * (sentence + start + (end - start) * within) / sentences)


AfterTake = Callable[[Row, Take], object]  # what it returns is ignored


class BatchRunner:
    """Generates rows of ``project`` with ``synthesizer`` (see the module docstring).

    ``voices``: a :class:`~valle_studio.studio.voices.VoiceLibrary` for rows that name a saved voice.
    ``after_take(row, take)`` runs after a take is recorded and before the project is saved (the CLI
    exports the row's WAV there, so the save also records the export). ``describe_error`` turns a
    row's exception into the one line recorded as its failure. ``quality``: how many candidates each row
    gets and whether they are checked (default: one, checked); every candidate is kept among the row's
    takes, the chosen one approved.
    """

    def __init__(self, project: BatchProject, synthesizer: SynthesizerProtocol, *, voices: VoiceLibrary | None = None,
                 on_event: Callable[[BatchEvent], None] | None = None, cancel: CancelToken | None = None,
                 gate: PauseGate | None = None, after_take: AfterTake | None = None,
                 describe_error: Callable[[BaseException], str] = describe,
                 quality: QualityOptions | None = None) -> None:
        self.project = project
        self.synth = synthesizer
        self.voices = voices
        self.on_event = on_event
        self.cancel = cancel or CancelToken()
        self.gate = gate or PauseGate()
        self.after_take = after_take
        self.describe_error = describe_error  # the GUI words advice for its own controls
        self.quality = quality or QualityOptions()
        self._prompt_cache: dict[str, VoicePrompts | Exception] = {}
        self._lexicons: dict[str, Lexicon | None] = {}  # voice -> the merged lexicon of its rows, read once per run

    # -- the queue --------------------------------------------------------------------------------
    def run(self, row_ids: Sequence[str]) -> RunSummary:
        """Generate one new take for each row in ``row_ids``, in order. Rows deleted meanwhile are
        skipped. Returns when the queue is done or cancelled."""
        started = time.monotonic()
        ids = [r for r in dict.fromkeys(row_ids)]
        with self.project.lock:
            costs = {r.id: row_cost(r.text) for r in self.project.rows if r.id in ids}
        eta = EtaEstimator(costs)
        finished: list[str] = []
        failed: dict[str, str] = {}
        cancelled = False
        for count, row_id in enumerate(ids):
            try:
                self._wait_if_paused(row_id, count, len(ids), eta)
                self.cancel.check()
            except Cancelled:
                cancelled = True
                break
            if row_id not in costs:
                continue
            try:
                index = self.project.index_of(row_id)
            except ProjectError:  # deleted while queued
                continue
            self._emit(ROW_STARTED, row_id, index, count, len(ids), eta, 0.0)
            row_started = time.monotonic()
            paused = [0.0]
            try:
                self._generate(row_id, index, count, len(ids), eta, paused)
            except Cancelled:
                cancelled = True
                break
            except Exception as exc:
                message = self.describe_error(exc)
                log.warning("batch row %d failed: %s", index + 1, message, exc_info=True)
                self.project.mark_failed(row_id, message)
                self.project.save()
                failed[row_id] = message
                eta.finished(row_id, time.monotonic() - row_started - paused[0])
                self._emit(ROW_FAILED, row_id, index, count + 1, len(ids), eta, 1.0, message)
                continue
            finished.append(row_id)
            eta.finished(row_id, time.monotonic() - row_started - paused[0])
            self._emit(ROW_FINISHED, row_id, index, count + 1, len(ids), eta, 1.0)
        return RunSummary(tuple(finished), failed, cancelled, time.monotonic() - started)

    def _wait_if_paused(self, row_id: str, count: int, total: int, eta: EtaEstimator) -> float:
        if not self.gate.paused:
            return 0.0
        self._emit(PAUSED, row_id, -1, count, total, eta, 0.0)
        waited = self.gate.wait(self.cancel)
        self._emit(RESUMED, row_id, -1, count, total, eta, 0.0)
        return waited

    # -- one row ----------------------------------------------------------------------------------
    def _generate(self, row_id: str, index: int, count: int, total: int, eta: EtaEstimator,
                  paused: list[float]) -> None:
        line = self._snapshot(row_id)
        prompts = self._prompts(line.voice)
        shown = [0.0]  # the row's share done, as last reported

        def show(event: Progress) -> None:
            shown[0] = max(shown[0], row_fraction(event))
            self._emit(ROW_PROGRESS, row_id, index, count, total, eta, shown[0], event.text)

        throttled = ProgressThrottle(show, PROGRESS_INTERVAL_S)

        def on_progress(event: Progress) -> None:
            if self.gate.paused:
                self._emit(PAUSED, row_id, index, count, total, eta, shown[0])
                paused[0] += self.gate.wait(self.cancel)
                self._emit(RESUMED, row_id, index, count, total, eta, shown[0])
            throttled(event)

        def on_candidate(candidate: Candidate) -> None:
            self._emit(TAKE_CHECKED, row_id, index, count, total, eta, shown[0],
                       verdict_line(candidate, self.quality.best_of))

        request = line_request(line, prompts, self._lexicon(line.voice))
        candidates = run_best_of(self.synth, request, self.quality, progress=on_progress, cancel=self.cancel,
                                 on_candidate=on_candidate)
        # Every candidate is stored only now: a row cancelled halfway is left exactly as it was.
        self._record(row_id, line, candidates)

    def _snapshot(self, row_id: str) -> LineSnapshot:
        """What row ``row_id`` is generated from, read in one go (the UI may edit the row meanwhile)."""
        project = self.project
        with project.lock:
            row = project.row(row_id)
            settings = project.settings_for(row)
            pinned = row.seed if row.seed is not None else settings.seed
            # A row that is already done asks for another take: a pinned seed would only repeat it.
            settings = settings.replace(seed=None if project.status(row) == DONE else pinned)
            return LineSnapshot(row.text, project.voice_for(row), project.voice_label(row),
                                project.language_for(row), settings)

    def _record(self, row_id: str, line: LineSnapshot, candidates: Candidates) -> None:
        """Store a row's candidates as its takes, run ``after_take`` and save (the one writer's part)."""
        project = self.project
        take = add_candidates(project, row_id, candidates, settings=line.settings, text=line.text, voice=line.label,
                              language=line.language, model=self._model_name())
        try:
            if self.after_take is not None:
                self.after_take(project.row(row_id), take)
        finally:
            project.save()  # the take is durable even when the export after it failed

    def _lexicon(self, voice: str) -> Lexicon | None:
        """Global, voice and project lexicons merged (studio/lexicons.py), once per voice and run; a bad
        lexicon fails the row with the message naming the entry."""
        if voice not in self._lexicons:
            from valle_studio.studio.lexicons import combined

            saved = self.voices.get(voice) if voice and self.voices is not None else None
            self._lexicons[voice] = combined(voice=saved, project_folder=self.project.folder)
        return self._lexicons[voice]

    def _model_name(self) -> str:
        info = getattr(self.synth, "info", None)
        return str(getattr(info, "name", "") or self.project.model)

    def _prompts(self, voice: str) -> VoicePrompts:
        """The voice's reference clips as one ``[T, 8]`` code matrix (or none), encoded once per run, as
        the request's ``prompts``; a blended voice's members each so, as its ``blend``."""
        cached = self._prompt_cache.get(voice)
        if isinstance(cached, Exception):
            raise cached
        if cached is not None:
            return cached
        try:
            codes = self._encode_prompts(voice)
        except Exception as exc:
            self._prompt_cache[voice] = exc
            raise
        self._prompt_cache[voice] = codes
        return codes

    def _encode_prompts(self, voice: str) -> VoicePrompts:
        """The voice's clips (a saved voice's, or the project's prompt files) read, then checked and
        encoded by the synthesizer: the concatenated codes, which every row repeats/trims to its own
        prompt length as a single take would. A blend's members are encoded one by one."""
        from valle_studio.audio.prompts import read_prompt_files

        if voice:
            if self.voices is None:
                raise ProjectError(f"the row needs the saved voice '{voice}', but no voice library is open")
            saved = self.voices.get(voice)
            if saved.is_blend:
                return VoicePrompts(blend=tuple(BlendPart((self._encode_one(part.prompts, voice),), part.weight,
                                                          part.name) for part in saved.blend_parts()))
            sources: list[PromptSource] = list(saved.prompts())
        else:
            sources = read_prompt_files(self.project.prompt_files)
        codes = self.synth.encode_prompts(sources) if sources else None
        return VoicePrompts(prompts=() if codes is None else (codes,))

    def _encode_one(self, sources: Sequence[PromptSource], blend: str) -> np.ndarray:
        """One member of a blend, encoded (a member always has clips: the library refuses one without)."""
        codes = self.synth.encode_prompts(sources)
        if codes is None:
            raise ProjectError(f"a voice in the blend '{blend}' has no reference clips")
        return codes

    def _emit(self, kind: str, row_id: str, index: int, done: int, total: int, eta: EtaEstimator,
              fraction: float, message: str = "") -> None:
        if self.on_event is None:
            return
        current = row_id if kind in (ROW_STARTED, ROW_PROGRESS, PAUSED, RESUMED, TAKE_CHECKED) else None
        self.on_event(BatchEvent(kind, row_id, index, done, total, eta.fraction(current, fraction), fraction,
                                 eta.seconds_left(current, fraction), message))


__all__ = ["PAUSED", "RESUMED", "ROW_FAILED", "ROW_FINISHED", "ROW_PROGRESS", "ROW_STARTED", "TAKE_CHECKED",
           "BatchEvent", "BatchRunner", "LineSnapshot", "PauseGate", "RunSummary", "VoicePrompts", "line_request",
           "row_fraction"]
