"""The functions behind the engine's job kinds; each runs on the engine thread with a JobContext.

A studio take of the window runs the engine's best-of loop and checks every take (:func:`checked_take`,
:func:`checked_stream`); :func:`take` and :func:`stream` are the plain, unchecked ones.

They are plain module-level functions (no Qt, no state of their own), so a test can call one directly
with a context it built. The batch kind lives with its controller in :mod:`valle_studio.app.jobs.batch`.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from valle_studio.app.jobs.records import JobContext, JobFunction
from valle_studio.engine.quality.best_of import Candidate, Candidates, run_best_of
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.quality.transcript import Transcript
from valle_studio.engine.requests import PromptSource, SynthesisRequest, SynthesisResult

#: What the phoneme preview says when no model is loaded.
NO_MODEL_PHONEMES = "Load a voice model to see its phonemes."

log = logging.getLogger(__name__)


def take(request: SynthesisRequest) -> JobFunction:
    """A studio take, generated whole; the job's result is the :class:`SynthesisResult`."""

    def run(context: JobContext) -> SynthesisResult:
        return context.model.synthesize(request, progress=context.progress, cancel=context.cancel)

    return run


def stream(request: SynthesisRequest) -> JobFunction:
    """A studio take handed out in audio chunks (partial results) as it is generated."""

    def run(context: JobContext) -> SynthesisResult:
        pieces = context.model.stream(request, progress=context.progress, cancel=context.cancel)
        for piece in pieces:
            context.emit(piece)
        if pieces.result is None:
            raise RuntimeError("the stream ended without a take")
        return pieces.result

    return run


def checked_take(request: SynthesisRequest, quality: QualityOptions) -> JobFunction:
    """A studio take through the best-of loop: each checked :class:`Candidate` is handed out (partial
    results) as soon as it is made; the job's result is the :class:`Candidates`."""

    def run(context: JobContext) -> Candidates:
        return run_best_of(context.model, request, quality, progress=context.progress, cancel=context.cancel,
                           on_candidate=context.emit)

    return run


def checked_stream(request: SynthesisRequest, quality: QualityOptions) -> JobFunction:
    """A streamed studio take (audio chunks as partial results), checked once the stream has ended; the
    job's result is :class:`Candidates` of that one take."""

    def run(context: JobContext) -> Candidates:
        result = stream(request)(context)
        checked = replace(request, settings=request.settings.replace(seed=result.seed))
        verdict = context.model.check(checked, result, progress=context.progress, cancel=context.cancel) \
            if quality.check else None
        return Candidates((Candidate(0, result.seed, result, verdict),), 0, result.seed)

    return run


def phonemize(text: str, language: str, split: str) -> JobFunction:
    """The phonemes the model would get: ``list[str]``, or a ``str`` saying why there are none.

    Failing is an answer here, not an error: the preview shows the reason in place of the phonemes.
    """

    def run(context: JobContext) -> list[str] | str:
        from valle_studio.app.jobs.engine_thread import error_text

        if context.synth is None:
            return NO_MODEL_PHONEMES
        try:
            return list(context.synth.phonemize(text, language, split))
        except Exception as exc:
            log.info("phonemizing failed: %s", exc)
            return error_text(exc)

    return run


def transcribe(source: PromptSource, language: str) -> JobFunction:
    """The IPA phonemes the model hears in one clip (``str``)."""

    def run(context: JobContext) -> str:
        return context.model.transcribe(source, language, progress=context.progress, cancel=context.cancel)

    return run


def transcript(source: PromptSource, language: str, asked: str | None) -> JobFunction:
    """What the model's STT head hears in one clip, beside the phonemes of ``asked`` (a :class:`Transcript`)."""

    def run(context: JobContext) -> Transcript:
        return context.model.transcript(source, language, asked=asked, progress=context.progress,
                                        cancel=context.cancel)

    return run


__all__ = ["NO_MODEL_PHONEMES", "checked_stream", "checked_take", "phonemize", "stream", "take", "transcribe",
           "transcript"]
