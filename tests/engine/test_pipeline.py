"""How settings become stage arguments: durations, modality, rolling context, samplers."""

from __future__ import annotations

import pytest
import torch

from valle_studio.engine import pipeline
from valle_studio.engine.settings import GenerationSettings


@pytest.mark.parametrize(("predicted", "settings", "expected"), [
    (788, GenerationSettings(max_duration=32), int(788 * 1.05)),  # the fixtures' len case: 827
    (10, GenerationSettings(), int(75 * 1.05)),  # one-second floor, then padding
    (2000, GenerationSettings(max_duration=12), 900),  # clamped to the cap
    (None, GenerationSettings(duration_frames=20), 20),  # a given length: no floor, no padding
    (None, GenerationSettings(duration_frames=100, max_duration=0.5), 37),  # still clamped: int(0.5*75)
], ids=["predicted", "floor", "cap", "given", "given-clamped"])
def test_nar_len_frames(predicted: int | None, settings: GenerationSettings, expected: int) -> None:
    assert pipeline.nar_len_frames(predicted, settings) == expected


def test_modality_auto_follows_the_len_head() -> None:
    auto = GenerationSettings()
    assert pipeline.resolve_modality(auto, can_nar_len=True) == "nar-len"
    assert pipeline.resolve_modality(auto, can_nar_len=False) == "ar+nar"
    assert pipeline.resolve_modality(GenerationSettings(modality="ar+nar"), can_nar_len=True) == "ar+nar"
    with pytest.raises(ValueError, match="NAR-len"):
        pipeline.resolve_modality(GenerationSettings(modality="nar-len"), can_nar_len=False)


def test_one_settings_dict_drives_both_samplers() -> None:
    s = GenerationSettings(ar_temperature=0.7, nar_temperature=0.2, top_k=40, top_p=0.9, min_p=0.05,
                           top_no=1.0, repetition_penalty=1.3, repetition_penalty_decay=0.5,
                           length_penalty=0.4, min_temperature=0.3)
    ar, nar = pipeline.ar_sampler(s), pipeline.nar_sampler(s)
    assert (ar.temperature, nar.temperature) == (0.7, 0.2)
    for config in (ar, nar):
        assert (config.top_k, config.top_p, config.min_p, config.top_no) == (40, 0.9, 0.05, 1.0)
        assert (config.repetition_penalty, config.repetition_penalty_decay) == (1.3, 0.5)
        assert config.min_temperature == 0.3
    assert ar.length_penalty == 0.4 and nar.length_penalty == 0.0  # length penalty is AR only


def test_cfg_strength_one_skips_the_unconditional_pass() -> None:
    assert pipeline.effective_cfg(GenerationSettings(cfg_strength=1.0)) == 0.0
    assert pipeline.effective_cfg(GenerationSettings(cfg_strength=3.0)) == 3.0
    assert pipeline.effective_cfg(GenerationSettings(cfg_strength=0.0)) == 0.0


def test_rolling_context_joins_tokens_and_prefixes_level0() -> None:
    first = pipeline.ContextEntry(torch.tensor([1, 10, 11, 2]), torch.arange(16).reshape(2, 8))
    second = pipeline.ContextEntry(torch.tensor([1, 20, 2]), torch.arange(16, 40).reshape(3, 8))
    line = pipeline.LineInput(torch.tensor([1, 30, 31, 2]), 0)
    ids, prefix = pipeline._with_context(line, [first, second])
    # prefix[:-1] + current[1:] at every join: the inner </eos><bos> pairs disappear
    assert ids.tolist() == [1, 10, 11, 20, 30, 31, 2]
    assert prefix.tolist() == [0, 8, 16, 24, 32]  # level 0 of every earlier frame, in order
    assert pipeline._with_context(line, []) == (line.ids, None)


def test_a_line_the_model_ends_at_once_is_empty_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.engine import generation as gen

    model = type("M", (), {"device": torch.device("cpu")})()
    ar_outputs = iter([torch.zeros(0, dtype=torch.long), torch.tensor([5, 6, 7])])
    monkeypatch.setattr(gen, "generate_ar", lambda *a, **k: next(ar_outputs))
    monkeypatch.setattr(gen, "generate_nar", lambda *a, level0, **k: level0[:, None].repeat(1, 8))
    lines = [pipeline.LineInput(torch.tensor([1, 9, 2]), 0), pipeline.LineInput(torch.tensor([1, 8, 2]), 0)]
    codes = pipeline.generate_lines(model, lines, None, GenerationSettings(), modality="ar+nar",
                                    generator=torch.Generator())
    assert [tuple(c.shape) for c in codes] == [(0, 8), (3, 8)]

    monkeypatch.setattr(gen, "generate_ar", lambda *a, **k: torch.zeros(0, dtype=torch.long))
    with pytest.raises(pipeline.NothingGenerated, match="another seed"):
        pipeline.generate_lines(model, lines, None, GenerationSettings(), modality="ar+nar",
                                generator=torch.Generator())
