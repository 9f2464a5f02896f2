"""Choosing the linear kernel of each shape by measurement, on the model's own weights.

For a precision's one-row products (the AR step) every candidate kernel of
:func:`~valle_studio.engine.model.kernels.candidates` sweeps all backbone matrices once per round; for
its many-row products (full passes) each multiplies ``GEMM_ROWS`` rows by the first layers' matrices.
Rounds alternate the kernels, so load from other processes hits them alike, and the medians are
compared. The default kernel is kept unless another beats it by :data:`MIN_GAIN`: a measured choice
must pay for itself. Every candidate gives the same numbers up to float rounding.
"""

from __future__ import annotations

import functools
import statistics

import torch
from torch import Tensor

from valle_studio.engine.bench import hardware
from valle_studio.engine.model import kernels
from valle_studio.engine.progress import CancelToken

MIN_GAIN = 1.03
GEMM_ROWS = 256
GEMM_LAYERS = 2  # the first layers' matrices are enough to time a GEMM (every layer has the same shapes)


def _products(kernel: kernels.Kernel, inputs: dict[int, Tensor], matrices: list[Tensor]) -> None:
    for w in matrices:
        kernels.run(kernel, inputs[w.shape[1]], w)


def _pick(rates: dict[str, float], default: str) -> str:
    best = max(rates, key=rates.__getitem__)
    return best if default not in rates or rates[best] >= MIN_GAIN * rates[default] else default


@torch.inference_mode()
def choose(matrices: list[Tensor], rounds: int, cancel: CancelToken | None = None
           ) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """``(choice, rates)`` for the dtype of ``matrices``: the kernel per slot (``"float32/matvec"`` ...),
    and each candidate's median rate (GB/s for mat-vecs, GFLOP/s for GEMMs). Empty off the CPU."""
    device, dtype = matrices[0].device, matrices[0].dtype
    matvec_slot, gemm_slot = kernels.slot(dtype, 1), kernels.slot(dtype, GEMM_ROWS)
    if device.type != "cpu" or matvec_slot is None or gemm_slot is None:
        return {}, {}
    samples: dict[str, dict[str, list[float]]] = {matvec_slot: {}, gemm_slot: {}}
    layer = matrices[: 4 * GEMM_LAYERS]
    inputs = {n: torch.randn(GEMM_ROWS, n, generator=torch.Generator().manual_seed(n)).to(dtype)
              for n in {w.shape[1] for w in layer}}
    flops = sum(2 * GEMM_ROWS * w.shape[0] * w.shape[1] for w in layer)
    for name in kernels.candidates(dtype, 1):  # warm-up: first calls build kernels and caches
        hardware.sweep(matrices[:4], name)()
    for _ in range(rounds):
        for name in kernels.candidates(dtype, 1):
            if cancel is not None:
                cancel.check()
            samples[matvec_slot].setdefault(name, []).append(hardware.sweep_gbps(matrices, name))
        for name in kernels.candidates(dtype, GEMM_ROWS):
            seconds = hardware.timed(functools.partial(_products, name, inputs, layer), device)
            samples[gemm_slot].setdefault(name, []).append(flops / seconds / 1e9)
    rates = {slot: {k: statistics.median(v) for k, v in by.items()} for slot, by in samples.items()}
    choice = {matvec_slot: _pick(rates[matvec_slot], kernels.default_kernel(dtype, 1)),
              gemm_slot: _pick(rates[gemm_slot], kernels.default_kernel(dtype, GEMM_ROWS))}
    return choice, rates


__all__ = ["GEMM_ROWS", "MIN_GAIN", "choose"]
