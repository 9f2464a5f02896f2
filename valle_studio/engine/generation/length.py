"""Duration prediction (the ``len`` task): greedy digits from head ``proj.10`` until the stop token 10.

The sequence starts with the digit token 0 and upstream keeps it: digits ``[0, 7, 8, 8]`` + stop read
as ``int("0788")`` = 788 frames. At most 10 digits are predicted; without a stop all 11 (the leading
0 included) make up the number. Upstream's ``TTS.inference`` then uses ``int(max(len, 75) * 1.05)``;
that post-processing belongs to the caller.
"""

from __future__ import annotations

import torch
from torch import Tensor

from valle_studio.engine.generation._common import make_conditioning
from valle_studio.engine.generation.causal import CausalRunner
from valle_studio.engine.model import ModelInput, VallEModel
from valle_studio.engine.model.config import LEN_STOP
from valle_studio.engine.model.prompt_mix import PromptMix
from valle_studio.engine.progress import CancelToken, ProgressCallback, report

STAGE = "predicting length"
MAX_DIGITS = 10


@torch.inference_mode()
def predict_length_tokens(
    model: VallEModel,
    *,
    text: Tensor,
    language_id: int = 0,
    prompt: Tensor | PromptMix | None = None,
    raw_text: bool = False,
    prompt_task: str | None = None,
    max_digits: int = MAX_DIGITS,
    use_cache: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[int]:
    """The len tokens as upstream produces them: ``[0, d1, ..., dk]`` plus ``10`` if it stopped."""
    if not model.config.supports_len:
        raise ValueError("this model has no duration head (len); use the AR+NAR modality or give a duration")
    cond = make_conditioning(model, text, language_id, prompt, raw_text, prompt_task)
    digits = torch.zeros(1, dtype=torch.long, device=model.device)
    inp = ModelInput.length(cond.text, cond.language_id, cond.prompt, digits, **cond.input_kwargs())
    runner = CausalRunner(model, [inp], "len", extra=max_digits, use_cache=use_cache)
    tokens = [0]
    try:
        logits = runner.start(1)[:, -1]
        for step in range(max_digits):
            report(progress, cancel, STAGE, step, max_digits)
            token = int(logits[0].argmax())
            tokens.append(token)
            if token == LEN_STOP or step + 1 == max_digits:
                break
            logits = runner.push(token)
    finally:
        runner.close()
    report(progress, cancel, STAGE, max_digits, max_digits)
    return tokens


def tokens_to_frames(tokens: list[int]) -> int:
    """``[0, 7, 8, 8, 10]`` -> 788: every digit before the stop, the leading 0 included."""
    digits = [t for t in tokens if t != LEN_STOP]
    return int("".join(str(d) for d in digits)) if digits else 0


@torch.inference_mode()
def predict_length(
    model: VallEModel,
    *,
    text: Tensor,
    language_id: int = 0,
    prompt: Tensor | PromptMix | None = None,
    raw_text: bool = False,
    prompt_task: str | None = None,
    max_digits: int = MAX_DIGITS,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Predicted duration in frames (75 per second), before upstream's floor and padding."""
    tokens = predict_length_tokens(
        model,
        text=text,
        language_id=language_id,
        prompt=prompt,
        raw_text=raw_text,
        prompt_task=prompt_task,
        max_digits=max_digits,
        progress=progress,
        cancel=cancel,
    )
    return tokens_to_frames(tokens)
