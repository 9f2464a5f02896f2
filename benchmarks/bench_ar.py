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
from valle_studio.engine.generation import generate_ar
from valle_studio.engine.model import KVCache, ModelInput, VallEModel
from valle_studio.engine.sampling import SamplerConfig

FPS = 75


def conditioning(seconds: float, *, prompt_frames: int = 225, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Phoneme ids ``[N]`` for about ``seconds`` of speech (14 phonemes/s) and a prompt ``[P, 8]``."""
    gen = torch.Generator().manual_seed(seed)
    n = max(8, round(14 * seconds))
    text = torch.cat([torch.tensor([1]), torch.randint(5, 200, (n,), generator=gen), torch.tensor([2])])
    prompt = torch.randint(0, 1024, (prompt_frames, 8), generator=gen)
    return text, prompt


def ar_input(model: VallEModel, context: int, seed: int = 0) -> ModelInput:
    """An AR input whose sequence is exactly ``context`` positions (text, 3 s prompt, response)."""
    text, prompt = conditioning(4.0, prompt_frames=min(225, context // 3), seed=seed)
    text = text[: max(3, min(len(text), context // 4))]
    empty = torch.zeros(0, dtype=torch.long)
    base = model.embed(ModelInput.ar(text, 0, prompt, empty)).embeds.shape[0]
    resp = torch.randint(0, 1024, (max(0, context - base),), generator=torch.Generator().manual_seed(seed))
    inp = ModelInput.ar(text, 0, prompt, resp)
    assert model.embed(inp).embeds.shape[0] == context
    return inp


def _prefilled(model: VallEModel, context: int, batch: int, extra: int) -> KVCache:
    inputs = [ar_input(model, context, seed=b) for b in range(batch)]
    cache = model.new_cache(batch, context + extra + 1)
    model.prefill(inputs, cache)
    return cache


@torch.inference_mode()
def step_vs_bound(
    model: VallEModel, bound: MatVecBound, report: Report, *, contexts: tuple[int, ...], rounds: int, steps: int,
    batch: int = 1,
) -> dict[int, float]:
    """Median ratio (step time / bandwidth bound) per context; prints the figures."""
    ratios: dict[int, float] = {}
    token = torch.full((batch,), 7, dtype=torch.long)
    label = "AR step" if batch == 1 else f"AR step, batch {batch} (CFG pair)"
    for context in contexts:
        cache = _prefilled(model, context, batch, rounds * (steps + 1))
        model.decode(cache, token, "ar")  # warm-up
        step_times, bounds, round_ratios, bws = [], [], [], []
        for _ in range(rounds):
            rates = bound.measure()
            bw = bound.best(rates)
            times = []
            for _ in range(steps):
                start = time.perf_counter()
                model.decode(cache, token, "ar")
                times.append(time.perf_counter() - start)
            step = statistics.median(times)
            limit = ar_step_bytes(model.config, context=cache.longest, batch=batch) / (bw * 1e9)
            step_times.append(step)
            bounds.append(limit)
            bws.append(rates)
            round_ratios.append(step / limit)
        ratio = statistics.median(round_ratios)
        ratios[context] = ratio
        nbytes = ar_step_bytes(model.config, context=context, batch=batch)
        kinds = ", ".join(f"{k} {statistics.median(r[k] for r in bws):.1f}" for k in bws[0])
        report.say(
            f"   {label} at context {context}: {1e3 * statistics.median(step_times):.1f} ms; bound "
            f"{1e3 * statistics.median(bounds):.1f} ms ({nbytes / 1e6:.0f} MB / mat-vec GB/s: {kinds}); "
            f"ratio {ratio:.2f}x"
        )
        report.figures[f"ar_step_ms@{context}x{batch}"] = 1e3 * statistics.median(step_times)
        report.figures[f"ar_ratio@{context}x{batch}"] = ratio
    return ratios


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
def cached_vs_uncached(model: VallEModel, report: Report, *, seconds: float, samples: int) -> float:
    """Speed-up of the cached AR loop over the uncached one for ``seconds`` of speech (no CFG)."""
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
    measured = [_forward_time(model, text, prompt, k) for k in points]
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
    report.say("   uncached full forward per step: " + ", ".join(
        f"{length} tok {t:.2f} s" for length, t in measured))
    report.say(f"   uncached loop, {frames} frames: {total:.0f} s (sum of interpolated steps; 3 real uncached "
               f"steps took {real3:.2f} s vs {predicted3:.2f} s predicted)")
    report.say(f"   speed-up cached vs uncached: {speedup:.1f}x")
    report.figures["ar_cached_s"] = cached
    report.figures["ar_uncached_s"] = total
    report.figures["ar_speedup"] = speedup
    return speedup
