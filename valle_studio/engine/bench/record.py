"""What a benchmark of this machine measured, as plain records, and the one file they are saved in (no torch).

:class:`BenchRecord` holds, per device and precision (:class:`Variant`), each measured item beside
its hardware bound (:class:`Measurement`), the rates the time estimates are computed from
(:class:`Timings`), the kernels chosen by measurement and, for precisions other than float32, what
they cost in accuracy (:class:`PrecisionCost`). It is saved as JSON in the user's data folder
(:func:`benchmark_path`) with an atomic write, so a cancelled or failed run never leaves a
half-written file, and read back with every field checked (:func:`load_record`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from valle_studio.engine.bench.shape import ModelShape

RECORD_VERSION = 1
FILE_NAME = "benchmark.json"
#: The measured items, in the order they are shown.
ITEMS = ("ar_step", "nar_len_step", "nar_level_pass", "codec_decode", "codec_encode")
ITEM_LABELS = {"ar_step": "AR step", "nar_len_step": "NAR-len step", "nar_level_pass": "NAR level pass",
               "codec_decode": "codec decode", "codec_encode": "codec encode"}


class RecordError(ValueError):
    """A saved benchmark cannot be used; the message says why (names the file where there is one)."""


@dataclass(frozen=True)
class Measurement:
    """One measured item: ``seconds`` (median), the ``bound_s`` the hardware allows for the same work
    (measured in the same run) and what that bound is, in words (``"604 MB at 21.3 GB/s"``)."""

    item: str
    seconds: float
    bound_s: float
    bound: str
    work: str = ""  # what was timed ("context 600", "3 s line, 2 passes")

    @property
    def ratio(self) -> float:
        """Measured time over the bound: 1.0 is the hardware limit, higher is slower."""
        return self.seconds / self.bound_s


@dataclass(frozen=True)
class Timings:
    """The measured rates the estimates are made of.

    ``ar_step_s``: AR decode step time (batch 1) by context length; ``ar_pair_factor``: a CFG pair
    (batch 2) step over a single step (None: not measured); ``pass_gflops``: achieved GFLOP/s of one
    full pass (a NAR level) by sequence length; ``nar_len_gflops``: achieved GFLOP/s of a NAR-len
    demasking step (its conditional and null passes) by conditional length; ``decode_s_per_s`` and
    ``encode_s_per_s``: codec seconds per second of audio.
    """

    ar_step_s: dict[int, float]
    pass_gflops: dict[int, float]
    nar_len_gflops: dict[int, float]
    decode_s_per_s: float
    encode_s_per_s: float
    ar_pair_factor: float | None = None


@dataclass(frozen=True)
class Bounds:
    """The hardware rates measured in the run: plain read and best mat-vec bandwidth (GB/s), best GEMM rate."""

    read_gbps: float
    matvec_gbps: float
    gemm_gflops: float


@dataclass(frozen=True)
class PrecisionCost:
    """How far a precision's outputs are from float32's on the same inputs.

    ``*_agreement``: share of positions whose greedy (argmax) code equals float32's, AR steps
    teacher-forced on one sequence and NAR-len rows of one demasking pass; ``*_logit_error``: RMS
    difference of the logits over the spread (standard deviation) of float32's. ``rows_*`` counts
    the positions compared.
    """

    ar_agreement: float
    nar_len_agreement: float
    ar_logit_error: float
    nar_len_logit_error: float
    rows_ar: int
    rows_nar_len: int


@dataclass(frozen=True)
class Variant:
    """Everything measured for one device and precision (``"float32"``, ``"bfloat16"``, ``"int8"`` ...)."""

    device: str
    precision: str
    measurements: tuple[Measurement, ...]
    timings: Timings
    bounds: Bounds
    kernels: dict[str, str] = field(default_factory=dict)
    cost: PrecisionCost | None = None
    # each kernel candidate's median rate by slot: GB/s for "*/matvec", GFLOP/s for "*/gemm"
    kernel_rates: dict[str, dict[str, float]] = field(default_factory=dict)

    def measurement(self, item: str) -> Measurement | None:
        return next((m for m in self.measurements if m.item == item), None)


@dataclass(frozen=True)
class Machine:
    """The setup a benchmark holds for: CPU, cores, torch threads and version, native bfloat16, GPU."""

    cpu: str
    logical_cores: int
    threads: int
    torch: str
    bf16_native: bool
    bf16_feature: str = ""
    gpu: str = ""

    def same_setup(self, other: Machine) -> bool:
        """Whether timings of ``other`` hold here (same CPU, cores, GPU and torch build)."""
        return (self.cpu, self.logical_cores, self.torch, self.gpu) == (
            other.cpu, other.logical_cores, other.torch, other.gpu)


@dataclass(frozen=True)
class BenchRecord:
    """One benchmark run (see the module docstring). ``weights``: ``"installed"`` or ``"random"``."""

    created: str
    quick: bool
    machine: Machine
    model: str
    weights: str
    shape: ModelShape
    variants: tuple[Variant, ...]
    load: str = ""  # how busy the machine was during the run, in words
    version: int = RECORD_VERSION

    def variant(self, device: str, precision: str) -> Variant | None:
        return next((v for v in self.variants if v.device == device and v.precision == precision), None)

    def devices(self) -> list[str]:
        return list(dict.fromkeys(v.device for v in self.variants))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> BenchRecord:
        """Rebuild a record, checking every field; raises :class:`RecordError` saying what is wrong."""
        try:
            return _record(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise RecordError(f"the saved benchmark is unreadable ({what})") from None


def benchmark_path() -> Path:
    """Where the benchmark of this machine is kept: ``benchmark.json`` in the user's data folder."""
    from valle_studio.paths import user_data_dir

    return user_data_dir() / FILE_NAME


