"""Checking a finished take with the loaded model: the glue between the synthesizer and the scorer.

:class:`TakeChecker` is what :meth:`Synthesizer.check <valle_studio.engine.synthesizer.Synthesizer.check>`
runs. It turns a request and its result into a :class:`~.scorer.TakeInput` (the phoneme ids asked for
per piece, the duration cap, the reference's codes and level, the decoded audio), and hands the scorer
the model's own speech-to-text head as its ``hear`` function: the KV-cached loop of
:func:`~valle_studio.engine.generation.transcribe`, greedy, capped at a little more than the phonemes
asked (``thresholds.STT_TOKEN_FACTOR``) so that a take which runs on costs no more to check than one that
does not.

The reference's codes and speech level are kept per prompt (a digest of its samples or codes), so the
candidates of one best-of run, and the rows of a batch that share a voice, encode or decode it once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from valle_studio.core.clip import Clip
from valle_studio.core.codec_format import SAMPLE_RATE
from valle_studio.engine.progress import CancelToken, Progress, ProgressCallback, report
from valle_studio.engine.quality.audio_checks import frame_levels
from valle_studio.engine.quality.code_checks import count_phonemes
from valle_studio.engine.quality.scorer import Hearer, PieceInput, TakeInput, score_take
from valle_studio.engine.quality.thresholds import SPEECH_PERCENTILE
from valle_studio.engine.quality.verdict import TakeQuality
from valle_studio.engine.requests import PromptSource, SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings

STAGE = "checking"
_BOS, _EOS = 1, 2
_REFERENCES_KEPT = 8


class CheckedSynthesizer(Protocol):
    """What the checker uses of a :class:`~valle_studio.engine.synthesizer.Synthesizer`."""

    model: Any
    frontend: Any

    def codec(self, *, required: bool) -> Any: ...

    def encode_prompts(self, sources: Sequence[PromptSource], length_frames: int = 0) -> np.ndarray | None: ...


def strip_specials(ids: Sequence[int]) -> tuple[int, ...]:
    """Phoneme ids without the ``<bos>`` … ``</eos>`` the tokenizer wraps them in."""
    out = list(ids)
    if out and out[0] == _BOS:
        out = out[1:]
    if out and out[-1] == _EOS:
        out = out[:-1]
    return tuple(out)


def cap_frames(settings: GenerationSettings, modality: str) -> int | None:
    """The duration cap a piece can run into; None when the user fixed the NAR-len length below it."""
    cap = settings.max_duration_frames()
    if modality == "nar-len" and settings.duration_frames is not None and settings.duration_frames < cap:
        return None
    return cap


def _digest(sources: Sequence[PromptSource], length_frames: int) -> str:
    digest = hashlib.sha1(str(length_frames).encode())
    for source in sources:
        if isinstance(source, Clip):
            digest.update(b"clip%d" % source.sample_rate)
            digest.update(source.samples.tobytes())
        else:
            array = np.ascontiguousarray(source)
            digest.update(f"codes{array.shape}{array.dtype}".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


class TakeChecker:
    """Checks takes of one synthesizer (see the module docstring). Not thread-safe: like the synthesizer
    itself, it runs on the one thread that drives the model."""

    def __init__(self, synth: CheckedSynthesizer) -> None:
        self.synth = synth
        self._references: OrderedDict[str, tuple[np.ndarray | None, float | None]] = OrderedDict()

    # -- the reference --------------------------------------------------------------------------------------
    def reference(self, sources: Sequence[PromptSource], length_frames: int = 0
                  ) -> tuple[np.ndarray | None, float | None]:
        """``(codes [P, 8] | None, speech level in dBFS | None)`` of the request's prompts, cached."""
        if not sources:
            return None, None
        key = _digest(sources, length_frames)
        if key in self._references:
            self._references.move_to_end(key)
            return self._references[key]
        codes = self.synth.encode_prompts(sources, length_frames)
        clips = [s for s in sources if isinstance(s, Clip)]
        level: float | None = None
        if clips:
            levels = np.concatenate([frame_levels(c.samples, c.sample_rate) for c in clips])
            level = float(np.percentile(levels, SPEECH_PERCENTILE)) if len(levels) else None
        elif codes is not None:
            codec = self.synth.codec(required=False)
            if codec is not None:  # codes only: hear the reference through the codec once
                import torch

                with torch.inference_mode():
                    audio = np.asarray(codec.decode(torch.as_tensor(codes)), dtype=np.float32)
                levels = frame_levels(audio, SAMPLE_RATE)
                level = float(np.percentile(levels, SPEECH_PERCENTILE)) if len(levels) else None
        self._references[key] = (codes, level)
        while len(self._references) > _REFERENCES_KEPT:
            self._references.popitem(last=False)
        return codes, level

    # -- the pieces -----------------------------------------------------------------------------------------
    def asked(self, request: SynthesisRequest, result: SynthesisResult) -> tuple[PieceInput, ...]:
        """One :class:`PieceInput` per generated sentence: the phoneme ids and phoneme count asked."""
        frontend = self.synth.frontend
        raw = request.settings.no_phonemize and request.phonemes is None
        pieces = []
        for sentence in result.sentences:
            if raw:  # raw text went in; the STT head hears phonemes, so compare with the text's phonemes
                tokens = frontend.tokens_for(sentence.text, request.language)
                ipa, ids = tokens.phonemes, tokens.ids
            else:
                ipa, ids = sentence.phonemes, frontend.ids_for_phonemes(sentence.phonemes)
            pieces.append(PieceInput(strip_specials(ids), count_phonemes(ipa), np.asarray(sentence.codes)))
        return tuple(pieces)

    def hearer(self, language: str, pieces: int, progress: ProgressCallback | None,
               cancel: CancelToken | None) -> Hearer | None:
        """The model's STT pass as the scorer's ``hear`` (None when the model has no STT head)."""
        model = self.synth.model
        if not model.config.has_stt_head:
            return None
        from valle_studio.engine.generation import transcribe

        language_id = self.synth.frontend.language_id(language)
        heard = [0]

        def hear(codes: np.ndarray, max_phonemes: int) -> list[int]:
            import torch

            heard[0] += 1
            detail = f"sentence {heard[0]}/{pieces}" if pieces > 1 else ""

            def relabel(event: Progress) -> None:
                if progress is not None:
                    progress(Progress(STAGE, event.done, event.total, detail))

            ids = transcribe(model, torch.as_tensor(codes, device=model.device), language_id=language_id,
                             max_tokens=max_phonemes, progress=relabel, cancel=cancel)
            return [int(i) for i in ids.tolist()]

        return hear

    # -- the check ------------------------------------------------------------------------------------------
    def check(self, request: SynthesisRequest, result: SynthesisResult, *, progress: ProgressCallback | None = None,
              cancel: CancelToken | None = None) -> TakeQuality:
        """The verdict on ``result``, the outcome of ``request`` (see the module docstring)."""
        report(progress, cancel, STAGE, 0, 1)
        settings = request.settings
        pieces = self.asked(request, result)
        # A blend's voices together are its reference: a take that repeats any of them leaks the prompt.
        sources = request.prompts or tuple(p for part in request.blend for p in part.prompts)
        prompt, level = self.reference(sources, settings.prompt_length_frames())
        take = TakeInput(pieces=pieces, language=request.language, modality=result.modality,
                         cap_frames=cap_frames(settings, result.modality), prompt_codes=prompt,
                         audio=None if result.audio is None else np.asarray(result.audio, dtype=np.float32),
                         sample_rate=result.sample_rate, reference_db=level, gap_s=settings.gap)
        quality = score_take(take, self.hearer(request.language, len(pieces), progress, cancel))
        report(progress, cancel, STAGE, 1, 1)
        return quality


__all__ = ["STAGE", "CheckedSynthesizer", "TakeChecker", "cap_frames", "strip_specials"]
