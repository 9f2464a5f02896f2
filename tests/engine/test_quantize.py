"""Opt-in int8 dynamic quantisation: logits stay close to float32, and it is refused where it makes no sense."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.generation import generate_ar
from valle_studio.engine.model import ModelInput, VallEModel, load_model
from valle_studio.engine.quantize import Int8Linear, QuantizationError, quantize_int8, refusal
from valle_studio.engine.sampling import SamplerConfig

# Measured on the tiny checkpoint: rms error 2.0-2.7 % of the logits' spread, top-1 agreement >= 0.9.
RMS_BOUND = 0.06
TOP1_BOUND = 0.8

pytestmark = pytest.mark.skipif(refusal(torch.device("cpu"), torch.float32) is not None,
                                reason="this PyTorch build has no quantised CPU kernels")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("q") / "tiny.sft", seed=3)


@pytest.fixture(scope="module")
def models(checkpoint: Path) -> tuple[VallEModel, VallEModel]:
    return load_model(checkpoint), load_model(checkpoint, quantize="int8")


def _inputs() -> list[tuple[ModelInput, int]]:
    g = torch.Generator().manual_seed(0)
    text = torch.cat([torch.tensor([1]), torch.randint(5, 200, (30,), generator=g), torch.tensor([2])])
    prompt = torch.randint(0, 1024, (40, 8), generator=g)
    resp = torch.randint(0, 1024, (50,), generator=g)
    return [
        (ModelInput.ar(text, 0, prompt, resp), 8),
        (ModelInput.nar_len(text, 0, prompt, resp), 50),
        (ModelInput.nar(text, 0, prompt, torch.randint(0, 1024, (50, 3), generator=g), 2), 50),
    ]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["ar", "nar-len", "nar-level2"])
def test_int8_logits_stay_within_the_measured_bound(models: tuple[VallEModel, VallEModel], index: int) -> None:
    fp32, int8 = models
    inp, rows = _inputs()[index]
    with torch.inference_mode():
        want = fp32([inp], last=rows)[0, :, :1024]
        got = int8([inp], last=rows)[0, :, :1024]
    rms = (got - want).pow(2).mean().sqrt() / want.std()
    agree = (got.argmax(-1) == want.argmax(-1)).float().mean()
    assert rms <= RMS_BOUND, f"int8 logits moved by {rms:.3f} of their spread"
    assert agree >= TOP1_BOUND, f"only {agree:.2f} of the top-1 classes agree with float32"
    assert not torch.equal(got, want), "the quantised model returned float32's exact logits: nothing was quantised"


def test_int8_replaces_every_backbone_matrix(models: tuple[VallEModel, VallEModel]) -> None:
    _, int8 = models
    assert int8.quantized == "int8"
    for layer in int8.model.layers:
        assert isinstance(layer.self_attn._qkv, Int8Linear)
        assert isinstance(layer.self_attn.o_proj, Int8Linear)
        assert isinstance(layer.mlp._gate_up, Int8Linear)
        assert isinstance(layer.mlp.down_proj, Int8Linear)
    matrices = [n for n, p in int8.model.named_parameters() if p.dim() == 2]
    assert matrices == [], f"float32 backbone matrices left behind: {matrices[:3]}"


def test_int8_model_generates_with_the_kv_cache(models: tuple[VallEModel, VallEModel]) -> None:
    _, int8 = models
    text = torch.tensor([1, 40, 41, 42, 2])
    codes = generate_ar(int8, text=text, sampler=SamplerConfig(temperature=0.0), max_frames=12)
    assert codes.dim() == 1 and 0 < codes.numel() <= 12
    assert int(codes.max()) < 1024


def test_int8_is_refused_on_a_gpu(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_model(checkpoint)
    monkeypatch.setattr(VallEModel, "device", property(lambda self: torch.device("cuda", 0)))
    with pytest.raises(QuantizationError, match=r"CPU only.*cuda:0.*float16 or bfloat16"):
        quantize_int8(model)
    assert model.quantized is None


def test_int8_is_refused_at_load_time_for_a_gpu_target() -> None:
    reason = refusal(torch.device("cuda"), torch.float16)
    assert reason is not None and "CPU only" in reason and "float16 or bfloat16" in reason


def test_int8_needs_float32_weights(checkpoint: Path) -> None:
    model = load_model(checkpoint).to(torch.bfloat16)
    with pytest.raises(QuantizationError, match="float32 weights, not bfloat16"):
        quantize_int8(model)


def test_unknown_quantisation_is_rejected(checkpoint: Path) -> None:
    with pytest.raises(ValueError, match="only choice is 'int8'"):
        load_model(checkpoint, quantize="int4")
