"""Best-of-N and retry: generate candidates, check each, keep the best; the one loop for CLI, GUI and batch.

:func:`run_best_of` generates ``options.best_of`` candidates, scores each
(:meth:`Synthesizer.check <valle_studio.engine.synthesizer.Synthesizer.check>`), and then, while the best
so far is not good, up to ``options.retry_bad`` more, one at a time. Every candidate is handed to
``on_candidate`` as soon as it is checked (the studio puts it in the history, batch among the row's
takes), and :class:`Candidates` says which one was chosen: the highest score, the earliest on a tie.

Seeds: candidate 0 uses the request's seed (a fresh one is drawn when it has none), so a run of one
candidate is exactly the take it always was; candidate ``i`` uses :func:`derive_seed` of that seed and
``i``, so the same request and options repeat the same candidates. Progress events carry
``take i/N`` (or ``retry r/K``) in their detail, and ``cancel`` is honoured between every model step of
the whole loop. A candidate for which the model said nothing at all
(:class:`~valle_studio.engine.pipeline.NothingGenerated`) is simply not kept while other candidates
remain to be tried.

The reference clips (a blend's voices each) are encoded once for the whole loop. No torch at import (the
app imports this on its UI thread).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from valle_studio.core.clip import Clip
from valle_studio.engine.progress import CancelToken, Progress, ProgressCallback
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.quality.verdict import TakeQuality, best_index
from valle_studio.engine.requests import PromptSource, SynthesisRequest, SynthesisResult

#: Seeds drawn and derived here stay below 2^31, like the ones the synthesizer draws: short to read.
SEED_SPACE = 2**31


class BestOfSynthesizer(Protocol):
    """What the loop uses of a synthesizer."""

    def encode_prompts(self, sources: Sequence[PromptSource], length_frames: int = 0) -> np.ndarray | None: ...

    def synthesize(self, request: SynthesisRequest, *, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None, decode: bool = True) -> SynthesisResult: ...

    def check(self, request: SynthesisRequest, result: SynthesisResult, *, progress: ProgressCallback | None = None,
              cancel: CancelToken | None = None) -> TakeQuality: ...


@dataclass(frozen=True)
class Candidate:
    """One generated candidate: its place in the loop, its seed, the take and its verdict (None: not
    checked). ``retry``: made because the best of the first ones was not good."""

    index: int
    seed: int
    result: SynthesisResult
    quality: TakeQuality | None
    retry: bool = False

    @property
    def frames(self) -> int:
        return len(self.result.codes)


@dataclass(frozen=True)
class Candidates:
    """Every candidate of one request, in the order made, and the index of the chosen one."""

    takes: tuple[Candidate, ...]
    chosen: int
    base_seed: int

    @property
    def best(self) -> Candidate:
        return self.takes[self.chosen]

    @property
    def checked(self) -> bool:
        return all(c.quality is not None for c in self.takes)


def derive_seed(base: int, index: int) -> int:
    """The seed of candidate ``index``: ``base`` itself for the first, else a hash of both (below 2^31)."""
    if index == 0:
        return int(base)
    digest = hashlib.sha256(f"valle-studio best-of {int(base)} {int(index)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_SPACE


def candidate_tag(index: int, options: QualityOptions) -> str:
    """``"take 2/3"``, ``"retry 1/2"``, or "" for a lone take: what its progress events carry."""
    if index >= options.best_of:
        return f"retry {index - options.best_of + 1}/{options.retry_bad}"
    return f"take {index + 1}/{options.best_of}" if options.best_of > 1 else ""


_TAG = re.compile(r"\b(take|retry) (\d+)/(\d+)")


def loop_fraction(detail: str, within: float) -> float:
    """Where a candidate's own progress ``within`` (0..1) sits in the whole loop, read from the
    ``take i/N`` or ``retry r/K`` in an event's ``detail`` (a lone take: ``within`` itself). Retries
    sweep the bar again: how many will run is not known in advance."""
    match = _TAG.search(detail or "")
    if match is None:
        return within
    index, count = int(match.group(2)), int(match.group(3))
    if count < 1 or not 1 <= index <= count:
        return within
    return (index - 1 + min(1.0, max(0.0, within))) / count


def tagged(progress: ProgressCallback | None, tag: str) -> ProgressCallback | None:
    """``progress`` with ``tag`` added to every event's detail (``"sentence 1/2 · take 2/3"``)."""
    if progress is None or not tag:
        return progress

    def forward(event: Progress) -> None:
        progress(replace(event, detail=f"{event.detail} · {tag}" if event.detail else tag))

    return forward


def _encoded_once(synth: BestOfSynthesizer, request: SynthesisRequest, options: QualityOptions) -> SynthesisRequest:
    """``request`` with its clips encoded to codes once, when more than one candidate may need them (a
    blend's voices each)."""
    if options.single:
        return request
    if request.blend:
        if not any(isinstance(p, Clip) for part in request.blend for p in part.prompts):
            return request
        parts = []
        for part in request.blend:
            codes = synth.encode_prompts(part.prompts)
            parts.append(part if codes is None else replace(part, prompts=(codes,)))
        return replace(request, blend=tuple(parts))
    if not any(isinstance(p, Clip) for p in request.prompts):
        return request
    codes = synth.encode_prompts(request.prompts)
    return replace(request, prompts=() if codes is None else (codes,))


def run_best_of(synth: BestOfSynthesizer, request: SynthesisRequest, options: QualityOptions | None = None, *,
                progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                on_candidate: Callable[[Candidate], None] | None = None, decode: bool = True) -> Candidates:
    """Generate and check candidates of ``request`` (see the module docstring). Raises
    :class:`~valle_studio.engine.progress.Cancelled` when cancelled, and the synthesizer's own errors."""
    from valle_studio.engine.pipeline import NothingGenerated

    options = options or QualityOptions()
    settings = request.settings
    base = settings.seed if settings.seed is not None else secrets.randbelow(SEED_SPACE)
    generating = _encoded_once(synth, request, options)
    made: list[Candidate] = []
    nothing: NothingGenerated | None = None
    for index in range(options.most_takes):
        if index >= options.best_of and made:
            best = made[best_index([c.quality for c in made])]
            if best.quality is None or best.quality.good:
                break
        if cancel is not None:
            cancel.check()
        seed = derive_seed(base, index)
        step = tagged(progress, candidate_tag(index, options))
        try:
            result = synth.synthesize(replace(generating, settings=settings.replace(seed=seed)), progress=step,
                                      cancel=cancel, decode=decode)
        except NothingGenerated as exc:
            if options.single:
                raise
            nothing = exc  # an empty candidate: the next seed may speak
            continue
        checked = replace(request, settings=settings.replace(seed=seed))
        quality = synth.check(checked, result, progress=step, cancel=cancel) if options.check else None
        candidate = Candidate(index, seed, result, quality, retry=index >= options.best_of)
        made.append(candidate)
        if on_candidate is not None:
            on_candidate(candidate)
    if not made:
        assert nothing is not None
        raise nothing
    return Candidates(tuple(made), best_index([c.quality for c in made]), base)


__all__ = ["SEED_SPACE", "BestOfSynthesizer", "Candidate", "Candidates", "candidate_tag", "derive_seed",
           "loop_fraction", "run_best_of", "tagged"]
