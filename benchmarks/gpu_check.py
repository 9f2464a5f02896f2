"""Is the engine right and fast on this device? Issue 20, item 1: correctness, speed and memory, one run.

    python -m benchmarks.gpu_check                                  # CUDA + full-size model when there is a GPU,
                                                                    # else the CPU + the tiny model (seconds)
    python -m benchmarks.gpu_check --device cpu --model full --json cpu.json    # the CPU at full size (minutes)

Items (each figure is printed with its goal or bound and a PASS / FAIL / N-A verdict; a figure without
a number says why):

(a) correctness: the golden-vector logits in float32 on the device vs upstream's CPU numbers (and our
    CPU path), <= 1e-4; greedy codes in float16 / bfloat16 vs float32 (frames identical, >= 95%;
    first divergence). On the CPU only bfloat16 (the reason is printed).
(b) AR steps/s at batch 1, context 200 / 600 / 1200, beside the device's read bound (goal >= 500 on an
    H200); the "with CUDA graphs" column reads "not implemented" until issue 20's item 2 exists.
(c) NAR-len RTF for 10 s of speech at 25 and 50 steps with CFG (goal <= 0.05 at 50 steps);
(d) AR+NAR RTF; (e) time to first audio when streaming (goal <= 0.3 s); (f) peak memory per item
    (VRAM on CUDA, resident memory on the CPU); (g) ``valle-studio-cli synth --device <device>`` end to end.

The speed goals are the issue's, for an H200-class GPU: on the CPU they are printed and marked N-A.
Models have random weights (full size: the ``ar+nar-len-llama-8`` layout, 238 M parameters; tiny: the
golden checkpoints' width). Exit status: 0 when nothing FAILed, 1 otherwise, 2 for bad options.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ITEMS = {
    "a": "correctness: golden logits on the device, half-precision greedy codes",
    "b": "AR steps per second, batch 1",
    "c": "NAR-len real-time factor",
    "d": "AR+NAR real-time factor",
    "e": "time to first audio, streaming",
    "f": "peak memory",
    "g": "the CLI end to end",
}


@dataclass(frozen=True)
class Plan:
    """How big each item is; the defaults depend on the device and model (see :func:`plan_for`)."""

    seconds: float  # speech of (c) and (d)
    check_seconds: float  # speech of the greedy check (a)
    check_steps: int  # NAR-len steps of the greedy check
    measured_steps: int | None  # (c): demasking steps run, 25/50 projected; None: 25 and 50 run
    ar_steps: int  # timed decode steps per context (b)
    stream_seconds: float  # (e): two sentences of half this each
    cli_seconds: float  # (g)
    read_mb: int  # buffer of the read-bandwidth bound (b)


def plan_for(device: str, full: bool) -> Plan:
    if device == "cuda":
        return Plan(10.0, 10.0, 50, None, 200, 5.0, 10.0, 2048)
    if full:  # the CPU at full size: a 50-step 10 s NAR-len run alone would take minutes
        return Plan(10.0, 2.0, 8, 2, 20, 5.0, 2.0, 512)
    return Plan(10.0, 3.0, 25, None, 50, 5.0, 2.0, 64)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default=None, help="cuda, cuda:N or cpu (default: cuda when available, else cpu)")
    parser.add_argument("--model", choices=("tiny", "full"), default=None,
                        help="random-weight model size (default: full on CUDA, tiny on the CPU)")
    parser.add_argument("--dtype", default="auto",
                        help="precision of the speed items (b)-(g): auto (the engine's choice: bfloat16 on CUDA, "
                             "float32 on the CPU), float32, float16 or bfloat16")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write every figure to this JSON file "
                                                                   "(rewritten after each item)")
    parser.add_argument("--time-limit", type=float, default=600.0, metavar="SECONDS",
                        help="start no item after this many seconds; later items say they were not run "
                             "(default 600)")
    parser.add_argument("--only", default="".join(ITEMS), help="items to run, e.g. abg (default: all)")
    parser.add_argument("--seconds", type=float, help="speech of (c) and (d) (default 10)")
    parser.add_argument("--check-seconds", type=float, help="speech of the greedy check (a)")
    parser.add_argument("--check-steps", type=int, help="NAR-len steps of the greedy check (a)")
    parser.add_argument("--demask-steps", type=int,
                        help="(c): run this many demasking steps and project 25 and 50 (default: the CPU at full "
                             "size 2; otherwise 25 and 50 run)")
    parser.add_argument("--cli-seconds", type=float, help="speech of the CLI run (g)")
    parser.add_argument("--threads", default="auto", help="torch CPU threads: a number, or auto")
    parser.add_argument("--golden", type=Path, help="golden-vector folder (default: ../shared/fixtures/ecker-parity "
                                                    "beside the checkout, or $VALLE_PARITY_DIR)")
    args = parser.parse_args(argv)
    _check_args(parser, args)
    return args


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every option checked before anything heavy loads; nothing is written on bad input."""
    import torch

    from valle_studio.engine.model import DeviceError, resolve_device, resolve_dtype

    unknown = sorted(set(args.only) - set(ITEMS))
    if unknown or not args.only:
        parser.error(f"--only {args.only!r}: use letters of {''.join(ITEMS)}")
    for name in ("seconds", "check_seconds", "cli_seconds", "time_limit"):
        value = getattr(args, name)
        if value is not None and not 0 < value <= 600:
            parser.error(f"--{name.replace('_', '-')} {value:g}: use a number of seconds above 0, at most 600")
    for name in ("check_steps", "demask_steps"):
        value = getattr(args, name)
        if value is not None and not 1 <= value <= 500:
            parser.error(f"--{name.replace('_', '-')} {value}: use a whole number from 1 to 500")
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json {args.json}: the folder {args.json.parent} does not exist")
    if args.threads != "auto" and not (args.threads.isdigit() and int(args.threads) >= 1):
        parser.error(f"--threads {args.threads!r}: use a whole number >= 1, or auto")
    try:
        args.device = resolve_device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if args.device.type not in ("cpu", "cuda"):
            raise DeviceError(f"{args.device}: this check runs on cuda or cpu")
        args.speed_dtype = resolve_dtype(args.dtype, args.device)
    except DeviceError as exc:
        parser.error(f"--device/--dtype: {exc}")
    args.model = args.model or ("full" if args.device.type == "cuda" else "tiny")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    import torch

    from benchmarks._common import choose_threads
    from benchmarks._device import device_line, environment, memory_kind, peak_mib, release, reset_peak
    from benchmarks._figures import Results

    threads, why = choose_threads(args.threads)
    torch.set_num_threads(threads)
    device, full = args.device, args.model == "full"
    base = plan_for(device.type, full)
    plan = replace(base, **{k: v for k, v in (("seconds", args.seconds), ("check_seconds", args.check_seconds),
                                              ("check_steps", args.check_steps), ("cli_seconds", args.cli_seconds),
                                              ("measured_steps", args.demask_steps)) if v is not None})
    dtype_name = str(args.speed_dtype).removeprefix("torch.")
    header = {"script": "benchmarks/gpu_check.py", "device": str(device), "device_name": device_line(device),
              "model": args.model, "speed_dtype": dtype_name, "threads": why, "plan": asdict(plan),
              "environment": environment(), "finished": False}
    results = Results(header, args.json)
    print(f"gpu_check: {args.model} model (random weights) on {device}: {device_line(device)}")
    print(f"   torch {torch.__version__}; speed items in {dtype_name}; threads {why}; time limit "
          f"{args.time_limit:g} s")
    state: dict[str, object] = {}
    peaks: dict[str, float] = {}
    from benchmarks._common import rss_mb

    resident_at_start = rss_mb()  # import torch alone holds a good part of a CPU run's resident memory

    def run_item(key: str, body: Callable[[], None], prepare: Callable[[], object] | None) -> None:
        """``prepare`` (the model and codec, built once) runs before the peak-memory window opens."""
        results.start(key, ITEMS[key])
        elapsed = time.perf_counter() - started
        if key not in args.only:
            results.add(key, "not run", None, note=f"not asked for (--only {args.only})")
        elif elapsed > args.time_limit:
            results.add(key, "not run", None, note=f"not run: the --time-limit of {args.time_limit:g} s was "
                                                   f"reached ({elapsed:.0f} s so far)")
        else:
            t0 = time.perf_counter()
            try:
                if prepare is not None:
                    prepare()
                release(device)
                reset_peak(device)
                body()
            except Exception as exc:  # one broken item must not lose the others' figures
                traceback.print_exc()
                results.fail(key, "the item raised an error", exc)
            peaks[key] = peak_mib(device)
            results.finish_item(key, time.perf_counter() - t0)
            return
        results.finish_item(key, 0.0)

    def model_fp32():
        if "model" not in state:
            from benchmarks._model import FULL, TINY, build_full_model

            model = build_full_model(sizes=FULL if full else TINY)
            state["model"] = model.to(device).fuse() if device.type != "cpu" else model
        return state["model"]

    def speed_model():
        model = model_fp32()
        if model.dtype != args.speed_dtype:  # the fp32 copy is needed no more: cast in place
            model = model.to(args.speed_dtype).fuse()
            state["model"] = model
        return model

    def speed_parts():
        """The model in the speed precision and the codec, warmed up (b needs no codec: it warms itself)."""
        model = speed_model()
        if "codec" not in state:
            from benchmarks.gpu_speed import warm_up
            from valle_studio.engine.codec.encodec_vocos import EncodecVocosCodec

            state["codec"] = EncodecVocosCodec.random(0, device=device)
            if device.type == "cpu" and full:  # a first call's costs are milliseconds beside passes of seconds
                print("   no warm-up: the CPU at full size (it would take a minute)", flush=True)
            else:
                print(f"   warm-up runs (not timed): {warm_up(model, state['codec']):.1f} s", flush=True)
        return model, state["codec"]

    def item_a() -> None:
        from benchmarks.gpu_correctness import default_golden_dir, golden_logits, greedy_agreement

        golden_logits(results, device, args.golden or default_golden_dir())
        greedy_agreement(results, model_fp32(), seconds=plan.check_seconds, steps=plan.check_steps,
                         full_size=full)

    def item_b() -> None:
        from benchmarks._device import read_bandwidth_gbps
        from benchmarks.gpu_speed import ar_steps

        model = speed_model()
        gbps = read_bandwidth_gbps(device, plan.read_mb)
        ar_steps(results, model, contexts=(200, 600, 1200), steps=plan.ar_steps, read_gbps=gbps)

    def item_c() -> None:
        from benchmarks.gpu_speed import nar_len_rtf

        model, codec = speed_parts()
        nar_len_rtf(results, model, codec, seconds=plan.seconds, measured_steps=plan.measured_steps)

    def item_d() -> None:
        from benchmarks.gpu_speed import ar_nar_rtf

        model, codec = speed_parts()
        ar_nar_rtf(results, model, codec, seconds=plan.seconds)

    def item_e() -> None:
        from benchmarks.gpu_speed import first_audio

        model, codec = speed_parts()
        first_audio(results, model, codec, seconds=plan.stream_seconds, steps=plan.measured_steps or 50)

    def item_f() -> None:
        kind = memory_kind(device)
        if device.type == "cpu":
            results.add("f", "resident memory before any item (torch imported)", resident_at_start, "MiB",
                        bound="no goal", note="part of every CPU peak below")
        for key, mib in peaks.items():
            results.add("f", f"peak {kind.split(' (')[0]} during ({key})", mib, "MiB", bound="no goal",
                        note=f"{kind}, reset once the model (and for (c)-(e) the codec) was built"
                             + ("; holds the float32 model and one half-precision copy" if key == "a" else ""))
        model = state.get("model")
        if model is not None:
            weights = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20  # type: ignore[attr-defined]
            results.add("f", f"model weights in {dtype_name}", weights, "MiB", bound="no goal",
                        note="the CLI (g) runs in a process of its own: its memory is not in these figures")
        if not peaks:
            results.add("f", "peak memory", None, note="no item ran in this process")

    def item_g() -> None:
        from benchmarks.gpu_cli import cli_end_to_end

        remaining = max(60.0, args.time_limit - (time.perf_counter() - started) + 60.0)
        cli_end_to_end(results, device=str(device), dtype=dtype_name, full_size=full, seconds=plan.cli_seconds,
                       steps=plan.measured_steps or 50, timeout=remaining)

    bodies = (item_a, item_b, item_c, item_d, item_e, item_f, item_g)
    prepares = (model_fp32, speed_model, speed_parts, speed_parts, speed_parts, None, None)
    for key, body, prepare in zip(ITEMS, bodies, prepares, strict=True):
        run_item(key, body, prepare)

    total = time.perf_counter() - started
    print("\n== summary " + "=" * 70)
    for line in results.table():
        print(line)
    counts = results.counts()
    print(f"\n   {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['N-A']} N-A in {total:.0f} s "
          f"on {device_line(device)}")
    results.write(finished=True, total_s=total, counts=counts)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
