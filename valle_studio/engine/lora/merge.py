"""Merge a LoRA into a loaded model's weights, and take it out again exactly.

Applying at strength ``s`` adds ``s * (alpha / rank) * B @ A`` to each adapted weight in place (on the
weight's device, the product in float32). Upstream never merges: each adapted linear layer computes
``x @ W.T + (x @ A.T @ B.T) * alpha / rank`` on the fly, which is the same up to float32 summation order
(ecker-vall-e.md §9: within 1e-5 on the logits); merged, a step costs nothing extra. In place also keeps
the fused q/k/v and gate/up buffers of the backbone intact (the weights are views into them).

Removal is exact, bit for bit: before a weight is changed its original values are kept on the CPU, and
removal copies them back. Subtracting the update again would leave rounding residue, because
``(W + D) - D`` is not ``W`` in floating point. The copies are kept in float16 when that holds every value
exactly (the published weights are stored in float16, so a float32 model's are), else in the weight's
own dtype: for the full-size model that is about 0.38 GB while a LoRA is applied.

Every pair is checked against the model before any weight changes, so a LoRA that does not fit leaves
the model untouched; the message names the LoRA and the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from valle_studio.engine.lora.file import LoraFile
from valle_studio.engine.lora_choice import LoraError


@dataclass
class AppliedLora:
    """A LoRA merged into ``model``; :meth:`remove` restores the weights it changed, exactly."""

    lora: LoraFile
    strength: float
    model_name: str
    _model: nn.Module = field(repr=False)
    _backups: dict[str, Tensor] = field(default_factory=dict, repr=False)
    removed: bool = False

    @property
    def changed(self) -> tuple[str, ...]:
        """The parameters the LoRA changed."""
        return tuple(self._backups)

    @torch.no_grad()
    def remove(self) -> None:
        """Put every changed weight back as it was (a second call does nothing)."""
        if self.removed:
            return
        params = dict(self._model.named_parameters())
        for name, backup in self._backups.items():
            weight = params[name]
            weight.copy_(backup.to(device=weight.device, dtype=weight.dtype))
        self._backups.clear()
        self.removed = True


def check_fits(model: nn.Module, lora: LoraFile, model_name: str) -> None:
    """Raise :class:`LoraError` (naming both) unless every pair of ``lora`` has a weight of its shape."""
    quantized = getattr(model, "quantized", None)
    if quantized:
        raise LoraError(f"LoRA {lora.label} cannot be applied to '{model_name}': the model is quantised to "
                        f"{quantized}; load it without quantisation to use a LoRA")
    params = dict(model.named_parameters())
    problems: list[str] = []
    for pair in lora.pairs:
        weight = params.get(pair.target)
        if weight is None or weight.dim() != 2:
            problems.append(f"{pair.target} does not exist in the model")
        elif tuple(weight.shape) != pair.shape:
            problems.append(f"{pair.target} is {list(weight.shape)} in the model but {list(pair.shape)} in the LoRA")
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise LoraError(f"LoRA {lora.label} does not fit the model '{model_name}': {shown}. It was made for "
                        "another base model (another size or layer count)")


@torch.no_grad()
def apply_lora(model: nn.Module, lora: LoraFile, strength: float, *, model_name: str) -> AppliedLora:
    """Merge ``lora`` at ``strength`` (0..1.5 in the app; 1 = as trained) into ``model``'s weights.

    Returns the handle whose :meth:`AppliedLora.remove` undoes it. Raises :class:`LoraError` before
    changing anything when the LoRA does not fit.
    """
    check_fits(model, lora, model_name)
    params = dict(model.named_parameters())
    applied = AppliedLora(lora, float(strength), model_name, model)
    factor = float(strength) * lora.scale
    try:
        for pair in lora.pairs:
            weight = params[pair.target]
            applied._backups[pair.target] = _backup(weight)
            a = pair.a.to(device=weight.device)
            b = pair.b.to(device=weight.device)
            weight.add_((b @ a).mul_(factor).to(weight.dtype))
    except BaseException:
        applied.remove()  # never leave a half-merged model behind
        raise
    return applied


def _backup(weight: Tensor) -> Tensor:
    """A CPU copy of ``weight`` that restores it exactly: float16 when that loses nothing."""
    original = weight.detach()
    if original.dtype == torch.float32:
        half = original.to(torch.float16)
        if torch.equal(half.to(torch.float32), original):
            return half.cpu()
    return original.to("cpu", copy=True)


__all__ = ["AppliedLora", "apply_lora", "check_fits"]
