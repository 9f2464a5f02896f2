"""AR level 0: one level-0 code per step until the stop token (1024) or the frame cap.

Upstream (``forward_ar``) recomputes the whole sequence each step; here the sequence is prefilled
once into a KV cache and each step adds one position, which gives the same logits (causal attention,
fixed per-segment positions). Classifier-free guidance (``cfg_strength > 0``) runs the null input
(text ``[1, 2]``, no prompt, same response) beside the conditional one and combines the last
``len(response) + 1`` rows of both -- the rescale's std spans all of them, as upstream's does.

:func:`iter_ar` is the loop itself, yielding each code as it is sampled (streaming consumes it);
:func:`generate_ar` collects it.
"""

from __future__ import annotations

from collections.abc import Generator

import torch
from torch import Tensor

from valle_studio.engine.generation._common import Conditioning, codes_tensor, make_conditioning
from valle_studio.engine.generation.causal import CausalRunner
from valle_studio.engine.model import ModelInput, VallEModel
from valle_studio.engine.model.config import STOP_TOKEN
from valle_studio.engine.model.prompt_mix import PromptMix
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.sampling import MirostatState, SamplerConfig, cfg_combine, sample

STAGE = "generating"


@torch.inference_mode()
def generate_ar(
    model: VallEModel,
    *,
    text: Tensor,
    language_id: int = 0,
    prompt: Tensor | PromptMix | None = None,
    sampler: SamplerConfig,
    max_frames: int,
    prefix: Tensor | None = None,
    cfg_strength: float = 0.0,
    cfg_rescale: float = 0.7,
    raw_text: bool = False,
    prompt_task: str | None = None,
    batch_cfg: bool = True,
    use_cache: bool = True,
    generator: torch.Generator | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Tensor:
    """Generate level-0 codes ``[t]`` int64 (t <= ``max_frames``, the stop token excluded).

    ``text``: ``[N]`` token ids; ``prompt``: ``[P, 8]`` reference codes or None. ``prefix``: ``[p]``
    level-0 codes of earlier sentences (rolling context): they start the response and are cut from the
    result. ``sampler`` drives every step (``temperature`` 0 = greedy); the stop token is the length
    penalty's target and the response so far is the repetition history. ``batch_cfg``: run the cond
    and null inputs as one padded batch (one cache) instead of two. ``use_cache=False`` recomputes the
    whole sequence each step, as upstream does.
    """
    tokens = list(iter_ar(
        model, text=text, language_id=language_id, prompt=prompt, sampler=sampler, max_frames=max_frames,
        prefix=prefix, cfg_strength=cfg_strength, cfg_rescale=cfg_rescale, raw_text=raw_text,
        prompt_task=prompt_task, batch_cfg=batch_cfg, use_cache=use_cache, generator=generator,
        progress=progress, cancel=cancel,
    ))
    return torch.tensor(tokens, dtype=torch.long, device=model.device)


def iter_ar(
    model: VallEModel,
    *,
    text: Tensor,
    language_id: int = 0,
    prompt: Tensor | PromptMix | None = None,
    sampler: SamplerConfig,
    max_frames: int,
    prefix: Tensor | None = None,
    cfg_strength: float = 0.0,
    cfg_rescale: float = 0.7,
    raw_text: bool = False,
    prompt_task: str | None = None,
    batch_cfg: bool = True,
    use_cache: bool = True,
    generator: torch.Generator | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Generator[int, None, None]:
    """:func:`generate_ar` one level-0 code at a time: yields each new code (an ``int`` in 0..1023) as
    soon as it is sampled, the ``prefix`` excluded. Same arguments, same draws from ``generator``, same
    progress events; the inputs are checked now, the model runs as the iterator is consumed.

    The caller may do other work between two codes (streaming runs the NAR there); closing the iterator
    early frees the KV cache.
    """
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    with torch.inference_mode():
        cond = make_conditioning(model, text, language_id, prompt, raw_text, prompt_task)
        start = codes_tensor(model, prefix, "prefix")[:, 0] if prefix is not None and len(prefix) else None
    return _ar_steps(model, cond, start, sampler=sampler, max_frames=max_frames, cfg_strength=cfg_strength,
                     cfg_rescale=cfg_rescale, batch_cfg=batch_cfg, use_cache=use_cache, generator=generator,
                     progress=progress, cancel=cancel)


@torch.inference_mode()
def _ar_steps(
    model: VallEModel,
    cond: Conditioning,
    start: Tensor | None,
    *,
    sampler: SamplerConfig,
    max_frames: int,
    cfg_strength: float,
    cfg_rescale: float,
    batch_cfg: bool,
    use_cache: bool,
    generator: torch.Generator | None,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> Generator[int, None, None]:
    """The KV-cached loop behind :func:`iter_ar`; ``start``: ``[p]`` prefix codes or None."""
    resp0 = start if start is not None else torch.zeros(0, dtype=torch.long, device=model.device)
    inputs = [ModelInput.ar(cond.text, cond.language_id, cond.prompt, resp0, **cond.input_kwargs())]
    use_cfg = cfg_strength > 0.0
    if use_cfg:
        null = cond.null()
        inputs.append(ModelInput.ar(null.text, null.language_id, None, resp0, **null.input_kwargs()))

    runner = CausalRunner(model, inputs, "ar", extra=max_frames, use_cache=use_cache, batch=batch_cfg)
    rows = resp0.shape[0] + 1 if use_cfg else 1
    first = runner.start(rows)  # [B, rows, 1025]
    classes = first.shape[-1]
    # CFG combines every response row so far, so keep them: [B, rows + max_frames, 1025]
    seen = torch.empty(len(inputs), rows + max_frames, classes, device=first.device) if use_cfg else None
    if seen is not None:
        seen[:, :rows] = first
    last = first[:, -1]
    tokens: list[int] = resp0.tolist()
    # Mirostat steers the whole sequence: one surprise bound carried from step to step.
    mirostat = MirostatState.start(sampler.mirostat_tau, sampler.mirostat_eta) if sampler.uses_mirostat else None
    try:
        for step in range(max_frames):
            report(progress, cancel, STAGE, step, max_frames)
            if seen is not None:
                n = len(tokens) + 1
                logits = cfg_combine(seen[0, :n], seen[1, :n], cfg_strength, cfg_rescale)[-1:]
            else:
                logits = last[:1].clone()
            history = torch.tensor(tokens, dtype=torch.long, device=logits.device)
            out = sample(logits, sampler, history=history, stop_token=STOP_TOKEN, generator=generator,
                         mirostat=mirostat)
            token = int(out.ids[0])
            if token == STOP_TOKEN:
                break
            tokens.append(token)
            yield token
            if step + 1 == max_frames:
                break
            last = runner.push(token)
            if seen is not None:
                seen[:, len(tokens)] = last
    finally:
        runner.close()
    report(progress, cancel, STAGE, max_frames, max_frames)
