"""AR level 0: one cached decode step against the memory-bandwidth bound, and cached vs uncached.

Item 1: for contexts 200 / 600 / 1200 the model is prefilled once into a static KV cache, then rounds
of decode steps alternate with one sweep of the mat-vec bound; each round gives a ratio
``step time / (bytes the step must read / mat-vec bandwidth)`` and the median ratio is printed.

Item 4: ``generate_ar`` with the cache (timed in full) against the same loop without it, the way
upstream runs (the whole sequence again every step). The uncached loop would take tens of minutes for
10 s of speech here, so its total is the sum over all steps of the per-step time, interpolated
between full forwards timed at evenly spaced contexts (a forward's cost depends only on its
length); a few real uncached steps are timed too, to check the interpolation.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from torch import Tensor

from benchmarks._common import Report
from benchmarks.bounds import MatVecBound, ar_step_bytes
from valle_studio.engine.bench.inputs import conditioning, prefilled  # the app's benchmark uses them too
from valle_studio.engine.generation import generate_ar
from valle_studio.engine.model import KVCache, ModelInput, VallEModel
from valle_studio.engine.sampling import SamplerConfig

FPS = 75


def _prefilled(model: VallEModel, context: int, batch: int, extra: int) -> KVCache:
    return prefilled(model, context, batch, extra)


@torch.inference_mode()
def step_vs_bound(
    model: VallEModel, bound: MatVecBound, report: Report, *, contexts: tuple[int, ...], pairs: int, batch: int = 1
) -> dict[int, float]:
    """Median ratio (step time / bandwidth bound) per context; prints the figures.

    After one sweep per kernel picks the fastest mat-vec kernel, ``pairs`` times: one sweep of the
    bound with it, then one decode step. Each pair gives a ratio, so a burst of load from another
    process hits a bound and the step it is compared with alike; the median ratio is reported, and
    the ratio of the best step to the best sweep beside it.
    """
    ratios: dict[int, float] = {}
    token = torch.full((batch,), 7, dtype=torch.long)
    label = "AR step" if batch == 1 else f"AR step, batch {batch} (CFG pair)"
    for context in contexts:
        cache = _prefilled(model, context, batch, pairs + 2)
        model.decode(cache, token, "ar")  # warm-up
        rates = bound.measure()
        kernel = max((k for k in rates if k != "read"), key=rates.__getitem__)
        step_times, limits, pair_ratios = [], [], []
        for _ in range(pairs):
            gbps = bound.sweep(kernel)
            start = time.perf_counter()
            model.decode(cache, token, "ar")
            step = time.perf_counter() - start
            limit = ar_step_bytes(model.config, context=cache.longest, batch=batch) / (gbps * 1e9)
            step_times.append(step)
            limits.append(limit)
            pair_ratios.append(step / limit)
        ratio = statistics.median(pair_ratios)
        ratios[context] = ratio
        nbytes = ar_step_bytes(model.config, context=context, batch=batch)
        best = min(step_times) / min(limits)
        others = ", ".join(f"{k} {v:.1f}" for k, v in rates.items())
        report.say(
            f"   {label} at context {context}: {1e3 * statistics.median(step_times):.1f} ms; bound "
            f"{1e3 * statistics.median(limits):.1f} ms = {nbytes / 1e6:.0f} MB at "
            f"{nbytes / statistics.median(limits) / 1e9:.1f} GB/s ({kernel} mat-vec; first sweep GB/s: {others})"
        )
        report.say(f"     ratio {ratio:.2f}x (median of {pairs} step/bound pairs; best step / best bound {best:.2f}x)")
        report.figures[f"ar_step_ms@{context}x{batch}"] = 1e3 * statistics.median(step_times)
        report.figures[f"ar_bound_ms@{context}x{batch}"] = 1e3 * statistics.median(limits)
        report.figures[f"ar_ratio@{context}x{batch}"] = ratio
    return ratios


@torch.inference_mode()
def kernel_comparison(model: VallEModel, report: Report, *, context: int = 600, pairs: int = 10) -> dict[str, float]:
    """The same AR step with each float32 mat-vec kernel candidate (oneDNN, PyTorch's default = MKL, a
    plain ``addmv``), alternating; returns the median step time of each (seconds)."""
    from valle_studio.engine.model import kernels

    names = kernels.candidates(torch.float32, 1)
    cache = _prefilled(model, context, 1, (len(names) + 1) * pairs + 4)
    token = torch.tensor([7])
    times: dict[str, list[float]] = {name: [] for name in names}
    saved = kernels.configured()
    try:
        for name in names:  # warm-up each
            kernels.configure({**saved, "float32/matvec": name})
            model.decode(cache, token, "ar")
        for _ in range(pairs):
            for name in names:
                kernels.configure({**saved, "float32/matvec": name})
                start = time.perf_counter()
                model.decode(cache, token, "ar")
                times[name].append(time.perf_counter() - start)
    finally:
        kernels.configure(saved)
    medians = {name: statistics.median(t) for name, t in times.items()}
    default = kernels.default_kernel(torch.float32, 1)
    listed = ", ".join(f"{name} {1e3 * t:.1f} ms" + (" (default)" if name == default else "")
                       for name, t in medians.items())
    best = min(medians, key=medians.__getitem__)
    report.say(f"   kernel choice, AR step at {context} ({pairs} alternating rounds): {listed} -> {best} is "
               f"{medians[default] / medians[best]:.2f}x the default")
    for name, t in medians.items():
        report.figures[f"ar_step_ms_kernel@{name}"] = 1e3 * t
    report.figures["ar_best_kernel_speedup"] = medians[default] / medians[best]
    return medians


@torch.inference_mode()
def profile_step(model: VallEModel, report: Report, context: int = 600, steps: int = 10) -> None:
    """torch.profiler table of ``steps`` decode steps (where an AR step's time goes)."""
    from torch.profiler import profile

    cache = _prefilled(model, context, 1, steps + 2)
    token = torch.tensor([7])
    model.decode(cache, token, "ar")
    with profile() as prof:
        for _ in range(steps):
            model.decode(cache, token, "ar")
    report.say(f"   profile of {steps} AR steps at context {context} (self CPU time):")
    for line in prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12).splitlines():
        report.say("   " + line)


