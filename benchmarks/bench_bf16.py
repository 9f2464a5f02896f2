"""Native bfloat16 on the CPU against float32: speed-up of the AR and NAR-len steps, and what it costs.

Runs only where the CPU computes bfloat16 natively (AVX512_BF16 / AMX / ARM BF16). The float32 model
and a bfloat16 copy are timed back to back in alternating rounds (AR step at context 600 with the
bfloat16 mat-vec kernel the engine uses, one NAR-len demasking step of 5 s of speech), and their
outputs compared on the same inputs (``valle_studio.engine.bench.costs``): greedy-code agreement of
teacher-forced AR steps and of NAR-len frames, and the RMS logit error over the logits' spread.
Goals: NAR-len step >= 1.6x and AR step >= 1.7x faster than float32.
"""

from __future__ import annotations

import copy
import statistics
import time

import torch

from benchmarks._common import Report
from valle_studio.engine.bench import costs
from valle_studio.engine.bench.inputs import demask_inputs, prefilled
from valle_studio.engine.generation._common import run_pair
from valle_studio.engine.model import VallEModel
from valle_studio.engine.model.devices import cpu_bf16_native


@torch.inference_mode()
def bf16_vs_fp32(fp32: VallEModel, report: Report, *, rounds: int, steps: int, frames: int = 150) -> None:
    native, feature = cpu_bf16_native()
    if not native:
        report.say("   bfloat16 not measured: this CPU has no native bfloat16 (it would run ~200x slower)")
        return
    bf16 = copy.deepcopy(fp32).to(torch.bfloat16).fuse()
    token = torch.tensor([7])
    caches = {name: prefilled(m, 600, 1, rounds * steps + 2) for name, m in (("fp32", fp32), ("bf16", bf16))}
    models = {"fp32": fp32, "bf16": bf16}
    for name, m in models.items():
        m.decode(caches[name], token, "ar")
    ar: dict[str, list[float]] = {"fp32": [], "bf16": []}
    nar_len: dict[str, list[float]] = {"fp32": [], "bf16": []}
    cond, null, nl_frames = demask_inputs(fp32, 5.0)
    for _ in range(rounds):
        for name, m in models.items():
            for _ in range(steps):
                start = time.perf_counter()
                m.decode(caches[name], token, "ar")
                ar[name].append(time.perf_counter() - start)
        for name, m in models.items():
            start = time.perf_counter()
            run_pair(m, cond, null, nl_frames, False)
            nar_len[name].append(time.perf_counter() - start)
    ar_gain = statistics.median(ar["fp32"]) / statistics.median(ar["bf16"])
    nl_gain = statistics.median(nar_len["fp32"]) / statistics.median(nar_len["bf16"])
    report.say(f"   this CPU: {feature}; AR step at 600: float32 {1e3 * statistics.median(ar['fp32']):.1f} ms, "
               f"bfloat16 {1e3 * statistics.median(ar['bf16']):.1f} ms -> {ar_gain:.2f}x")
    report.say(f"   NAR-len step, 5 s: float32 {statistics.median(nar_len['fp32']):.2f} s, bfloat16 "
               f"{statistics.median(nar_len['bf16']):.2f} s -> {nl_gain:.2f}x ({rounds} alternating rounds)")
    cost = costs.compare(costs.reference(fp32, frames), bf16)
    report.say(f"   cost against float32 ({cost.rows_ar} AR steps, {cost.rows_nar_len} NAR-len frames): greedy codes "
               f"agree {100 * cost.ar_agreement:.0f}% / {100 * cost.nar_len_agreement:.0f}%, logit error "
               f"{100 * cost.ar_logit_error:.1f}% / {100 * cost.nar_len_logit_error:.1f}% of the logits' spread")
    report.figures.update(bf16_ar_speedup=ar_gain, bf16_nar_len_speedup=nl_gain,
                          bf16_ar_agreement=cost.ar_agreement, bf16_nar_len_agreement=cost.nar_len_agreement,
                          bf16_ar_logit_error=cost.ar_logit_error, bf16_nar_len_logit_error=cost.nar_len_logit_error)
    report.check("bfloat16 NAR-len step >= 1.6x float32", nl_gain >= 1.6, f"{nl_gain:.2f}x")
    report.check("bfloat16 AR step >= 1.7x float32", ar_gain >= 1.7, f"{ar_gain:.2f}x")
