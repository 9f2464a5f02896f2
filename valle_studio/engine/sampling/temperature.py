"""Temperature, plain and dynamic (upstream's ``min_temperature``)."""

from __future__ import annotations

from dataclasses import dataclass

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
        return logits / self.temperature


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
        logits.div_(row_temperature)
        return logits
