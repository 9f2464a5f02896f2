"""Checked studio takes into the History: each candidate as it arrives, the chosen one marked at the end.

A Generate runs the engine's best-of loop (:func:`~valle_studio.engine.quality.best_of.run_best_of`).
:class:`TakeKeeper` stores every checked candidate in the History the moment the engine thread hands it
over (``EngineController.job_candidate``), so a run stopped after two of five takes keeps those two;
when the run ends, :meth:`TakeKeeper.finish` marks the chosen take in its record and returns it for the
window to show. :func:`take_message` is what the status bar then says: "Take ready" only for a good
take, otherwise what is wrong with it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from valle_studio.app.widgets.history_panel import HistoryModel
from valle_studio.app.widgets.verdict_badge import word
from valle_studio.engine.quality.best_of import Candidate, Candidates
from valle_studio.engine.quality.report import QUALITY_KEY, take_record
from valle_studio.engine.quality.verdict import NOT_CHECKED
from valle_studio.engine.requests import SynthesisRequest
from valle_studio.studio.history import History, Take


@dataclass
class _Run:
    request: SynthesisRequest
    voice: str
    model: str
    group: str
    kept: dict[int, Take]


class TakeKeeper:
    """See the module docstring. One per window; runs are keyed by their job id."""

    def __init__(self, history: History, model: HistoryModel) -> None:
        self.history = history
        self.model = model
        self._runs: dict[int, _Run] = {}

    def start(self, job: int, request: SynthesisRequest, *, voice: str, model: str) -> None:
        """A Generate was submitted: remember what it asked for (the voice and model as they are now)."""
        self._runs[job] = _Run(request, voice, model, secrets.token_hex(4), {})

    def keep(self, job: int, candidate: Candidate) -> Take | None:
        """Store one checked candidate of ``job`` in the History (None: not a run of this window).
        Raises :class:`~valle_studio.studio.history.HistoryError` when it cannot be written."""
        run = self._runs.get(job)
        if run is None or candidate.index in run.kept:
            return None
        take = self.history.add(candidate.result, text=run.request.text, voice=run.voice,
                                language=run.request.language, model=run.model, settings=run.request.settings,
                                extra={QUALITY_KEY: take_record(candidate, run.group)})
        run.kept[candidate.index] = take
        self.model.add(take)
        return take

    def finish(self, job: int, candidates: Candidates) -> Take:
        """The run is over: keep what did not arrive yet (a streamed take), mark the chosen take, return it."""
        for candidate in candidates.takes:
            self.keep(job, candidate)
        run = self._runs.pop(job)
        chosen = run.kept[candidates.best.index]
        record = dict(chosen.extra.get(QUALITY_KEY) or {})
        record["chosen"] = True
        chosen = self.history.set_extra(chosen.id, **{QUALITY_KEY: record})
        self.model.replace(chosen)
        return chosen

    def forget(self, job: int) -> None:
        """The run was stopped or failed: the candidates already kept stay in the History."""
        self._runs.pop(job, None)


def take_message(candidates: Candidates) -> str:
    """The status bar's words for a finished Generate: "Take ready" only when the chosen take is good."""
    best = candidates.best
    result, quality = best.result, best.quality
    made = len(candidates.takes)
    timing = f"{result.duration_s:.1f} s of speech in {result.elapsed_s:.1f} s (RTF {result.real_time_factor:.2f})"
    choice = f", the best of {made} takes" if made > 1 else ""
    if quality is None:
        return f"Take finished, not checked: {timing}"
    if quality.good:
        return f"Take ready: {timing}{choice}"
    problems = [r for r in quality.reasons if not r.startswith(NOT_CHECKED)]
    what = f": {problems[0]}" if problems else ""
    return (f"{word(quality)} take{choice}{what}. Listen before you use it, or generate again with another seed "
            "or a higher Best of.")


__all__ = ["TakeKeeper", "take_message"]
