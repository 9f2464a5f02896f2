"""DRY ("Don't Repeat Yourself"): penalise the tokens that would continue a repeat of earlier output.

The sampler as its authors define it (p-e-w, text-generation-webui #5677, with the parameter names
llama.cpp and koboldcpp use): for every candidate token ``t``, let ``n`` be the length of the longest
suffix of the history that also occurs earlier in the history directly followed by ``t``. Emitting
``t`` would then repeat a sequence of ``n + 1`` tokens. When ``n >= allowed_length`` (a repeat longer
than ``allowed_length`` would be made), ``t``'s logit is lowered by
``multiplier * base ** (n - allowed_length)``.

Sequence breakers end a match: a match never extends over a breaker in the history's suffix, no
penalty is given at all when the last token is a breaker, and a breaker is never itself penalised as
the continuation. For audio codes there is no natural breaker (text uses newlines and quotes), so the
setting defaults to none; any code ids may be given.

Upstream's own DRY (``vall_e.samplers.dry_sampling``) breaks out of its loop at the first history
entry whose match is shorter than ``allowed_length``, and the first entry's match is always 1, so at
its fixed ``allowed_length = 2`` it never changes a logit. This one is the working definition above;
the golden DRY vectors stay skipped for that reason (``tests/engine/test_sampling.py``).

The suffix matches are found with the Z-function of the reversed history: ``z[p]`` is the length of
the longest common prefix of the reversed history and its suffix from ``p``, which is exactly the
match length of the earlier position ``n - 1 - p``. That is O(len(history)) per step instead of the
O(len(history) * match) of a direct scan, which matters when an AR loop degenerates into a long
repetition (900 steps of a looping take).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from torch import Tensor

from ._checks import check_int, check_number

#: The largest exponent the penalty is computed with; base ** 1000 overflows any float, and at that
#: point the token is banned anyway (its logit goes to -inf).
_MAX_EXPONENT = 1000


def z_function(values: Sequence[int]) -> list[int]:
    """``z[i]``: the length of the longest common prefix of ``values`` and ``values[i:]`` (``z[0]`` is
    ``len(values)``). Linear time."""
    n = len(values)
    z = [0] * n
    if n == 0:
        return z
    z[0] = n
    left = right = 0
    for i in range(1, n):
        if i < right:
            z[i] = min(right - i, z[i - left])
        while i + z[i] < n and values[z[i]] == values[i + z[i]]:
            z[i] += 1
        if i + z[i] > right:
            left, right = i, i + z[i]
    return z


def repeat_lengths(history: Sequence[int], breakers: frozenset[int] = frozenset()) -> dict[int, int]:
    """For every token ``t`` that followed an earlier match: the longest suffix of ``history`` that
    also ends right before an earlier ``t`` (what DRY penalises). Tokens with no match are absent.

    A match stops at the first breaker in the history's suffix; with the last token a breaker, or a
    breaker as the following token, there is no entry.
    """
    n = len(history)
    if n < 2 or history[-1] in breakers:
        return {}
    reversed_history = list(reversed(history))
    # Matches may not reach over a breaker in the suffix: cap every length at the first one.
    limit = next((i for i, token in enumerate(reversed_history) if token in breakers), n)
    z = z_function(reversed_history)
    lengths: dict[int, int] = {}
    for i in range(n - 1):  # earlier position i, followed by history[i + 1]
        follower = history[i + 1]
        if follower in breakers:
            continue
        match = min(z[n - 1 - i], limit, i + 1)
        if match > 0 and match > lengths.get(follower, 0):
            lengths[follower] = match
    return lengths


@dataclass(frozen=True)
class Dry:
    """Lower the logits of tokens that would extend a repeat (see the module docstring); edits in place.

    ``multiplier`` > 0 (0 switches DRY off and is never built), ``base`` > 1, ``allowed_length`` >= 1,
    ``breakers`` token ids that end a match.
    """

    multiplier: float
    base: float = 1.75
    allowed_length: int = 2
    breakers: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        check_number("Dry.multiplier", self.multiplier, low=0.0, low_inclusive=False)
        check_number("Dry.base", self.base, low=1.0, low_inclusive=False)
        check_int("Dry.allowed_length", self.allowed_length, low=1)
        for token in self.breakers:
            check_int("Dry.breakers", token, low=0)

    def penalty(self, match: int) -> float:
        """What a token whose emission repeats ``match + 1`` tokens loses (0 when within the allowance)."""
        if match < self.allowed_length:
            return 0.0
        exponent = min(match - self.allowed_length, _MAX_EXPONENT)
        try:
            return self.multiplier * math.pow(self.base, exponent)
        except OverflowError:
            return math.inf

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float, edited in place; history: [n] int64 (the sequence so far)."""
        if history is None or history.numel() < 2:
            return logits
        lengths = repeat_lengths(history.tolist(), self.breakers)
        classes = logits.shape[-1]
        for token, match in lengths.items():
            amount = self.penalty(match)
            if amount > 0.0 and token < classes:
                logits[:, token] -= amount
        return logits


__all__ = ["Dry", "repeat_lengths", "z_function"]
