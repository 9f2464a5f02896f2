"""Classifier-free guidance: blend conditional and unconditional logits, with optional std rescale."""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import check_number


@torch.no_grad()
def cfg_combine(cond: Tensor, null: Tensor, strength: float, rescale: float) -> Tensor:
    """``null + (cond - null) * strength``, rescaled toward the conditional spread when ``rescale > 0``.

    cond, null: [rows, classes] float, the same rows of the conditional and unconditional passes (AR:
        the last ``len(response) + 1`` rows; NAR/NAR-len: the last T rows).
    Returns a new [rows, classes] tensor; ``cond`` and ``null`` are not modified.

    The rescale multiplies by ``rescale * std(cond) / std(out) + (1 - rescale)``, where each std is ONE
    unbiased scalar over the whole [rows, classes] slice, not a per-row std (upstream's behaviour, so
    earlier AR rows change the factor too). If ``out`` has zero spread the rescale is skipped
    (upstream would divide by zero).
    """
    if not isinstance(cond, Tensor) or not isinstance(null, Tensor):
        raise ValueError("cfg_combine: cond and null must be torch.Tensors")
    if cond.shape != null.shape:
        raise ValueError(f"cfg_combine: cond {tuple(cond.shape)} and null {tuple(null.shape)} differ")
    strength = check_number("cfg_combine strength", strength)
    rescale = check_number("cfg_combine rescale", rescale, low=0.0, high=1.0)
    out = null + (cond - null) * strength
    if rescale > 0.0:
        out_std = out.std()
        if out_std > 0:
            out = out * (rescale * cond.std() / out_std + (1.0 - rescale))
    return out
