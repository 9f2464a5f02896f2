"""The benchmark's model and inputs: the int8 copy shares float32's tensors without changing them, and
the timing cache holds the positions asked for without a prefill."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from valle_studio.engine.bench.inputs import prefilled, timing_cache
from valle_studio.engine.bench.subject import Subject
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.model import ModelInput, VallEModel, load_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("subject") / "tiny.sft", seed=4)


def _model(path: Path) -> VallEModel:
    return load_model(path, device="cpu", dtype=torch.float32)


def test_the_int8_copy_shares_the_float32_tensors_and_leaves_them_as_they_were(tiny: Path) -> None:
    model = _model(tiny)
    before = {name: t.clone() for name, t in model.state_dict().items()}
    pointers = {t.data_ptr() for t in model.parameters()}
    subject = Subject(model, "tiny", "installed")
    int8 = subject.variant("int8", torch.device("cpu"))
    assert int8.quantized == "int8" and not model.quantized
    assert int8.text_emb.weight.data_ptr() in pointers  # shared, not copied
    after = model.state_dict()
    assert set(after) == set(before) and all(torch.equal(before[n], after[n]) for n in before)
    gen = torch.Generator().manual_seed(0)
    text, prompt = torch.tensor([1, 5, 6, 7, 2]), torch.randint(0, 1024, (20, 8), generator=gen)
    inp = ModelInput.ar(text, 0, prompt, torch.tensor([3, 4, 5]))
    with torch.inference_mode():
        float_logits, int8_logits = model([inp], last=2), int8([inp], last=2)
    assert float_logits.shape == int8_logits.shape and not torch.equal(float_logits, int8_logits)
    fresh = _model(tiny)
    with torch.inference_mode():
        assert torch.equal(fresh([inp], last=2), float_logits)  # the float32 model still computes as before


def test_the_timing_cache_holds_the_context_and_decodes_like_a_prefilled_one(tiny: Path) -> None:
    model = _model(tiny)
    cache = timing_cache(model, 40, 2, 5)
    assert cache.longest == 40 and cache.max_len == 46 and cache.uniform
    assert cache.k[..., :40, :].abs().sum() > 0 and cache.k[..., 40:, :].abs().sum() == 0
    real = prefilled(model, 40, 2, 5)
    with torch.inference_mode():
        fake_logits = model.decode(cache, torch.tensor([7, 7]), "ar")
        real_logits = model.decode(real, torch.tensor([7, 7]), "ar")
    assert fake_logits.shape == real_logits.shape and cache.longest == real.longest == 41
