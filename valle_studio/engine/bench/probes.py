"""The timed items of a benchmark, each beside its hardware bound measured back to back with it.

Every item runs in rounds of *bound, then item*, so a burst of load from another process hits a
bound and the time it is compared with alike; the medians are kept (:class:`Measurement`).

- AR step: one cached decode step at each context (the cache filled at random, see
  :func:`~valle_studio.engine.bench.inputs.timing_cache`); bound = the bytes it must read over the read
  bandwidth measured right before it (:class:`~valle_studio.engine.bench.hardware.ReadBound`).
- NAR-len step: the conditional and null passes of one demasking step, as the engine runs them;
  NAR level pass: one full pass at level 1. Bound = their useful FLOPs over the GEMM rate.
- Codec decode / encode of a few seconds of audio: bound = their FLOPs (counted by torch's
  ``FlopCounterMode``) over the float32 GEMM rate.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from valle_studio.core.codec_format import FRAMES_PER_SECOND, LEVELS, SAMPLE_RATE
from valle_studio.engine.bench import hardware
from valle_studio.engine.bench.inputs import demask_inputs, length_of, nar_input, timing_cache
from valle_studio.engine.bench.record import Measurement
from valle_studio.engine.bench.shape import ModelShape, ar_step_bytes, pass_flops
from valle_studio.engine.codec.base import Codec
from valle_studio.engine.generation._common import batch_full_passes, run_pair
from valle_studio.engine.model import KVCache, ModelInput, VallEModel

Check = Callable[[], None]


@dataclass(frozen=True)
class Sizes:
    """How much one run measures (quick or full)."""

    ar_contexts: tuple[int, ...]
    ar_pairs: int
    line_seconds: tuple[float, ...]  # NAR-len step and NAR level pass lengths
    rounds: int
    codec_seconds: float
    cost_frames: int  # AR steps and NAR-len frames compared with float32
    kernel_rounds: int
    pair_factor: bool  # also time a CFG pair (batch 2) AR step


QUICK = Sizes(ar_contexts=(250, 750), ar_pairs=4, line_seconds=(1.0,), rounds=1, codec_seconds=1.0, cost_frames=48,
              kernel_rounds=3, pair_factor=False)
FULL = Sizes(ar_contexts=(250, 750, 1250), ar_pairs=10, line_seconds=(3.0, 10.0), rounds=2, codec_seconds=3.0,
             cost_frames=150, kernel_rounds=7, pair_factor=True)


def _decode(model: VallEModel, cache: KVCache, tokens: torch.Tensor) -> None:
    model.decode(cache, tokens, "ar")


def _forward(model: VallEModel, inp: ModelInput, rows: int) -> None:
    model([inp], last=rows)


def _mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:.0f} MB"


@torch.inference_mode()
def ar_steps(model: VallEModel, shape: ModelShape, precision: str, bound: hardware.ReadBound, sizes: Sizes,
             check: Check) -> tuple[Measurement, dict[int, float], float | None]:
    """The AR step at each context of ``sizes`` (batch 1) and the CFG pair factor (full runs only)."""
    device = model.device
    token = torch.full((1,), 7, dtype=torch.long)
    times: dict[int, float] = {}
    bounds: dict[int, float] = {}
    for context in sizes.ar_contexts:
        check()
        cache = timing_cache(model, context, 1, sizes.ar_pairs + 2)
        model.decode(cache, token, "ar")  # warm-up
        steps, limits = [], []
        for _ in range(sizes.ar_pairs):
            check()
            gbps = bound.measure()
            steps.append(hardware.timed(functools.partial(model.decode, cache, token, "ar"), device))
            limits.append(ar_step_bytes(shape, precision, context=cache.longest) / (gbps * 1e9))
        times[context], bounds[context] = statistics.median(steps), statistics.median(limits)
        del cache
    pair = None
    if sizes.pair_factor:
        check()
        context = sizes.ar_contexts[len(sizes.ar_contexts) // 2]
        cache = timing_cache(model, context, 2, sizes.ar_pairs + 2)
        pair_token = torch.full((2,), 7, dtype=torch.long)
        model.decode(cache, pair_token, "ar")
        both = statistics.median(hardware.timed(functools.partial(_decode, model, cache, pair_token), device)
                                 for _ in range(sizes.ar_pairs))
        pair = both / times[context]
    main = sizes.ar_contexts[len(sizes.ar_contexts) // 2]
    nbytes = ar_step_bytes(shape, precision, context=main)
    words = f"{_mb(nbytes)} at {nbytes / bounds[main] / 1e9:.1f} GB/s (read)"
    return Measurement("ar_step", times[main], bounds[main], words, f"context {main}"), times, pair


@torch.inference_mode()
def full_passes(model: VallEModel, shape: ModelShape, gemm: Callable[[int], hardware.GemmBound], sizes: Sizes,
                check: Check) -> tuple[list[Measurement], dict[int, float], dict[int, float]]:
    """NAR-len steps and NAR level passes at each line length: measurements (of the first length) and
    the achieved GFLOP/s by sequence length (NAR-len: by conditional length)."""
    device = model.device
    nar_len_rates: dict[int, float] = {}
    pass_rates: dict[int, float] = {}
    measured: list[Measurement] = []
    for index, seconds in enumerate(sizes.line_seconds):
        check()
        cond, null, frames = demask_inputs(model, seconds)
        lengths = (length_of(model, cond), length_of(model, null))
        picked = batch_full_passes(model, cond, null, None)
        flops = sum(pass_flops(shape, n, head_rows=frames) for n in lengths)
        nar, _ = nar_input(seconds)
        nar_tokens = length_of(model, nar)
        nar_flops = pass_flops(shape, nar_tokens, head_rows=frames)
        bound = gemm(lengths[0])
        step_t, pass_t, rates = [], [], []
        for _ in range(sizes.rounds):
            check()
            rates.append(bound.measure())
            step_t.append(hardware.timed(functools.partial(run_pair, model, cond, null, frames, picked), device))
            check()
            pass_t.append(hardware.timed(functools.partial(_forward, model, nar, frames), device))
        step, single, rate = statistics.median(step_t), statistics.median(pass_t), statistics.median(rates)
        nar_len_rates[lengths[0]] = flops / step / 1e9
        pass_rates[nar_tokens] = nar_flops / single / 1e9
        if index == 0:
            how = "one padded batch" if picked else "two passes"
            measured.append(Measurement("nar_len_step", step, flops / (rate * 1e9),
                                        f"{flops / 1e9:.0f} GFLOP at {rate:.0f} GFLOP/s (GEMM)",
                                        f"{seconds:g} s line, {how} ({lengths[0]} + {lengths[1]} tokens)"))
            measured.append(Measurement("nar_level_pass", single, nar_flops / (rate * 1e9),
                                        f"{nar_flops / 1e9:.0f} GFLOP at {rate:.0f} GFLOP/s (GEMM)",
                                        f"{seconds:g} s line ({nar_tokens} tokens)"))
    return measured, nar_len_rates, pass_rates


def _flops(fn: Callable[[], object]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return int(counter.get_total_flops())


@torch.inference_mode()
def codec_items(codec: Codec, device: torch.device, gemm_gflops: Callable[[], float], sizes: Sizes,
                check: Check) -> tuple[list[Measurement], float, float]:
    """Codec decode and encode of ``codec_seconds`` of audio: measurements, then seconds per second of
    audio for decoding and encoding."""
    seconds = sizes.codec_seconds
    gen = torch.Generator().manual_seed(3)
    codes = torch.randint(0, 1024, (round(seconds * FRAMES_PER_SECOND), LEVELS), generator=gen)
    audio = (0.1 * torch.randn(round(seconds * SAMPLE_RATE), generator=gen)).numpy().astype(np.float32)
    out: list[Measurement] = []
    per_second: list[float] = []
    work: tuple[tuple[str, Callable[[], object]], ...] = (
        ("codec_decode", functools.partial(codec.decode, codes)),
        ("codec_encode", functools.partial(codec.encode, audio, SAMPLE_RATE)))
    for item, fn in work:
        check()
        fn()  # warm-up (first calls build caches and plans)
        flops = _flops(fn)
        times, rates = [], []
        for _ in range(max(2, sizes.rounds)):
            check()
            rates.append(gemm_gflops())
            times.append(hardware.timed(fn, device))
        t, rate = statistics.median(times), statistics.median(rates)
        out.append(Measurement(item, t, flops / (rate * 1e9),
                               f"{flops / 1e9:.1f} GFLOP at {rate:.0f} GFLOP/s (GEMM)", f"{seconds:g} s of audio"))
        per_second.append(t / seconds)
    return out, per_second[0], per_second[1]


__all__ = ["FULL", "QUICK", "Sizes", "ar_steps", "codec_items", "full_passes"]
