"""The matrix product every linear layer of the model uses, with the fastest CPU kernel for each shape.

On x86 CPUs PyTorch sends float32 ``F.linear`` to MKL's sgemm. Which library is fastest differs by CPU
and by shape, so the product goes through one of a few kernels, all reading the same plain row-major
weights (nothing is copied or re-laid out) and all accumulating in float32:

- ``"onednn"``: oneDNN's linear primitive (``torch.ops.mkldnn._linear_pointwise``, the kernel PyTorch's
  own compiler picks for CPU inference). On an AMD EPYC (Zen 4) MKL streamed weights for a one-token
  step at half of oneDNN's rate with 2 threads (15 vs 32 GB/s), so oneDNN is the float32 default.
- ``"torch"``: ``F.linear`` (MKL's sgemm for float32, oneDNN's matmul for bfloat16). On an Intel Xeon
  (Sapphire Rapids) it streamed a one-token step 1.1-1.2x faster than oneDNN (``benchmarks/``).
- ``"mv"``: ``torch.addmv``, a plain matrix-vector product, for one row only. For bfloat16 on that
  Xeon it read weights 1.3-1.8x faster than ``F.linear`` (which ran bfloat16 mat-vecs at ~5 GB/s).
- ``"native"``: our own bfloat16 one-row kernel (:mod:`valle_studio.engine.model.native`, AVX512_BF16,
  built once with the system's C compiler or shipped with the app). ``torch.mv`` streams bfloat16
  weights at ~80% of a plain read on that Xeon (~23 against ~28 GB/s); this kernel reaches the read
  rate, so it is the bfloat16 one-row default wherever it is available, and ``"mv"`` elsewhere on x86.

The kernel is chosen per *slot*: the dtype and whether the product has one row (``"matvec"``, the AR
step) or more (``"gemm"``, full passes and CFG pairs). :func:`default_kernel` is the choice without a
measurement; :func:`configure` installs one measured on this machine (``valle-studio-cli bench``
measures every candidate of :func:`candidates` on the model's own weights and keeps a default unless
another kernel beats it). Float32 kernels give the same numbers up to float32 rounding
(``tests/engine/test_kernels.py``). :func:`set_backend` forces one float32 kernel for every shape,
which is how ``benchmarks/`` compares them. GPUs, float16, ARM CPUs without oneDNN and training
(gradients) always use ``F.linear``.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from valle_studio.engine.model import native

Backend = Literal["auto", "onednn", "torch"]
Kernel = Literal["onednn", "torch", "mv", "native"]
KERNELS: tuple[Kernel, ...] = ("onednn", "torch", "mv", "native")
#: The slots a measured choice may set: ``"<dtype>/<regime>"``.
SLOTS = ("float32/matvec", "float32/gemm", "bfloat16/matvec", "bfloat16/gemm")



@dataclass
class _State:
    backend: Backend = "auto"  # what set_backend chose
    onednn_ok: bool | None = None  # whether oneDNN's linear works here; checked once, on first use


_state = _State()
_chosen: dict[str, Kernel] = {}  # measured choices by slot (configure)
_X86 = platform.machine().lower() in ("x86_64", "amd64")
_DTYPE_NAMES = {torch.float32: "float32", torch.bfloat16: "bfloat16"}


def _onednn_works() -> bool:
    """oneDNN's linear op exists in this build and agrees with ``F.linear`` (checked once)."""
    if _state.onednn_ok is None:
        ok = False
        op = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)
        if op is not None and torch.backends.mkldnn.is_available():
            try:
                gen = torch.Generator().manual_seed(0)
                x = torch.randn(3, 16, generator=gen)
                w = torch.randn(8, 16, generator=gen)
                b = torch.randn(8, generator=gen)
                with torch.no_grad():
                    got = op(x, w, b, "none", [], "")
                ok = bool(torch.allclose(got, F.linear(x, w, b), rtol=1e-4, atol=1e-4))
            except (RuntimeError, TypeError):
                ok = False
        _state.onednn_ok = ok
    return _state.onednn_ok


def set_backend(backend: Backend) -> None:
    """Force the float32 CPU kernel for every shape: ``"onednn"`` or ``"torch"``; ``"auto"`` goes back
    to the measured choice (:func:`configure`) or the defaults."""
    if backend not in ("auto", "onednn", "torch"):
        raise ValueError(f"unknown linear backend {backend!r}: use auto, onednn or torch")
    if backend == "onednn" and not _onednn_works():
        raise ValueError("this PyTorch build has no working oneDNN linear kernel; use 'torch'")
    _state.backend = backend


