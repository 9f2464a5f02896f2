"""Temperature, plain and dynamic (upstream's ``min_temperature``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ._checks import check_number


@dataclass(frozen=True)
class Temperature:
    """``logits / temperature``; returns a new tensor (upstream divides out of place)."""

    temperature: float

    def __post_init__(self) -> None:
        check_number("Temperature.temperature", self.temperature, low=0.0, low_inclusive=False)

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float -> new [rows, classes] tensor."""
        return greedy_where_overflowed(logits, logits / self.temperature)


@dataclass(frozen=True)
class DynamicTemperature:
    """Per-row temperature that slides from ``temperature`` toward ``min_temperature`` with confidence.

    With ``p_max`` the row's largest softmax probability,
    ``T' = T - (T - T_min) / (1 + exp(-10 * (p_max - 0.5)))``, and the row is divided by ``T'`` in place.
    Upstream applies it even when ``temperature`` is 0 (greedy), which only changes the scores.
    """

    temperature: float
    min_temperature: float

    def __post_init__(self) -> None:
        check_number("DynamicTemperature.temperature", self.temperature, low=0.0)
        check_number("DynamicTemperature.min_temperature", self.min_temperature, low=0.0)

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float, edited in place."""
        peak = logits.amax(dim=-1, keepdim=True)
        p_max = 1.0 / (logits - peak).exp().sum(dim=-1, keepdim=True)  # [rows, 1]
        span = self.temperature - self.min_temperature
        row_temperature = self.temperature - span / (1.0 + (-10.0 * (p_max - 0.5)).exp())
        divided = logits / row_temperature
        logits.copy_(greedy_where_overflowed(logits, divided))
        return logits


def greedy_where_overflowed(logits: Tensor, divided: Tensor) -> Tensor:
    """``divided`` (= ``logits / T``), with every row that the division pushed out of the float range
    replaced by its T -> 0 limit: 0 on the row's best logits, -inf elsewhere (a one-hot softmax).

    A temperature such as 1e-300 is a valid setting, but ``logits / T`` overflows to infinity there and
    the softmax of inf - inf is NaN, which ``torch.multinomial`` refuses ("probability tensor contains
    either inf, nan or element < 0"). Its limit is greedy decoding, which is what such a row gets.
    Rows that stay finite are returned untouched, so ordinary temperatures give upstream's numbers.
    """
    overflowed = (~torch.isfinite(divided) & torch.isfinite(logits)).any(dim=-1)
    if not bool(overflowed.any()):
        return divided
    rows = logits[overflowed]
    best = rows == rows.amax(dim=-1, keepdim=True)
    divided = divided.clone()
    divided[overflowed] = torch.where(best, torch.zeros_like(rows), torch.full_like(rows, float("-inf")))
    return divided
