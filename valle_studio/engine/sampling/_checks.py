"""Argument checks shared by :class:`SamplerConfig` and the processors; every message names the field.

These check what the maths needs (type, finiteness, the domain of a processor), never what a user may
choose: the user-facing ranges are declared once, in ``engine.settings``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
) -> float:
    """Return ``value`` as a float after checking it is a finite real number inside the given bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (number < low or (number == low and not low_inclusive)):
        bound = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {bound} {low:g}, got {value!r}")
    if high is not None and number > high:
        raise ValueError(f"{name} must be <= {high:g}, got {value!r}")
    return number


def check_int(name: str, value: object, *, low: int) -> int:
    """Return ``value`` after checking it is a plain int (not a bool) that is at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return value


def check_logits(logits: object) -> Tensor:
    """Check ``logits`` is a floating-point tensor of shape [rows, classes] with at least one of each."""
    if not isinstance(logits, Tensor):
        raise ValueError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if logits.dim() != 2 or logits.shape[0] == 0 or logits.shape[1] == 0:
        shape = tuple(logits.shape)
        raise ValueError(f"logits must have shape [rows, classes] with rows, classes >= 1, got {shape}")
    if not logits.is_floating_point():
        raise ValueError(f"logits must be floating point, got {logits.dtype}")
    return logits


def check_history(history: object, classes: int) -> Tensor | None:
    """Check ``history`` is None or a 1-D integer tensor of token ids in ``[0, classes)``."""
    if history is None:
        return None
    if not isinstance(history, Tensor):
        raise ValueError(f"history must be a torch.Tensor or None, got {type(history).__name__}")
    if history.dim() != 1:
        raise ValueError(f"history must have shape [n], got {tuple(history.shape)}")
    if history.is_floating_point() or history.is_complex() or history.dtype == torch.bool:
        raise ValueError(f"history must hold integer token ids, got {history.dtype}")
    if history.numel() and (int(history.min()) < 0 or int(history.max()) >= classes):
        raise ValueError(
            f"history token ids must lie in [0, {classes}) for {classes}-class logits, "
            f"got values in [{int(history.min())}, {int(history.max())}]"
        )
    return history
