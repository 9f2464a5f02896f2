"""The speed paths (fused q/k/v and gate/up buffers, the oneDNN linear kernel) give the plain paths' numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.model import ModelInput, VallEModel, kernels, load_model

TOL = 1e-5


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("fast")
    return write_tiny_checkpoint(folder / "a.sft", seed=3), write_tiny_checkpoint(folder / "b.sft", seed=4)


def _inputs() -> list[tuple[ModelInput, int]]:
    g = torch.Generator().manual_seed(0)
    text = torch.cat([torch.tensor([1]), torch.randint(5, 200, (20,), generator=g), torch.tensor([2])])
    prompt = torch.randint(0, 1024, (12, 8), generator=g)
    resp = torch.randint(0, 1024, (16,), generator=g)
    return [(ModelInput.ar(text, 0, prompt, resp), 4), (ModelInput.nar_len(text, 0, prompt, resp), 16)]


def _logits(model: VallEModel) -> list[torch.Tensor]:
    with torch.inference_mode():
        return [model([inp], last=rows)[0] for inp, rows in _inputs()]


def _unfused(path: Path) -> VallEModel:
    fused = load_model(path)
    plain = VallEModel(fused.config)
    plain.load_state_dict({k: v.clone() for k, v in fused.state_dict().items()})
    return plain.eval()


def test_loader_fuses_and_fusion_changes_nothing(paths: tuple[Path, Path]) -> None:
    fused = load_model(paths[0])
    attn = fused.model.layers[0].self_attn
    assert isinstance(attn._qkv, torch.Tensor)
    assert attn.q_proj.weight.data_ptr() == attn._qkv.data_ptr()  # a view, not a second copy
    for got, want in zip(_logits(fused), _logits(_unfused(paths[0])), strict=True):
        assert (got - want).abs().max() <= TOL


def test_replacing_the_weights_ends_the_fusion(paths: tuple[Path, Path]) -> None:
    model = load_model(paths[0])
    other = load_model(paths[1])
    model.load_state_dict(other.state_dict(), assign=True)  # new tensors: the fused buffers are stale now
    for got, want in zip(_logits(model), _logits(other), strict=True):
        assert (got - want).abs().max() <= TOL


def test_copying_weights_in_place_keeps_the_fusion_current(paths: tuple[Path, Path]) -> None:
    model = load_model(paths[0])
    other = load_model(paths[1])
    model.load_state_dict(other.state_dict())  # copies into the views, i.e. into the fused buffers
    assert model.model.layers[0].self_attn.q_proj.weight.data_ptr() == model.model.layers[0].self_attn._qkv.data_ptr()
    for got, want in zip(_logits(model), _logits(other), strict=True):
        assert (got - want).abs().max() <= TOL


@pytest.mark.skipif(kernels.backend() != "onednn", reason="no oneDNN linear kernel in this build")
def test_onednn_and_torch_kernels_agree(paths: tuple[Path, Path]) -> None:
    model = load_model(paths[0])
    try:
        kernels.set_backend("onednn")
        fast = _logits(model)
        kernels.set_backend("torch")
        plain = _logits(model)
    finally:
        kernels.set_backend("auto")
    for got, want in zip(fast, plain, strict=True):
        assert (got - want).abs().max() <= TOL


def test_linear_backend_names_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown linear backend"):
        kernels.set_backend("mkl")  # type: ignore[arg-type]


def test_onednn_is_not_used_when_gradients_are_needed() -> None:
    w = torch.randn(4, 3, requires_grad=True)
    x = torch.randn(2, 3)
    out = kernels.linear(x, w)
    out.sum().backward()  # would fail if the oneDNN op (no backward) had been used
    assert w.grad is not None and w.grad.shape == w.shape
