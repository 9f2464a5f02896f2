"""The inputs a benchmark times: text, a 3 s prompt and responses of chosen lengths (random ids).

Speech has about 14 phoneme tokens a second; the prompt is 3 s (225 frames). Every function here is
deterministic (seeded), so two runs time the same work. ``benchmarks/`` uses the same inputs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from valle_studio.core.codec_format import FRAMES_PER_SECOND, LEVELS, MASK_TOKEN
from valle_studio.engine.model import KVCache, ModelInput, VallEModel

PROMPT_FRAMES = 225


def conditioning(seconds: float, *, prompt_frames: int = PROMPT_FRAMES, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Phoneme ids ``[N]`` for about ``seconds`` of speech (14 phonemes/s) and a prompt ``[P, 8]``."""
    gen = torch.Generator().manual_seed(seed)
    n = max(8, round(14 * seconds))
    text = torch.cat([torch.tensor([1]), torch.randint(5, 200, (n,), generator=gen), torch.tensor([2])])
    prompt = torch.randint(0, 1024, (prompt_frames, LEVELS), generator=gen)
    return text, prompt


def ar_input(model: VallEModel, context: int, seed: int = 0) -> ModelInput:
    """An AR input whose sequence is exactly ``context`` positions (text, 3 s prompt, response)."""
    text, prompt = conditioning(4.0, prompt_frames=min(PROMPT_FRAMES, context // 3), seed=seed)
    text = text[: max(3, min(len(text), context // 4))]
    empty = torch.zeros(0, dtype=torch.long)
    base = model.embed(ModelInput.ar(text, 0, prompt, empty)).embeds.shape[0]
    resp = torch.randint(0, 1024, (max(0, context - base),), generator=torch.Generator().manual_seed(seed))
    inp = ModelInput.ar(text, 0, prompt, resp)
    if model.embed(inp).embeds.shape[0] != context:
        raise ValueError(f"cannot lay out an AR input of exactly {context} positions")
    return inp


def prefilled(model: VallEModel, context: int, batch: int, extra: int) -> KVCache:
    """A KV cache of ``batch`` rows prefilled with ``context`` positions each, room for ``extra`` more."""
    inputs = [ar_input(model, context, seed=b) for b in range(batch)]
    cache = model.new_cache(batch, context + extra + 1)
    model.prefill(inputs, cache)
    return cache


def timing_cache(model: VallEModel, context: int, batch: int, extra: int) -> KVCache:
    """A KV cache of ``batch`` rows that already holds ``context`` positions of random keys and values,
    room for ``extra`` more: for timing decode steps only.

    A decode step reads the cached keys and values whatever they hold, so its time does not depend on
    them; filling them at random skips the prefill pass, the most expensive part of measuring an AR step
    at a long context (about a second at context 750 in float32 on 2 cores). Its logits mean nothing.
    """
    cache = model.new_cache(batch, context + extra + 1)
    gen = torch.Generator().manual_seed(context)
    for buffer in (cache.k, cache.v):
        buffer[..., :context, :] = torch.randn(buffer[..., :context, :].shape, generator=gen).to(buffer.dtype)
    cache.begin(context)
    cache.commit()
    cache.next_positions = torch.full((batch,), context, dtype=torch.long, device=cache.k.device)
    return cache


def demask_inputs(model: VallEModel, seconds: float) -> tuple[ModelInput, ModelInput, int]:
    """The cond/null inputs of a mid-run NAR-len demasking step for ``seconds`` of speech (half masked)."""
    frames = int(seconds * FRAMES_PER_SECOND)
    text, prompt = conditioning(seconds)
    gen = torch.Generator().manual_seed(1)
    resp = torch.randint(0, 1024, (frames,), generator=gen)
    resp[torch.randperm(frames, generator=gen)[: frames // 2]] = MASK_TOKEN
    cond = ModelInput.nar_len(text, 0, prompt, resp)
    null = ModelInput.nar_len(torch.tensor([1, 2]), 0, None, resp)
    return cond, null, frames


def nar_input(seconds: float, level: int = 1) -> tuple[ModelInput, int]:
    """A NAR level pass for ``seconds`` of speech: text, 3 s prompt, ``level`` known levels of codes."""
    frames = int(seconds * FRAMES_PER_SECOND)
    text, prompt = conditioning(seconds)
    codes = torch.randint(0, 1024, (frames, LEVELS), generator=torch.Generator().manual_seed(2))
    return ModelInput.nar(text, 0, prompt, codes, level), frames


def length_of(model: VallEModel, inp: ModelInput) -> int:
    """Positions of ``inp`` as the model lays it out."""
    return int(model.embed(inp).embeds.shape[0])


__all__ = ["PROMPT_FRAMES", "ar_input", "conditioning", "demask_inputs", "length_of", "nar_input", "prefilled",
           "timing_cache"]
