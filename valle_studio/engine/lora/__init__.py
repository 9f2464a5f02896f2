"""LoRA voice adapters: read a ``lora.sft``, merge it into a loaded model, take it out exactly.

Public API::

    lora = read_lora(path)                                  # LoraFile, checked (file.py)
    applied = apply_lora(model, lora, 0.8, model_name=...)  # merged: W += 0.8 * alpha/rank * B @ A (merge.py)
    applied.remove()                                        # the weights bit for bit as before
    path = resolve_lora("glados", store)                    # an installed name or a file path

The :class:`~valle_studio.engine.synthesizer.Synthesizer` does this per request from the settings'
``lora`` and ``lora_strength`` (:class:`LoraSlot`), so a batch line may use another LoRA than the one
before it. Limits: float models only (an int8-quantised model is refused), LoRAs for every RVQ level
only, and strengths 0..1.5 (the settings' range; 1 is as trained).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from valle_studio.engine.lora.file import LoraFile, LoraPair, is_lora_tensor, read_lora
from valle_studio.engine.lora.merge import AppliedLora, apply_lora, check_fits
from valle_studio.engine.lora_choice import LORA_SUFFIXES, LoraError, resolve_lora


class LoraSlot:
    """The one LoRA merged into one model at a time: :meth:`use` swaps it as requests ask.

    Swapping removes the old LoRA exactly before merging the new one; asking for the LoRA (and strength)
    already merged costs nothing. Strength 0 or no name means the bare model.
    """

    def __init__(self, model: nn.Module, model_name: str) -> None:
        self.model = model
        self.model_name = model_name
        self.applied: AppliedLora | None = None
        self._key: tuple[str, float, int] | None = None

    @property
    def active(self) -> str:
        """The merged LoRA's name ("" for none)."""
        return self.applied.lora.name if self.applied is not None else ""

    def use(self, text: str, strength: float, store: Any | None) -> None:
        """Make ``text`` (an installed name or a path; "" for none) at ``strength`` the merged LoRA."""
        if not text or strength == 0.0:
            self.clear()
            return
        path = resolve_lora(text, store)
        key = (str(path.resolve()), float(strength), path.stat().st_mtime_ns)
        if key == self._key:
            return
        lora = read_lora(path)  # read and check before the merged one is taken out
        check_fits(self.model, lora, self.model_name)
        self.clear()
        self.applied = apply_lora(self.model, lora, strength, model_name=self.model_name)
        self._key = key

    def clear(self) -> None:
        """Back to the bare model (exactly)."""
        if self.applied is not None:
            self.applied.remove()
        self.applied, self._key = None, None


__all__ = ["LORA_SUFFIXES", "AppliedLora", "LoraError", "LoraFile", "LoraPair", "LoraSlot", "apply_lora",
           "check_fits", "is_lora_tensor", "read_lora", "resolve_lora"]
