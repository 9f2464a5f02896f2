"""Every linear kernel candidate gives the same numbers up to float rounding, and a measured choice is checked.

The benchmark may install a kernel per shape (``kernels.configure``); these tests are the proof that
the choice changes speed only: each candidate against a float64 reference, and greedy generation on a
tiny model with every float32 configuration giving the same codes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from valle_studio.engine.bench.subject import pin_stop_logit
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.generation import generate_ar
from valle_studio.engine.model import kernels, load_model
from valle_studio.engine.model.devices import cpu_bf16_native
from valle_studio.engine.sampling import SamplerConfig


@pytest.fixture(autouse=True)
def _defaults() -> Iterator[None]:
    yield
    kernels.configure({})
    kernels.set_backend("auto")


def _case(rows: int, dtype: torch.dtype, *, bias: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    gen = torch.Generator().manual_seed(rows)
    x = torch.randn(rows, 96, generator=gen).to(dtype)
    w = (torch.randn(48, 96, generator=gen) / 10).to(dtype)
    b = torch.randn(48, generator=gen).to(dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize(("rows", "bias"), [(1, False), (1, True), (2, False), (37, True)])
def test_float32_candidates_agree_with_float64_to_rounding(rows: int, bias: bool) -> None:
    x, w, b = _case(rows, torch.float32, bias=bias)
    want = x.double() @ w.double().T + (0 if b is None else b.double())
    for kernel in kernels.candidates(torch.float32, rows):
        with torch.inference_mode():
            got = kernels.run(kernel, x, w, b)
        assert got.shape == want.shape and got.dtype == torch.float32
        assert torch.allclose(got.double(), want, rtol=1e-5, atol=1e-5), kernel


def test_bfloat16_candidates_agree_with_each_other() -> None:
    x, w, _ = _case(1, torch.bfloat16, bias=False)
    want = x.float() @ w.float().T
    for kernel in kernels.candidates(torch.bfloat16, 1):
        with torch.inference_mode():
            got = kernels.run(kernel, x, w).float()
        assert torch.allclose(got, want, rtol=2e-2, atol=2e-2), kernel  # one bfloat16 rounding of the result


def test_the_mv_kernel_takes_one_row_of_any_leading_shape() -> None:
    x, w, b = _case(1, torch.float32, bias=True)
    got = kernels.run("mv", x.view(1, 1, 96), w, b)
    assert got.shape == (1, 1, 48)
    with pytest.raises(ValueError, match="one row"):
        kernels.run("mv", torch.randn(2, 96), w)


def test_configure_checks_slots_and_kernels_and_changes_nothing_on_error() -> None:
    kernels.configure({"float32/matvec": "mv"})
    with pytest.raises(ValueError, match="unknown kernel slot"):
        kernels.configure({"float16/matvec": "torch"})
    with pytest.raises(ValueError, match="cannot run float32/gemm"):
        kernels.configure({"float32/gemm": "mv"})
    with pytest.raises(ValueError, match="cannot run"):
        kernels.configure({"float32/matvec": "mkl"})
    assert kernels.configured() == {"float32/matvec": "mv"}


def test_the_configured_kernel_is_used_per_shape_and_forcing_a_backend_wins() -> None:
    one, many = torch.randn(1, 8), torch.randn(5, 8)
    w = torch.randn(4, 8)
    kernels.configure({"float32/matvec": "mv", "float32/gemm": "torch"})
    with torch.inference_mode():
        assert kernels.kernel_for(one, w) == "mv"
        assert kernels.kernel_for(many, w) == "torch"
        kernels.set_backend("torch")
        assert kernels.kernel_for(one, w) == "torch"


def test_gradients_and_other_devices_or_dtypes_use_plain_linear() -> None:
    kernels.configure({"float32/matvec": "mv"})
    w = torch.randn(4, 8, requires_grad=True)
    assert kernels.kernel_for(torch.randn(1, 8), w) == "torch"
    half = torch.randn(1, 8).half()
    assert kernels.kernel_for(half, half.new_zeros(4, 8)) == "torch"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("kernels") / "tiny.sft", seed=5)


def _greedy_codes(path: Path) -> torch.Tensor:
    model = load_model(path)
    pin_stop_logit(model)  # greedy decoding of random weights would stop at once
    g = torch.Generator().manual_seed(0)
    text = torch.cat([torch.tensor([1]), torch.randint(5, 200, (12,), generator=g), torch.tensor([2])])
    prompt = torch.randint(0, 1024, (10, 8), generator=g)
    return generate_ar(model, text=text, prompt=prompt, sampler=SamplerConfig(temperature=0.0), max_frames=24)


def test_every_float32_kernel_configuration_generates_the_same_codes(tiny: Path) -> None:
    matvec = kernels.candidates(torch.float32, 1)
    gemm = kernels.candidates(torch.float32, 2)
    results = []
    for one, many in itertools.product(matvec, gemm):
        kernels.configure({"float32/matvec": one, "float32/gemm": many})
        results.append(_greedy_codes(tiny))
    assert len(results) >= 2 and results[0].numel() == 24
    for codes in results[1:]:
        assert torch.equal(codes, results[0])


@pytest.mark.skipif(not cpu_bf16_native()[0], reason="this CPU has no native bfloat16")
def test_bfloat16_model_runs_on_a_cpu_that_has_it(tiny: Path) -> None:
    model = load_model(tiny, dtype="bfloat16")
    assert model.dtype == torch.bfloat16
    with torch.inference_mode():
        cache = model.new_cache(1, 64)
        from valle_studio.engine.model import ModelInput

        text = torch.tensor([1, 7, 9, 2])
        logits = model.prefill([ModelInput.ar(text, 0, None, torch.zeros(0, dtype=torch.long))], cache)
        step = model.decode(cache, torch.tensor([3]), "ar")
    assert logits.dtype == torch.float32 and torch.isfinite(step).all()
