"""The functions behind the engine's job kinds; each runs on the engine thread with a JobContext.

A studio take of the window runs the engine's best-of loop and checks every take (:func:`checked_take`,
:func:`checked_stream`); :func:`take` and :func:`stream` are the plain, unchecked ones. Each can first
look for symbols the tokenizer lacks (``check_unknown``) and then generates nothing, finishing with
:class:`UnknownSymbolsFound`, so that the window can ask before ``<unk>`` reaches the model.

They are plain module-level functions (no Qt, no state of their own), so a test can call one directly
with a context it built. The batch kind lives with its controller in :mod:`valle_studio.app.jobs.batch`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from valle_studio.app.jobs.records import JobContext, JobFunction
from valle_studio.engine.quality.best_of import Candidate, Candidates, run_best_of
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.quality.transcript import Transcript
from valle_studio.engine.requests import PromptSource, SynthesisRequest, SynthesisResult
from valle_studio.engine.text.lexicon import Lexicon

#: What the phoneme preview says when no model is loaded.
NO_MODEL_PHONEMES = "Load a voice model to see its phonemes."

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnknownSymbolsFound:
    """A take's result when its text would send ``<unk>`` to the model and the caller asked to be told first:
    nothing was generated. ``warning`` names the words (:func:`~valle_studio.engine.text.analysis.unknown_warning`)."""

    request: SynthesisRequest
    warning: str


def _unknown_warning(context: JobContext, request: SynthesisRequest) -> str | None:
    from valle_studio.engine.text.analysis import unknown_warning

    if request.phonemes is not None:
        return None
    settings = request.settings
    pieces = context.model.analyze(request.text, request.language, settings.split, lexicon=request.lexicon,
                                   no_phonemize=settings.no_phonemize)
    return unknown_warning([p for p in pieces if p.speakable])


def take(request: SynthesisRequest, *, check_unknown: bool = False) -> JobFunction:
    """A studio take, generated whole; the job's result is the :class:`SynthesisResult`, or
    :class:`UnknownSymbolsFound` (nothing generated) when ``check_unknown`` and the text has ``<unk>``."""

    def run(context: JobContext) -> SynthesisResult | UnknownSymbolsFound:
        warning = _unknown_warning(context, request) if check_unknown else None
        if warning:
            return UnknownSymbolsFound(request, warning)
        return context.model.synthesize(request, progress=context.progress, cancel=context.cancel)

    return run


def stream(request: SynthesisRequest, *, check_unknown: bool = False) -> JobFunction:
    """A studio take handed out in audio chunks (partial results) as it is generated; ``check_unknown`` as
    for :func:`take`."""

    def run(context: JobContext) -> SynthesisResult | UnknownSymbolsFound:
        warning = _unknown_warning(context, request) if check_unknown else None
        if warning:
            return UnknownSymbolsFound(request, warning)
        pieces = context.model.stream(request, progress=context.progress, cancel=context.cancel)
        for piece in pieces:
            context.emit(piece)
        if pieces.result is None:
            raise RuntimeError("the stream ended without a take")
        return pieces.result

    return run


def checked_take(request: SynthesisRequest, quality: QualityOptions, *, check_unknown: bool = False) -> JobFunction:
    """A studio take through the best-of loop: each checked :class:`Candidate` is handed out (partial
    results) as soon as it is made; the job's result is the :class:`Candidates` (or
    :class:`UnknownSymbolsFound`, as for :func:`take`)."""

    def run(context: JobContext) -> Candidates | UnknownSymbolsFound:
        warning = _unknown_warning(context, request) if check_unknown else None
        if warning:
            return UnknownSymbolsFound(request, warning)
        return run_best_of(context.model, request, quality, progress=context.progress, cancel=context.cancel,
                           on_candidate=context.emit)

    return run


def checked_stream(request: SynthesisRequest, quality: QualityOptions, *, check_unknown: bool = False
                   ) -> JobFunction:
    """A streamed studio take (audio chunks as partial results), checked once the stream has ended; the
    job's result is :class:`Candidates` of that one take (or :class:`UnknownSymbolsFound`, as for :func:`take`)."""

    def run(context: JobContext) -> Candidates | UnknownSymbolsFound:
        result = stream(request, check_unknown=check_unknown)(context)
        if isinstance(result, UnknownSymbolsFound):
            return result
        checked = replace(request, settings=request.settings.replace(seed=result.seed))
        verdict = context.model.check(checked, result, progress=context.progress, cancel=context.cancel) \
            if quality.check else None
        return Candidates((Candidate(0, result.seed, result, verdict),), 0, result.seed)

    return run


def phonemize(text: str, language: str, split: str, lexicon: Lexicon | None = None) -> JobFunction:
    """What the model would get: the pieces it receives (``list[Piece]``: IPA, ids, unknown symbols,
    lexicon entries used), or a ``str`` saying why there are none.

    Failing is an answer here, not an error: the preview shows the reason in place of the phonemes.
    """

    def run(context: JobContext) -> list[Any] | str:
        from valle_studio.app.jobs.engine_thread import error_text

        if context.synth is None:
            return NO_MODEL_PHONEMES
        try:
            pieces = context.synth.analyze(text, language, split, lexicon=lexicon)
            return [piece for piece in pieces if piece.speakable]
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


__all__ = ["NO_MODEL_PHONEMES", "UnknownSymbolsFound", "checked_stream", "checked_take", "phonemize", "stream",
           "take", "transcribe", "transcript"]
