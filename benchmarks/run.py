"""Run every benchmark on the full-size model and check the performance targets.

    .venv/bin/python -m benchmarks.run            # everything, about 6-9 minutes on a 2-core CPU
    .venv/bin/python -m benchmarks.run --quick    # a shorter pass over every item, about 2-3 minutes
    .venv/bin/python -m benchmarks.run --only ar,app --json results.json

Items (see benchmarks/README.md): ``e2e`` (end-to-end 5 s / 10 s, both modalities, real-time factor,
run first so that the process's peak memory is the engine's own), ``ar`` (AR step vs the bandwidth
bound), ``nar-len`` (demasking step vs the GEMM rate), ``uncached`` (cached vs uncached AR),
``int8`` (optional quantisation), ``bf16`` (native bfloat16 on the CPU vs float32), ``marginal`` (2 more
seconds of AR+NAR speech vs the physical read and GEMM bound), ``app`` (launch to interactive window),
``memory`` (loading a full-size checkpoint in a fresh process: time and peak memory).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ITEMS = ("e2e", "ar", "nar-len", "uncached", "int8", "bf16", "marginal", "app", "memory", "streaming")
# Streaming (time to first audio, issue 9) adds ~2.5 minutes and the marginal item (issue 19: four to eight
# generations of 3-5 s of speech) 3-6 minutes; the default run stays under 10 minutes without them.
DEFAULT_ITEMS = tuple(item for item in ITEMS if item not in ("streaming", "marginal"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and shorter runs")
    parser.add_argument("--threads", default="auto",
                        help="torch threads: a number, or auto (physical cores minus cores other processes keep busy)")
    parser.add_argument("--only", default=",".join(DEFAULT_ITEMS),
                        help=f"comma-separated items of: {', '.join(ITEMS)} (default: all but streaming and marginal)")
    parser.add_argument("--demask-steps", type=int, default=None,
                        help="NAR-len demasking steps in the end-to-end runs (default 4, quick 2; "
                             "25 and 50 are projected)")
    parser.add_argument("--kernels", choices=("measured", "default"), default="measured",
                        help="float32 linear kernels: measured (each candidate timed on the model's weights, as "
                             "'valle-studio-cli bench' chooses them) or default (the engine's choice without a "
                             "benchmark: oneDNN on x86, as in the figures measured before issue 19)")
    parser.add_argument("--profile", action="store_true", help="print a torch.profiler table of AR steps")
    parser.add_argument("--json", metavar="PATH", help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    args.only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in args.only if x not in ITEMS]
    if unknown:
        parser.error(f"unknown item(s) {', '.join(unknown)}; choose from {', '.join(ITEMS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    from benchmarks._common import Report, choose_threads, machine_line, peak_rss_mb

    threads, why = choose_threads(args.threads)
    import torch

    torch.set_num_threads(threads)
    from benchmarks import bench_app, bench_ar, bench_e2e, bench_int8, bench_memory, bench_nar_len
    from benchmarks._model import build_full_model
    from benchmarks.bounds import MatVecBound
    from valle_studio.engine.model import kernels

    report = Report()
    q = args.quick
    report.say(f"VALL-E Studio benchmarks ({'quick' if q else 'full'}): full-size model, random weights, "
               "float32 CPU")
    report.say(f"   machine: {machine_line()}")
    report.say(f"   torch {torch.__version__}, threads {why}, default linear kernel {kernels.backend()}, "
               f"kernels {args.kernels}")
    report.figures.update(threads=threads, quick=q, machine=machine_line(), torch=torch.__version__)

    t0 = time.perf_counter()
    model = build_full_model()
    if args.kernels == "measured":
        from valle_studio.engine.bench import hardware, tune

        choice, rates = tune.choose(hardware.backbone_matrices(model), rounds=3 if q else 5)
        kernels.configure(choice)
        listed = "; ".join(f"{slot} {choice[slot]} (" + ", ".join(f"{k} {v:.1f}" for k, v in by.items()) + ")"
                           for slot, by in rates.items())
        report.say(f"   kernels chosen by measurement (GB/s for mat-vecs, GFLOP/s for GEMMs): {listed}")
        report.figures["kernels"] = choice
    params = sum(p.numel() for p in model.parameters())
    report.say(f"   model: {params / 1e6:.1f} M parameters ({params * 4 / 2**20:.0f} MiB float32), built in "
               f"{time.perf_counter() - t0:.1f} s; peak RSS {peak_rss_mb():.0f} MiB")

    if "e2e" in args.only:
        report.section("3. end-to-end synthesis (text ids + 3 s prompt -> codes -> audio), real-time factor")
        codec = bench_e2e.load_codec()
        steps = args.demask_steps or (2 if q else 4)
        for seconds in (5.0,) if q else (5.0, 10.0):
            for modality in ("ar+nar", "nar-len"):
                bench_e2e.synthesize(model, codec, report, seconds=seconds, modality=modality, steps=steps)
        del codec
        report.say(f"   engine peak memory (RSS high-water mark of this process so far): {peak_rss_mb():.0f} MiB")
        report.figures["engine_peak_rss_mb"] = peak_rss_mb()

    if "ar" in args.only:
        report.section("1. AR step (KV cache) vs the memory-bandwidth bound")
        bound = MatVecBound(400 if q else 800)
        ratios = bench_ar.step_vs_bound(model, bound, report, contexts=(200, 600, 1200), pairs=12 if q else 30)
        if not q:
            bench_ar.step_vs_bound(model, bound, report, contexts=(600,), pairs=12, batch=2)
        bench_ar.kernel_comparison(model, report, pairs=4 if q else 10)
        if args.profile:
            bench_ar.profile_step(model, report)
        del bound
        report.check("AR step at context 600 within 1.3x of the bandwidth bound", ratios[600] <= 1.3,
                     f"{ratios[600]:.2f}x")

    if "nar-len" in args.only:
        report.section("2. NAR-len demasking step vs the GEMM rate")
        fractions = [bench_nar_len.pass_vs_bound(model, report, seconds=s, rounds=r)
                     for s, r in (((5.0, 2),) if q else ((5.0, 3), (10.0, 2)))]
        worst = min(fractions)
        report.check("NAR-len passes at >= 70% of the measured GEMM rate", worst >= 0.70, f"{100 * worst:.0f}%")

    if "uncached" in args.only:
        report.section("4. cached AR vs our uncached path (the way upstream runs)")
        seconds = 4.0 if q else 10.0
        speedup = bench_ar.cached_vs_uncached(model, report, seconds=seconds, samples=3 if q else 5,
                                              repeats=1 if q else 2)
        report.check(f"cached AR >= 25x the uncached path ({seconds:g} s of speech)", speedup >= 25,
                     f"{speedup:.0f}x")

    if "int8" in args.only:
        report.section("optional int8 dynamic quantisation (CPU) vs float32")
        bench_int8.int8_vs_fp32(model, report, rounds=1 if q else 2, steps=4 if q else 8)

    if "bf16" in args.only:
        from benchmarks import bench_bf16

        report.section("native bfloat16 on the CPU vs float32")
        bench_bf16.bf16_vs_fp32(model, report, rounds=2 if q else 3, steps=4 if q else 8)

    if "marginal" in args.only:
        from benchmarks import bench_marginal

        report.section("2 more seconds of AR+NAR speech vs the physical bound (read + GEMM)")
        bench_marginal.extra_vs_bound(model, report, rounds=1 if q else 2)

    if "app" in args.only:
        report.section("5. app launch to an interactive window")
        ready = bench_app.app_startup(report, runs=1 if q else 3, watch=3.0 if q else 5.0)
        if ready is not None:
            report.check("app window interactive in < 2 s", ready < 2.0, f"{ready:.2f} s")

    if "memory" in args.only:
        report.section("5. memory: load_model of a full-size checkpoint in a fresh process")
        bench_memory.load_and_memory(report, threads=threads, modes=("fp32", "int8"))

    if "streaming" in args.only:
        from benchmarks import bench_streaming

        report.section("6. streaming: time to first audio vs total time, streamed vs not")
        stream_codec = bench_e2e.load_codec()
        for modality in ("ar+nar", "nar-len"):
            bench_streaming.stream_vs_whole(model, stream_codec, report, modality=modality,
                                            steps=args.demask_steps or (2 if q else 4))
        del stream_codec

    report.summary()
    from benchmarks._common import busy_cores_of_others, load_average

    others = busy_cores_of_others(1.0)
    report.say(f"   load average at the end {load_average()}; other processes busy on "
               f"{'n/a' if others is None else f'{others:.1f}'} cores")
    report.say(f"   total benchmark time {time.perf_counter() - started:.0f} s; peak RSS {peak_rss_mb():.0f} MiB")
    if args.json:
        report.figures["checks"] = [{"name": n, "met": ok, "value": d} for n, ok, d in report.checks]
        target = Path(args.json)
        partial = target.with_name(target.name + ".part")
        partial.write_text(json.dumps(report.figures, indent=2), encoding="utf-8")
        os.replace(partial, target)  # atomic: never a half-written file
    return 0


if __name__ == "__main__":
    sys.exit(main())
