"""``run_benchmark``: measure this machine on the installed model (or random weights of its shapes).

For each device asked for (every one found by default) and each precision it offers (float32 always,
as the reference; bfloat16 on CPUs that compute it natively, int8 where the quantised kernels exist;
float16 and bfloat16 on GPUs) it measures the AR step, the NAR-len step, a NAR level pass and the
codec's decode and encode, each beside its hardware bound (:mod:`.probes`), chooses the linear kernels
by measurement (:mod:`.tune`) and compares the outputs with float32's (:mod:`.costs`). The options are
checked before anything runs (:func:`plan`): an unknown device or a precision the device lacks is a
:class:`BenchError` (or :class:`~valle_studio.engine.model.DeviceError`) naming it. Progress is
reported and the cancel token checked between measurements; the result is a
:class:`~valle_studio.engine.bench.record.BenchRecord`, which the caller saves (nothing is written here).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import cast

import torch
from torch import nn

from valle_studio.engine.bench import costs, hardware, probes, tune
from valle_studio.engine.bench.machine import busy_cores_of_others, load_words, physical_cores
from valle_studio.engine.bench.record import BenchRecord, Bounds, Measurement, Timings, Variant
from valle_studio.engine.bench.shape import ModelShape
from valle_studio.engine.bench.subject import Subject, open_subject
from valle_studio.engine.codec.base import Codec
from valle_studio.engine.model import VallEModel, kernels
from valle_studio.engine.model.backbone import DecoderLayer
from valle_studio.engine.model.devices import _DTYPES, cpu_bf16_native, mps_available, resolve_device
from valle_studio.engine.progress import CancelToken, ProgressCallback, report

STAGE = "benchmarking"
PRECISION_NAMES = ("float32", "bfloat16", "float16", "int8")
CodecFactory = Callable[[torch.device], Codec | None]
#: Seconds the load of other processes is watched before and after a run (full, quick).
LOAD_WINDOW_S = {False: 0.5, True: 0.25}


class BenchError(ValueError):
    """The benchmark cannot run as asked; the message names the device or precision and what to do."""


@dataclass(frozen=True)
class BenchOptions:
    """What to measure. ``devices``/``precisions``: names, or ``("auto",)`` for every one available;
    ``model``: the checkpoint to measure (None: random weights of the published v1 model);
    ``random_weights``: random weights of ``model``'s shapes; ``threads``: torch threads (None: the
    physical cores minus those other processes keep busy, as measured when the run starts: OpenMP threads
    that share a core with another process wait for each other at every barrier, which made an AR step
    3-8x slower on a 2-core machine)."""

    quick: bool = False
    devices: tuple[str, ...] = ("auto",)
    precisions: tuple[str, ...] = ("auto",)
    model: Path | None = None
    random_weights: bool = False
    threads: int | None = None


def precisions_of(device: torch.device) -> tuple[list[str], dict[str, str]]:
    """The precisions ``device`` offers here, float32 first, and why each other one is not offered."""
    from valle_studio.engine.quantize import refusal

    missing: dict[str, str] = {}
    if device.type == "cpu":
        found = ["float32"]
        native, _feature = cpu_bf16_native()
        if native:
            found.append("bfloat16")
        else:
            missing["bfloat16"] = ("this CPU has no native bfloat16 (AVX512_BF16 or AMX on x86, BF16 on ARM); "
                                   "emulated it is about 200x slower than float32")
        missing["float16"] = "float16 on the CPU is about 200x slower than float32; it is for GPUs"
        reason = refusal(device, torch.float32)
        if reason is None:
            found.append("int8")
        else:
            missing["int8"] = reason
        return found, missing
    found = ["float32", "float16"]
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        found.insert(1, "bfloat16")
    else:
        missing["bfloat16"] = f"{device} does not support bfloat16; use float16"
    missing["int8"] = "int8 is for the CPU only"
    return found, missing


def _devices(names: tuple[str, ...]) -> list[torch.device]:
    if "auto" in names or "all" in names:
        found = [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
        found += [torch.device("mps")] if mps_available() else []
        return [*found, torch.device("cpu")]
    return list(dict.fromkeys(resolve_device(name) for name in names))  # DeviceError names a bad one


def _precision(name: str) -> str:
    key = name.strip().lower()
    if key == "int8":
        return key
    if key not in _DTYPES:
        raise BenchError(f"unknown precision {name!r}: use auto, float32, bfloat16, float16 or int8")
    return str(_DTYPES[key]).removeprefix("torch.")


def plan(options: BenchOptions) -> list[tuple[torch.device, str]]:
    """Every (device, precision) the run measures, float32 first on each device; raises before any work."""
    if options.threads is not None and options.threads < 1:
        raise BenchError(f"threads must be at least 1, not {options.threads}")
    if not options.precisions:
        raise BenchError("no precision was given: use auto, float32, bfloat16, float16 or int8")
    wanted = None if "auto" in [p.strip().lower() for p in options.precisions] else [
        _precision(p) for p in options.precisions]
    out: list[tuple[torch.device, str]] = []
    for device in _devices(options.devices):
        found, missing = precisions_of(device)
        if wanted is not None:
            for precision in wanted:
                if precision not in found:
                    why = missing.get(precision, "not offered")
                    raise BenchError(f"{precision} is not available on {device}: {why}")
        chosen = found if wanted is None else ["float32"] + [p for p in found if p in wanted and p != "float32"]
        out += [(device, precision) for precision in chosen]
    return out


class _Steps:
    """Progress over the planned measurements, with the cancel check every measurement loop makes."""

    def __init__(self, total: int, progress: ProgressCallback | None, cancel: CancelToken | None) -> None:
        self.total, self.done, self.detail = total, 0, ""
        self.progress, self.cancel = progress, cancel

    def next(self, detail: str) -> None:
        self.detail = detail
        report(self.progress, self.cancel, STAGE, self.done, self.total, detail)
        self.done += 1

    def check(self) -> None:
        if self.cancel is not None:
            self.cancel.check()

    def finish(self) -> None:
        report(self.progress, self.cancel, STAGE, self.total, self.total, "done")


def _int8_layer(model: VallEModel) -> tuple[nn.Module, ...]:
    layer = cast(DecoderLayer, model.model.layers[0])
    parts = (layer.self_attn._qkv, layer.self_attn.o_proj, layer.mlp._gate_up, layer.mlp.down_proj)
    return tuple(p for p in parts if isinstance(p, nn.Module))


class _Gemm:
    """GEMM bounds by row count for one variant, keeping every rate measured (for :class:`Bounds`)."""

    def __init__(self, shape: ModelShape, dtype: torch.dtype, device: torch.device,
                 int8: tuple[nn.Module, ...]) -> None:
        self.shape, self.dtype, self.device, self.int8 = shape, dtype, device, int8
        self.rates: list[float] = []

    def __call__(self, rows: int) -> hardware.GemmBound:
        bound = hardware.GemmBound(self.shape.dim, self.shape.ffn_dim, rows, self.dtype, self.device,
                                   int8_layer=self.int8)
        original = bound.measure

        def measure() -> float:
            rate = original()
            self.rates.append(rate)
            return rate

        bound.measure = measure  # type: ignore[method-assign]
        return bound


def _measure(model: VallEModel, precision: str, subject: Subject, shape: ModelShape, sizes: probes.Sizes,
             codec: tuple[list[Measurement], float, float], ref: costs.Reference | None,
             steps: _Steps, label: str) -> Variant:
    device = model.device
    float_model = precision != "int8"
    dtype = model.dtype
    choice: dict[str, str] = {}
    rates: dict[str, dict[str, float]] = {}
    matrices = hardware.backbone_matrices(model if float_model else subject.model)
    if device.type == "cpu" and float_model:
        steps.next(f"{label}: choosing kernels")
        choice, rates = tune.choose(matrices, sizes.kernel_rounds, steps.cancel)
        kernels.configure({**kernels.configured(), **choice})
    names = kernels.candidates(matrices[0].dtype, 1) if device.type == "cpu" else ("torch",)
    steps.next(f"{label}: AR step")
    read = hardware.ReadBound(matrices, names)
    ar, ar_times, pair = probes.ar_steps(model, shape, precision, read, sizes, steps.check)
    steps.next(f"{label}: NAR-len step and NAR pass")
    gemm = _Gemm(shape, dtype, device, () if float_model else _int8_layer(model))
    passes, nar_len_rates, pass_rates = probes.full_passes(model, shape, gemm, sizes, steps.check)
    cost = None
    if ref is not None:
        steps.next(f"{label}: accuracy against float32")
        cost = costs.compare(ref, model)
    codec_items, decode_s, encode_s = codec
    matvec = max(v for k, v in read.rates.items() if k not in hardware.READS)
    bounds = Bounds(read.rates[read.best], matvec, max(gemm.rates))
    timings = Timings(ar_times, pass_rates, nar_len_rates, decode_s, encode_s, pair)
    return Variant(str(device), precision, (ar, *passes, *codec_items), timings, bounds, choice, cost, rates)


def _codec(device: torch.device, factory: CodecFactory | None, shape: ModelShape, sizes: probes.Sizes,
           steps: _Steps) -> tuple[list[Measurement], float, float]:
    steps.next(f"{device}: codec decode and encode")
    codec = factory(device) if factory is not None else None
    if codec is None:
        from valle_studio.engine.codec.encodec_vocos import EncodecVocosCodec

        codec = EncodecVocosCodec.random(0, device=device)
    gemm = hardware.GemmBound(shape.dim, shape.ffn_dim, 256, torch.float32, device)
    return probes.codec_items(codec, device, gemm.measure, sizes, steps.check)


def auto_threads(others: float | None) -> int:
    """Threads for a run: the physical cores minus the cores ``others`` keep busy (at least one)."""
    return max(1, physical_cores() - round(others or 0.0))


def run_benchmark(options: BenchOptions, *, codec_factory: CodecFactory | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> BenchRecord:
    """Measure what ``options`` asks for (see the module docstring); raises :class:`BenchError` /
    ``DeviceError`` before any work for bad options, ``Cancelled`` when ``cancel`` fires."""
    work = plan(options)
    sizes = probes.QUICK if options.quick else probes.FULL
    devices = list(dict.fromkeys(device for device, _ in work))
    cpu_floats = sum(1 for d, p in work if d.type == "cpu" and p != "int8")
    total = 1 + len(devices) + 2 * len(work) + sum(1 for _, p in work if p != "float32") + cpu_floats
    steps = _Steps(total, progress, cancel)
    threads, previous = torch.get_num_threads(), kernels.configured()
    try:
        steps.next("loading the model")
        others = busy_cores_of_others(LOAD_WINDOW_S[options.quick])
        at_start = load_words(others)  # now: the load average read at the end would describe the end
        torch.set_num_threads(options.threads or auto_threads(others))
        subject = open_subject(options.model, random_weights=options.random_weights)
        shape = ModelShape.of(subject.model.config)
        kernels.configure({})  # every variant starts from the defaults and chooses its own
        variants: list[Variant] = []
        for device in devices:
            codec = _codec(device, codec_factory, shape, sizes, steps)
            fp32 = subject.variant("float32", device)
            ref = costs.reference(fp32, sizes.cost_frames)
            for dev, precision in work:
                if dev != device:
                    continue
                model = fp32 if precision == "float32" else subject.variant(precision, device)
                label = precision if len(devices) == 1 else f"{device} {precision}"
                variants.append(_measure(model, precision, subject, shape, sizes, codec,
                                         None if precision == "float32" else ref, steps, label))
                del model
                gc.collect()
            del fp32, ref
        machine = hardware.this_machine()
        after = busy_cores_of_others(LOAD_WINDOW_S[options.quick])
        load = f"start: {at_start}; end: {load_words(after)}"
        steps.finish()
        return BenchRecord(datetime.now(timezone.utc).isoformat(timespec="seconds"), options.quick, machine,
                           subject.name, subject.weights, shape, tuple(variants), load)
    finally:
        torch.set_num_threads(threads)
        kernels.configure(previous)


__all__ = ["STAGE", "BenchError", "BenchOptions", "CodecFactory", "auto_threads", "plan", "precisions_of",
           "run_benchmark"]
