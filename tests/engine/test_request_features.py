"""The new settings through a whole request: beam search, mirostat, DRY and RAS in the AR+NAR path, the
LoRA merged per request (and taken out again exactly), and streaming's choice under beam search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from valle_studio.engine import streaming
from valle_studio.engine.debug import write_tiny_checkpoint, write_tiny_lora
from valle_studio.engine.lora import LoraError
from valle_studio.engine.requests import SynthesisRequest
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.synthesizer import Synthesizer

AR = GenerationSettings(modality="ar+nar", max_duration=0.6, seed=11)
PROMPT = np.random.default_rng(2).integers(0, 1024, (20, 8))


@pytest.fixture(scope="module")
def synth(tiny_tokenizer: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    path = write_tiny_checkpoint(tmp_path_factory.mktemp("features") / "tiny.sft", seed=3)
    return Synthesizer.load(path, device="cpu", codec=None, tokenizer=tiny_tokenizer)


def codes(synth: Synthesizer, settings: GenerationSettings, text: str = "Hello there.") -> np.ndarray:
    request = SynthesisRequest(text=text, prompts=(PROMPT,), settings=settings)
    return synth.synthesize(request, decode=False).codes


def test_beam_search_ignores_the_seed(synth: Synthesizer) -> None:
    beam = AR.replace(beam_width=3)
    first = codes(synth, beam)
    assert np.array_equal(first, codes(synth, beam.replace(seed=999)))
    assert len(first) > 0


@pytest.mark.parametrize("changes", [{"mirostat_tau": 3.0}, {"dry_multiplier": 1.0, "dry_allowed_length": 1},
                                     {"ras_window": 4, "ras_threshold": 0.2}])
def test_the_ar_samplers_run_and_are_reproducible(synth: Synthesizer, changes: dict[str, float]) -> None:
    settings = AR.replace(**changes)
    assert np.array_equal(codes(synth, settings), codes(synth, settings))


def test_dry_breaks_a_greedy_loop(synth: Synthesizer) -> None:
    """Greedy AR on this random tiny model falls into a loop (it repeats runs of 4+ frames); with DRY no
    emitted frame extends a repeat beyond the allowed length of 2."""
    from valle_studio.engine.sampling.dry import repeat_lengths

    greedy = AR.replace(ar_temperature=0.0, max_duration=1.0)

    def longest_made(level0: list[int]) -> int:
        """The longest earlier run that an emitted frame continued (the repeat it made, minus itself)."""
        return max((repeat_lengths(level0[:i]).get(level0[i], 0) for i in range(2, len(level0))), default=0)

    assert longest_made(codes(synth, greedy)[:, 0].tolist()) >= 3
    assert longest_made(codes(synth, greedy.replace(dry_multiplier=2.0))[:, 0].tolist()) < 2


def test_a_lora_is_merged_per_request_and_taken_out_exactly(synth: Synthesizer, tmp_path: Path) -> None:
    lora = write_tiny_lora(tmp_path / "lora.sft", name="test", magnitude=2.0)
    base = codes(synth, AR)
    with_lora = codes(synth, AR.replace(lora=str(lora), lora_strength=1.0))
    assert synth.lora.active == "test"
    assert not np.array_equal(base, with_lora)
    assert np.array_equal(codes(synth, AR), base) and synth.lora.active == ""
    with pytest.raises(LoraError, match="LoRA file not found"):
        codes(synth, AR.replace(lora=str(tmp_path / "missing.sft")))
    with pytest.raises(LoraError, match="the LoRA 'nope' is not installed"):
        codes(synth, AR.replace(lora="nope"))


def test_streaming_under_beam_search_goes_sentence_by_sentence(synth: Synthesizer) -> None:
    options = streaming.StreamOptions(mode="auto")
    assert streaming.streams_inside_sentences(synth.model, AR, "ar+nar", options)
    assert not streaming.streams_inside_sentences(synth.model, AR.replace(beam_width=2), "ar+nar", options)