def backend() -> Backend:
    """The float32 CPU kernel used without a measured choice (``"onednn"`` or ``"torch"``), or the forced one.

    ``auto`` picks oneDNN on x86-64 only: on ARM (Apple silicon) PyTorch's default path uses the
    platform's BLAS, which oneDNN's ARM kernels are not known to beat.
    """
    chosen = _state.backend
    if chosen == "auto":
        return "onednn" if _X86 and _onednn_works() else "torch"
    return chosen


def _float32_backend() -> Kernel:
    return "onednn" if backend() == "onednn" else "torch"


def slot(dtype: torch.dtype, rows: int) -> str | None:
    """``"float32/matvec"`` etc. for a product of ``rows`` rows in ``dtype``; None when only ``F.linear`` applies."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        return None
    return f"{name}/{'matvec' if rows == 1 else 'gemm'}"


def candidates(dtype: torch.dtype, rows: int) -> tuple[Kernel, ...]:
    """The kernels that can run a CPU product of ``rows`` rows in ``dtype`` in this build."""
    if _DTYPE_NAMES.get(dtype) is None:
        return ("torch",)
    found: list[Kernel] = ["torch"]
    if _onednn_works():
        found.insert(0, "onednn")
    if rows == 1:
        found.append("mv")
        if dtype == torch.bfloat16 and native.available():
            found.append("native")
    return tuple(found)


def default_kernel(dtype: torch.dtype, rows: int) -> Kernel:
    """The kernel used for a CPU product when nothing was measured (see the module docstring)."""
    if dtype == torch.float32:
        return _float32_backend()
    if dtype == torch.bfloat16 and rows == 1 and _X86:
        return "native" if native.available() else "mv"
    return "torch"


def configure(choice: Mapping[str, str]) -> None:
    """Install kernels measured on this machine, ``{"float32/matvec": "torch", ...}``; ``{}`` clears them.

    Raises ValueError for an unknown slot or kernel, or a kernel this build cannot run there; nothing
    changes then."""
    checked: dict[str, Kernel] = {}
    for key, kernel in choice.items():
        if key not in SLOTS:
            raise ValueError(f"unknown kernel slot {key!r}: use one of {', '.join(SLOTS)}")
        dtype = torch.float32 if key.startswith("float32") else torch.bfloat16
        rows = 1 if key.endswith("matvec") else 2
        if kernel not in candidates(dtype, rows):
            raise ValueError(f"kernel {kernel!r} cannot run {key} products here: use one of "
                             f"{', '.join(candidates(dtype, rows))}")
        checked[key] = kernel  # narrowed to a Kernel by the check above
    _chosen.clear()
    _chosen.update(checked)


def configured() -> dict[str, str]:
    """The measured choices installed by :func:`configure` (slots without one use the defaults)."""
    return dict(_chosen)


def kernel_for(x: Tensor, weight: Tensor) -> Kernel:
    """The kernel :func:`linear` uses for ``x`` ``[..., in]`` times ``weight`` ``[out, in]``."""
    if x.device.type != "cpu" or x.dtype != weight.dtype or x.dtype not in _DTYPE_NAMES:
        return "torch"
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        return "torch"  # the fast ops have no backward (oneDNN) or are not worth it for training
    if weight.layout != torch.strided or not weight.is_contiguous():
        return "torch"
    rows = x.numel() // max(1, x.shape[-1])
    if x.dtype == torch.float32 and _state.backend != "auto":
        return _float32_backend()
    key = slot(x.dtype, rows)
    if key is not None and key in _chosen:
        return _chosen[key]
    return default_kernel(x.dtype, rows)


def run(kernel: Kernel, x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with one named kernel (the benchmark times each this way)."""
    if kernel == "onednn":
        if not x.is_contiguous():
            x = x.contiguous()
        out: Tensor = torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
        return out
    if kernel == "native":
        if x.dtype != torch.bfloat16 or weight.dtype != torch.bfloat16 or x.numel() != weight.shape[1]:
            return run("mv" if x.numel() == weight.shape[1] else "torch", x, weight, bias)
        return native.bf16_matvec(x, weight, bias)
    if kernel == "mv":
        flat = x.reshape(-1)
        if flat.shape[0] != weight.shape[1]:
            raise ValueError(f"the mv kernel multiplies one row; got input of shape {tuple(x.shape)}")
        y = torch.mv(weight, flat) if bias is None else torch.addmv(bias, weight, flat)
        return y.view(*x.shape[:-1], weight.shape[0])
    return F.linear(x, weight, bias)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias``: ``x`` ``[..., in]``, ``weight`` ``[out, in]``, ``bias`` ``[out]`` -> ``[..., out]``."""
    return run(kernel_for(x, weight), x, weight, bias)


class Linear(torch.nn.Linear):
    """``nn.Linear`` (same parameters and state-dict names) whose forward goes through :func:`linear`."""

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    if TYPE_CHECKING:  # nn.Module's __call__ is typed Any; it runs forward
        __call__ = forward
