"""Loop behaviour beyond the fixtures: progress, cancellation, seeds, rolling context, quirks, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from valle_studio.engine import generation as gen
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.model import ModelInput, VallEModel, load_model
from valle_studio.engine.progress import Cancelled, CancelToken, Progress
from valle_studio.engine.sampling import SamplerConfig

GREEDY = SamplerConfig(temperature=0.0)
TEXT = torch.tensor([1, 40, 50, 60, 4, 70, 80, 11, 2])
#: Runs one loop on a model with extra keyword arguments (progress, cancel).
Runner = Callable[[VallEModel, dict[str, Any]], object]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("loops") / "tiny.sft", seed=1)


@pytest.fixture(scope="module")
def model(tiny: Path) -> VallEModel:
    return load_model(tiny)


def _prompt() -> torch.Tensor:
    return torch.randint(0, 1024, (12, 8), generator=torch.Generator().manual_seed(7))


def _greedy_uncached(
    model: VallEModel, build: Callable[[torch.Tensor], ModelInput], stop: int, steps: int
) -> list[int]:
    """Reference loop: the whole sequence through ``forward`` every step, argmax of the last row."""
    out: list[int] = []
    for _ in range(steps):
        token = int(model([build(torch.tensor(out, dtype=torch.long))], last=1)[0, -1].argmax())
        if token == stop:
            break
        out.append(token)
    return out


STAGES = [
    ("generating", lambda m, kw: gen.generate_ar(m, text=TEXT, sampler=GREEDY, max_frames=5, **kw)),
    ("refining", lambda m, kw: gen.generate_nar(m, level0=torch.arange(6), text=TEXT, sampler=GREEDY, **kw)),
    ("predicting length", lambda m, kw: gen.predict_length(m, text=TEXT, **kw)),
    ("demasking", lambda m, kw: gen.generate_nar_len(m, length=6, steps=4, text=TEXT, sampler=GREEDY, **kw)),
    ("transcribing", lambda m, kw: gen.transcribe(m, _prompt(), max_tokens=5, **kw)),
]


@pytest.mark.parametrize(("stage", "run"), STAGES, ids=[s for s, _ in STAGES])
def test_progress_reports_its_stage(model: VallEModel, stage: str, run: Runner) -> None:
    events: list[Progress] = []
    run(model, {"progress": events.append})
    assert events and {e.stage for e in events} == {stage}
    assert [e.done for e in events] == sorted(e.done for e in events)
    assert events[-1].done == events[-1].total > 0


@pytest.mark.parametrize(("stage", "run"), STAGES, ids=[s for s, _ in STAGES])
def test_cancel_stops_between_steps(model: VallEModel, stage: str, run: Runner) -> None:
    token = CancelToken()
    seen: list[Progress] = []

    def on_progress(event: Progress) -> None:
        seen.append(event)
        token.cancel()  # cancelled during the first step: the next check raises

    with pytest.raises(Cancelled):
        run(model, {"progress": on_progress, "cancel": token})
    assert len(seen) == 1


def test_seeded_sampling_is_reproducible(model: VallEModel) -> None:
    hot = SamplerConfig(temperature=1.0)

    def run(seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        level0 = gen.generate_ar(model, text=TEXT, prompt=_prompt(), sampler=hot, max_frames=20, generator=g)
        if len(level0) == 0:
            level0 = torch.tensor([5])
        return gen.generate_nar(model, level0=level0, text=TEXT, sampler=hot, generator=g)

    assert torch.equal(run(11), run(11))
    assert not torch.equal(run(11), run(12))


def test_ar_prefix_continues_the_sequence(model: VallEModel) -> None:
    """Rolling context: with the first k frames of a greedy run as prefix, the rest comes out."""
    full = gen.generate_ar(model, text=TEXT, prompt=_prompt(), sampler=GREEDY, max_frames=40)
    assert len(full) >= 4, "the tiny model should speak for a few frames"
    k = len(full) // 2
    rest = gen.generate_ar(model, text=TEXT, prompt=_prompt(), sampler=GREEDY, max_frames=40, prefix=full[:k])
    assert torch.equal(rest, full[k:])


def test_nar_len_prefix_is_context_not_output(model: VallEModel) -> None:
    prefix = torch.randint(0, 1024, (7,), generator=torch.Generator().manual_seed(1))
    out = gen.generate_nar_len(model, length=9, steps=5, text=TEXT, sampler=GREEDY, prefix=prefix)
    plain = gen.generate_nar_len(model, length=9, steps=5, text=TEXT, sampler=GREEDY)
    assert out.shape == (9,) and int(out.max()) < 1024
    assert not torch.equal(out, plain)  # the prefix is seen


def test_ns_prompt_quirk_in_the_ar_loop(model: VallEModel) -> None:
    """The ns/sr position quirk cannot be cached; the loop falls back to full recomputation."""
    want = _greedy_uncached(
        model, lambda out: ModelInput.ar(TEXT, 0, _prompt(), out, prom_task=2), stop=1024, steps=12
    )
    got = gen.generate_ar(model, text=TEXT, prompt=_prompt(), prompt_task="ns", sampler=GREEDY, max_frames=12)
    assert got.tolist() == want


def test_transcribe_equals_the_uncached_greedy_loop(model: VallEModel) -> None:
    codes = _prompt()
    want = _greedy_uncached(
        model, lambda out: ModelInput.stt(codes, 0, torch.cat([torch.tensor([1]), out])), stop=2, steps=15
    )
    assert gen.transcribe(model, codes, max_tokens=15).tolist() == want
    assert gen.transcribe(model, codes, max_tokens=15, use_cache=False).tolist() == want


@pytest.mark.parametrize(
    ("stop_bias", "tokens", "frames"),
    [(30.0, [0, 10], 0), (-30.0, None, None)],
    ids=["stops-at-once", "never-stops"],
)
def test_length_quirks(
    tmp_path: Path, tiny: Path, stop_bias: float, tokens: list[int] | None, frames: int | None
) -> None:
    with safe_open(str(tiny), framework="pt") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
        meta = dict(fh.metadata())
    tensors["classifiers.proj.10.bias"][10] = stop_bias
    save_file(tensors, str(tmp_path / "m.sft"), metadata=meta)
    model = load_model(tmp_path / "m.sft")
    got = gen.predict_length_tokens(model, text=TEXT)
    if tokens is not None:
        assert got == tokens and gen.predict_length(model, text=TEXT) == frames  # the leading 0 is kept
    else:
        assert len(got) == 11 and 10 not in got and got[0] == 0  # 10 digits after the leading 0
        assert gen.tokens_to_frames(got) == int("".join(map(str, got)))


def test_nar_resumes_from_known_levels(model: VallEModel) -> None:
    level0 = torch.arange(5) * 100
    full = gen.generate_nar(model, level0=level0, text=TEXT, sampler=GREEDY)
    assert full.shape == (5, 8) and torch.equal(full[:, 0], level0)
    resumed = gen.generate_nar(model, level0=full[:, :3], text=TEXT, sampler=GREEDY)
    assert torch.equal(resumed, full)
    assert gen.generate_nar(model, level0=level0, text=TEXT, sampler=GREEDY, levels=4).shape == (5, 4)


def test_nar_frozen_frames_keep_their_codes(model: VallEModel) -> None:
    """``frozen`` (what streaming hands out before the rest of a sentence exists) pins the first frames on
    every level; the passes and their random draws still cover every frame."""
    level0 = torch.arange(10) * 50
    hot = SamplerConfig(temperature=1.0)

    def run(frozen: torch.Tensor | None) -> torch.Tensor:
        return gen.generate_nar(model, level0=level0, text=TEXT, sampler=hot, frozen=frozen,
                                generator=torch.Generator().manual_seed(3))

    full = run(None)
    assert torch.equal(run(full[:0]), full)  # nothing frozen: the plain loop
    assert torch.equal(run(full[:4]), full)  # freezing what the loop makes anyway changes nothing
    pinned = torch.randint(0, 1024, (4, 8), generator=torch.Generator().manual_seed(5))
    pinned[:, 0] = level0[:4]
    out = run(pinned)
    assert torch.equal(out[:4], pinned) and torch.equal(out[:, 0], level0)
    assert not torch.equal(out[4:], full[4:])  # the later frames saw the pinned codes
    with pytest.raises(ValueError, match="more than the 10"):
        run(torch.zeros((11, 8), dtype=torch.long))
    with pytest.raises(ValueError, match="at least 8 levels"):
        run(torch.zeros((2, 3), dtype=torch.long))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_frames": 0}, "max_frames"),
        ({"text": torch.tensor([], dtype=torch.long)}, "non-empty"),
        ({"text": torch.tensor([1, 300, 2])}, "outside the model's 256 phoneme"),
        ({"language_id": 9}, "language id 9"),
        ({"prompt": torch.full((4, 8), 1024)}, "prompt codes must lie"),
        ({"prompt": torch.zeros(4)}, "prompt codes must be"),
        ({"prompt_task": "tts"}, "prompt task must be one of"),
    ],
    ids=[
        "no-frames",
        "empty-text",
        "text-out-of-vocab",
        "bad-language",
        "prompt-out-of-range",
        "prompt-1d",
        "bad-task",
    ],
)
def test_bad_inputs_are_named(model: VallEModel, kwargs: dict, message: str) -> None:
    args = {"text": TEXT, "sampler": GREEDY, "max_frames": 3, "prompt": _prompt()} | kwargs
    with pytest.raises(ValueError, match=message):
        gen.generate_ar(model, **args)


def test_tiny_checkpoint_is_deterministic(tmp_path: Path) -> None:
    a = write_tiny_checkpoint(tmp_path / "a.sft", seed=4, capabilities=("ar", "nar"), noncausal_masks=False)
    b = write_tiny_checkpoint(tmp_path / "b.sft", seed=4, capabilities=("ar", "nar"), noncausal_masks=False)
    with safe_open(str(a), framework="pt") as fa, safe_open(str(b), framework="pt") as fb:
        assert all(torch.equal(fa.get_tensor(k), fb.get_tensor(k)) for k in fa.keys())  # noqa: SIM118
        assert json.loads(fa.metadata()["config"])["capabilities"] == ["ar", "nar", "lang"]
    assert not load_model(a).can_nar_len
