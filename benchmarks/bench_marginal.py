"""Item 5 of issue 19: the extra time of 2 more seconds of AR+NAR speech against the physical bound.

The same line (text and 3 s prompt fixed) is generated with the web UI's defaults to ``base`` seconds
and to ``base + 2`` seconds (the random-weight model never stops early, so it makes exactly that many
frames). The difference is 150 more AR steps at growing context and longer NAR level passes. Its
bound is measured in the same round: the bytes those AR steps must read over the *physical read*
bandwidth (the fastest plain pass over the model's own weights: reductions and every mat-vec kernel,
``valle_studio.engine.bench.hardware.ReadBound``) plus their FLOPs and the NAR passes' extra FLOPs
over the best float32 GEMM rate. Target: within 1.3x.

It runs with the float32 kernels the engine uses by default and with those chosen by measuring every
candidate on this machine (``valle_studio.engine.bench.tune``, what ``valle-studio-cli bench`` saves),
alternating, so both are compared in the same run.
"""

from __future__ import annotations

import statistics
import time

import torch

from benchmarks._common import Report
from valle_studio.engine import pipeline
from valle_studio.engine.bench import hardware, tune
from valle_studio.engine.bench.inputs import conditioning
from valle_studio.engine.bench.shape import ModelShape, ar_step_bytes, ar_step_flops, pass_flops
from valle_studio.engine.model import ModelInput, VallEModel, kernels
from valle_studio.engine.settings import GenerationSettings

FPS = 75
NAR_LEVELS = 7


def _generate(model: VallEModel, text: torch.Tensor, prompt: torch.Tensor, seconds: float) -> float:
    settings = GenerationSettings(modality="ar+nar", max_duration=seconds, seed=0)
    start = time.perf_counter()
    codes = pipeline.generate_lines(model, [pipeline.LineInput(text, 0)], prompt, settings, modality="ar+nar",
                                    generator=torch.Generator().manual_seed(0))[0]
    elapsed = time.perf_counter() - start
    assert codes.shape[0] == int(seconds * FPS), codes.shape
    return elapsed


@torch.inference_mode()
def extra_vs_bound(model: VallEModel, report: Report, *, base_s: float = 3.0, extra_s: float = 2.0,
                   rounds: int = 2) -> float:
    """Median ratio (extra time / bound) with the best kernel configuration; prints both configurations."""
    shape = ModelShape.of(model.config)
    matrices = hardware.backbone_matrices(model)
    choice, rates = tune.choose(matrices, rounds=5)
    for slot, by in rates.items():
        unit = "GB/s" if slot.endswith("matvec") else "GFLOP/s"
        report.say(f"   {slot} candidates: " + ", ".join(f"{k} {v:.1f}" for k, v in by.items())
                   + f" {unit} -> {choice[slot]}")
    defaults = {slot: kernels.default_kernel(torch.float32, 1 if slot.endswith("matvec") else 2) for slot in choice}
    configs = {"default kernels": defaults} | ({"measured kernels": choice} if choice != defaults else {})
    text, prompt = conditioning(base_s + extra_s)
    context = model.embed(ModelInput.ar(text, 0, prompt, torch.zeros(0, dtype=torch.long))).embeds.shape[0]
    f0, f1 = int(base_s * FPS), int((base_s + extra_s) * FPS)
    nbytes = sum(ar_step_bytes(shape, "float32", context=context + k) for k in range(f0, f1))
    flops = sum(ar_step_flops(shape, context=context + k) for k in range(f0, f1))
    longer = pass_flops(shape, context + f1, head_rows=f1) - pass_flops(shape, context + f0, head_rows=f0)
    flops += NAR_LEVELS * longer
    extra: dict[str, list[float]] = {name: [] for name in configs}
    bounds: list[float] = []
    saved = kernels.configured()
    try:
        for _ in range(rounds):
            read = hardware.ReadBound(matrices, kernels.candidates(torch.float32, 1))
            gemm = hardware.GemmBound(shape.dim, shape.ffn_dim, context + f1, torch.float32, model.device).measure()
            gbps = read.rates[read.best]
            bounds.append(nbytes / (gbps * 1e9) + flops / (gemm * 1e9))
            for name, config in configs.items():
                kernels.configure(config)
                extra[name].append(_generate(model, text, prompt, base_s + extra_s) - _generate(model, text, prompt,
                                                                                                  base_s))
            report.say(f"     round: read {gbps:.1f} GB/s ({read.best}), GEMM {gemm:.0f} GFLOP/s, bound "
                       f"{bounds[-1]:.2f} s; extra " + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in extra.items()))
    finally:
        kernels.configure(saved)
    bound = statistics.median(bounds)
    report.say(f"   {extra_s:g} more seconds of AR+NAR speech ({f1 - f0} AR steps from context {context + f0}, "
               f"{NAR_LEVELS} longer NAR passes): bound {bound:.2f} s = {nbytes / 1e9:.1f} GB / read rate + "
               f"{flops / 1e9:.0f} GFLOP / GEMM rate")
    ratios = {}
    for name, times in extra.items():
        ratios[name] = statistics.median(t / b for t, b in zip(times, bounds, strict=True))
        report.say(f"     {name}: extra {statistics.median(times):.2f} s -> {ratios[name]:.2f}x the bound "
                   f"(median of {rounds} rounds)")
        report.figures[f"marginal_ratio@{name}"] = ratios[name]
    report.figures["marginal_bound_s"] = bound
    best = min(ratios.values())
    report.check(f"{extra_s:g} more seconds of AR+NAR within 1.3x of the physical bound", best <= 1.3, f"{best:.2f}x")
    return best
