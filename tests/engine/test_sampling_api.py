"""Behaviour of the sampler API that the golden vectors do not pin down: validation, in-place edits,
greedy vs seeded sampling, and the documented deviations from upstream."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from valle_studio.engine.sampling import SamplerConfig, cfg_combine, sample
from valle_studio.engine.sampling.filters import MinP, TopK, TopNSigma, TopP
from valle_studio.engine.sampling.penalties import LengthPenalty, RepetitionPenalty
from valle_studio.engine.sampling.pipeline import build_processors
from valle_studio.engine.sampling.temperature import DynamicTemperature, Temperature


def _logits(rows: int = 4, classes: int = 50, seed: int = 0) -> torch.Tensor:
    return torch.randn(rows, classes, generator=torch.Generator().manual_seed(seed)) * 2.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", -0.1),
        ("temperature", math.inf),
        ("min_temperature", -1.0),
        ("top_k", -1),
        ("top_k", 1.5),
        ("top_k", True),
        ("top_p", 1.5),
        ("top_p", -0.1),
        ("min_p", 1.1),
        ("top_no", -1.0),
        ("repetition_penalty", 0.0),
        ("repetition_penalty_decay", math.inf),
        ("length_penalty", math.nan),
        ("temperature", "hot"),
    ],
)
def test_config_rejects_bad_values(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=rf"SamplerConfig\.{field}"):
        SamplerConfig(**{field: value})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RepetitionPenalty(0.0), r"RepetitionPenalty\.factor must be > 0"),
        (lambda: RepetitionPenalty(1.5, math.nan), r"RepetitionPenalty\.decay must be finite"),
        (lambda: LengthPenalty(0.5, -1), r"LengthPenalty\.token must be >= 0"),
        (lambda: MinP(0.0), r"MinP\.min_p must be > 0"),
        (lambda: TopK(0), r"TopK\.k must be >= 1"),
        (lambda: TopP(1.01), r"TopP\.p must be <= 1"),
        (lambda: TopNSigma(0.0), r"TopNSigma\.n must be > 0"),
        (lambda: Temperature(0.0), r"Temperature\.temperature must be > 0"),
        (lambda: DynamicTemperature(1.0, -0.5), r"DynamicTemperature\.min_temperature must be >= 0"),
    ],
)
def test_processors_validate_their_arguments(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"logits": torch.zeros(10)}, r"logits must have shape \[rows, classes\]"),
        ({"logits": torch.zeros(2, 10, dtype=torch.int64)}, "logits must be floating point"),
        ({"history": torch.zeros(2, 3, dtype=torch.int64)}, r"history must have shape \[n\]"),
        ({"history": torch.zeros(3)}, "history must hold integer token ids"),
        ({"history": torch.tensor([1, 50])}, r"history token ids must lie in \[0, 50\)"),
        ({"stop_token": 50}, "stop_token 50 is out of range"),
        ({"config": {"temperature": 0.0}}, "config must be a SamplerConfig"),
    ],
)
def test_sample_rejects_bad_input(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"logits": _logits(), "config": SamplerConfig()}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        sample(args.pop("logits"), args.pop("config"), **args)


def test_cfg_combine_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="differ"):
        cfg_combine(torch.zeros(2, 4), torch.zeros(3, 4), 2.0, 0.5)
    with pytest.raises(ValueError, match="rescale must be <= 1"):
        cfg_combine(torch.zeros(2, 4), torch.zeros(2, 4), 2.0, 1.5)


def test_cfg_without_rescale_is_the_linear_blend_and_strength_one_with_rescale_is_identity() -> None:
    cond, null = _logits(seed=1), _logits(seed=2)
    torch.testing.assert_close(cfg_combine(cond, null, 3.0, 0.0), null + 3.0 * (cond - null))
    torch.testing.assert_close(cfg_combine(cond, null, 1.0, 0.75), cond)  # the web UI's default


def test_temperature_zero_is_argmax_with_softmax_score() -> None:
    logits = _logits(rows=8, classes=300)
    expected_ids = logits.argmax(dim=-1)
    expected_scores = torch.softmax(logits, dim=-1).amax(dim=-1)
    out = sample(logits, SamplerConfig(temperature=0.0))
    assert out.ids.dtype == torch.int64 and out.scores.dtype == torch.float32
    assert torch.equal(out.ids, expected_ids)
    torch.testing.assert_close(out.scores, expected_scores)


def test_seeded_sampling_is_reproducible_and_follows_the_softmax() -> None:
    logits = _logits(rows=64, classes=100, seed=3) / 4.0
    config = SamplerConfig(temperature=1.0)

    def draw(seed: int) -> torch.Tensor:
        return sample(logits.clone(), config, generator=torch.Generator().manual_seed(seed)).ids

    assert torch.equal(draw(7), draw(7))
    assert not torch.equal(draw(7), draw(8))

    # 4000 draws from one fixed 4-class row: frequencies near softmax(logits / T).
    row = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).repeat(4000, 1)
    out = sample(row.clone(), SamplerConfig(temperature=0.5), generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(out.ids, minlength=4).double() / 4000
    torch.testing.assert_close(freq, torch.softmax(row[0].double() / 0.5, dim=0), atol=0.03, rtol=0)


def test_processors_edit_in_place_like_upstream() -> None:
    """Top-k edits the caller's tensor; after min-p (a copy) the caller's tensor keeps its values."""
    logits = _logits()
    sample(logits, SamplerConfig(temperature=0.0, top_k=5))
    assert (torch.isfinite(logits).sum(dim=-1) == 5).all()

    logits = _logits()
    sample(logits, SamplerConfig(temperature=0.0, min_p=0.01, top_k=5))
    assert torch.isfinite(logits).all()

    logits, history = _logits(rows=1), torch.tensor([3, 3, 9])
    before = logits.clone()
    sample(logits, SamplerConfig(temperature=0.0, repetition_penalty=2.0), history=history)
    torch.testing.assert_close(logits[0, 3], before[0, 3] / 4.0)
    torch.testing.assert_close(logits[0, 9], before[0, 9] / 2.0)


def test_repetition_penalty_mode_follows_history_length() -> None:
    """history length == rows is NAR mode: row r only sees history[:r]. Otherwise every row sees it all."""
    history = torch.tensor([4, 7])
    nar = RepetitionPenalty(2.0)(torch.ones(2, 10), history)
    assert nar[0].eq(1).all()
    assert nar[1, 4] == 0.5 and nar[1, 7] == 1.0
    ar = RepetitionPenalty(2.0, decay=1.0)(torch.ones(3, 10), history)
    assert torch.equal(ar[:, 4], torch.full((3,), 1 / 4.0))  # distance 2 -> 2 * 2**1
    assert torch.equal(ar[:, 7], torch.full((3,), 1 / 2.0))  # distance 1 -> 2 * 1**1


def test_length_penalty_needs_a_stop_token() -> None:
    config = SamplerConfig(temperature=0.0, length_penalty=0.5)
    history = torch.arange(8)
    assert not any(isinstance(p, LengthPenalty) for p in build_processors(config))
    logits = torch.full((1, 20), 2.0)
    sample(logits, config, history=history, stop_token=19)
    torch.testing.assert_close(logits[0, 19], torch.tensor(2.0 / 3.0))  # (8 + 1) ** 0.5 = 3
    assert logits[0, :19].eq(2.0).all()


def test_build_processors_order_and_switches() -> None:
    config = SamplerConfig(
        temperature=0.8,
        min_temperature=0.3,
        top_k=10,
        top_p=0.9,
        min_p=0.1,
        top_no=1.0,
        repetition_penalty=1.2,
        length_penalty=0.1,
    )
    kinds = [type(p) for p in build_processors(config, stop_token=1024)]
    assert kinds == [RepetitionPenalty, LengthPenalty, MinP, TopK, TopP, DynamicTemperature, TopNSigma]
    assert build_processors(SamplerConfig(temperature=0.0)) == []
    assert [type(p) for p in build_processors(SamplerConfig(temperature=0.7))] == [Temperature]
    # |T - min_T| < 0.001: plain temperature, as upstream.
    assert [type(p) for p in build_processors(SamplerConfig(0.7, min_temperature=0.7005))] == [Temperature]


def test_dynamic_temperature_applies_even_when_greedy() -> None:
    """Upstream divides by the dynamic temperature at T = 0 too; the ids stay argmax, the scores sharpen."""
    logits = _logits(rows=3)
    plain = sample(logits.clone(), SamplerConfig(temperature=0.0))
    dynamic = sample(logits.clone(), SamplerConfig(temperature=0.0, min_temperature=0.5))
    assert torch.equal(plain.ids, dynamic.ids)
    assert (dynamic.scores > plain.scores).all()


def test_top_nsigma_uses_top_no_as_n_and_tolerates_filtered_rows() -> None:
    """Deviations 1 and 2: n = top_no, std over finite entries, a lone finite logit survives."""
    logits = _logits(rows=2, classes=200, seed=5)
    one = TopNSigma(1.0)(logits.clone(), None)
    two = TopNSigma(2.0)(logits.clone(), None)
    assert (torch.isfinite(two).sum(dim=-1) > torch.isfinite(one).sum(dim=-1)).all()

    lone = torch.full((1, 6), -math.inf)
    lone[0, 2] = 1.5
    assert torch.equal(TopNSigma(1.0)(lone, None), lone)
    out = sample(torch.tensor([[3.0, 1.0, 2.0, -math.inf]]), SamplerConfig(temperature=0.0, top_no=1.0))
    assert out.ids.tolist() == [0] and math.isfinite(float(out.scores[0]))


def test_min_p_keeps_at_least_32_and_top_p_keeps_the_best() -> None:
    peaked = torch.zeros(1, 100)
    peaked[0, 0] = 50.0
    assert int(torch.isfinite(MinP(0.5)(peaked, None)).sum()) == 32
    assert int(torch.isfinite(TopP(0.0)(peaked.clone(), None)).sum()) == 1


def test_top_nsigma_std_is_unbiased_with_and_without_filtered_entries() -> None:
    """[0, 1, 2]: unbiased std 1 -> threshold 2 - 1 = 1 keeps {1, 2}; a biased std (0.816) would keep {2}."""
    for row in ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0, -math.inf]):
        out = TopNSigma(1.0)(torch.tensor([row]), None)
        assert torch.isfinite(out[0]).tolist()[:3] == [False, True, True]
