"""From tokenized lines and a prompt to code matrices: modality choice, durations, rolling context.

This is the one place where :class:`GenerationSettings` turns into the arguments of the per-stage
loops in :mod:`valle_studio.engine.generation`, following ``shared/reference/generation-semantics.md``:
one settings dict drives every stage (AR level 0, NAR levels 1..7, NAR-len demasking).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypedDict

import torch

from valle_studio.core.codec_format import FRAMES_PER_SECOND, LEVELS
from valle_studio.engine.model.prompt_mix import PromptMix
from valle_studio.engine.progress import CancelToken, ProgressCallback
from valle_studio.engine.sampling import SamplerConfig
from valle_studio.engine.settings import GenerationSettings

if TYPE_CHECKING:
    from valle_studio.engine.model.vall_e import VallEModel

LEN_FLOOR_FRAMES = FRAMES_PER_SECOND  # upstream never predicts less than one second ...
LEN_PADDING = 1.05  # ... and pads the predicted length by 5 %


@dataclass(frozen=True)
class LineInput:
    """One line to generate. ``ids``: ``[P]`` int64 token ids with ``<bos>``/``</eos>``."""

    ids: torch.Tensor
    language_id: int
    raw_text: bool = False


@dataclass(frozen=True)
class ContextEntry:
    """A finished line, as the rolling context of the lines after it sees it."""

    ids: torch.Tensor  # [P] tokens of the line (without the context it was generated with)
    codes: torch.Tensor  # [T, 8] its generated codes


def resolve_modality(settings: GenerationSettings, can_nar_len: bool) -> str:
    """``auto`` -> NAR-len when the model has the len head and NAR-len embedding, else AR+NAR."""
    if settings.modality == "auto":
        return "nar-len" if can_nar_len else "ar+nar"
    if settings.modality == "nar-len" and not can_nar_len:
        raise ValueError("this model cannot do NAR-len (no length head); choose the AR+NAR modality")
    return settings.modality


def ar_sampler(settings: GenerationSettings) -> SamplerConfig:
    """Sampler of AR level 0 (temperature = ``ar_temperature``), DRY, mirostat and RAS included."""
    return _sampler(settings, settings.ar_temperature)


def nar_len_sampler(settings: GenerationSettings) -> SamplerConfig:
    """Sampler of NAR-len demasking: AR level 0's, without the samplers of one sequence decoded step by
    step (DRY, mirostat, RAS): demasking samples every frame at once and has no "sequence so far"."""
    return ar_sampler(settings).without_sequence_choosers()


def nar_sampler(settings: GenerationSettings) -> SamplerConfig:
    """Sampler of NAR levels 1..7 (temperature = ``nar_temperature``; no length penalty, no DRY, mirostat
    or RAS: like demasking, a level is sampled all at once)."""
    return _sampler(settings, settings.nar_temperature, length_penalty=0.0).without_sequence_choosers()


def _sampler(settings: GenerationSettings, temperature: float, length_penalty: float | None = None
             ) -> SamplerConfig:
    return SamplerConfig(
        temperature=temperature,
        min_temperature=settings.min_temperature,
        top_k=settings.top_k,
        top_p=settings.top_p,
        min_p=settings.min_p,
        top_no=settings.top_no,
        repetition_penalty=settings.repetition_penalty,
        repetition_penalty_decay=settings.repetition_penalty_decay,
        length_penalty=settings.length_penalty if length_penalty is None else length_penalty,
        dry_multiplier=settings.dry_multiplier,
        dry_base=settings.dry_base,
        dry_allowed_length=settings.dry_allowed_length,
        dry_sequence_breakers=settings.dry_sequence_breakers,
        mirostat_tau=settings.mirostat_tau,
        mirostat_eta=settings.mirostat_eta,
        ras_window=settings.ras_window,
        ras_threshold=settings.ras_threshold,
    )


def effective_cfg(settings: GenerationSettings) -> float:
    """CFG strength for the AR and NAR passes.

    Strength 1 reproduces the conditional logits (``null + (cond - null) * 1``, and the rescale factor
    is then 1), so the unconditional pass is skipped: same result as upstream up to float rounding,
    half the compute in the web UI's default configuration.
    """
    return 0.0 if settings.cfg_strength == 1.0 else settings.cfg_strength


def nar_len_frames(predicted: int | None, settings: GenerationSettings) -> int:
    """Frames for NAR-len: a given ``duration_frames`` is used as is; a predicted length gets
    upstream's floor and padding; both are clamped to ``[1, max_duration frames]``."""
    cap = settings.max_duration_frames()
    if settings.duration_frames is not None:
        frames = settings.duration_frames
    else:
        assert predicted is not None
        frames = int(max(predicted, LEN_FLOOR_FRAMES) * LEN_PADDING)
    return max(1, min(frames, cap))