def _forward_time(model: VallEModel, text: Tensor, prompt: Tensor, responses: int) -> tuple[int, float]:
    resp = torch.randint(0, 1024, (responses,), generator=torch.Generator().manual_seed(responses))
    inp = ModelInput.ar(text, 0, prompt, resp)
    start = time.perf_counter()
    model([inp], last=1)
    return model.embed(inp).embeds.shape[0], time.perf_counter() - start


@torch.inference_mode()
def cached_vs_uncached(
    model: VallEModel, report: Report, *, seconds: float, samples: int, repeats: int = 1
) -> float:
    """Speed-up of the cached AR loop over the uncached one for ``seconds`` of speech (no CFG).

    Each sampled uncached step is timed ``repeats`` times and the fastest kept, while the cached loop
    runs once: on a busy machine this errs towards a smaller speed-up, never a larger one.
    """
    frames = int(seconds * FPS)
    text, prompt = conditioning(seconds)
    sampler = SamplerConfig(temperature=1.0)
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    codes = generate_ar(model, text=text, prompt=prompt, sampler=sampler, max_frames=frames, generator=gen)
    cached = time.perf_counter() - start
    assert len(codes) == frames, "the benchmark model must never stop early"

    # Uncached: step k runs the full sequence with k responses (k = 0 .. frames-1).
    points = sorted({round(i * (frames - 1) / (samples - 1)) for i in range(samples)})
    measured = []
    for k in points:
        runs = [_forward_time(model, text, prompt, k) for _ in range(repeats)]
        measured.append((runs[0][0], min(t for _, t in runs)))
    per_step = [t for _, t in measured]
    total = float(np.interp(np.arange(frames), points, per_step).sum())
    # check: three real uncached steps against the interpolation at k = 0, 1, 2
    start = time.perf_counter()
    generate_ar(model, text=text, prompt=prompt, sampler=sampler, max_frames=3, use_cache=False,
                generator=torch.Generator().manual_seed(0))
    real3 = time.perf_counter() - start
    predicted3 = 3 * per_step[0]
    speedup = total / cached
    report.say(f"   cached generate_ar, {frames} frames ({seconds:g} s of speech): {cached:.1f} s "
               f"({1e3 * cached / frames:.1f} ms/frame)")
    report.say(f"   uncached full forward per step (best of {repeats}): " + ", ".join(
        f"{length} tok {t:.2f} s" for length, t in measured))
    report.say(f"   uncached loop, {frames} frames: {total:.0f} s (sum of interpolated steps; 3 real uncached "
               f"steps took {real3:.2f} s vs {predicted3:.2f} s predicted)")
    report.say(f"   speed-up cached vs uncached: {speedup:.1f}x")
    report.figures["ar_cached_s"] = cached
    report.figures["ar_uncached_s"] = total
    report.figures["ar_speedup"] = speedup
    return speedup
