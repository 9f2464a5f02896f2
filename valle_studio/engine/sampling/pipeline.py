"""Assemble the processors from a :class:`SamplerConfig` in upstream's order, then pick the tokens.

Order (upstream ``Base.sample``): repetition penalty -> length penalty (only with a stop token) -> min-p
-> top-k -> top-p -> dynamic temperature or temperature -> top-nσ -> DRY -> the choice: mirostat v2
(temperature > 0, one sequence), else argmax (temperature <= 0) or a categorical draw; then
repetition-aware sampling may redraw it. The score of a token is its softmax probability under the
final logits. Every new step (DRY, mirostat, RAS) is off by default, so the chain of a default config
is exactly the one the golden vectors check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from ._checks import check_history, check_int, check_logits
from .choosers import MirostatState, RepetitionAware, mirostat_v2
from .config import SamplerConfig
from .dry import Dry
from .filters import MinP, TopK, TopNSigma, TopP
from .penalties import LengthPenalty, RepetitionPenalty
from .temperature import DynamicTemperature, Temperature


class LogitsProcessor(Protocol):
    """The one signature every processor shares."""

    def __call__(self, logits: Tensor, history: Tensor | None) -> Tensor:
        """logits: [rows, classes] float; history: [n] int64 or None -> [rows, classes] (maybe ``logits``)."""
        ...


@dataclass
class SampleOutput:
    """Result of :func:`sample` for ``rows`` positions."""

    ids: Tensor  # [rows] int64, the chosen token of each row
    scores: Tensor  # [rows] float32, softmax(logits)[id] per row
    logits: Tensor  # [rows, classes], the logits after every processor


def build_processors(config: SamplerConfig, *, stop_token: int | None = None) -> list[LogitsProcessor]:
    """The processors ``config`` switches on, in upstream's order. Processors that are off are left out."""
    return build_penalties(config, stop_token=stop_token) + build_filters(config)


def build_penalties(config: SamplerConfig, *, stop_token: int | None = None) -> list[LogitsProcessor]:
    """The history penalties (repetition, length): what repetition-aware sampling's fallback still sees."""
    chain: list[LogitsProcessor] = []
    if config.repetition_penalty != 1.0:
        chain.append(RepetitionPenalty(config.repetition_penalty, config.repetition_penalty_decay))
    if stop_token is not None and config.length_penalty != 0.0:
        chain.append(LengthPenalty(config.length_penalty, stop_token))
    return chain


def build_filters(config: SamplerConfig) -> list[LogitsProcessor]:
    """Everything after the penalties: truncating filters, temperature, top-nσ and DRY."""
    chain: list[LogitsProcessor] = []
    if config.min_p > 0.0:
        chain.append(MinP(config.min_p))
    if config.top_k > 0:
        chain.append(TopK(config.top_k))
    if config.top_p < 1.0:
        chain.append(TopP(config.top_p))
    if config.dynamic_temperature:
        assert config.min_temperature is not None  # implied by dynamic_temperature
        chain.append(DynamicTemperature(config.temperature, config.min_temperature))
    elif config.temperature > 0.0:
        chain.append(Temperature(config.temperature))
    if config.top_no > 0.0:
        chain.append(TopNSigma(config.top_no))
    if config.dry_multiplier > 0.0:
        chain.append(Dry(config.dry_multiplier, config.dry_base, config.dry_allowed_length,
                         frozenset(config.dry_sequence_breakers)))
    return chain


@torch.no_grad()
def sample(
    logits: Tensor,
    config: SamplerConfig,
    *,
    history: Tensor | None = None,
    stop_token: int | None = None,
    generator: torch.Generator | None = None,
    mirostat: MirostatState | None = None,
) -> SampleOutput:
    """Process ``logits`` and choose one token per row.

    logits: [rows, classes] float. AR passes only its last row; NAR passes its T rows. Edited IN PLACE
        by the in-place processors, exactly as upstream (NAR-len's second, greedy call relies on it).
    history: [n] int64 earlier tokens for the repetition/length penalties; with n == rows it is the
        previous NAR level and the repetition penalty runs in NAR mode.
    stop_token: the class the length penalty acts on (AR: 1024); None = no length penalty.
    generator: optional ``torch.Generator`` for the categorical draw (temperature > 0).
    mirostat: the running state of mirostat v2 for this sequence (``config.uses_mirostat``), updated in
        place; None starts a fresh one, so one call on its own behaves as the first step of a sequence.
    """
    if not isinstance(config, SamplerConfig):
        raise ValueError(f"config must be a SamplerConfig, got {type(config).__name__}")
    check_logits(logits)
    classes = logits.shape[-1]
    history = check_history(history, classes)
    if stop_token is not None:
        check_int("stop_token", stop_token, low=0)
        if stop_token >= classes:
            raise ValueError(f"stop_token {stop_token} is out of range for {classes}-class logits")

    for processor in build_penalties(config, stop_token=stop_token):
        logits = processor(logits, history)
    # RAS redraws from the distribution before the truncating filters (which edit in place).
    original = logits.clone() if config.uses_ras else None
    for processor in build_filters(config):
        logits = processor(logits, history)

    probs = torch.softmax(logits.float(), dim=-1)
    if config.uses_mirostat:
        state = mirostat if mirostat is not None else MirostatState.start(config.mirostat_tau, config.mirostat_eta)
        ids = torch.tensor([mirostat_v2(logits, state, generator).token], device=logits.device)
    elif config.temperature <= 0.0:
        ids = logits.argmax(dim=-1)
    else:
        ids = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    if original is not None:
        ras = RepetitionAware(config.ras_window, config.ras_threshold)
        ids = ras.choose(ids, history, original, config.temperature, generator)
    scores = probs.gather(-1, ids.unsqueeze(-1)).squeeze(-1)
    return SampleOutput(ids=ids.to(torch.int64), scores=scores, logits=logits)

