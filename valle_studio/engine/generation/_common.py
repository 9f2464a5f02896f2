"""What every generation loop shares: checked conditioning inputs, the CFG null input, batching choice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict

import torch
from torch import Tensor

from valle_studio.engine.model import ModelInput, VallEModel
from valle_studio.engine.model.config import AUDIO_TOKENS, BOS_TOKEN, EOS_TOKEN, TASKS
from valle_studio.engine.model.prompt_mix import PromptMix

#: The unconditional ("null") text of classifier-free guidance: just <bos></eos>.
NULL_TEXT = (BOS_TOKEN, EOS_TOKEN)
#: Prompt tasks that put a task token inside the prompt segment.
PROMPT_TASKS = ("ns", "sr")


@dataclass(frozen=True)
class Conditioning:
    """The inputs that stay fixed during one loop, already on the model's device.

    ``text``: ``[N]`` int64; ``prompt``: ``[P, K]`` int64 codes, a :class:`PromptMix` of several voices
    (blending), or None.
    """

    text: Tensor
    language_id: int
    prompt: Tensor | PromptMix | None
    raw_text: bool
    prompt_task: int | None

    def null(self) -> Conditioning:
        """The CFG unconditional input: text ``[1, 2]``, no prompt, same language."""
        text = torch.tensor(NULL_TEXT, dtype=torch.long, device=self.text.device)
        return replace(self, text=text, prompt=None, prompt_task=None)

    def input_kwargs(self) -> InputFlags:
        return {"text_is_raw": self.raw_text, "prom_task": self.prompt_task}


class InputFlags(TypedDict):
    """The keyword arguments of the :class:`ModelInput` constructors that a :class:`Conditioning` sets."""

    text_is_raw: bool
    prom_task: int | None


def make_conditioning(
    model: VallEModel,
    text: Tensor,
    language_id: int,
    prompt: Tensor | PromptMix | None,
    raw_text: bool,
    prompt_task: str | None = None,
) -> Conditioning:
    """Check the inputs of a loop against the model and move them to its device."""
    cfg = model.config
    text = torch.as_tensor(text).to(model.device).long()
    if text.dim() != 1 or text.numel() == 0:
        raise ValueError(f"text must be a non-empty [N] tensor of token ids, got shape {tuple(text.shape)}")
    vocab = cfg.raw_text_tokens if raw_text else cfg.text_tokens
    if raw_text and not cfg.supports_raw_text:
        raise ValueError("this model has no raw-text embedding; phonemize the text instead")
    if int(text.min()) < 0 or int(text.max()) >= vocab:
        kind = "raw-text" if raw_text else "phoneme"
        raise ValueError(f"text holds ids outside the model's {vocab} {kind} tokens")
    if not 0 <= int(language_id) < cfg.langs:
        raise ValueError(f"language id {language_id} is out of range (the model knows {cfg.langs} languages)")
    prom: Tensor | PromptMix | None = None
    if isinstance(prompt, PromptMix):
        if int(prompt.codes.min()) < 0 or int(prompt.codes.max()) >= AUDIO_TOKENS:
            raise ValueError(f"prompt codes must lie in [0, {AUDIO_TOKENS})")
        prom = prompt.to(model.device)
    elif prompt is not None:
        prom = torch.as_tensor(prompt).to(model.device).long()
        if prom.dim() != 2 or prom.shape[1] == 0:
            raise ValueError(f"prompt codes must be [frames, levels], got shape {tuple(prom.shape)}")
        if prom.numel() and (int(prom.min()) < 0 or int(prom.max()) >= AUDIO_TOKENS):
            raise ValueError(f"prompt codes must lie in [0, {AUDIO_TOKENS})")
        if prom.shape[0] == 0:
            prom = None
    task_id = None
    if prompt_task is not None:
        if prompt_task not in PROMPT_TASKS:
            raise ValueError(f"prompt task must be one of {', '.join(PROMPT_TASKS)}, not {prompt_task!r}")
        if model.tasks_emb is None:
            raise ValueError("this model has no task embedding (tasks_emb) for ns/sr prompts")
        if prom is None:
            raise ValueError(f"the {prompt_task} task needs a prompt")
        task_id = TASKS[prompt_task]
    return Conditioning(text, int(language_id), prom, bool(raw_text), task_id)


def codes_tensor(model: VallEModel, codes: Tensor, name: str, *, levels: int | None = None) -> Tensor:
    """Check ``codes`` (``[T]`` or ``[T, K]``, values 0..1023); return ``[T, K]`` on the model's device."""
    c = torch.as_tensor(codes).to(model.device).long()
    if c.dim() == 1:
        c = c[:, None]
    if c.dim() != 2 or c.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty [T] or [T, levels] code tensor, got {tuple(c.shape)}")
    if levels is not None and c.shape[1] < levels:
        raise ValueError(f"{name} needs at least {levels} levels, got {c.shape[1]}")
    if int(c.min()) < 0 or int(c.max()) >= AUDIO_TOKENS:
        raise ValueError(f"{name} must hold codes in [0, {AUDIO_TOKENS})")
    return c


def batch_full_passes(model: VallEModel, cond: ModelInput, null: ModelInput, batch: bool | None) -> bool:
    """Whether one padded batch beats two passes for a cond/null pair of full (uncached) forwards.

    On GPUs the batch always wins (launch-bound). On the CPU a full pass is compute-bound: every pad
    row costs as much as a real one, while batching only saves per-operation overhead. So the CPU
    batches only when padding the null input up to the conditional length adds at most a tenth (or
    16 rows). Measured on the full-size model (2-core EPYC, ``benchmarks/``): a 5 s NAR-len step took
    8.3 s as two passes and 9.8 s as a padded batch (cond 678 and null 382 tokens).
    """
    if batch is not None:
        return batch
    if model.device.type != "cpu":
        return True
    cond_len = model.embed(cond).embeds.shape[0]
    null_len = model.embed(null).embeds.shape[0]
    return abs(cond_len - null_len) <= max(16, cond_len // 10)


def run_pair(
    model: VallEModel, cond: ModelInput, null: ModelInput | None, rows: int, batch: bool
) -> tuple[Tensor, Tensor | None]:
    """Logits of the last ``rows`` rows of ``cond`` (and ``null``): ``[rows, C]`` each."""
    if null is None:
        return model([cond], last=rows)[0], None
    if batch:
        both = model([cond, null], last=rows)
        return both[0], both[1]
    return model([cond], last=rows)[0], model([null], last=rows)[0]