def save_record(record: BenchRecord, path: Path | None = None) -> Path:
    """Write ``record`` atomically (all of it or nothing); returns the path."""
    from valle_studio.core.atomic import atomic_write_json

    target = path or benchmark_path()
    atomic_write_json(target, record.to_dict())
    return target


def load_record(path: Path | None = None) -> BenchRecord | None:
    """The saved benchmark, or None when there is none; raises :class:`RecordError` for a file that
    exists but cannot be used (its message names the file)."""
    source = path or benchmark_path()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RecordError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise RecordError(f"{source}: not a benchmark file (invalid JSON)") from None
    try:
        return BenchRecord.from_dict(data)
    except RecordError as exc:
        raise RecordError(f"{source}: {exc}") from None


# -- parsing ---------------------------------------------------------------------------------------
def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return float(value)


def _share(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1e6:
        raise ValueError(f"{name} must be a non-negative number, not {value!r}")
    return float(value)


def _by_length(data: Any, name: str) -> dict[int, float]:
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{name} must map lengths to numbers")
    return {int(k): _positive(v, name) for k, v in data.items()}


def _timings(d: dict[str, Any]) -> Timings:
    pair = d.get("ar_pair_factor")
    return Timings(_by_length(d["ar_step_s"], "ar_step_s"), _by_length(d["pass_gflops"], "pass_gflops"),
                   _by_length(d["nar_len_gflops"], "nar_len_gflops"),
                   _positive(d["decode_s_per_s"], "decode_s_per_s"), _positive(d["encode_s_per_s"], "encode_s_per_s"),
                   None if pair is None else _positive(pair, "ar_pair_factor"))


def _cost(d: dict[str, Any] | None) -> PrecisionCost | None:
    if d is None:
        return None
    return PrecisionCost(_share(d["ar_agreement"], "ar_agreement"), _share(d["nar_len_agreement"], "nar_len_agreement"),
                         _share(d["ar_logit_error"], "ar_logit_error"),
                         _share(d["nar_len_logit_error"], "nar_len_logit_error"), int(d["rows_ar"]),
                         int(d["rows_nar_len"]))


def _variant(d: dict[str, Any]) -> Variant:
    measurements = tuple(
        Measurement(str(m["item"]), _positive(m["seconds"], "seconds"), _positive(m["bound_s"], "bound_s"),
                    str(m["bound"]), str(m.get("work", ""))) for m in d["measurements"])
    b = d["bounds"]
    bounds = Bounds(_positive(b["read_gbps"], "read_gbps"), _positive(b["matvec_gbps"], "matvec_gbps"),
                    _positive(b["gemm_gflops"], "gemm_gflops"))
    kernels = {str(k): str(v) for k, v in dict(d.get("kernels", {})).items()}
    rates = {str(slot): {str(k): _positive(v, "kernel rate") for k, v in dict(by).items()}
             for slot, by in dict(d.get("kernel_rates", {})).items()}
    return Variant(str(d["device"]), str(d["precision"]), measurements, _timings(d["timings"]), bounds, kernels,
                   _cost(d.get("cost")), rates)


def _record(data: Any) -> BenchRecord:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    version = data.get("version")
    if version != RECORD_VERSION:
        raise ValueError(f"written by another version of VALL-E Studio (format {version!r}, expected "
                         f"{RECORD_VERSION}); run the benchmark again")
    m = data["machine"]
    machine = Machine(str(m["cpu"]), int(m["logical_cores"]), int(m["threads"]), str(m["torch"]),
                      bool(m["bf16_native"]), str(m.get("bf16_feature", "")), str(m.get("gpu", "")))
    variants = tuple(_variant(v) for v in data["variants"])
    if not variants:
        raise ValueError("it holds no measurements")
    return BenchRecord(str(data["created"]), bool(data["quick"]), machine, str(data["model"]), str(data["weights"]),
                       ModelShape.from_dict(data["shape"]), variants, str(data.get("load", "")), RECORD_VERSION)


__all__ = ["FILE_NAME", "ITEMS", "ITEM_LABELS", "RECORD_VERSION", "BenchRecord", "Bounds", "Machine",
           "Measurement", "PrecisionCost", "RecordError", "Timings", "Variant", "benchmark_path", "load_record",
           "save_record"]
