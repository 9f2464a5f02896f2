"""The native bfloat16 kernels (engine/model/native): exact where float32 sums are exact, within one
bfloat16 rounding elsewhere, the same rounding points as PyTorch's ops, and a loader that says why
it cannot run instead of failing.

The kernel tests need a CPU with AVX512_BF16 and a C compiler (or a cached build); elsewhere they skip
with the loader's reason. The loader tests run everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from valle_studio.engine.bench.subject import pin_stop_logit
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.generation import generate_ar
from valle_studio.engine.model import ModelInput, kernels, load_model, native
from valle_studio.engine.sampling import SamplerConfig

needs_native = pytest.mark.skipif(not native.available(), reason=f"native kernels unavailable: {native.reason()}")


@pytest.fixture(autouse=True)
def _defaults() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
    kernels.configure({})


def _integers(*shape: int, seed: int) -> torch.Tensor:
    """Small integers: every float32 partial sum of their products is exact."""
    return torch.randint(-3, 4, shape, generator=torch.Generator().manual_seed(seed)).to(torch.bfloat16)


SHAPES = [(37, 100), (1026, 1024), (4, 7), (8, 1), (1024, 4096), (3, 64), (5, 33)]


@needs_native
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(("out", "inner"), SHAPES)
@pytest.mark.parametrize("bias", [False, True])
def test_matvec_is_exact_where_float32_sums_are(out: int, inner: int, bias: bool, threads: int) -> None:
    torch.set_num_threads(threads)
    w, x = _integers(out, inner, seed=out), _integers(inner, seed=inner)
    b = _integers(out, seed=7) if bias else None
    want = (w.double() @ x.double() + (0 if b is None else b.double())).to(torch.bfloat16)
    got = native.bf16_matvec(x, w, b)
    assert got.dtype == torch.bfloat16 and got.shape == (out,)
    assert torch.equal(got.view(torch.int16), want.view(torch.int16))


@needs_native
def test_matvec_rounds_random_data_once_like_torch() -> None:
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(1025, 1024, generator=gen).to(torch.bfloat16)
    x = torch.randn(1024, generator=gen).to(torch.bfloat16)
    b = torch.randn(1025, generator=gen).to(torch.bfloat16)
    exact = w.double() @ x.double() + b.double()
    ours = (native.bf16_matvec(x, w, b).double() - exact).abs()
    theirs = (torch.addmv(b, w, x).double() - exact).abs()
    bound = exact.abs() * 2.0**-8 + 1e-6 * (w.double().abs() @ x.double().abs())  # half a bf16 ulp + sum error
    assert bool((ours <= bound).all())
    assert ours.mean() <= theirs.mean() * 1.1


@needs_native
def test_matvec_propagates_nan_and_infinity() -> None:
    w = torch.ones(8, 64, dtype=torch.bfloat16)
    x = torch.ones(64, dtype=torch.bfloat16)
    x[5] = float("nan")
    assert torch.isnan(native.bf16_matvec(x, w)).all()
    x[5] = float("inf")
    assert torch.isinf(native.bf16_matvec(x, w)).all()


@needs_native
def test_mlp_rounds_where_the_unfused_ops_round() -> None:
    gen = torch.Generator().manual_seed(4)
    gate_up = (torch.randn(2 * 512, 256, generator=gen) / 16).to(torch.bfloat16)
    down = (torch.randn(256, 512, generator=gen) / 16).to(torch.bfloat16)
    differing = total = 0
    for _ in range(8):
        x = torch.randn(1, 1, 256, generator=gen).to(torch.bfloat16)
        gate, up = native.bf16_matvec(x, gate_up).chunk(2, dim=-1)
        want = native.bf16_matvec(F.gelu(gate).mul_(up), down)
        got = native.bf16_mlp(x, gate_up, down)
        assert got.shape == x.shape
        assert torch.allclose(got.float(), want.float(), rtol=2e-2, atol=1e-3)
        differing += int((got.view(torch.int16) != want.view(torch.int16)).sum())
        total += got.numel()
    # only erff against PyTorch's erf, a last-bit difference that rarely survives rounding to bfloat16
    assert differing <= total // 100


@needs_native
def test_rms_norm_is_bit_identical_to_the_engines_formula() -> None:
    gen = torch.Generator().manual_seed(5)
    weight = torch.randn(1000, generator=gen).to(torch.bfloat16)
    for scale in (1e-3, 1.0, 1e3):
        x = (torch.randn(1, 1, 1000, generator=gen) * scale).to(torch.bfloat16)
        h = x.float()
        want = weight * (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-5)).to(torch.bfloat16)
        got = native.bf16_rms_norm(x, weight, 1e-5)
        assert torch.equal(got.view(torch.int16), want.view(torch.int16))


@needs_native
def test_the_kernel_is_a_bfloat16_one_row_candidate_only() -> None:
    assert "native" in kernels.candidates(torch.bfloat16, 1)
    assert kernels.default_kernel(torch.bfloat16, 1) == "native"
    assert "native" not in kernels.candidates(torch.bfloat16, 2)
    assert "native" not in kernels.candidates(torch.float32, 1)
    kernels.configure({"bfloat16/matvec": "native"})
    with pytest.raises(ValueError, match="cannot run float32/matvec"):
        kernels.configure({"float32/matvec": "native"})
    x = _integers(1, 1, 64, seed=1)
    w = _integers(16, 64, seed=2)
    with torch.inference_mode():
        got = kernels.linear(x, w)
    assert got.shape == (1, 1, 16)
    assert torch.equal(got.view(torch.int16), (x.double() @ w.double().T).to(torch.bfloat16).view(torch.int16))
    with pytest.raises(ValueError, match="one bfloat16 row"):
        native.bf16_matvec(torch.ones(2, 64, dtype=torch.bfloat16), w)


def _teacher_forced_logits(path: Path, dtype: str, kernel: str | None) -> torch.Tensor:
    """AR logits ``[16, C]`` of 16 fixed steps (the same tokens fed whatever the model predicts)."""
    kernels.configure({} if kernel is None else {"bfloat16/matvec": kernel})
    model = load_model(path, dtype=dtype)
    pin_stop_logit(model)
    g = torch.Generator().manual_seed(0)
    text = torch.cat([torch.tensor([1]), torch.randint(5, 200, (12,), generator=g), torch.tensor([2])])
    fed = torch.randint(0, 1024, (16,), generator=g)
    with torch.inference_mode():
        cache = model.new_cache(1, 64)
        model.prefill([ModelInput.ar(text, 0, None, torch.zeros(0, dtype=torch.long))], cache)
        return torch.stack([model.decode(cache, fed[i : i + 1], "ar")[0] for i in range(16)])


@needs_native
def test_a_bfloat16_model_is_as_close_to_float32_with_the_native_kernels_as_with_torchs(tmp_path: Path) -> None:
    tiny = write_tiny_checkpoint(tmp_path / "tiny.sft", seed=5)
    reference = _teacher_forced_logits(tiny, "float32", None)
    ours = _teacher_forced_logits(tiny, "bfloat16", "native")
    theirs = _teacher_forced_logits(tiny, "bfloat16", "mv")
    spread = (reference.max() - reference.min()).item()
    error_ours = (ours - reference).pow(2).mean().sqrt().item() / spread
    error_theirs = (theirs - reference).pow(2).mean().sqrt().item() / spread
    assert error_ours <= 1.25 * error_theirs + 1e-3
    agree_ours = (ours.argmax(-1) == reference.argmax(-1)).float().mean().item()
    agree_theirs = (theirs.argmax(-1) == reference.argmax(-1)).float().mean().item()
    assert agree_ours >= agree_theirs - 2 / 16


@needs_native
def test_greedy_generation_runs_with_the_native_kernels(tmp_path: Path) -> None:
    kernels.configure({"bfloat16/matvec": "native"})
    model = load_model(write_tiny_checkpoint(tmp_path / "tiny.sft", seed=5), dtype="bfloat16")
    pin_stop_logit(model)
    text = torch.tensor([1, 7, 9, 11, 2])
    prompt = torch.randint(0, 1024, (10, 8), generator=torch.Generator().manual_seed(0))
    codes = generate_ar(model, text=text, prompt=prompt, sampler=SamplerConfig(temperature=0.0), max_frames=16)
    assert codes.numel() == 16 and int(codes.min()) >= 0 and int(codes.max()) < 1024


# --- the loader ---------------------------------------------------------------------------------------


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A loader that finds no shipped or cached library (cache in tmp_path); the real one afterwards."""
    monkeypatch.setattr(native, "_cache_folder", lambda: tmp_path / "cache")
    monkeypatch.setattr(native, "SHIPPED_FOLDER", tmp_path / "shipped", raising=False)
    native.reset()
    yield tmp_path / "cache"
    monkeypatch.undo()
    native.reset()
    native.available()


