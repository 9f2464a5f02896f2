"""NAR levels 1..7: one full pass per level, every frame of the level at once.

Level L sees the summed embeddings of levels 0..L-1 (``NAR:{L-1}:{L}``, head ``proj.L``) and the
sampler gets the previous level as history, which puts its repetition penalty in NAR mode.

``frozen`` keeps the codes of the first frames as given on every level: streaming
(:mod:`valle_studio.engine.streaming`) refines the frames generated so far while the frames it has
already handed out stay as they were, in their input to each pass as in the result.
"""

from __future__ import annotations

import torch
from torch import Tensor

from valle_studio.engine.generation._common import (
    batch_full_passes,
    codes_tensor,
    make_conditioning,
    run_pair,
)
from valle_studio.engine.model import ModelInput, VallEModel
from valle_studio.engine.model.config import LEVELS
from valle_studio.engine.model.prompt_mix import PromptMix
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.sampling import SamplerConfig, cfg_combine, sample

STAGE = "refining"


@torch.inference_mode()
def generate_nar(
    model: VallEModel,
    *,
    level0: Tensor,
    text: Tensor,
    language_id: int = 0,
    prompt: Tensor | PromptMix | None = None,
    sampler: SamplerConfig,
    cfg_strength: float = 0.0,
    cfg_rescale: float = 0.7,
    levels: int = LEVELS,
    raw_text: bool = False,
    prompt_task: str | None = None,
    batch_cfg: bool | None = None,
    frozen: Tensor | None = None,
    generator: torch.Generator | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Tensor:
    """Fill in levels up to ``levels - 1``; returns codes ``[T, levels]`` int64.

    ``level0``: ``[T]`` level-0 codes, or ``[T, k]`` codes whose first k levels are already known
    (generation resumes at level k). ``sampler``: upstream's NAR temperature is ``temperature`` here
    (0 = greedy; upstream's own default when nothing is passed is 1.0). ``cfg_strength > 0`` adds the
    null pass (text ``[1, 2]``, no prompt) and combines the T rows of both. ``batch_cfg``: None
    decides by device and lengths (see ``batch_full_passes``).

    ``frozen``: ``[c, levels]`` codes (c <= T) that the first c frames keep on every level. Each pass
    still runs, and samples, over all T frames (so the random draws are those of an unfrozen run), but
    what it predicts for the frozen frames is discarded.
    """
    if not 1 <= levels <= LEVELS:
        raise ValueError(f"levels must be 1..{LEVELS}, got {levels}")
    cond = make_conditioning(model, text, language_id, prompt, raw_text, prompt_task)
    codes = codes_tensor(model, level0, "level0")
    frames = codes.shape[0]
    kept = _frozen_rows(model, frozen, frames, levels)
    if kept is not None:
        codes = codes.clone()
        codes[: kept.shape[0]] = kept[:, : codes.shape[1]]
    null = cond.null() if cfg_strength > 0.0 else None
    batch: bool | None = batch_cfg
    total = levels - 1
    for level in range(codes.shape[1], levels):
        report(progress, cancel, STAGE, level - 1, total)
        c_in = ModelInput.nar(cond.text, cond.language_id, cond.prompt, codes, level, **cond.input_kwargs())
        n_in = None
        if null is not None:
            n_in = ModelInput.nar(null.text, null.language_id, None, codes, level, **null.input_kwargs())
            if batch is None:
                batch = batch_full_passes(model, c_in, n_in, batch_cfg)
        logits, null_logits = run_pair(model, c_in, n_in, frames, bool(batch))
        if null_logits is not None:
            logits = cfg_combine(logits, null_logits, cfg_strength, cfg_rescale)
        out = sample(logits, sampler, history=codes[:, level - 1], generator=generator)
        new = out.ids.to(codes.device)
        if kept is not None:
            new[: kept.shape[0]] = kept[:, level]
        codes = torch.cat([codes, new[:, None]], dim=1)
    report(progress, cancel, STAGE, total, total)
    return codes[:, :levels]


def _frozen_rows(model: VallEModel, frozen: Tensor | None, frames: int, levels: int) -> Tensor | None:
    """``frozen`` checked and on the model's device, or None when no frame is frozen."""
    if frozen is None or len(frozen) == 0:
        return None
    kept = codes_tensor(model, frozen, "frozen", levels=levels)
    if kept.shape[0] > frames:
        raise ValueError(f"frozen holds {kept.shape[0]} frames, more than the {frames} being generated")
    return kept