def _with_context(line: LineInput, history: Sequence[ContextEntry]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Rolling context (upstream §4): previous lines' tokens joined as ``prefix[:-1] + current[1:]``
    (dropping the inner ``</eos><bos>``), and their level-0 codes as a response prefix."""
    if not history:
        return line.ids, None
    ids = history[0].ids
    for entry in history[1:]:
        ids = torch.cat([ids[:-1], entry.ids[1:]])
    ids = torch.cat([ids[:-1], line.ids[1:]])
    prefix = torch.cat([entry.codes[:, 0] for entry in history])
    return ids, prefix


class NothingGenerated(ValueError):
    """The model stopped before producing a single frame for any line."""


def empty_codes(model: VallEModel) -> torch.Tensor:
    """``[0, 8]`` int64: a line for which the AR chose the stop token at its very first step."""
    return torch.zeros((0, LEVELS), dtype=torch.long, device=model.device)


def generate_line(model: VallEModel, line: LineInput, ids: torch.Tensor, prefix: torch.Tensor | None,
                  common: LineArgs, settings: GenerationSettings, modality: str) -> torch.Tensor:
    """One line: level 0 (AR or NAR-len), then NAR levels 1..7. Returns ``[T, 8]`` int64.

    ``ids``: the line's tokens with the rolling context joined in; ``prefix``: the context's level-0
    codes (or None); ``common``: ``language_id, prompt, raw_text, generator, progress, cancel``.
    The length is predicted, and the NAR levels refined, from the line's own tokens (``line.ids``):
    the context only steers level 0, as upstream does.
    """
    from valle_studio.engine import generation as gen

    if modality == "ar+nar":
        if settings.beam_width > 1:
            level0 = gen.generate_ar_beam(model, text=ids, width=settings.beam_width, sampler=ar_sampler(settings),
                                          max_frames=settings.max_duration_frames(), prefix=prefix,
                                          cfg_strength=effective_cfg(settings), cfg_rescale=settings.cfg_rescale,
                                          **common)
        else:
            level0 = gen.generate_ar(model, text=ids, sampler=ar_sampler(settings),
                                     max_frames=settings.max_duration_frames(), prefix=prefix,
                                     cfg_strength=effective_cfg(settings), cfg_rescale=settings.cfg_rescale, **common)
        if level0.numel() == 0:  # stop token at the first step: this line says nothing
            return empty_codes(model)
    else:
        predicted = None
        if settings.duration_frames is None:
            predicted = gen.predict_length(model, text=line.ids, language_id=common["language_id"],
                                           prompt=common["prompt"], raw_text=common["raw_text"],
                                           progress=common["progress"], cancel=common["cancel"])
        level0 = gen.generate_nar_len(model, text=ids, length=nar_len_frames(predicted, settings),
                                      sampler=nar_len_sampler(settings), steps=settings.max_steps,
                                      cfg_strength=settings.cfg_strength, cfg_rescale=settings.cfg_rescale,
                                      remask=settings.remask, masked_only=settings.scores_masked_only,
                                      prefix=prefix, **common)
    return gen.generate_nar(model, level0=level0, text=line.ids, sampler=nar_sampler(settings),
                            cfg_strength=effective_cfg(settings), cfg_rescale=settings.cfg_rescale, **common)


def line_context(line: LineInput, index: int, count: int, history: Sequence[ContextEntry],
                 settings: GenerationSettings) -> tuple[torch.Tensor, torch.Tensor | None, str]:
    """``(ids, prefix, detail)`` for line ``index`` of ``count``: the last ``context_history``
    finished lines joined in, and the "sentence i/n" text its progress events carry."""
    keep = history[-settings.context_history:] if settings.context_history else []
    ids, prefix = _with_context(line, keep)
    return ids, prefix, (f"sentence {index + 1}/{count}" if count > 1 else "")


class LineArgs(TypedDict):
    """The keyword arguments every generation loop of one line takes (the length prediction all but
    ``generator``)."""

    language_id: int
    prompt: torch.Tensor | PromptMix | None
    raw_text: bool
    generator: torch.Generator
    progress: ProgressCallback | None
    cancel: CancelToken | None


@dataclass(frozen=True)
class LineJob:
    """One line of a request, ready to generate: ``ids`` with the rolling context joined in, ``prefix``
    the context's level-0 codes (or None), ``common`` the keyword arguments every loop of the line takes
    (``language_id, prompt, raw_text, generator, progress, cancel``; progress tagged "sentence i/n")."""

    index: int
    line: LineInput
    ids: torch.Tensor
    prefix: torch.Tensor | None
    common: LineArgs


class RollingContext:
    """The lines of one request in order, each given the codes of the lines finished before it.

    :meth:`jobs` builds each :class:`LineJob` only when it is asked for, from the lines :meth:`finish`
    has recorded so far, so a caller finishes line i before it takes job i + 1 (``generate_lines`` and
    streaming both loop this way).
    """

    def __init__(self, lines: Sequence[LineInput], prompt: torch.Tensor | PromptMix | None,
                 settings: GenerationSettings, *,
                 generator: torch.Generator, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> None:
        self.lines = list(lines)
        self.settings = settings
        self.history: list[ContextEntry] = []
        self._prompt = prompt
        self._generator = generator
        self._cancel = cancel
        self._progress = progress

    def jobs(self) -> Iterator[LineJob]:
        for index, line in enumerate(self.lines):
            ids, prefix, detail = line_context(line, index, len(self.lines), self.history, self.settings)
            common = LineArgs(language_id=line.language_id, raw_text=line.raw_text,
                              progress=tagged_progress(self._progress, detail), prompt=self._prompt,
                              generator=self._generator, cancel=self._cancel)
            yield LineJob(index, line, ids, prefix, common)

    def finish(self, job: LineJob, codes: torch.Tensor) -> None:
        """Record ``codes`` ``[T, 8]`` as the result of ``job``'s line."""
        self.history.append(ContextEntry(job.line.ids, codes))

    def check_spoken(self) -> None:
        """Raise :class:`NothingGenerated` when every finished line came out empty."""
        if not any(len(entry.codes) for entry in self.history):
            raise NothingGenerated(NOTHING_GENERATED)


def generate_lines(model: VallEModel, lines: Sequence[LineInput], prompt: torch.Tensor | PromptMix | None,
                   settings: GenerationSettings, *, modality: str, generator: torch.Generator,
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                   ) -> list[torch.Tensor]:
    """Generate every line; returns one ``[T, 8]`` int64 code matrix per line (``[0, 8]`` for a line
    the model ended at once). Raises :class:`NothingGenerated` when every line came out empty."""
    context = RollingContext(lines, prompt, settings, generator=generator, progress=progress, cancel=cancel)
    for job in context.jobs():
        context.finish(job, generate_line(model, job.line, job.ids, job.prefix, job.common, settings, modality))
    context.check_spoken()
    return [entry.codes for entry in context.history]


NOTHING_GENERATED = ("the model stopped before saying anything (it chose its stop token at the first step); "
                     "try again with another seed or a higher temperature")


def tagged_progress(progress: ProgressCallback | None, detail: str) -> ProgressCallback | None:
    """``progress`` with ``detail`` ("sentence i/n") set on every event of one line."""
    if progress is None or not detail:
        return progress
    return lambda event: progress(replace(event, detail=detail))