def test_turned_off_by_the_environment(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALLE_NATIVE_KERNELS", "0")
    assert not native.available()
    assert "VALLE_NATIVE_KERNELS" in native.reason()
    with pytest.raises(RuntimeError, match="not available"):
        native.bf16_matvec(torch.ones(4, dtype=torch.bfloat16), torch.ones(2, 4, dtype=torch.bfloat16))


@needs_native
def test_no_compiler_is_a_reason_not_an_error(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert not native.available()
    assert "compiler" in native.reason()
    assert kernels.default_kernel(torch.bfloat16, 1) == "mv"


@needs_native
def test_build_writes_the_library_atomically_and_the_loader_uses_it(fresh: Path) -> None:
    built = native.build(fresh)
    assert built.name == native.library_name()
    assert sorted(p.name for p in fresh.iterdir()) == [native.library_name()]  # no temporary left
    assert native.available() and native.reason() == ""


@needs_native
def test_a_broken_cached_library_is_refused_with_a_reason(fresh: Path) -> None:
    fresh.mkdir(parents=True)
    (fresh / native.library_name()).write_bytes(b"not a shared library")
    assert not native.available()
    assert native.reason()


def test_the_library_name_follows_the_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    before = native.library_name()
    edited = tmp_path / "bf16_kernels.c"
    edited.write_bytes(native.SOURCE.read_bytes() + b"\n/* edited */\n")
    monkeypatch.setattr(native, "SOURCE", edited)
    assert native.library_name() != before


@needs_native
def test_a_shipped_library_is_used_without_building(fresh: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "bundle"
    native.build(shipped)  # what installer/valle_studio.spec does for the frozen app
    monkeypatch.setattr(native, "SHIPPED_FOLDER", shipped)
    monkeypatch.setenv("CC", "/nonexistent/cc")  # a build would fail: the shipped copy must be what loads
    assert native.available(), native.reason()
    assert not fresh.exists()


def test_a_missing_source_is_a_reason_not_an_error(fresh: Path, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setattr(native, "SOURCE", tmp_path / "absent.c")
    available = native.available()
    assert not available and native.reason()
