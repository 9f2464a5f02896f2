"""What a precision costs in accuracy: its logits and greedy codes against float32's on the same inputs.

- AR: one causal pass over an AR input whose last ``frames`` positions are response codes; the logits
  of those rows are what ``frames`` teacher-forced decode steps would produce (same history for both
  precisions), so their argmax is the greedy code of each step.
- NAR-len: one demasking pass of a half-masked line of ``frames`` frames; the argmax of each row is the
  greedy code that frame would get.

The stop logit (index 1024) is left out: the benchmark pins it low so timed runs never stop early.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from valle_studio.core.codec_format import CODEBOOK_SIZE, FRAMES_PER_SECOND
from valle_studio.engine.bench.inputs import ar_input, demask_inputs
from valle_studio.engine.bench.record import PrecisionCost
from valle_studio.engine.model import ModelInput, VallEModel

AR_PREFIX = 300  # positions before the compared AR rows (text, prompt, earlier codes)


@dataclass(frozen=True)
class Reference:
    """float32's logits on the compared inputs: ``ar`` ``[frames, 1024]``, ``nar_len`` ``[frames, 1024]``."""

    ar_input: ModelInput
    nar_len_input: ModelInput
    frames: int
    ar: Tensor
    nar_len: Tensor


def _logits(model: VallEModel, inp: ModelInput, rows: int) -> Tensor:
    logits: Tensor = model([inp], last=rows)[0, :, :CODEBOOK_SIZE].float().cpu()
    return logits


@torch.inference_mode()
def reference(model: VallEModel, frames: int) -> Reference:
    """Run the float32 ``model`` on the compared inputs (see the module docstring)."""
    ar = ar_input(model, AR_PREFIX + frames)
    cond, _null, nl_frames = demask_inputs(model, frames / FRAMES_PER_SECOND)
    return Reference(ar, cond, frames, _logits(model, ar, frames), _logits(model, cond, nl_frames))


def _agreement(want: Tensor, got: Tensor) -> float:
    return float((want.argmax(-1) == got.argmax(-1)).float().mean())


def _error(want: Tensor, got: Tensor) -> float:
    return float((got - want).pow(2).mean().sqrt() / want.std())


@torch.inference_mode()
def compare(ref: Reference, model: VallEModel) -> PrecisionCost:
    """How far ``model``'s logits and greedy codes are from float32's (:class:`PrecisionCost`)."""
    ar = _logits(model, ref.ar_input, ref.frames)
    nl = _logits(model, ref.nar_len_input, ref.nar_len.shape[0])
    return PrecisionCost(_agreement(ref.ar, ar), _agreement(ref.nar_len, nl), _error(ref.ar, ar),
                         _error(ref.nar_len, nl), int(ar.shape[0]), int(nl.shape[0]))


__all__ = ["Reference", "compare", "reference"]
