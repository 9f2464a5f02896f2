"""NAR-len demasking: one step's passes (conditional + unconditional) against the GEMM rate.

A demasking step runs the conditional input (text, prompt, masked response) and the CFG null input
(text ``<bos></eos>``, no prompt, same response) through the whole bidirectional model. Its useful
FLOPs (linear layers, attention, head; padding not counted) divided by its time is compared with
the float32 GEMM rate measured back to back in the same round. Both ways of running the pair are
timed: as two passes (what the CPU picks) and as one right-padded batch.
"""

from __future__ import annotations

import statistics
import time

import torch

from benchmarks._common import Report
from benchmarks.bounds import GemmBound, pass_flops
from valle_studio.engine.bench.inputs import demask_inputs  # the app's benchmark uses it too
from valle_studio.engine.generation._common import batch_full_passes, run_pair
from valle_studio.engine.model import VallEModel


@torch.inference_mode()
def pass_vs_bound(model: VallEModel, report: Report, *, seconds: float, rounds: int) -> float:
    """Median (achieved FLOP/s of the step) / (GEMM rate) for ``seconds`` of speech; prints figures."""
    cond, null, frames = demask_inputs(model, seconds)
    lengths = [model.embed(cond).embeds.shape[0], model.embed(null).embeds.shape[0]]
    flops = pass_flops(model.config, lengths, head_rows=frames)
    bound = GemmBound(model.config, rows=lengths[0])
    picked = batch_full_passes(model, cond, null, None)
    # no warm-up pass: a pass takes seconds, and the one-off costs of a first call are milliseconds
    separate, padded, rates, ratios = [], [], [], []
    for index in range(rounds):
        r = bound.measure()
        start = time.perf_counter()
        run_pair(model, cond, null, frames, picked)
        t_step = time.perf_counter() - start
        (padded if picked else separate).append(t_step)
        rates.append(r)
        ratios.append(flops / t_step / 1e9 / GemmBound.best(r))
        if index == 0:  # the other way once, to show why the engine picks what it picks
            start = time.perf_counter()
            run_pair(model, cond, null, frames, not picked)
            (separate if picked else padded).append(time.perf_counter() - start)
    t_sep, t_pad = statistics.median(separate), statistics.median(padded)
    t_step = t_pad if picked else t_sep
    ratio = statistics.median(ratios)
    best_rate = statistics.median(GemmBound.best(r) for r in rates)
    kinds = ", ".join(f"{k} {statistics.median(r[k] for r in rates):.0f}" for k in rates[0])
    report.say(f"   NAR-len step, {seconds:g} s ({frames} frames; cond {lengths[0]} + null {lengths[1]} tokens, "
               f"{flops / 1e9:.0f} GFLOP useful)")
    report.say(f"     two passes {t_sep:.2f} s = {flops / t_sep / 1e9:.0f} GFLOP/s; padded batch {t_pad:.2f} s = "
               f"{flops / t_pad / 1e9:.0f} GFLOP/s; the engine picks {'the batch' if picked else 'two passes'}")
    report.say(f"     GEMM rate {best_rate:.0f} GFLOP/s (best of {kinds}); the engine's step at "
               f"{100 * ratio:.0f}% of it (median of {rounds} rounds, bound and step back to back)")
    report.figures[f"nar_len_step_s@{seconds:g}"] = t_step
    report.figures[f"nar_len_gemm_fraction@{seconds:g}"] = ratio
    return ratio
