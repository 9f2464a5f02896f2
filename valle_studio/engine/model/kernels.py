"""The matrix product every linear layer of the model uses, with the fastest float32 CPU kernel available.

On x86 CPUs PyTorch sends float32 ``F.linear`` to MKL's sgemm. On some CPUs (measured on an AMD EPYC
with AVX-512, ``benchmarks/``) that path is slow for exactly the shapes inference needs: mat-vec
products (one token, the AR step) stream weights at half of oneDNN's rate with 2 threads (15 vs
32 GB/s; 16 vs 17 GB/s with 1 thread), and 2..8-row products (a CFG pair) at a few GB/s. oneDNN's
linear primitive (``torch.ops.mkldnn._linear_pointwise``, the kernel PyTorch's own compiler picks for
CPU inference) reads the same plain row-major weights with neither problem and also runs large GEMMs
faster. Results differ from MKL's only by float32 rounding (both accumulate in float32).

:func:`linear` uses oneDNN for float32 CPU tensors when no gradient is needed, and ``F.linear`` otherwise
(GPUs, half precision, ARM CPUs, builds without oneDNN, training). :func:`set_backend` forces a
choice, which is how the benchmark compares the two.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Backend = Literal["auto", "onednn", "torch"]


@dataclass
class _State:
    backend: Backend = "auto"  # what set_backend chose
    onednn_ok: bool | None = None  # whether oneDNN's linear works here; checked once, on first use


_state = _State()
_X86 = platform.machine().lower() in ("x86_64", "amd64")


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
    """Choose the float32 CPU kernel: ``"auto"`` (oneDNN when it works), ``"onednn"`` or ``"torch"``."""
    if backend not in ("auto", "onednn", "torch"):
        raise ValueError(f"unknown linear backend {backend!r}: use auto, onednn or torch")
    if backend == "onednn" and not _onednn_works():
        raise ValueError("this PyTorch build has no working oneDNN linear kernel; use 'torch'")
    _state.backend = backend


def backend() -> Backend:
    """The backend :func:`linear` uses for float32 CPU tensors now (``"onednn"`` or ``"torch"``).

    ``auto`` picks oneDNN on x86-64 only: on ARM (Apple silicon) PyTorch's default path uses the
    platform's BLAS, which oneDNN's ARM kernels are not known to beat.
    """
    chosen = _state.backend
    if chosen == "auto":
        return "onednn" if _X86 and _onednn_works() else "torch"
    return chosen


def _use_onednn(x: Tensor, weight: Tensor) -> bool:
    if x.device.type != "cpu" or x.dtype != torch.float32 or weight.dtype != torch.float32:
        return False
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        return False  # the oneDNN op has no backward
    if weight.layout != torch.strided or not weight.is_contiguous():
        return False
    return backend() == "onednn"


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias``: ``x`` ``[..., in]``, ``weight`` ``[out, in]``, ``bias`` ``[out]`` -> ``[..., out]``."""
    if _use_onednn(x, weight):
        if not x.is_contiguous():
            x = x.contiguous()
        out: Tensor = torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
        return out
    return F.linear(x, weight, bias)


class Linear(torch.nn.Linear):
    """``nn.Linear`` (same parameters and state-dict names) whose forward goes through :func:`linear`."""

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    if TYPE_CHECKING:  # nn.Module's __call__ is typed Any; it runs forward
        __call__ = forward
