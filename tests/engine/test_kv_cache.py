"""The static KV cache gives the same logits as recomputing the whole sequence (upstream's way)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.model import ModelInput, VallEModel, load_model
from valle_studio.engine.model.kv_cache import CacheFullError

STEPS = 32
TOL = 1e-5


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> VallEModel:
    path = write_tiny_checkpoint(tmp_path_factory.mktemp("kv") / "tiny.sft", seed=3)
    return load_model(path)


def _tokens(n: int, high: int, seed: int) -> torch.Tensor:
    return torch.randint(0, high, (n,), generator=torch.Generator().manual_seed(seed))


def _text() -> torch.Tensor:
    return torch.cat([torch.tensor([1]), _tokens(20, 200, 1) + 5, torch.tensor([2])])


def _prompt() -> torch.Tensor:
    return torch.randint(0, 1024, (15, 8), generator=torch.Generator().manual_seed(2))


def _max_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


@pytest.mark.parametrize(
    ("kind", "high"),
    [("ar", 1024), ("len", 10), ("stt", 256)],
    ids=["ar-level0", "len-digits", "stt-phonemes"],
)
def test_cached_decoding_equals_full_recompute(model: VallEModel, kind: str, high: int) -> None:
    tokens = _tokens(STEPS, high, 4)
    codes = torch.randint(0, 1024, (12, 8), generator=torch.Generator().manual_seed(5))

    def build(out: torch.Tensor) -> ModelInput:
        if kind == "ar":
            return ModelInput.ar(_text(), 0, _prompt(), out)
        if kind == "len":
            return ModelInput.length(_text(), 0, _prompt(), torch.cat([torch.tensor([0]), out]))
        return ModelInput.stt(codes, 0, torch.cat([torch.tensor([1]), out]))

    empty = torch.zeros(0, dtype=torch.long)
    cache = model.new_cache(1, model.embed(build(empty)).embeds.shape[0] + STEPS)
    cached = [model.prefill([build(empty)], cache)[0, -1]]
    for t in tokens:
        cached.append(model.decode(cache, t.view(1), kind)[0])
    for step in range(STEPS + 1):
        full = model([build(tokens[:step])], last=1)[0, -1]
        assert _max_err(cached[step], full) <= TOL, f"step {step}: cache diverges"


def test_cache_matches_upstream_ar_step10(parity_dir: Path) -> None:
    """Prefill at step 0, then decode the 10 fixture tokens: the 11 rows upstream stored."""
    import json

    from safetensors.torch import load_file

    cases = json.loads((parity_dir / "cases.json").read_text())
    want = load_file(parity_dir / "expected.safetensors")["ar+nar-len/forward/ar_step10/logits"]
    model = load_model(parity_dir / "tiny-ar+nar-len.sft")
    inputs = cases["inputs"]
    resp = torch.tensor(inputs["resp"])[:10, 0]
    first = ModelInput.ar(torch.tensor(inputs["phn"]), 0, torch.tensor(inputs["prom"]), resp[:0])
    cache = model.new_cache(1, 100)
    rows = [model.prefill([first], cache)[0, -1]]
    rows += [model.decode(cache, t.view(1), "ar")[0] for t in resp]
    assert torch.allclose(torch.stack(rows), want, atol=1e-4, rtol=1e-4)


def test_padded_pair_cache_equals_separate_caches(model: VallEModel) -> None:
    """The CFG pair (long cond, short null) in one right-padded cache: each row as if alone."""
    cond = ModelInput.ar(_text(), 0, _prompt(), torch.zeros(0, dtype=torch.long))
    null = ModelInput.ar(torch.tensor([1, 2]), 0, None, torch.zeros(0, dtype=torch.long))
    tokens = _tokens(STEPS, 1024, 6)
    pair = model.new_cache(2, 200)
    solo = [model.new_cache(1, 200), model.new_cache(1, 200)]
    got = [model.prefill([cond, null], pair)[:, -1]]
    want = [torch.cat([model.prefill([cond], solo[0])[:, -1], model.prefill([null], solo[1])[:, -1]])]
    for t in tokens:
        got.append(model.decode(pair, t.expand(2), "ar"))
        want.append(torch.cat([model.decode(c, t.view(1), "ar") for c in solo]))
    assert _max_err(torch.stack(got), torch.stack(want)) <= TOL


def test_cache_refuses_to_overflow(model: VallEModel) -> None:
    inp = ModelInput.ar(torch.tensor([1, 5, 2]), 0, None, torch.zeros(0, dtype=torch.long))
    length = model.embed(inp).embeds.shape[0]
    cache = model.new_cache(1, length + 1)
    model.prefill([inp], cache)
    model.decode(cache, torch.tensor([7]), "ar")
    with pytest.raises(CacheFullError, match="holds"):
        model.decode(cache, torch.tensor([8]), "ar")


def test_prefill_refuses_bidirectional_passes(model: VallEModel) -> None:
    inp = ModelInput.nar(torch.tensor([1, 5, 2]), 0, None, torch.zeros(4, 1, dtype=torch.long), 1)
    with pytest.raises(ValueError, match="causal"):
        model.prefill([inp], model.new_cache(1, 64))
