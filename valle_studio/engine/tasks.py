"""The tasks beyond text-to-speech that the published models were trained on: clean-up and voice conversion.

- ``ns`` (noise suppression) and ``sr`` (speech removal) take one clip and say it again cleaned (ns) or
  leave only what is not speech (sr). Upstream's layout (``TTS.inference`` with ``task="ns"|"sr"``): the
  prompt segment is ``tasks_emb(2 or 3)`` followed by the clip's codes (the position quirk of
  ecker-vall-e.md §3.1 included, see ``model/inputs.py``), the text is the clip's own transcript, and
  the length is the clip's (NAR-len: no length prediction). The NAR levels 1..7 get the same task prompt.
  A model without NAR-len runs the AR instead, with the same inputs (its stop token decides the length).
- ``vc`` (voice conversion, NAR-len only, experimental upstream): a source clip's words in a target
  voice. The prompt is the target voice; the text is the source's transcript; the NAR-len demasking
  starts from the source's level-0 codes (``generation/nar_len.py``, ``vc_start``) and keeps its length.

The transcript: upstream's web UI fills the text box with Whisper's transcript. Here the model's own
speech-to-text head (``classifiers.proj.9``) hears the clip, which gives its phoneme ids directly, in the
model's own vocabulary; a caller may give the text instead (it is then phonemized as any text).

What a checkpoint can do is read from its metadata and tensors (:func:`task_support`), never guessed:
``ns``/``sr`` need a task embedding with rows for them (and a ``tasks`` count in the config that
includes them), ``vc`` needs ``len`` among the config's capabilities and the NAR-len tensors; without a
transcript given, each needs the speech-to-text head.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
from torch import Tensor

from valle_studio.core.codec_format import FRAMES_PER_SECOND, SAMPLE_RATE
from valle_studio.engine.model.config import BOS_TOKEN, EOS_TOKEN, TASKS
from valle_studio.engine.model.prompt_mix import PromptMix
from valle_studio.engine.progress import CancelToken, ProgressCallback
from valle_studio.engine.requests import PromptSource, SentenceResult, SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings

if TYPE_CHECKING:
    from valle_studio.engine.model import VallEModel
    from valle_studio.engine.synthesizer import Synthesizer

CleanTask = Literal["ns", "sr"]
TASK_LABELS = {"ns": "noise suppression", "sr": "speech removal", "vc": "voice conversion"}


class TaskError(ValueError):
    """The loaded model cannot do the task (the message says why), or its input is unusable."""


@dataclass(frozen=True)
class TaskSupport:
    """Whether the loaded model can run ``task``; ``reason`` says why not (empty when it can).
    ``needs_text``: it can, but only with a transcript given (no speech-to-text head)."""

    task: str
    available: bool
    reason: str = ""
    needs_text: bool = False


def task_support(model: VallEModel) -> dict[str, TaskSupport]:
    """``ns``, ``sr`` and ``vc`` as the checkpoint's metadata and tensors allow them."""
    cfg = model.config
    needs_text = not cfg.has_stt_head
    support: dict[str, TaskSupport] = {}
    for task in ("ns", "sr"):
        row = TASKS[task]
        declared = cfg.declared_tasks
        if model.tasks_emb is None or cfg.tasks <= row:
            reason = f"this model has no task embedding for {TASK_LABELS[task]} (tasks_emb row {row})"
        elif declared is not None and declared <= row:
            reason = f"this model's config declares {declared} tasks, not {TASK_LABELS[task]} (task {row})"
        else:
            reason = ""
        support[task] = TaskSupport(task, not reason, reason, needs_text and not reason)
    if "len" not in cfg.capabilities:
        reason = "voice conversion needs NAR-len, and this model's config lists no 'len' capability"
    elif not cfg.supports_len:
        reason = "voice conversion needs NAR-len, and this model lacks its tensors (len head, NAR-len embedding)"
    else:
        reason = ""
    support["vc"] = TaskSupport("vc", not reason, reason, needs_text and not reason)
    return support


def require(model: VallEModel, task: str, text_given: bool) -> None:
    """Raise :class:`TaskError` unless ``model`` can run ``task`` (with or without a transcript)."""
    support = task_support(model)[task]
    if not support.available:
        raise TaskError(support.reason)
    if support.needs_text and not text_given:
        raise TaskError(f"{TASK_LABELS[task]} needs the clip's transcript, and this model has no speech-to-text "
                        "head to hear it: give the text")


