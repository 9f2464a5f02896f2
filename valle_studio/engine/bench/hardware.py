"""The hardware bounds a benchmark compares each pass with, measured in the same run as the pass.

- **Read bandwidth**: the bytes of the model's own weight matrices over the time of the fastest plain
  pass over them (reductions, and every mat-vec kernel: a product cannot read faster than the memory
  can, so each one is a lower bound on the read rate). This is the physical bound of an AR step,
  which must read every weight once.
- **Mat-vec bandwidth**: the same sweep with one linear kernel (the kernel candidates are compared so).
- **GEMM rate**: FLOP/s of the products one decoder layer makes for ``rows`` rows, and of a 2048^3
  square product, the best of the kernels available for the dtype (int8: the dynamic int8 kernel).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import cast

import torch
from torch import Tensor, nn

from valle_studio.engine.bench.machine import cpu_name, logical_cores, torch_version
from valle_studio.engine.bench.record import Machine
from valle_studio.engine.model import VallEModel, kernels
from valle_studio.engine.model.backbone import DecoderLayer
from valle_studio.engine.model.devices import cpu_bf16_native


def this_machine() -> Machine:
    """The setup the benchmark runs on (torch's threads and build, native bfloat16, the GPU if any)."""
    native, feature = cpu_bf16_native()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    # the torch version as its package metadata gives it, so that a check without torch compares alike
    return Machine(cpu_name(), logical_cores(), torch.get_num_threads(), torch_version(), native, feature, gpu)


def sync(device: torch.device) -> None:
    """Wait for queued GPU work, so that a clock read after it measures the work (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def timed(fn: Callable[[], object], device: torch.device) -> float:
    """Wall seconds of ``fn()`` with the device's queue drained on both sides."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def backbone_matrices(model: VallEModel) -> list[Tensor]:
    """The weight matrices an AR step streams, as stored (fused q/k/v and gate/up where fused); empty
    for an int8 model, whose matrices are packed where no plain read can reach them."""
    found: list[Tensor] = []
    for module in model.model.layers:
        layer = cast(DecoderLayer, module)
        attn, mlp = layer.self_attn, layer.mlp
        pairs = ((attn._qkv, (attn.q_proj, attn.k_proj, attn.v_proj)), (mlp._gate_up, (mlp.gate_proj, mlp.up_proj)))
        for fused, parts in pairs:
            if isinstance(fused, Tensor):
                found.append(fused)
            elif not isinstance(fused, nn.Module):
                found.extend(p.weight for p in parts if isinstance(p, nn.Linear))
        for single in (attn.o_proj, mlp.down_proj):
            if isinstance(single, nn.Linear):
                found.append(single.weight)
    return found


def nbytes(tensors: list[Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


#: Plain reads of a weight matrix: reductions that touch every byte once.
READS = ("sum", "amax", "max")


def sweep(matrices: list[Tensor], how: str) -> Callable[[], None]:
    """One pass over ``matrices``: a plain read (:data:`READS`) or a mat-vec with the kernel named ``how``."""
    if how in READS:
        same = torch.int32 if matrices[0].element_size() == 4 else torch.int16
        ops: dict[str, Callable[[Tensor], Tensor]] = {
            "sum": Tensor.sum, "amax": Tensor.amax, "max": lambda w: w.view(same).max()}
        op = ops[how]

        def read() -> None:
            for w in matrices:
                op(w)
        return read
    kernel = cast(kernels.Kernel, how)
    device, dtype = matrices[0].device, matrices[0].dtype
    inputs = {n: torch.randn(1, n, generator=torch.Generator().manual_seed(n)).to(device, dtype)
              for n in {w.shape[1] for w in matrices}}

    def matvec() -> None:
        for w in matrices:
            kernels.run(kernel, inputs[w.shape[1]], w)
    return matvec


@torch.inference_mode()
def sweep_gbps(matrices: list[Tensor], how: str) -> float:
    """GB/s of one :func:`sweep` (``how``: a plain read or a kernel name)."""
    return nbytes(matrices) / timed(sweep(matrices, how), matrices[0].device) / 1e9


class ReadBound:
    """The read bandwidth of ``matrices`` (see the module docstring): every plain read and every mat-vec
    kernel of ``kernel_names`` is swept once, the fastest is kept and re-run by :meth:`measure`."""

    def __init__(self, matrices: list[Tensor], kernel_names: tuple[str, ...]) -> None:
        self.matrices = matrices
        self.nbytes = nbytes(matrices)
        self.rates = {how: sweep_gbps(matrices, how) for how in (*kernel_names, *READS)}
        self.best = max(self.rates, key=self.rates.__getitem__)

    def measure(self) -> float:
        """GB/s of one more pass of the fastest way found."""
        return sweep_gbps(self.matrices, self.best)


class GemmBound:
    """The GEMM rate for ``rows``-row products of one layer's shapes and a square product (see the module
    docstring). ``int8_layer``: the four int8 products of a quantised layer (qkv, o, gate/up, down)."""

    def __init__(self, dim: int, ffn_dim: int, rows: int, dtype: torch.dtype, device: torch.device, *,
                 int8_layer: tuple[nn.Module, ...] = ()) -> None:
        gen = torch.Generator().manual_seed(rows)
        work = torch.float32 if int8_layer else dtype
        shapes = [(3 * dim, dim), (dim, dim), (2 * ffn_dim, dim), (dim, ffn_dim)]
        self.device = device
        self.layer = [(torch.randn(rows, k, generator=gen).to(device, work),
                       torch.randn(n, k, generator=gen).to(device, work)) for n, k in shapes]
        self.layer_flops = sum(2 * rows * n * k for n, k in shapes)
        self.square = torch.randn(2048, 2048, generator=gen).to(device, work)
        self.int8 = int8_layer
        on_cpu = device.type == "cpu" and not int8_layer
        self.names: tuple[kernels.Kernel, ...] = kernels.candidates(dtype, rows) if on_cpu else ("torch",)

    @torch.inference_mode()
    def measure(self) -> float:
        """GFLOP/s: the best of every kernel on the layer products and on the square product."""
        rates: list[float] = []
        if self.int8:
            for _ in range(2):
                seconds = timed(self._int8_layer, self.device)
                rates.append(self.layer_flops / seconds / 1e9)
            return max(rates)
        for name in self.names:
            if name == "mv":
                continue
            layer = timed(functools.partial(self._layer, name), self.device)
            square = timed(functools.partial(kernels.run, name, self.square, self.square), self.device)
            rates += [self.layer_flops / layer / 1e9, 2 * 2048**3 / square / 1e9]
        return max(rates)

    def _int8_layer(self) -> None:
        for module, (x, _w) in zip(self.int8, self.layer, strict=True):
            module(x)

    def _layer(self, kernel: kernels.Kernel) -> None:
        for x, w in self.layer:
            kernels.run(kernel, x, w)


__all__ = ["READS", "GemmBound", "ReadBound", "backbone_matrices", "nbytes", "sweep", "sweep_gbps", "sync",
           "this_machine", "timed"]
