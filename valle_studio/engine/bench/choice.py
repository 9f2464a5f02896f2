"""What a saved benchmark changes when a model loads: the CPU precision ``auto`` stands for, and the kernels.

:func:`saved_benchmark` reads the record and keeps it only when it was measured on this setup (same
CPU, cores and torch build: timings of another machine say nothing about this one). The Synthesizer
asks :func:`cpu_auto_precision` what ``auto`` means on the CPU (bfloat16 where the benchmark
confirmed it, see :func:`~valle_studio.engine.bench.recommend.auto_precision`; float32 otherwise)
and :func:`apply_saved_kernels` installs the kernels the benchmark chose. Without a benchmark
nothing changes. Nothing here imports torch until kernels are installed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from valle_studio.engine.bench.machine import cpu_name, logical_cores, torch_version
from valle_studio.engine.bench.recommend import auto_precision
from valle_studio.engine.bench.record import BenchRecord, RecordError, load_record

log = logging.getLogger(__name__)


def saved_benchmark(path: Path | None = None) -> tuple[BenchRecord | None, str]:
    """``(record, note)``: the saved benchmark when it holds for this machine, else None and why."""
    try:
        record = load_record(path)
    except RecordError as exc:
        return None, str(exc)
    if record is None:
        return None, "there is no benchmark of this machine yet"
    m = record.machine
    setup = (("the CPU", m.cpu, cpu_name()), ("cores", m.logical_cores, logical_cores()),
             ("torch", m.torch, torch_version()))
    differences = [f"{what} {there} (here: {here})" for what, there, here in setup if there != here]
    if differences:
        return None, f"the saved benchmark was measured with {', '.join(differences)}; run it again here"
    return record, ""


def cpu_auto_precision(path: Path | None = None) -> tuple[str, str]:
    """``(precision, reason)`` that ``auto`` means on this machine's CPU (``"float32"`` or ``"bfloat16"``)."""
    record, note = saved_benchmark(path)
    if record is None:
        return "float32", f"float32, because {note}"
    return auto_precision(record, "cpu")


def saved_kernels(record: BenchRecord | None) -> dict[str, str]:
    """The CPU kernels ``record`` chose, every precision's slots together."""
    merged: dict[str, str] = {}
    for variant in record.variants if record is not None else ():
        if variant.device == "cpu":
            merged.update(variant.kernels)
    return merged


def apply_saved_kernels(path: Path | None = None) -> dict[str, str]:
    """Install the kernels of the saved benchmark of this machine (none: the defaults); returns them."""
    from valle_studio.engine.model import kernels

    record, _note = saved_benchmark(path)
    choice = saved_kernels(record)
    try:
        kernels.configure(choice)
    except ValueError as exc:  # measured with a build that had a kernel this one lacks
        log.warning("ignoring the kernels of the saved benchmark: %s", exc)
        kernels.configure({})
        return {}
    return choice


__all__ = ["apply_saved_kernels", "cpu_auto_precision", "saved_benchmark", "saved_kernels"]
