"""The hardware bounds the model's passes are compared with, measured by the script itself.

- **Mat-vec bandwidth**: ``y = W x`` over enough distinct float32 matrices (4096 x 1024, the MLP's
  shape) that none stays in the caches; bytes of W read per second. The best of the available
  kernels (oneDNN, PyTorch's default) counts, so a slow library cannot make the bound look easy.
  A plain reduction (``sum``) over the same bytes is printed beside it as the raw read rate.
- **GEMM rate**: float32 FLOP/s of the products one decoder layer makes for ``m`` rows (1024 -> 3072,
  1024 -> 1024, 1024 -> 8192, 4096 -> 1024), and of a 2048^3 square product; the best of kernels and
  shapes counts.
- Bytes and FLOPs of the model's passes are counted from the configuration, not estimated.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import Tensor

from valle_studio.engine.model import ModelConfig

MATRIX = (4096, 1024)


def _onednn(x: Tensor, w: Tensor) -> Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, w, None, "none", [], "")


def kernels() -> dict[str, object]:
    """The float32 linear kernels this build offers, by name."""
    from valle_studio.engine.model.kernels import _onednn_works

    found: dict[str, object] = {"torch": F.linear}
    if _onednn_works():
        found["onednn"] = _onednn
    return found


class MatVecBound:
    """Holds ``megabytes`` of matrices; :meth:`measure` streams them once per kernel."""

    def __init__(self, megabytes: int = 800, seed: int = 0) -> None:
        per = MATRIX[0] * MATRIX[1] * 4
        count = max(2, megabytes * 2**20 // per)
        gen = torch.Generator().manual_seed(seed)
        self.matrices = [torch.randn(MATRIX, generator=gen) for _ in range(count)]
        self.bytes = count * per
        self.x = torch.randn(1, MATRIX[1], generator=gen)
        self.kernels = kernels()

    @torch.inference_mode()
    def measure(self) -> dict[str, float]:
        """GB/s of one sweep per kernel (mat-vec), plus ``"read"`` (a plain reduction)."""
        out: dict[str, float] = {}
        for name, fn in self.kernels.items():
            start = time.perf_counter()
            for w in self.matrices:
                fn(self.x, w)  # type: ignore[operator]
            out[name] = self.bytes / (time.perf_counter() - start) / 1e9
        start = time.perf_counter()
        for w in self.matrices:
            w.sum()
        out["read"] = self.bytes / (time.perf_counter() - start) / 1e9
        return out

    @torch.inference_mode()
    def sweep(self, kernel: str) -> float:
        """GB/s of one mat-vec sweep with one kernel."""
        fn = self.kernels[kernel]
        start = time.perf_counter()
        for w in self.matrices:
            fn(self.x, w)  # type: ignore[operator]
        return self.bytes / (time.perf_counter() - start) / 1e9

    def best(self, rates: dict[str, float]) -> float:
        """The mat-vec bound: the fastest kernel's bandwidth (the plain read is not a mat-vec)."""
        return max(v for k, v in rates.items() if k != "read")


class GemmBound:
    """Float32 GEMM rate for ``rows``-row products of one layer's shapes and a square product."""

    def __init__(self, config: ModelConfig, rows: int, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        d, f = config.dim, config.ffn_dim
        shapes = [(3 * d, d), (d, d), (2 * f, d), (d, f)]
        self.layer = [(torch.randn(rows, k, generator=gen), torch.randn(n, k, generator=gen)) for n, k in shapes]
        self.layer_flops = sum(2 * rows * n * k for n, k in shapes)
        self.square = torch.randn(2048, 2048, generator=gen)
        self.kernels = kernels()

    @torch.inference_mode()
    def measure(self) -> dict[str, float]:
        """GFLOP/s per ``"<kernel>/layer"`` and ``"<kernel>/square"``."""
        out: dict[str, float] = {}
        for name, fn in self.kernels.items():
            start = time.perf_counter()
            for x, w in self.layer:
                fn(x, w)  # type: ignore[operator]
            out[f"{name}/layer"] = self.layer_flops / (time.perf_counter() - start) / 1e9
            start = time.perf_counter()
            fn(self.square, self.square)  # type: ignore[operator]
            out[f"{name}/square"] = 2 * 2048**3 / (time.perf_counter() - start) / 1e9
        return out

    @staticmethod
    def best(rates: dict[str, float]) -> float:
        return max(rates.values())


def linear_params(config: ModelConfig) -> int:
    """Weights of the backbone's linear layers (what every token is multiplied with)."""
    d, f = config.dim, config.ffn_dim
    hd = config.head_dim
    attn = d * config.heads * hd * 2 + d * config.kv_heads * hd * 2
    return config.layers * (attn + 3 * d * f)


def ar_step_bytes(config: ModelConfig, *, context: int, batch: int = 1, classes: int = 1025) -> int:
    """Bytes one AR decode step must read: every backbone weight, the norms, the AR head, and the
    cached keys/values of ``context`` positions of each row (float32)."""
    d = config.dim
    weights = linear_params(config) + (2 * config.layers + 1) * d + classes * (d + 1) + d
    kv = 2 * config.layers * batch * context * config.kv_heads * config.head_dim
    return 4 * (weights + kv)


def pass_flops(config: ModelConfig, lengths: list[int], head_rows: int, classes: int = 1024) -> int:
    """Useful FLOPs of full bidirectional passes over sequences of ``lengths`` tokens (no padding):
    the linear layers, attention scores and weighted sums, and the head on ``head_rows`` rows each."""
    d = config.dim
    flops = 0
    for n in lengths:
        flops += 2 * n * linear_params(config)
        flops += config.layers * 2 * 2 * n * n * config.heads * config.head_dim
        flops += 2 * head_rows * d * classes
    return flops
