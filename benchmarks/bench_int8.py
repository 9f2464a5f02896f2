"""Optional int8 dynamic quantisation on the CPU: speed-up over float32 and logit error against it.

The float32 model and an int8 copy are timed back to back (AR step at context 600, one NAR-len
demasking step of 5 s of speech), and their logits compared on the same inputs: max abs error,
RMS error relative to the logits' spread, and how often the top-1 class agrees.
"""

from __future__ import annotations

import statistics
import time

import torch

from benchmarks._common import Report
from benchmarks._model import build_full_model
from valle_studio.engine.bench.inputs import ar_input, demask_inputs
from valle_studio.engine.generation._common import run_pair
from valle_studio.engine.model import KVCache, VallEModel
from valle_studio.engine.quantize import quantize_int8, refusal


def _errors(want: torch.Tensor, got: torch.Tensor) -> str:
    want, got = want[..., :1024], got[..., :1024]  # the AR stop logit is pinned at -1e4 here
    err = got - want
    rms = float(err.pow(2).mean().sqrt() / want.std())
    agree = float((got.argmax(-1) == want.argmax(-1)).float().mean())
    return (f"max |err| {float(err.abs().max()):.3f}, RMS err {100 * rms:.1f}% of the logit spread, "
            f"top-1 agrees {100 * agree:.0f}%")


@torch.inference_mode()
def _ar_steps(model: VallEModel, cache: KVCache, steps: int) -> float:
    token = torch.tensor([7])
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.decode(cache, token, "ar")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@torch.inference_mode()
def int8_vs_fp32(fp32: VallEModel, report: Report, *, rounds: int, steps: int) -> float | None:
    """Speed-up of the int8 AR step over float32 (None when int8 is unavailable here)."""
    reason = refusal(fp32.device, fp32.dtype)
    if reason is not None:
        report.say(f"   int8 not available: {reason}")
        return None
    int8 = quantize_int8(build_full_model())
    cond, null, frames = demask_inputs(fp32, 5.0)
    ar_in = ar_input(fp32, 600)
    report.say("   AR logits (context 600, last 8 rows): " + _errors(fp32([ar_in], last=8), int8([ar_in], last=8)))
    nl_err = _errors(fp32([cond], last=frames), int8([cond], last=frames))
    report.say(f"   NAR-len logits (5 s, {frames} rows): {nl_err}")
    caches = []
    for model in (fp32, int8):
        cache = model.new_cache(1, 600 + rounds * steps + 2)
        model.prefill([ar_in], cache)
        model.decode(cache, torch.tensor([7]), "ar")  # warm-up
        caches.append(cache)
    ar32, ar8, nl32, nl8 = [], [], [], []
    for _ in range(rounds):
        ar32.append(_ar_steps(fp32, caches[0], steps))
        ar8.append(_ar_steps(int8, caches[1], steps))
        for model, out in ((fp32, nl32), (int8, nl8)):
            start = time.perf_counter()
            run_pair(model, cond, null, frames, False)
            out.append(time.perf_counter() - start)
    a32, a8 = statistics.median(ar32), statistics.median(ar8)
    n32, n8 = statistics.median(nl32), statistics.median(nl8)
    report.say(f"   AR step at 600: float32 {1e3 * a32:.1f} ms, int8 {1e3 * a8:.1f} ms -> {a32 / a8:.2f}x")
    report.say(f"   NAR-len step (5 s): float32 {n32:.2f} s, int8 {n8:.2f} s -> {n32 / n8:.2f}x")
    report.figures["int8_ar_speedup"] = a32 / a8
    report.figures["int8_nar_len_speedup"] = n32 / n8
    return a32 / a8
