"""AR level 0 by beam search: ``width`` hypotheses at once, the best length-normalised one wins.

The search itself (:func:`valle_studio.engine.sampling.beam_search`) is model-free; this module gives it
the model's next-token logits. With the KV cache (the normal case) the prompt is prefilled once into a
cache of one row, which is then reordered to the hypotheses kept at every step (``KVCache.reorder``),
so each step costs one decode of ``width`` rows. Classifier-free guidance keeps a cond and a null
cache, and, as the plain AR loop does, every response row so far of each hypothesis (the rescale's
std spans them all). Inputs whose positions cannot grow token by token (the ns/sr prompt quirk) run
uncached: the whole sequence of every hypothesis again each step, as upstream does.

The result is the same kind of ``[t]`` level-0 codes :func:`~valle_studio.engine.generation.generate_ar`
returns; it does not stream, because the best hypothesis is only known at the end.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from valle_studio.engine.generation._common import Conditioning, codes_tensor, make_conditioning
from valle_studio.engine.model import KVCache, ModelInput, VallEModel
from valle_studio.engine.model.config import STOP_TOKEN
from valle_studio.engine.model.prompt_mix import PromptMix
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.sampling import SamplerConfig, beam_search, cfg_combine

STAGE = "generating"


@torch.inference_mode()
def generate_ar_beam(
    model: VallEModel,
    *,
    text: Tensor,
    width: int,
    language_id: int = 0,
    prompt: Tensor | PromptMix | None = None,
    sampler: SamplerConfig,
    max_frames: int,
    prefix: Tensor | None = None,
    cfg_strength: float = 0.0,
    cfg_rescale: float = 0.7,
    raw_text: bool = False,
    prompt_task: str | None = None,
    use_cache: bool = True,
    early_stopping: bool = True,
    generator: torch.Generator | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Tensor:
    """Level-0 codes ``[t]`` int64 of the best hypothesis (t <= ``max_frames``, stop token excluded).

    Arguments as :func:`~valle_studio.engine.generation.generate_ar`, plus ``width`` (hypotheses kept,
    >= 1). ``sampler``'s processors shape each hypothesis's scores; its temperature only scales them
    (nothing is drawn at random, so ``generator`` is unused and accepted for a uniform signature).
    """
    del generator  # deterministic: nothing is drawn
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    cond = make_conditioning(model, text, language_id, prompt, raw_text, prompt_task)
    start = codes_tensor(model, prefix, "prefix")[:, 0] if prefix is not None and len(prefix) else None
    resp0 = start if start is not None else torch.zeros(0, dtype=torch.long, device=model.device)
    inputs = [_ar_input(cond, resp0)]
    if cfg_strength > 0.0:
        inputs.append(_ar_input(cond.null(), resp0))
    quirk = cond.prompt_task is not None and cond.prompt is not None and not model.config.unified_position_ids
    scorer = _Scorer(model, inputs, max_frames, cfg_strength, cfg_rescale, cached=use_cache and not quirk)
    try:
        result = beam_search(
            scorer.first(), scorer.step, width=width, max_steps=max_frames, stop_token=STOP_TOKEN,
            sampler=sampler, prefix=resp0.tolist(), early_stopping=early_stopping,
            on_step=lambda i: report(progress, cancel, STAGE, i, max_frames))
    finally:
        scorer.close()
    report(progress, cancel, STAGE, max_frames, max_frames)
    return torch.tensor(result.tokens, dtype=torch.long, device=model.device)


def _ar_input(cond: Conditioning, resp: Tensor) -> ModelInput:
    return ModelInput.ar(cond.text, cond.language_id, cond.prompt, resp, **cond.input_kwargs())


class _Scorer:
    """Next-token logits of every hypothesis: ``first()`` once, then ``step(parents, tokens)``."""

    def __init__(self, model: VallEModel, inputs: list[ModelInput], max_frames: int, cfg_strength: float,
                 cfg_rescale: float, *, cached: bool) -> None:
        self.model = model
        self.inputs = inputs  # [cond] or [cond, null], each for the empty hypothesis
        self.cfg = (cfg_strength, cfg_rescale) if len(inputs) > 1 else None
        self.cached = cached
        self.max_frames = max_frames
        self.caches: list[KVCache] = []
        self.tokens: list[list[int]] = [[]]  # per hypothesis (uncached path)
        self.rows: list[Tensor] = []  # CFG: every response row so far per input, [W, n, C]

    def first(self) -> Tensor:
        """``[1, C]``: the logits that choose each hypothesis's first token."""
        resp = self.inputs[0].resp
        assert resp is not None
        rows = resp.shape[0] + 1 if self.cfg else 1
        outs = []
        for inp in self.inputs:
            if self.cached:
                length = self.model.embed(inp).embeds.shape[0]
                cache = self.model.new_cache(1, length + self.max_frames + 1)
                self.caches.append(cache)
                outs.append(self.model.prefill([inp], cache, last=rows))
            else:
                outs.append(self.model([inp], last=rows))
        return self._combine(outs)

    def step(self, parents: Tensor, tokens: Tensor) -> Tensor:
        """Keep hypotheses ``parents`` and append ``tokens`` (both ``[W]``); logits ``[W, C]``."""
        if self.cfg:
            self.rows = [r.index_select(0, parents) for r in self.rows]
        if self.cached:
            outs = []
            for cache in self.caches:
                cache.reorder(parents)
                outs.append(self.model.decode(cache, tokens, "ar")[:, None])
            return self._combine(outs)
        self.tokens = [[*self.tokens[p], t] for p, t in zip(parents.tolist(), tokens.tolist(), strict=True)]
        rows = len(self.tokens[0]) + (self.inputs[0].resp.shape[0] if self.inputs[0].resp is not None else 0) + 1
        outs = []
        for inp in self.inputs:
            assert inp.resp is not None
            batch = [replace(inp, resp=torch.cat([inp.resp, torch.tensor(t, dtype=torch.long, device=inp.resp.device)]))
                     for t in self.tokens]
            new = self.model(batch, last=rows if self.cfg else 1)
            outs.append(new[:, -1:] if self.cfg and self.rows else new)
        return self._combine(outs)

    def _combine(self, outs: list[Tensor]) -> Tensor:
        """``outs``: per input ``[W, n_new, C]``; the last row of each hypothesis, CFG-combined."""
        if self.cfg is None:
            return outs[0][:, -1]
        self.rows = [torch.cat([old, new], dim=1) for old, new in zip(self.rows, outs, strict=True)] \
            if self.rows else list(outs)
        strength, rescale = self.cfg
        cond, null = self.rows
        return torch.cat([cfg_combine(cond[b], null[b], strength, rescale)[-1:] for b in range(cond.shape[0])])

    def close(self) -> None:
        self.caches.clear()
        self.rows.clear()


__all__ = ["generate_ar_beam"]
