"""NAR-len level 0: iterative demasking of a fixed number of frames (upstream ``forward_nar_masked``).

Start fully masked (1024), scores 1. For step k with ``t`` from ``torch.linspace(0, 1, steps)``
(float32):
1. ``p = cos(t * pi / 2)`` in float64 (plus ``1 / (2 * steps)`` with ``remask``);
   ``n = max(1, min(int(p * T), T - k))`` positions with the lowest scores are masked again
   (``topk(largest=False)``).
2. Conditional pass and null pass (text ``[1, 2]``, no prompt); CFG with strength
   ``max(cfg_strength, 2.5)`` -- upstream never lets it off here -- and ``cfg_rescale``.
3. Two samples of the same logits: at temperature ``temperature * (1 - t)`` for the ids, then greedy
   for the scores. The first call's in-place processors (penalties, top-k/top-p, dynamic
   temperature) have already edited the logits the second call sees, as upstream.
4. Masked positions take the new ids; scores = the greedy probabilities (with ``masked_only``,
   only masked positions get new scores, the rest 1.0).
Rolling-context ``prefix`` codes are prepended to the response every step; only the new frames are
sampled and scored.

Voice conversion (``vc_source``, upstream's ``vc_list``; experimental upstream too): the length is the
source's, and at every step whose ``t`` is below ``vc_threshold`` (0.25) the masking of step 1 is
replaced by a start from the source's level-0 codes: a copy of them with ``vc_mask_p`` (25 %) of the
frames, drawn at random, and always the last 75 frames set to the mask token, is *scattered* into the
response at the positions picked for re-masking, and the frames equal to that copy count as masked
(see :func:`vc_start`). Upstream scatters the copy's first n values onto the n picked positions
(``Tensor.scatter`` semantics), not each position's own value; that is reproduced as is.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import Tensor

from valle_studio.engine.generation._common import (
    batch_full_passes,
    codes_tensor,
    make_conditioning,
    run_pair,
)
from valle_studio.engine.model import ModelInput, VallEModel
from valle_studio.engine.model.config import MASK_TOKEN
from valle_studio.engine.model.prompt_mix import PromptMix
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.sampling import SamplerConfig, cfg_combine, sample

STAGE = "demasking"
#: Upstream's floor on the NAR-len guidance strength.
MIN_CFG_STRENGTH = 2.5
#: Voice conversion: below this timestep the start comes from the source (upstream's vc_threshold) ...
VC_THRESHOLD = 0.25
#: ... with this share of its frames masked at random (vc_mask_p) ...
VC_MASK_P = 0.25
#: ... and always the last second (75 frames) masked, which upstream says "causes issues" otherwise.
VC_MASKED_TAIL = 75


def vc_start(resp: Tensor, picked: Tensor, source: Tensor, *, mask_p: float = VC_MASK_P,
             generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """One voice-conversion start, as upstream's ``forward_nar_masked`` does it for ``t < vc_threshold``.

    ``resp``: ``[T]`` the response so far; ``picked``: ``[n]`` the positions chosen for re-masking (lowest
    scores first, as ``topk`` returns them); ``source``: ``[T]`` the source's level-0 codes.
    Returns ``(resp, is_masked)``: ``resp`` with ``copy[j]`` written at ``picked[j]`` for j < n, where
    ``copy`` is ``source`` with a random ``mask_p`` share of its frames and the last 75 set to the mask
    token; ``is_masked`` is ``resp == copy`` position by position (the frames the step may fill).
    """
    draw = torch.rand(source.shape[0], generator=generator, device=source.device if generator is None
                      else generator.device).to(source.device)
    copy = torch.where(draw < mask_p, torch.full_like(source, MASK_TOKEN), source)
    copy[-VC_MASKED_TAIL:] = MASK_TOKEN
    out = resp.scatter(0, picked, copy)
    return out, out == copy


def mask_count(t: float, frames: int, step: int, steps: int, *, remask: bool) -> int:
    """How many frames are masked before step ``step`` (``t``: that step's float32 timestep)."""
    p = math.cos(t * math.pi / 2)
    if remask:
        p += 1.0 / (2 * steps)
    return max(1, min(int(p * frames), frames - step))


@torch.inference_mode()
def generate_nar_len(
    model: VallEModel,
    *,
    length: int,
    text: Tensor,
    language_id: int = 0,
    prompt: Tensor | PromptMix | None = None,
    sampler: SamplerConfig,
    steps: int = 25,
    cfg_strength: float = 0.0,
    cfg_rescale: float = 0.75,
    remask: bool = False,
    masked_only: bool = False,
    prefix: Tensor | None = None,
    raw_text: bool = False,
    prompt_task: str | None = None,
    batch_cfg: bool | None = None,
    vc_source: Tensor | None = None,
    generator: torch.Generator | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Tensor:
    """Demask ``length`` frames of level 0 in ``steps`` steps; returns codes ``[length]`` int64.

    ``vc_source``: ``[length]`` (or ``[length, K]``) codes of a clip to convert (see the module docstring).

    ``sampler.temperature`` is the start temperature (upstream's ``ar_temperature``), annealed by
    ``1 - t``. ``cfg_strength`` below 2.5 is raised to 2.5. ``remask`` / ``masked_only`` are upstream's
    ``sampling_scores_remask`` / ``sampling_scores_masked_only``. ``prefix``: ``[p]`` level-0 codes of
    earlier sentences (rolling context). ``batch_cfg``: None decides by device and lengths.
    """
    if not model.config.has_nar_len:
        raise ValueError(
            "this model has no NAR-len embedding/head (resps_emb.embeddings.8, classifiers.proj.8)"
        )
    if length < 1:
        raise ValueError(f"length must be at least 1 frame, got {length}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    cond = make_conditioning(model, text, language_id, prompt, raw_text, prompt_task)
    null = cond.null()
    dev = model.device
    pre = codes_tensor(model, prefix, "prefix")[:, 0] if prefix is not None and len(prefix) else None
    strength = max(cfg_strength, MIN_CFG_STRENGTH)
    source = None
    if vc_source is not None:
        source = codes_tensor(model, vc_source, "vc_source")[:, 0]
        if source.shape[0] != length:
            raise ValueError(f"voice conversion keeps the source's length: {source.shape[0]} frames, not {length}")

    resp = torch.full((length,), MASK_TOKEN, dtype=torch.long, device=dev)
    scores = torch.ones(length, dtype=torch.float32, device=dev)
    batch = batch_cfg
    for k, t_f32 in enumerate(torch.linspace(0, 1, steps).tolist()):
        report(progress, cancel, STAGE, k, steps)
        n = mask_count(t_f32, length, k, steps, remask=remask)
        masked_idx = torch.topk(scores, n, largest=False).indices
        if source is not None and t_f32 < VC_THRESHOLD:
            resp, is_masked = vc_start(resp, masked_idx, source, generator=generator)
        else:
            resp = resp.index_fill(0, masked_idx, MASK_TOKEN)
            is_masked = resp == MASK_TOKEN

        full = resp if pre is None else torch.cat([pre, resp])
        c_in = ModelInput.nar_len(cond.text, cond.language_id, cond.prompt, full, **cond.input_kwargs())
        n_in = ModelInput.nar_len(null.text, null.language_id, None, full, **null.input_kwargs())
        if batch is None:
            batch = batch_full_passes(model, c_in, n_in, batch_cfg)
        c_logits, n_logits = run_pair(model, c_in, n_in, length, batch)
        assert n_logits is not None
        logits = cfg_combine(c_logits, n_logits, strength, cfg_rescale)

        annealed = replace(sampler, temperature=sampler.temperature * (1.0 - t_f32))
        picked = sample(logits, annealed, generator=generator)
        greedy = sample(logits, replace(sampler, temperature=0.0), generator=generator)

        resp = torch.where(is_masked, picked.ids.to(dev), resp)
        new_scores = greedy.scores.to(dev, torch.float32)
        scores = (
            torch.where(is_masked, new_scores, torch.ones_like(new_scores)) if masked_only else new_scores
        )
    report(progress, cancel, STAGE, steps, steps)
    return resp
