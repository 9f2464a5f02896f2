"""Penalties that depend on what was generated before: repetition (with distance decay) and length.

Both edit ``logits`` in place and return it, as upstream's functions do.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ._checks import check_history, check_int, check_number


@dataclass(frozen=True)
class RepetitionPenalty:
    """Divide the logit of every earlier token by ``factor * distance**decay``.

    For a history of n tokens, the token at index i has distance ``n - i``. Every occurrence counts
    (a token seen twice is divided twice). Dividing moves a negative logit *up* toward 0, as upstream.
    With ``decay > 0`` older tokens get the larger divisor: that is upstream's math (fixture-checked).

    Two modes, chosen from the shapes exactly as upstream does:

    - AR mode (``len(history) != rows``): every row is penalised for the whole history.
    - NAR mode (``len(history) == rows``, history = the previous level): row r is penalised only for
      history indices i < r. Quirk kept on purpose: an AR call with exactly one earlier token and one
      row is therefore NAR mode and gets no penalty at all.
    """

    factor: float
    decay: float = 0.0

    def __post_init__(self) -> None:
        check_number("RepetitionPenalty.factor", self.factor, low=0.0, low_inclusive=False)
        check_number("RepetitionPenalty.decay", self.decay)

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float, edited in place; history: [n] int64 or None."""
        history = check_history(history, logits.shape[-1])
        if history is None or history.numel() == 0:
            return logits
        rows, classes = logits.shape
        n = history.numel()
        tokens = history.to(device=logits.device, dtype=torch.int64)
        distance = torch.arange(n, 0, -1, device=logits.device, dtype=torch.float32)  # n - i
        divisor = self.factor * distance.pow(self.decay)  # [n]
        if n == rows:
            # Row r sees the product of the divisors of history[:r]: a running product over indices.
            per_index = torch.ones(n, classes, device=logits.device, dtype=torch.float32)
            per_index[torch.arange(n, device=logits.device), tokens] = divisor
            running = per_index.cumprod(dim=0)  # running[i] = product over history[: i + 1]
            table = torch.cat([torch.ones_like(running[:1]), running[:-1]], dim=0)  # [rows, classes]
        else:
            table = torch.ones(classes, device=logits.device, dtype=torch.float32)
            table.scatter_reduce_(0, tokens, divisor, reduce="prod")
            table = table.unsqueeze(0)  # [1, classes], same for every row
        logits.div_(table.to(logits.dtype))
        return logits


@dataclass(frozen=True)
class LengthPenalty:
    """Divide the stop token's logit by ``(len(history) + 1) ** factor`` (AR only).

    A positive factor lowers a positive stop logit as the output grows (longer output); a negative one
    raises it. With no history the divisor is 1.
    """

    factor: float
    token: int

    def __post_init__(self) -> None:
        check_number("LengthPenalty.factor", self.factor)
        check_int("LengthPenalty.token", self.token, low=0)

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float, edited in place; history: [n] or None (only its length is used)."""
        if self.token >= logits.shape[-1]:
            classes = logits.shape[-1]
            raise ValueError(f"LengthPenalty.token {self.token} is out of range for {classes} classes")
        length = 0 if history is None else int(history.numel())
        logits[:, self.token] /= float(length + 1) ** self.factor
        return logits
