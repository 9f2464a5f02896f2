"""``Synthesizer.check`` and ``Synthesizer.transcript`` with a tiny random model: the STT pass is the
KV-cached loop, a model without an STT head says so and skips that check, the reference is prepared once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from valle_studio.core.clip import Clip
from valle_studio.engine import generation
from valle_studio.engine.codec import EncodecVocosCodec
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.quality import QualityOptions, run_best_of
from valle_studio.engine.requests import SynthesisRequest
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.synthesizer import SynthesisError, Synthesizer

AR = GenerationSettings(modality="ar+nar", max_duration=1.0, seed=3)
LONG = "This is a long sentence with many words, far more than a tiny model will ever say before it stops."


@pytest.fixture(scope="module")
def codec() -> EncodecVocosCodec:
    return EncodecVocosCodec.random(seed=0, with_vocos=False)


def _synth(folder: Path, tokenizer: Path, codec: Any, **checkpoint: Any) -> Synthesizer:
    model = write_tiny_checkpoint(folder / "tiny.sft", capabilities=("ar", "nar"), noncausal_masks=False, seed=3,
                                  **checkpoint)
    return Synthesizer.load(model, device="cpu", dtype="float32", codec=codec, tokenizer=tokenizer)


@pytest.fixture(scope="module")
def synth(tiny_tokenizer: Path, tmp_path_factory: pytest.TempPathFactory, codec: Any) -> Synthesizer:
    return _synth(tmp_path_factory.mktemp("m"), tiny_tokenizer, codec)


def voice(base: float = 180.0) -> Clip:
    t = np.arange(36_000) / 24_000
    return Clip((0.3 * np.sin(2 * np.pi * base * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32),
                24_000, "voice")


def test_a_long_sentence_the_tiny_model_cuts_short_is_bad_for_its_duration(synth: Synthesizer,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    real = generation.transcribe

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(generation, "transcribe", spy)
    request = SynthesisRequest(text=LONG, prompts=(voice(),), settings=AR)
    result = synth.synthesize(request)
    quality = synth.check(request, result)
    assert quality.verdict in ("bad", "suspect")
    assert any("too short" in r for r in quality.reasons), quality.reasons
    assert calls and all(kw.get("use_cache", True) for kw in calls)  # the KV-cached STT loop
    assert calls[0]["max_tokens"] < 200  # capped near the phonemes asked, not seconds x 20
    assert 0.0 <= quality.checks["phoneme_error_rate"] <= 1.0
    assert quality.checks["prompt_leak"] is not None and quality.checks["level_vs_reference_db"] is not None


def test_the_reference_is_encoded_once_for_a_whole_best_of_run(synth: Synthesizer, codec: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    encoded: list[int] = []
    real = codec.encode

    def count(samples: Any, sample_rate: int) -> Any:
        encoded.append(len(samples))
        return real(samples, sample_rate)

    monkeypatch.setattr(codec, "encode", count)
    request = SynthesisRequest(text="Hi there.", prompts=(voice(230.0),), settings=AR)  # a clip not seen before
    takes = run_best_of(synth, request, QualityOptions(best_of=3))
    assert len(takes.takes) == 3 and all(c.quality is not None for c in takes.takes)
    # the clip goes through EnCodec once for generating all three, once for the check's reference
    assert len(encoded) == 2


def test_a_model_without_an_stt_head_skips_intelligibility_and_says_so(tiny_tokenizer: Path, tmp_path: Path,
                                                                       codec: Any) -> None:
    deaf = _synth(tmp_path, tiny_tokenizer, codec, stt_head=False)
    request = SynthesisRequest(text=LONG, settings=AR)
    quality = deaf.check(request, deaf.synthesize(request))
    assert quality.checks["phoneme_error_rate"] is None
    assert any("no speech-to-text head" in r for r in quality.reasons)
    assert any("too short" in r for r in quality.reasons)  # the other checks still ran
    with pytest.raises(SynthesisError, match="no speech-to-text head"):
        deaf.transcript(np.zeros((40, 8), np.int64))


def test_a_code_only_take_skips_the_audio_checks(synth: Synthesizer) -> None:
    request = SynthesisRequest(text="Hello there.", settings=AR)
    quality = synth.check(request, synth.synthesize(request, decode=False))
    assert quality.checks["leading_silence_s"] is None and quality.checks["clipped_fraction"] is None
    assert any("not decoded to audio" in r for r in quality.reasons)


def test_transcript_gives_ids_and_the_asked_phonemes(synth: Synthesizer) -> None:
    codes = synth.synthesize(SynthesisRequest(text="Hello there.", settings=AR), decode=False).codes
    heard = synth.transcript(codes, "en", asked="Hello there.")
    assert all(isinstance(i, int) and i not in (1, 2) for i in heard.ids)
    assert heard.asked_ipa == " ".join(synth.phonemize("Hello there.")) and heard.asked_ids
    assert heard.error_rate is not None and 0.0 <= heard.error_rate <= 1.0
    assert heard.to_json() == {"ids": list(heard.ids), "ipa": heard.ipa}
    assert synth.transcribe(codes, "en") == heard.ipa
    assert synth.transcript(codes).asked_ids is None