def transcript_ids(synth: Synthesizer, codes: np.ndarray, text: str | None, language: str, *,
                   progress: ProgressCallback | None, cancel: CancelToken | None) -> Tensor:
    """The text input of a task: ``<bos> phonemes </eos>`` ``[N]`` int64, from ``text`` when given, else what
    the model's own speech-to-text head hears in ``codes`` ``[T, 8]``."""
    from valle_studio.engine.generation import transcribe

    if text is not None and text.strip():
        from valle_studio.engine.text.clean import clean_text

        return torch.tensor(synth.frontend.tokens_for(clean_text(text), language).ids, dtype=torch.long)
    max_tokens = max(8, int(len(codes) / FRAMES_PER_SECOND * 20))  # upstream: seconds x 20
    heard = transcribe(synth.model, torch.as_tensor(codes, device=synth.model.device),
                       language_id=synth.frontend.language_id(language), max_tokens=max_tokens,
                       progress=progress, cancel=cancel)
    if heard.numel() == 0:
        raise TaskError("the model heard no words in the clip, so there is no transcript to say it with; "
                        "give the text")
    return torch.cat([torch.tensor([BOS_TOKEN]), heard.cpu(), torch.tensor([EOS_TOKEN])]).long()


@dataclass(frozen=True)
class TaskInputs:
    """What one task run feeds the generation loops: ``text`` ``[N]``, ``prompt`` (codes ``[P, 8]`` or a
    blend), ``prompt_task`` (ns/sr) and ``length`` frames; ``vc_source`` ``[T, 8]`` for voice conversion."""

    text: Tensor
    language_id: int
    prompt: Tensor | PromptMix | None
    prompt_task: str | None
    length: int
    vc_source: Tensor | None = None


def clean_inputs(text: Tensor, language_id: int, clip_codes: Tensor, task: CleanTask,
                 settings: GenerationSettings) -> TaskInputs:
    """ns/sr: the clip is the prompt, behind its task token; the output keeps the clip's length (capped
    by the duration setting, as upstream clamps it to its maximum duration)."""
    if task not in ("ns", "sr"):
        raise TaskError(f"clean-up task must be ns or sr, not {task!r}")
    length = max(1, min(int(clip_codes.shape[0]), settings.max_duration_frames()))
    return TaskInputs(text, language_id, clip_codes, task, length)


def convert_inputs(text: Tensor, language_id: int, source_codes: Tensor, prompt: Tensor | PromptMix | None,
                   settings: GenerationSettings) -> TaskInputs:
    """vc: the target voice is the prompt; the source's level 0 starts the demasking; its length is kept."""
    length = max(1, min(int(source_codes.shape[0]), settings.max_duration_frames()))
    return TaskInputs(text, language_id, prompt, None, length, source_codes[:length])


def generate(model: VallEModel, inputs: TaskInputs, settings: GenerationSettings, *, use_nar_len: bool,
             generator: torch.Generator, progress: ProgressCallback | None, cancel: CancelToken | None) -> Tensor:
    """Level 0 (NAR-len at the given length, or the AR), then NAR levels 1..7: codes ``[T, 8]`` int64."""
    from valle_studio.engine import generation as gen
    from valle_studio.engine import pipeline

    if use_nar_len:
        level0 = gen.generate_nar_len(model, text=inputs.text, length=inputs.length, language_id=inputs.language_id,
                                      prompt=inputs.prompt, prompt_task=inputs.prompt_task,
                                      sampler=pipeline.nar_len_sampler(settings), steps=settings.max_steps,
                                      cfg_strength=settings.cfg_strength, cfg_rescale=settings.cfg_rescale,
                                      remask=settings.remask, masked_only=settings.scores_masked_only,
                                      vc_source=inputs.vc_source, generator=generator, progress=progress,
                                      cancel=cancel)
    else:
        level0 = gen.generate_ar(model, text=inputs.text, language_id=inputs.language_id, prompt=inputs.prompt,
                                 prompt_task=inputs.prompt_task, sampler=pipeline.ar_sampler(settings),
                                 max_frames=settings.max_duration_frames(),
                                 cfg_strength=pipeline.effective_cfg(settings), cfg_rescale=settings.cfg_rescale,
                                 generator=generator, progress=progress, cancel=cancel)
        if level0.numel() == 0:
            raise TaskError("the model stopped before saying anything; try again with another seed")
    return gen.generate_nar(model, level0=level0, text=inputs.text, language_id=inputs.language_id,
                            prompt=inputs.prompt, prompt_task=inputs.prompt_task,
                            sampler=pipeline.nar_sampler(settings),
                            cfg_strength=pipeline.effective_cfg(settings), cfg_rescale=settings.cfg_rescale,
                            generator=generator, progress=progress, cancel=cancel)


