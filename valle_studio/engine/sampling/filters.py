"""Filters that set unwanted logits to ``-inf``: min-p, top-k, top-p and top-nσ.

In-place behaviour mirrors upstream, because NAR-len's second (greedy) call sees what the first left
behind: top-k and top-p edit ``logits`` in place; min-p and top-nσ return a new tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ._checks import check_int, check_number

MIN_P_KEEP = 32  # min-p always keeps this many of the highest logits (upstream's min_tokens_to_keep)


@dataclass(frozen=True)
class MinP:
    """Drop tokens whose probability is below ``min_p * max probability``; the 32 best always stay.

    Returns a new tensor (upstream uses an out-of-place masked fill).
    """

    min_p: float
    min_keep: int = MIN_P_KEEP

    def __post_init__(self) -> None:
        check_number("MinP.min_p", self.min_p, low=0.0, high=1.0, low_inclusive=False)
        check_int("MinP.min_keep", self.min_keep, low=1)

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float -> new [rows, classes] tensor."""
        probs = torch.softmax(logits, dim=-1)
        drop = probs < self.min_p * probs.amax(dim=-1, keepdim=True)
        best = torch.topk(logits, min(self.min_keep, logits.shape[-1]), dim=-1).indices
        drop.scatter_(-1, best, False)
        return logits.masked_fill(drop, float("-inf"))


@dataclass(frozen=True)
class TopK:
    """Keep logits >= the k-th largest of their row; edits ``logits`` in place."""

    k: int

    def __post_init__(self) -> None:
        check_int("TopK.k", self.k, low=1)

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float, edited in place."""
        if self.k >= logits.shape[-1]:
            return logits
        kth = torch.topk(logits, self.k, dim=-1).values[:, -1:]
        return logits.masked_fill_(logits < kth, float("-inf"))


@dataclass(frozen=True)
class TopP:
    """Nucleus filter; edits ``logits`` in place.

    Sorted best first, a token is dropped when the cumulative probability *before* it already exceeds
    p, so the token that crosses the line is kept, and so is the best token. p = 1 is a no-op.
    """

    p: float

    def __post_init__(self) -> None:
        check_number("TopP.p", self.p, low=0.0, high=1.0)

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float, edited in place."""
        if self.p >= 1.0:
            return logits
        ordered, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
        drop_sorted = torch.zeros_like(cumulative, dtype=torch.bool)
        drop_sorted[:, 1:] = cumulative[:, :-1] > self.p  # shifted right: keep the first one over p
        drop = torch.zeros_like(drop_sorted).scatter_(-1, order, drop_sorted)
        return logits.masked_fill_(drop, float("-inf"))


@dataclass(frozen=True)
class TopNSigma:
    """Keep logits >= ``max - n * std`` of their row; returns a new tensor.

    Deviation from upstream: the (unbiased) std is taken over the row's *finite* logits only. Upstream
    takes it over the whole row, so after top-k/top-p/min-p (which leave ``-inf``) its std is NaN and
    every logit becomes ``-inf``. Rows with no ``-inf`` use ``Tensor.std`` directly, so they match
    upstream exactly. A row with a single finite logit has no std; it keeps that logit (std taken as 0).
    """

    n: float = 1.0

    def __post_init__(self) -> None:
        check_number("TopNSigma.n", self.n, low=0.0, low_inclusive=False)

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float -> new [rows, classes] tensor."""
        finite = torch.isfinite(logits)
        all_finite = finite.all(dim=-1, keepdim=True)
        std = torch.where(all_finite, logits.std(dim=-1, keepdim=True), _finite_std(logits))
        threshold = logits.amax(dim=-1, keepdim=True) - self.n * std
        return logits.masked_fill(~(logits >= threshold), float("-inf"))


def _finite_std(logits: Tensor) -> Tensor:
    """Unbiased std over each row's finite entries: [rows, classes] -> [rows, 1] (0 when fewer than 2)."""
    finite = torch.isfinite(logits)
    count = finite.sum(dim=-1, keepdim=True)
    values = torch.where(finite, logits, torch.zeros_like(logits))
    mean = values.sum(dim=-1, keepdim=True) / count.clamp(min=1)
    squares = torch.where(finite, (logits - mean) ** 2, torch.zeros_like(logits)).sum(dim=-1, keepdim=True)
    std = (squares / (count - 1).clamp(min=1)).sqrt()
    return torch.where(count >= 2, std, torch.zeros_like(std))
