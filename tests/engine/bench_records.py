"""Benchmark records with chosen timings, for the estimator, advice and GUI tests (no measuring)."""

from __future__ import annotations

from valle_studio.core.codec_format import FRAMES_PER_SECOND
from valle_studio.engine.bench.machine import cpu_name, logical_cores, torch_version
from valle_studio.engine.bench.record import (
    BenchRecord,
    Bounds,
    Machine,
    Measurement,
    PrecisionCost,
    Timings,
    Variant,
)
from valle_studio.engine.bench.shape import V1_SHAPE, pass_flops

COST = PrecisionCost(0.97, 0.95, 0.02, 0.015, 48, 48)
INT8_COST = PrecisionCost(0.9, 0.85, 0.085, 0.07, 48, 48)


def timings(*, ar_ms: float = 80.0, ar_slope_ms: float = 0.0, gflops: float = 150.0, decode: float = 0.05,
            encode: float = 0.1, pair: float | None = 1.5) -> Timings:
    """Constant rates: AR step ``ar_ms`` (+ ``ar_slope_ms`` per 1000 positions), passes at ``gflops``."""
    return Timings(ar_step_s={0: ar_ms / 1e3, 1000: (ar_ms + ar_slope_ms) / 1e3}, pass_gflops={500: gflops},
                   nar_len_gflops={500: gflops}, decode_s_per_s=decode, encode_s_per_s=encode, ar_pair_factor=pair)


def variant(precision: str, t: Timings, *, device: str = "cpu", cost: PrecisionCost | None = None) -> Variant:
    """A variant whose measurements follow from ``t`` (an AR step at 750, a 1 s NAR-len step and pass)."""
    frames = round(FRAMES_PER_SECOND)
    tokens = 16 + 225 + 3 + frames
    rate = t.pass_gflops[500] * 1e9
    step_flops = pass_flops(V1_SHAPE, tokens, head_rows=frames) + pass_flops(V1_SHAPE, 80, head_rows=frames)
    ar = t.ar_step_s[0] + (t.ar_step_s[1000] - t.ar_step_s[0]) * 0.75
    items = (
        Measurement("ar_step", ar, ar / 1.2, "604 MB at 9.0 GB/s (read)", "context 750"),
        Measurement("nar_len_step", step_flops / rate, step_flops / rate / 1.3, "GEMM", "1 s line"),
        Measurement("nar_level_pass", step_flops / rate / 1.3, step_flops / rate / 1.7, "GEMM", "1 s line"),
        Measurement("codec_decode", t.decode_s_per_s, t.decode_s_per_s / 8, "GEMM", "1 s of audio"),
        Measurement("codec_encode", t.encode_s_per_s, t.encode_s_per_s / 9, "GEMM", "1 s of audio"),
    )
    return Variant(device, precision, items, t, Bounds(12.0, 11.0, 150.0), {}, cost)


def record(*variants: Variant, bf16_native: bool = True, here: bool = True, quick: bool = True) -> BenchRecord:
    """A record of ``variants``; ``here``: measured on this machine's setup (else another CPU's)."""
    machine = Machine(cpu_name() if here else "Some Other CPU", logical_cores(), 1,
                      torch_version() if here else "0.0", bf16_native, "AVX512_BF16" if bf16_native else "")
    return BenchRecord("2026-01-02T03:04:05+00:00", quick, machine, "ar+nar-len-llama-8 shapes", "random", V1_SHAPE,
                       tuple(variants), "load average 0.10")


def cpu_record(*, bf16_speedup: float | None = 1.8, int8_speedup: float | None = 2.5,
               int8_cost: PrecisionCost = INT8_COST, bf16_native: bool = True, here: bool = True) -> BenchRecord:
    """float32 at 80 ms / 150 GFLOP/s, bfloat16 and int8 that many times faster (None: not measured)."""
    found = [variant("float32", timings())]
    if bf16_speedup is not None:
        found.append(variant("bfloat16", timings(ar_ms=80 / bf16_speedup, gflops=150 * bf16_speedup), cost=COST))
    if int8_speedup is not None:
        found.append(variant("int8", timings(ar_ms=80 / int8_speedup, gflops=150 * int8_speedup), cost=int8_cost))
    return record(*found, bf16_native=bf16_native, here=here)


class TinyCodec:
    """A codec stand-in with the real one's interface and a little real work (so its FLOPs count)."""

    sample_rate, frame_rate, n_levels = 24_000, 75, 8

    def __init__(self) -> None:
        import torch

        self._w = torch.randn(64, 64, generator=torch.Generator().manual_seed(0))

    def encode(self, samples: object, sample_rate: int) -> object:
        import numpy as np
        import torch

        frames = max(1, len(np.asarray(samples)) * 75 // sample_rate)
        torch.randn(frames, 64) @ self._w
        return torch.zeros(frames, 8, dtype=torch.long)

    def decode(self, codes: object) -> object:
        import numpy as np
        import torch

        frames = int(torch.as_tensor(codes).shape[0])
        torch.randn(frames, 64) @ self._w
        return np.zeros(frames * 320, dtype=np.float32)
