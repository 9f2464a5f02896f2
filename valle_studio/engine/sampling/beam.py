"""Deterministic, length-normalised beam search over any next-token function.

Each hypothesis is scored by the sum of the log-probabilities of its tokens (after the sampler's
processors: penalties with the hypothesis's own history, filters, temperature, DRY) divided by its
length, the stop token included. At every step each of the ``width`` live hypotheses is extended by
every class; the candidates are ranked by their summed score, ties broken by the lower (beam, token)
index (a stable sort), so two runs give the same result. A candidate that ends in the stop token is set
aside as finished; the best ``width`` others go on. The search ends when ``max_steps`` tokens are
reached, when no hypothesis can go on, or (``early_stopping``) when ``width`` hypotheses have finished
and the best live one already scores below the ``width``-th finished one, the usual stopping rule of
beam search with a length penalty (Hugging Face's default); with ``early_stopping=False`` every
hypothesis runs to the cap, which is the exhaustive search when ``width`` covers every sequence.
The result is the finished hypothesis with the best normalised score, or the best live one at the cap
when none finished.

Upstream's AR "beam search" keeps the first of its beams at the end without comparing scores
(ecker-vall-e.md §3.5); this is a real one.

The model side stays outside: ``step(parents, tokens)`` must reorder whatever state it keeps per
hypothesis (a KV cache) to ``parents`` and append ``tokens``, and return the next logits of every
hypothesis kept (:mod:`valle_studio.engine.generation.beam` does this for the AR loop).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ._checks import check_int
from .config import SamplerConfig
from .pipeline import LogitsProcessor, build_processors

#: ``step(parents [W] int64, tokens [W] int64) -> logits [W, classes]``.
StepFunction = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class BeamResult:
    """The best hypothesis: its tokens (stop token excluded), normalised score, and whether it ended
    with the stop token (False: it reached ``max_steps``)."""

    tokens: list[int]
    score: float
    finished: bool
    steps: int


@dataclass(frozen=True)
class _Hypothesis:
    tokens: tuple[int, ...]
    logp: float  # summed log-probability

    def normalised(self, extra: int = 0) -> float:
        length = len(self.tokens) + extra
        return self.logp / length if length else 0.0


def beam_search(
    first_logits: Tensor,
    step: StepFunction,
    *,
    width: int,
    max_steps: int,
    stop_token: int,
    sampler: SamplerConfig,
    prefix: Sequence[int] = (),
    early_stopping: bool = True,
    on_step: Callable[[int], None] | None = None,
) -> BeamResult:
    """Search from ``first_logits`` ``[1, classes]`` (the next-token logits of the empty hypothesis).

    ``prefix``: tokens before the search (rolling context): they are part of every hypothesis's
    history for the penalties, not of its score or result. ``on_step(i)`` is called before each step
    (progress, cancellation).
    """
    check_int("beam_search width", width, low=1)
    check_int("beam_search max_steps", max_steps, low=1)
    if first_logits.dim() != 2 or first_logits.shape[0] != 1:
        raise ValueError(f"first_logits must be [1, classes], got {tuple(first_logits.shape)}")
    processors = build_processors(sampler, stop_token=stop_token)
    live = [_Hypothesis((), 0.0)]
    logits = first_logits
    finished: list[_Hypothesis] = []  # ending with the stop token (included in tokens)
    device = first_logits.device
    steps = 0
    for steps in range(1, max_steps + 1):
        if on_step is not None:
            on_step(steps - 1)
        logp = _log_probs(logits, live, processors, prefix, device)  # [W, C]
        classes = logp.shape[-1]
        totals = logp + torch.tensor([h.logp for h in live], dtype=torch.float64, device=device)[:, None]
        order = torch.sort(totals.flatten(), descending=True, stable=True)
        kept: list[tuple[int, int, float]] = []  # (parent, token, summed logp)
        for value, flat in zip(order.values.tolist(), order.indices.tolist(), strict=True):
            if value == float("-inf"):
                break
            parent, token = divmod(flat, classes)
            if token == stop_token:
                finished.append(_Hypothesis((*live[parent].tokens, token), value))
            else:
                kept.append((parent, token, value))
                if len(kept) == width:
                    break
        if not kept or steps == max_steps:
            live = [_Hypothesis((*live[p].tokens, t), v) for p, t, v in kept]
            break
        live = [_Hypothesis((*live[p].tokens, t), v) for p, t, v in kept]
        if early_stopping and len(finished) >= width:
            ranked = sorted((h.normalised() for h in finished), reverse=True)
            if max(h.normalised() for h in live) < ranked[width - 1]:
                break
        parents = torch.tensor([p for p, _, _ in kept], dtype=torch.long, device=device)
        tokens = torch.tensor([t for _, t, _ in kept], dtype=torch.long, device=device)
        logits = step(parents, tokens)
    return _best(finished, live, stop_token, steps)


def _log_probs(logits: Tensor, live: list[_Hypothesis], processors: list[LogitsProcessor], prefix: Sequence[int],
               device: torch.device) -> Tensor:
    """Each hypothesis's row through the processors with its own history, as float64 log-probabilities."""
    rows = []
    for row, hypothesis in enumerate(live):
        row_logits = logits[row : row + 1].clone()
        history = torch.tensor([*prefix, *hypothesis.tokens], dtype=torch.long, device=device)
        for processor in processors:
            row_logits = processor(row_logits, history)
        rows.append(torch.log_softmax(row_logits.double(), dim=-1))
    return torch.cat(rows)


def _best(finished: list[_Hypothesis], live: list[_Hypothesis], stop_token: int, steps: int) -> BeamResult:
    """The best normalised score; among equals the one found first (deterministic)."""
    pool = finished or live
    _, best = max(enumerate(pool), key=lambda item: (item[1].normalised(), -item[0]))
    tokens = list(best.tokens[:-1]) if finished else list(best.tokens)
    return BeamResult(tokens, best.normalised(), bool(finished), steps)


__all__ = ["BeamResult", "StepFunction", "beam_search"]
