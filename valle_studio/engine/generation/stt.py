"""Speech-to-text with the model's own phoneme head (``classifiers.proj.9``).

Layout: ``resp (all levels summed) · lang · quant_level(0) · text``; the text starts with ``<bos>`` (1)
and grows one phoneme per step until ``</eos>`` (2). Upstream HEAD routes this task to a classifier
name that does not exist and so returns hidden states; the ``stt`` head is what the task was trained
with, and the parity fixtures apply it the same way.
"""

from __future__ import annotations

import torch
from torch import Tensor

from valle_studio.engine.generation._common import codes_tensor
from valle_studio.engine.generation.causal import CausalRunner
from valle_studio.engine.model import ModelInput, VallEModel
from valle_studio.engine.model.config import BOS_TOKEN, EOS_TOKEN, LEVELS
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.sampling import SamplerConfig, sample

STAGE = "transcribing"
GREEDY = SamplerConfig(temperature=0.0)


@torch.inference_mode()
def transcribe(
    model: VallEModel,
    codes: Tensor,
    *,
    language_id: int = 0,
    max_tokens: int = 500,
    sampler: SamplerConfig = GREEDY,
    use_cache: bool = True,
    generator: torch.Generator | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Tensor:
    """Phoneme ids ``[n]`` int64 heard in ``codes`` ``[T, 8]`` (without ``<bos>`` and ``</eos>``).

    Greedy by default; stops at ``</eos>`` or after ``max_tokens`` phonemes.
    """
    if not model.config.has_stt_head:
        raise ValueError("this model has no speech-to-text head (classifiers.proj.9)")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    c = codes_tensor(model, codes, "codes", levels=LEVELS - 1)
    if not 0 <= int(language_id) < model.config.langs:
        raise ValueError(f"language id {language_id} is out of range (the model knows {model.config.langs})")
    start = torch.tensor([BOS_TOKEN], dtype=torch.long, device=model.device)
    runner = CausalRunner(
        model, [ModelInput.stt(c, int(language_id), start)], "stt", extra=max_tokens, use_cache=use_cache
    )
    tokens: list[int] = []
    try:
        logits = runner.start(1)[:, -1]
        for step in range(max_tokens):
            report(progress, cancel, STAGE, step, max_tokens)
            history = torch.tensor([BOS_TOKEN, *tokens], dtype=torch.long, device=logits.device)
            out = sample(
                logits[:1].clone(), sampler, history=history, stop_token=EOS_TOKEN, generator=generator
            )
            token = int(out.ids[0])
            if token == EOS_TOKEN:
                break
            tokens.append(token)
            if step + 1 == max_tokens:
                break
            logits = runner.push(token)
    finally:
        runner.close()
    report(progress, cancel, STAGE, max_tokens, max_tokens)
    return torch.tensor(tokens, dtype=torch.long, device=model.device)
