"""Beam search: exhaustive on a toy next-token function when wide enough, length-normalised, deterministic,
and on the tiny model the KV-cached search equals the uncached one (with and without CFG)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.generation import generate_ar_beam
from valle_studio.engine.model import load_model
from valle_studio.engine.sampling import SamplerConfig, beam_search

STOP = 3
CLASSES = 4


def toy_logits(prefix: tuple[int, ...]) -> torch.Tensor:
    """A fixed random "language model": the next-token logits of ``prefix`` ([CLASSES])."""
    seed = hash(prefix) % (2**31)
    return torch.randn(CLASSES, generator=torch.Generator().manual_seed(seed)) * 2.0


class ToyModel:
    def __init__(self) -> None:
        self.prefixes: list[tuple[int, ...]] = [()]

    def first(self) -> torch.Tensor:
        return toy_logits(())[None]

    def step(self, parents: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        self.prefixes = [(*self.prefixes[p], t) for p, t in zip(parents.tolist(), tokens.tolist(), strict=True)]
        return torch.stack([toy_logits(p) for p in self.prefixes])


def exhaustive_best(max_steps: int) -> tuple[list[int], float]:
    """The finished sequence with the best length-normalised log-probability, by enumeration."""
    best: tuple[list[int], float] | None = None
    for length in range(max_steps):  # tokens before the stop token
        for tokens in itertools.product(range(STOP), repeat=length):
            logp = 0.0
            for i, token in enumerate([*tokens, STOP]):
                logp += float(torch.log_softmax(toy_logits(tuple(tokens[:i])).double(), dim=-1)[token])
            score = logp / (length + 1)
            if best is None or score > best[1]:
                best = (list(tokens), score)
    assert best is not None
    return best


def run(width: int, max_steps: int, early: bool) -> tuple[list[int], float, bool]:
    toy = ToyModel()
    result = beam_search(toy.first(), toy.step, width=width, max_steps=max_steps, stop_token=STOP,
                         sampler=SamplerConfig(temperature=0.0), early_stopping=early)
    return result.tokens, result.score, result.finished


def test_a_wide_enough_beam_finds_the_best_normalised_sequence() -> None:
    tokens, score = exhaustive_best(5)
    got = run(width=81, max_steps=5, early=False)
    assert got[0] == tokens and got[1] == pytest.approx(score) and got[2]


def test_narrow_beams_are_deterministic_and_never_beat_the_optimum() -> None:
    _, optimum = exhaustive_best(5)
    for width in (1, 2, 4):
        first, second = run(width, 5, True), run(width, 5, True)
        assert first == second
        assert first[1] <= optimum + 1e-9


def test_the_score_is_normalised_by_length() -> None:
    toy = ToyModel()
    result = beam_search(toy.first(), toy.step, width=3, max_steps=6, stop_token=STOP,
                         sampler=SamplerConfig(temperature=0.0))
    logp = sum(float(torch.log_softmax(toy_logits(tuple(result.tokens[:i])).double(), dim=-1)[t])
               for i, t in enumerate([*result.tokens, STOP]))
    assert result.score == pytest.approx(logp / (len(result.tokens) + 1))


def test_processors_shape_the_scores_per_hypothesis() -> None:
    """A length penalty that makes stopping unlikely gives longer results (the stop logit is divided)."""
    plain = run(4, 8, True)[0]
    toy = ToyModel()
    lengthy = beam_search(toy.first(), toy.step, width=4, max_steps=8, stop_token=STOP,
                          sampler=SamplerConfig(temperature=0.0, length_penalty=3.0)).tokens
    assert len(lengthy) >= len(plain)


def test_bad_arguments_are_refused() -> None:
    toy = ToyModel()
    with pytest.raises(ValueError, match="width must be >= 1"):
        beam_search(toy.first(), toy.step, width=0, max_steps=3, stop_token=STOP, sampler=SamplerConfig())
    with pytest.raises(ValueError, match=r"first_logits must be \[1, classes\]"):
        beam_search(torch.zeros(2, 4), toy.step, width=2, max_steps=3, stop_token=STOP, sampler=SamplerConfig())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    path = write_tiny_checkpoint(Path(tmp_path_factory.mktemp("beam")) / "m.sft", capabilities=("ar", "nar"),
                                 noncausal_masks=False)
    return load_model(path)


TEXT = torch.tensor([1, 20, 31, 42, 53, 64, 2])
PROMPT = torch.randint(0, 1024, (12, 8), generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("cfg", [0.0, 3.0])
def test_cached_beam_search_equals_the_uncached_one(tiny, cfg: float) -> None:
    kwargs = dict(text=TEXT, prompt=PROMPT, width=3, sampler=SamplerConfig(temperature=0.0), max_frames=20,
                  cfg_strength=cfg, cfg_rescale=0.7)
    cached = generate_ar_beam(tiny, **kwargs)
    uncached = generate_ar_beam(tiny, use_cache=False, **kwargs)
    assert torch.equal(cached, uncached) and cached.numel() > 0


def test_the_cached_search_scores_what_the_model_says(tiny) -> None:
    """The score of the result is its teacher-forced log-probability per frame (stop included): the cache
    reordering hands every hypothesis its own keys and values."""
    from valle_studio.engine.generation._common import make_conditioning
    from valle_studio.engine.generation.beam import _ar_input, _Scorer
    from valle_studio.engine.model import ModelInput

    cond = make_conditioning(tiny, TEXT, 0, PROMPT, False)
    scorer = _Scorer(tiny, [_ar_input(cond, torch.zeros(0, dtype=torch.long))], 20, 0.0, 0.7, cached=True)
    result = beam_search(scorer.first(), scorer.step, width=3, max_steps=20, stop_token=1024,
                         sampler=SamplerConfig(temperature=0.0))
    assert result.finished
    resp = torch.tensor(result.tokens, dtype=torch.long)
    logits = tiny([ModelInput.ar(TEXT, 0, PROMPT, resp)], last=len(resp) + 1)[0].double()
    targets = torch.tensor([*result.tokens, 1024])
    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets[:, None]).sum()
    assert result.score == pytest.approx(float(logp) / len(targets), abs=1e-5)
    assert generate_ar_beam(tiny, text=TEXT, prompt=PROMPT, width=3, sampler=SamplerConfig(temperature=0.0),
                            max_frames=20).tolist() == result.tokens


def test_the_prompt_task_quirk_runs_uncached(tiny) -> None:
    out = generate_ar_beam(tiny, text=TEXT, prompt=PROMPT, prompt_task="ns", width=2,
                           sampler=SamplerConfig(temperature=0.0), max_frames=6)
    assert out.dim() == 1 and out.numel() <= 6
