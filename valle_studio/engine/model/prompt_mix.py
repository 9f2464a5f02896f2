"""Voice blending: several reference prompts mixed into one prompt segment, weighted (experimental).

Where the mix happens: in the model's input embeddings, at the prompt segment (:func:`assemble`). Each
voice's prompt codes ``[P, K]`` (all of one length P) are embedded exactly as a single prompt is, through
``proms_emb`` summed over the levels the pass needs (HEAD's rule: levels ``0..max(L-1, 0)`` for target
level L), and the voices' embeddings are added with their weights (which sum to 1)::

    prom_e[p] = sum_v  w_v * sum_l proms_emb[l](codes_v[p, l])          p = 0 .. P-1

Everything else is the single-prompt layout: one segment of P positions, then the sep; the
unconditional (CFG) input has no prompt at all, so it is unchanged. With one voice at weight 1 the
embedding is the plain prompt's, bit for bit. Because the sums are linear, mixing the per-level
embeddings is the same as mixing the summed ones; the mix is done per pass because each pass (AR, len,
NAR level L, NAR-len) sums its own levels.

What was tried, and why this one: (1) concatenating the voices' clips is what a voice of several
clips already does; the model then copies one speaker or switches between them within a take, which is
not a blend. (2) Mixing the *codes* (choosing each frame's code from one voice or the other) gives a
prompt that is neither voice. (3) Mixing at the embedding, position by position, keeps one prompt of
the usual length and structure and moves it continuously from one voice to the other with the weights;
it is the only one of the three that is a blend at all, so it is what is built. The voices are aligned
frame by frame even though they say different things; that is why this is marked experimental. Whether
it sounds like a voice in between could not be judged here (no published weights or listening on this
machine: the tests prove the arithmetic on tiny random models, not the sound).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class PromptMix:
    """``codes``: ``[V, P, K]`` int64 prompt codes of V voices, all P frames long; ``weights``: ``[V]``
    float, positive and summing to 1."""

    codes: Tensor
    weights: Tensor

    def __post_init__(self) -> None:
        if self.codes.dim() != 3 or self.codes.shape[0] < 1 or self.codes.shape[1] < 1:
            raise ValueError(f"a prompt mix needs codes [voices, frames, levels], got {tuple(self.codes.shape)}")
        if self.weights.shape != (self.codes.shape[0],):
            raise ValueError(f"a prompt mix needs one weight per voice: {self.codes.shape[0]} voices, "
                             f"{tuple(self.weights.shape)} weights")
        if not bool(torch.isfinite(self.weights).all()) or bool((self.weights <= 0).any()):
            raise ValueError("prompt mix weights must be positive numbers")
        if abs(float(self.weights.sum()) - 1.0) > 1e-5:
            raise ValueError(f"prompt mix weights must sum to 1, not {float(self.weights.sum()):g}")

    @classmethod
    def of(cls, codes: Sequence[Tensor], weights: Sequence[float]) -> PromptMix:
        """Voices' ``[P, K]`` codes of one length, and weights (any positive numbers: normalised here)."""
        if len(codes) != len(weights) or not codes:
            raise ValueError("a prompt mix needs one or more voices, each with a weight")
        w = torch.tensor([float(x) for x in weights], dtype=torch.float64)
        if not bool(torch.isfinite(w).all()) or bool((w <= 0).any()):
            raise ValueError(f"voice weights must be positive numbers, got {list(weights)}")
        return cls(torch.stack([torch.as_tensor(c).long() for c in codes]), (w / w.sum()).float())

    @property
    def frames(self) -> int:
        return int(self.codes.shape[1])

    @property
    def levels(self) -> int:
        return int(self.codes.shape[2])

    def to(self, device: torch.device | str) -> PromptMix:
        return PromptMix(self.codes.to(device), self.weights.to(device))


def equal_length(codes: Sequence[Tensor], frames: int = 0) -> list[Tensor]:
    """The voices' ``[T_v, K]`` codes cut to one length: ``frames`` when given (the prompt-length
    setting; each voice was already repeated/trimmed to it), else the shortest voice's, keeping each
    voice's start (as upstream's trim keeps the start of a prompt)."""
    if not codes:
        raise ValueError("no voices to blend")
    length = frames if frames > 0 else min(int(c.shape[0]) for c in codes)
    short = [i for i, c in enumerate(codes) if c.shape[0] < length]
    if short:
        raise ValueError(f"voice {short[0] + 1} of the blend has {codes[short[0]].shape[0]} frames, fewer than "
                         f"the {length} the blend needs")
    return [c[:length] for c in codes]


def embed_mix(tables: Sequence[nn.Module] | nn.ModuleList, mix: PromptMix, levels: range) -> Tensor:
    """``sum_v w_v sum_{l in levels} tables[l](codes_v[:, l])``: ``[P, dim]``."""
    out: Tensor | None = None
    for voice in range(mix.codes.shape[0]):
        embedded: Tensor | None = None
        for level in levels:
            e = tables[level](mix.codes[voice, :, level])
            embedded = e if embedded is None else embedded + e
        assert embedded is not None
        weighted = embedded * mix.weights[voice].to(embedded.dtype)
        out = weighted if out is None else out + weighted
    assert out is not None
    return out


__all__ = ["PromptMix", "embed_mix", "equal_length"]
