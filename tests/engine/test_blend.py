"""Voice blending at the prompt embedding: the arithmetic of the mix in every pass, the equal-length rule,
and requests through the synthesizer (tiny model, code prompts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.generation import generate_ar
from valle_studio.engine.model import ModelInput, PromptMix, load_model
from valle_studio.engine.model.prompt_mix import equal_length
from valle_studio.engine.requests import BlendPart, SynthesisRequest
from valle_studio.engine.sampling import SamplerConfig
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.synthesizer import Synthesizer

TEXT = torch.tensor([1, 20, 31, 42, 53, 2])
A = torch.randint(0, 1024, (16, 8), generator=torch.Generator().manual_seed(1))
B = torch.randint(0, 1024, (16, 8), generator=torch.Generator().manual_seed(2))


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):
    return load_model(write_tiny_checkpoint(tmp_path_factory.mktemp("blend") / "m.sft", seed=5))


def _prompt_rows(model, prom, level: int) -> torch.Tensor:
    """The prompt segment's embeddings of a NAR level-``level`` input (text 6 + sep, lang + sep, ql + sep)."""
    inp = ModelInput.nar(TEXT, 0, prom, torch.zeros(4, 8, dtype=torch.long), level) if level else \
        ModelInput.ar(TEXT, 0, prom, torch.zeros(0, dtype=torch.long))
    start = len(TEXT) + 1 + 2 + 2
    return model.embed(inp).embeds[start : start + 16]


def test_one_voice_at_weight_one_is_the_plain_prompt_bit_for_bit(model) -> None:
    for level in (0, 3, 7):
        assert torch.equal(_prompt_rows(model, PromptMix.of([A], [1.0]), level), _prompt_rows(model, A, level))


@pytest.mark.parametrize("level", [0, 1, 5, 7])
def test_the_mix_is_the_weighted_sum_of_each_voices_embedding(model, level: int) -> None:
    mixed = _prompt_rows(model, PromptMix.of([A, B], [3.0, 1.0]), level)  # normalised to 0.75 / 0.25
    want = 0.75 * _prompt_rows(model, A, level) + 0.25 * _prompt_rows(model, B, level)
    torch.testing.assert_close(mixed, want, atol=1e-6, rtol=1e-6)


def test_a_voice_blended_with_itself_is_that_voice(model) -> None:
    same = PromptMix.of([A, A], [1.0, 1.0])
    resp = torch.tensor([5, 6])
    pairs = ((ModelInput.ar(TEXT, 0, same, resp), ModelInput.ar(TEXT, 0, A, resp)),
             (ModelInput.nar(TEXT, 0, same, B, 4), ModelInput.nar(TEXT, 0, A, B, 4)))
    for mixed, plain in pairs:
        assert torch.equal(model([mixed], last=2), model([plain], last=2))


def test_a_blend_decodes_the_same_with_and_without_the_cache(model) -> None:
    mix = PromptMix.of([A, B], [0.6, 0.4])
    kwargs = dict(text=TEXT, prompt=mix, sampler=SamplerConfig(temperature=0.0), max_frames=12)
    assert torch.equal(generate_ar(model, **kwargs), generate_ar(model, use_cache=False, **kwargs))


def test_equal_length_keeps_each_start() -> None:
    long, short = torch.arange(40).view(20, 2), torch.arange(24).view(12, 2)
    cut = equal_length([long, short])
    assert [c.shape[0] for c in cut] == [12, 12] and torch.equal(cut[0], long[:12])
    with pytest.raises(ValueError, match="voice 2 of the blend has 12 frames, fewer than the 15"):
        equal_length([long, short], 15)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: PromptMix.of([A, B], [1.0, 0.0]), "must be positive"),
    (lambda: PromptMix.of([A], [1.0, 2.0]), "each with a weight"),
    (lambda: PromptMix(torch.stack([A, B]), torch.tensor([0.5, 0.6])), "sum to 1"),
    (lambda: BlendPart((), 1.0, "Alice"), "'Alice' has no reference clips"),
    (lambda: BlendPart((A.numpy(),), -1.0, "Bob"), "weight of Bob must be a number above 0"),
    (lambda: SynthesisRequest(text="x", blend=(BlendPart((A.numpy(),), 1.0),)), "at least two voices"),
    (lambda: SynthesisRequest(text="x", prompts=(A.numpy(),), blend=(BlendPart((A.numpy(),), 1.0),) * 2),
     "not both"),
])
def test_bad_blends_are_refused(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.fixture(scope="module")
def synth(tiny_tokenizer: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    path = write_tiny_checkpoint(tmp_path_factory.mktemp("blend-synth") / "tiny.sft", seed=5)
    return Synthesizer.load(path, device="cpu", codec=None, tokenizer=tiny_tokenizer)


@pytest.mark.parametrize("modality", ["nar-len", "ar+nar"])
def test_blended_requests_generate(synth: Synthesizer, modality: str) -> None:
    settings = GenerationSettings(modality=modality, max_steps=3, max_duration=1.0, seed=1)
    a, b = A.numpy(), np.concatenate([B.numpy(), B.numpy()])  # B is longer: cut to A's 16 frames
    blend = (BlendPart((a,), 0.6, "A"), BlendPart((b,), 0.4, "B"))
    result = synth.synthesize(SynthesisRequest(text="Hello there.", blend=blend, settings=settings), decode=False)
    assert result.codes.shape[1] == 8 and len(result.codes) > 0
    same = synth.synthesize(SynthesisRequest(text="Hello there.", blend=(BlendPart((a,), 1.0),) * 2,
                                             settings=settings), decode=False)
    plain = synth.synthesize(SynthesisRequest(text="Hello there.", prompts=(a,), settings=settings), decode=False)
    assert np.array_equal(same.codes, plain.codes)  # A blended with A is A
