"""Token choosers that replace the plain categorical draw: mirostat v2 and repetition-aware sampling.

Both act after every logit processor, where upstream's ``Base.sample`` picks the token. They are for
one sequence decoded step by step (the AR level-0 loop), so they take logits of one row.

**Mirostat v2** (Basu et al., 2021, "Mirostat: a neural text decoding algorithm that directly controls
perplexity", algorithm 2): keep a surprise bound ``mu`` (start ``2 * tau``); drop every token whose
surprise ``-log2 p`` exceeds ``mu`` (the most likely one always stays), renormalise, draw, then move
``mu`` by ``eta`` times the error between the drawn token's surprise (under the truncated distribution)
and the target ``tau``. The average surprise of the output so settles at ``tau`` bits. Upstream
initialises its bound to ``2 * eta`` instead (ecker-vall-e.md §3.7); this follows the paper.

**Repetition-aware sampling** (Chen et al., 2024, "VALL-E 2", §3.3 algorithm 1): the token is first
chosen as usual (nucleus or greedy, whatever the processors left); then the repetition ratio of that
token in the last ``window`` tokens of the history is ``count / window``. Only when the ratio exceeds
``threshold`` is the token replaced by a random draw from the *original* distribution: the logits after
the repetition and length penalties, before any truncating filter (min-p, top-k, top-p, top-nσ) or
DRY, at the sampling temperature (temperature 1 when the first choice was greedy). A short history
counts against the full window, as in the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ._checks import check_int, check_number

_LOG2 = math.log(2.0)


@dataclass
class MirostatState:
    """The running surprise bound of one sequence (``mu``, in bits) and the target it steers to."""

    tau: float
    eta: float
    mu: float

    @classmethod
    def start(cls, tau: float, eta: float) -> MirostatState:
        """A fresh state: ``mu = 2 * tau`` (the paper's start)."""
        check_number("MirostatState.tau", tau, low=0.0, low_inclusive=False)
        check_number("MirostatState.eta", eta, low=0.0, low_inclusive=False)
        return cls(tau=float(tau), eta=float(eta), mu=2.0 * float(tau))


@dataclass(frozen=True)
class MirostatPick:
    """One mirostat step: the token, its surprise under the truncated distribution, the bound used."""

    token: int
    surprise: float
    mu_before: float
    kept: int  # tokens left after the truncation


def mirostat_v2(logits: Tensor, state: MirostatState, generator: torch.Generator | None = None) -> MirostatPick:
    """Choose one token from ``logits`` ``[1, classes]`` (already temperature-scaled) and update ``state``."""
    if logits.dim() != 2 or logits.shape[0] != 1:
        raise ValueError(f"mirostat samples one sequence at a time: logits must be [1, classes], "
                         f"got {tuple(logits.shape)}")
    probs = torch.softmax(logits[0].double(), dim=-1)
    surprise = -torch.log(probs) / _LOG2  # bits
    keep = surprise <= state.mu
    keep[int(probs.argmax())] = True  # the most likely token always stays
    truncated = torch.where(keep, probs, torch.zeros_like(probs))
    truncated = truncated / truncated.sum()
    token = int(torch.multinomial(truncated.float(), 1, generator=generator))
    observed = -math.log(float(truncated[token])) / _LOG2
    mu_before = state.mu
    state.mu = state.mu - state.eta * (observed - state.tau)
    return MirostatPick(token, observed, mu_before, int(keep.sum()))


@dataclass(frozen=True)
class RepetitionAware:
    """VALL-E 2's repetition-aware sampling (see the module docstring): ``window`` >= 1 tokens,
    ``threshold`` in [0, 1]."""

    window: int
    threshold: float

    def __post_init__(self) -> None:
        check_int("RepetitionAware.window", self.window, low=1)
        check_number("RepetitionAware.threshold", self.threshold, low=0.0, high=1.0)

    def ratio(self, token: int, history: Tensor | None) -> float:
        """How often ``token`` occurs in the last ``window`` history tokens, divided by ``window``."""
        if history is None or history.numel() == 0:
            return 0.0
        recent = history[-self.window:]
        return int((recent == token).sum()) / self.window

    def resamples(self, token: int, history: Tensor | None) -> bool:
        """True exactly when the repetition ratio of ``token`` exceeds the threshold."""
        return self.ratio(token, history) > self.threshold

    def choose(self, first: Tensor, history: Tensor | None, original: Tensor, temperature: float,
               generator: torch.Generator | None = None) -> Tensor:
        """``first``: [rows] the tokens chosen as usual; ``original``: [rows, classes] the unfiltered
        logits. Returns [rows] int64, each row redrawn from ``original`` only where it repeats too much."""
        out = first.clone()
        scale = temperature if temperature > 0.0 else 1.0
        for row in range(first.shape[0]):
            if self.resamples(int(first[row]), history):
                probs = torch.softmax(original[row].float() / scale, dim=-1)
                out[row] = torch.multinomial(probs, 1, generator=generator)[0]
        return out


__all__ = ["MirostatPick", "MirostatState", "RepetitionAware", "mirostat_v2"]
