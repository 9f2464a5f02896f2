"""DRY's defining property, against a brute-force reading of the DRY authors' definition: a token is
penalised exactly when emitting it would repeat more than ``allowed_length`` tokens of the history, by
``multiplier * base ** (n - allowed_length)`` where n is the longest such earlier match; breakers end
matches."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from valle_studio.engine.sampling import SamplerConfig, sample
from valle_studio.engine.sampling.dry import Dry, repeat_lengths, z_function
from valle_studio.engine.sampling.pipeline import build_processors

CLASSES = 6


def brute_match(history: list[int], token: int, breakers: frozenset[int]) -> int:
    """The longest n such that history[-n:] also occurs earlier directly followed by ``token``, with no
    breaker in the matched suffix (0 when none). Straight from the definition, no cleverness."""
    if not history or history[-1] in breakers or token in breakers:
        return 0
    best = 0
    for n in range(1, len(history)):
        suffix = history[-n:]
        if any(t in breakers for t in suffix):
            break
        for end in range(n - 1, len(history) - 1):  # an earlier copy history[end-n+1 .. end], then token
            if history[end - n + 1 : end + 1] == suffix and history[end + 1] == token:
                best = n
                break
    return best


def test_z_function() -> None:
    assert z_function([1, 1, 2, 1, 1, 2, 1]) == [7, 1, 0, 4, 1, 0, 1]
    assert z_function([]) == []


@settings(max_examples=300, deadline=None)
@given(history=st.lists(st.integers(0, CLASSES - 1), min_size=0, max_size=24),
       allowed=st.integers(1, 4),
       breakers=st.frozensets(st.integers(0, CLASSES - 1), max_size=2))
def test_dry_penalises_exactly_the_tokens_that_extend_a_repeat_too_long(history: list[int], allowed: int,
                                                                        breakers: frozenset[int]) -> None:
    dry = Dry(0.8, 1.75, allowed, breakers)
    logits = torch.zeros(1, CLASSES)
    out = dry(logits.clone(), torch.tensor(history, dtype=torch.int64) if history else None)
    for token in range(CLASSES):
        n = brute_match(history, token, breakers)
        expected = 0.8 * 1.75 ** (n - allowed) if n >= allowed else 0.0
        assert float(-out[0, token]) == pytest.approx(expected, rel=1e-6), (history, token, n)
    assert repeat_lengths(history, breakers).keys() <= set(range(CLASSES))


def test_dry_numbers_on_a_looping_history() -> None:
    # "5 1 2 3 1 2 3 1 2": emitting 3 repeats "1 2 3" after the suffix "1 2" (n = 2... and longer copies:
    # "3 1 2" also precedes 3 at index 3, so n = 5 via "1 2 3 1 2").
    history = torch.tensor([5, 1, 2, 3, 1, 2, 3, 1, 2])
    out = Dry(1.0, 2.0, 2)(torch.zeros(1, 8), history)
    assert repeat_lengths(history.tolist())[3] == 5
    assert float(out[0, 3]) == -(2.0 ** 3)
    assert torch.count_nonzero(out) == 1


def test_breakers_stop_matches_and_are_never_penalised() -> None:
    history = torch.tensor([1, 2, 9, 1, 2, 9, 1, 2])
    plain = Dry(1.0, 2.0, 1)(torch.zeros(1, 10), history)
    assert float(plain[0, 9]) < 0  # 9 would continue "1 2" (and more)
    broken = Dry(1.0, 2.0, 1, frozenset({9}))(torch.zeros(1, 10), history)
    assert float(broken[0, 9]) == 0.0  # a breaker is not penalised as the continuation
    ending = Dry(1.0, 2.0, 1, frozenset({2}))(torch.zeros(1, 10), history)
    assert torch.count_nonzero(ending) == 0  # the last token is a breaker: no penalty at all


def test_huge_repeats_ban_the_token_instead_of_overflowing() -> None:
    history = torch.tensor([7] * 1200)
    out = Dry(1.0, 8.0, 1)(torch.zeros(1, 10), history)
    assert out[0, 7] == -math.inf and torch.isfinite(out[0, :7]).all()


def test_dry_runs_last_in_the_chain_and_off_by_default() -> None:
    config = SamplerConfig(temperature=0.7, top_k=5, dry_multiplier=0.8)
    assert type(build_processors(config)[-1]) is Dry
    assert not any(isinstance(p, Dry) for p in build_processors(SamplerConfig()))
    # Greedy sampling now avoids the looping continuation.
    logits = torch.zeros(1, 8)
    logits[0, 3] = 1.0
    history = torch.tensor([1, 2, 3, 1, 2, 3, 1, 2])
    assert int(sample(logits.clone(), SamplerConfig(temperature=0.0), history=history).ids[0]) == 3
    out = sample(logits.clone(), SamplerConfig(temperature=0.0, dry_multiplier=1.0), history=history)
    assert int(out.ids[0]) != 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dry_multiplier": -0.1}, "dry_multiplier must be >= 0"),
    ({"dry_base": 1.0}, "dry_base must be > 1"),
    ({"dry_allowed_length": 0}, "dry_allowed_length must be >= 1"),
    ({"dry_sequence_breakers": [1]}, "dry_sequence_breakers must be a tuple"),
    ({"dry_sequence_breakers": (-1,)}, "dry_sequence_breakers must be >= 0"),
])
def test_config_rejects_bad_dry_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SamplerConfig(**kwargs)  # type: ignore[arg-type]
