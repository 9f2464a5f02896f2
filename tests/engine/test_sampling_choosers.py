"""Mirostat v2 and repetition-aware sampling, each by its defining property."""

from __future__ import annotations

import math

import pytest
import torch

from valle_studio.engine.sampling import MirostatState, SamplerConfig, sample
from valle_studio.engine.sampling.choosers import RepetitionAware, mirostat_v2


def _zipf_logits(classes: int = 200, exponent: float = 1.1) -> torch.Tensor:
    ranks = torch.arange(1, classes + 1, dtype=torch.float64)
    return (-exponent * ranks.log()).float()[None]


def test_mirostat_never_draws_above_the_bound_and_updates_mu_by_the_error() -> None:
    logits = _zipf_logits()
    surprise = -torch.log2(torch.softmax(logits[0].double(), dim=-1))
    state = MirostatState.start(3.0, 0.1)
    assert state.mu == 6.0  # the paper's start, 2 tau
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        mu = state.mu
        pick = mirostat_v2(logits, state, gen)
        assert surprise[pick.token] <= mu or pick.token == 0  # the best token is always allowed
        assert pick.kept == max(1, int((surprise <= mu).sum()))
        assert state.mu == pytest.approx(mu - 0.1 * (pick.surprise - 3.0))


def test_mirostat_holds_the_average_surprise_at_tau() -> None:
    logits = _zipf_logits()
    gen = torch.Generator().manual_seed(1)
    for tau in (2.0, 4.0):
        state = MirostatState.start(tau, 0.1)
        observed = [mirostat_v2(logits, state, gen).surprise for _ in range(3000)]
        assert sum(observed[500:]) / len(observed[500:]) == pytest.approx(tau, abs=0.15)


def test_mirostat_in_the_pipeline_carries_its_state_and_needs_one_row() -> None:
    config = SamplerConfig(temperature=1.0, mirostat_tau=3.0, mirostat_eta=0.2)
    state = MirostatState.start(3.0, 0.2)
    sample(_zipf_logits(), config, generator=torch.Generator().manual_seed(0), mirostat=state)
    assert state.mu != 6.0
    with pytest.raises(ValueError, match="one sequence at a time"):
        sample(torch.zeros(2, 10), config)
    # Greedy: mirostat has nothing to draw, the argmax stays.
    assert not SamplerConfig(temperature=0.0, mirostat_tau=3.0).uses_mirostat


def test_ras_ratio_and_decision_follow_the_window() -> None:
    ras = RepetitionAware(window=10, threshold=0.3)
    history = torch.tensor([9] * 20 + [1, 4, 4, 4, 2, 3, 5, 6, 7, 8])  # 4 fills 3 of the last 10
    assert ras.ratio(4, history) == 0.3
    assert not ras.resamples(4, history)  # exactly the threshold: not above it
    assert ras.resamples(4, torch.cat([history, torch.tensor([4])]))  # one more: 4 of the last 10
    assert ras.ratio(9, history) == 0.0  # older than the window
    assert RepetitionAware(10, 0.0).ratio(1, torch.tensor([1])) == 0.1  # a short history counts against K


def test_ras_redraws_from_the_unfiltered_distribution_only_past_the_threshold() -> None:
    logits = torch.log(torch.tensor([[0.70, 0.10, 0.10, 0.10]]))
    config = SamplerConfig(temperature=1.0, top_p=0.5, ras_window=4, ras_threshold=0.5)
    quiet = torch.tensor([1, 2, 3, 0])  # token 0 fills 1/4
    for seed in range(20):  # top-p keeps token 0 alone, and 1/4 <= 0.5: never redrawn
        out = sample(logits.clone(), config, history=quiet, generator=torch.Generator().manual_seed(seed))
        assert int(out.ids[0]) == 0
    stuck = torch.tensor([0, 0, 0, 2])  # token 0 fills 3/4 > 0.5: redrawn from the full distribution
    for seed in range(20):
        gen = torch.Generator().manual_seed(seed)
        out = sample(logits.clone(), config, history=stuck, generator=gen)
        # The same two draws by hand: the nucleus draw (one token left), then the fallback draw.
        ref = torch.Generator().manual_seed(seed)
        torch.multinomial(torch.tensor([1.0, 0.0, 0.0, 0.0]), 1, generator=ref)
        fallback = torch.multinomial(torch.softmax(logits[0], dim=-1), 1, generator=ref)
        assert int(out.ids[0]) == int(fallback[0])
    drawn = {int(sample(logits.clone(), config, history=stuck, generator=torch.Generator().manual_seed(s)).ids[0])
             for s in range(40)}
    assert drawn != {0}  # the fallback really reaches the filtered tokens


def test_ras_after_greedy_redraws_at_temperature_one() -> None:
    logits = torch.tensor([[3.0, 0.0, 0.0]])
    config = SamplerConfig(temperature=0.0, ras_window=2, ras_threshold=0.4)
    assert int(sample(logits.clone(), config, history=torch.tensor([1, 2])).ids[0]) == 0
    picks = {int(sample(logits.clone(), config, history=torch.tensor([0, 0]),
                        generator=torch.Generator().manual_seed(s)).ids[0]) for s in range(60)}
    assert picks > {0}


def test_mirostat_takes_precedence_over_ras() -> None:
    config = SamplerConfig(temperature=1.0, mirostat_tau=3.0, ras_window=4)
    assert config.uses_mirostat and not config.uses_ras
    off = config.without_sequence_choosers()
    assert (off.mirostat_tau, off.ras_window, off.dry_multiplier) == (0.0, 0, 0.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mirostat_tau": -1.0}, "mirostat_tau must be >= 0"),
    ({"mirostat_eta": 0.0}, "mirostat_eta must be > 0"),
    ({"ras_window": -1}, "ras_window must be >= 0"),
    ({"ras_threshold": 1.5}, "ras_threshold must be <= 1"),
])
def test_config_rejects_bad_chooser_values(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SamplerConfig(**kwargs)  # type: ignore[arg-type]


def test_mirostat_state_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="tau must be > 0"):
        MirostatState.start(0.0, 0.1)
    assert math.isclose(MirostatState.start(2.5, 0.1).mu, 5.0)