def run_clean(synth: Synthesizer, clip: PromptSource, *, task: CleanTask = "ns", text: str | None = None,
              language: str = "en", settings: GenerationSettings | None = None,
              progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
              decode: bool = True) -> SynthesisResult:
    """Clean one clip with the model (ns) or keep only what is not speech (sr); see the module docstring.
    ``decode=False`` returns codes only (no codec needed for a clip given as codes)."""
    settings = settings or GenerationSettings()
    require(synth.model, task, text is not None and bool(text.strip()))
    return _run(synth, settings, task, [clip], text, language, progress, cancel,
                lambda ids, lang, codes, prompt: clean_inputs(ids, lang, codes, task, settings), decode=decode)


def run_convert(synth: Synthesizer, source: PromptSource, voice: SynthesisRequest, *, text: str | None = None,
                progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                decode: bool = True) -> SynthesisResult:
    """Say the words of ``source`` in the voice of ``voice`` (its prompts or blend, language and settings;
    its text is ignored). NAR-len only; see the module docstring."""
    require(synth.model, "vc", text is not None and bool(text.strip()))
    if not voice.prompts and not voice.blend:
        raise TaskError("voice conversion needs a target voice: give its reference clips")
    settings = voice.settings
    return _run(synth, settings, "vc", [source], text, voice.language, progress, cancel,
                lambda ids, lang, codes, prompt: convert_inputs(ids, lang, codes, prompt, settings), voice,
                decode=decode)


#: ``build(text ids, language id, clip codes, prompt)``: the task's inputs.
_Build = Callable[[Tensor, int, Tensor, "Tensor | PromptMix | None"], TaskInputs]


def _run(synth: Synthesizer, settings: GenerationSettings, task: str, clip: Sequence[PromptSource],
         text: str | None, language: str, progress: ProgressCallback | None, cancel: CancelToken | None,
         build: _Build, voice: SynthesisRequest | None = None, *, decode: bool = True) -> SynthesisResult:
    """Prepare (seed, LoRA, prompts, the clip's codes), transcribe, generate, decode: one task run."""
    started = time.perf_counter()
    request = voice if voice is not None else SynthesisRequest(text="", language=language, settings=settings)
    job = synth.prepare_task(request, clip, codec_needed=decode)
    codes = job.clip_codes
    ids = transcript_ids(synth, codes, text, language, progress=progress, cancel=cancel)
    inputs = build(ids.to(synth.model.device), synth.frontend.language_id(language),
                   torch.as_tensor(codes, device=synth.model.device), job.prompt)
    use_nar_len = task == "vc" or synth.model.can_nar_len
    out = generate(synth.model, inputs, settings, use_nar_len=use_nar_len, generator=job.generator,
                   progress=progress, cancel=cancel)
    codes_np = out.to("cpu", torch.int64).numpy()
    audio = None
    if decode:
        assert job.codec is not None
        audio = np.asarray(job.codec.decode(torch.as_tensor(codes_np)), dtype=np.float32)
    said = synth.frontend.decode_phonemes(ids[1:-1].tolist())
    return SynthesisResult(audio=audio, sample_rate=SAMPLE_RATE, codes=codes_np,
                           sentences=(SentenceResult(text or said, said, codes_np),), seed=job.seed,
                           modality=f"{'nar-len' if use_nar_len else 'ar+nar'} ({task})",
                           elapsed_s=time.perf_counter() - started)


__all__ = ["TASK_LABELS", "CleanTask", "TaskError", "TaskInputs", "TaskSupport", "clean_inputs", "convert_inputs",
           "generate", "require", "run_clean", "run_convert", "task_support", "transcript_ids"]

