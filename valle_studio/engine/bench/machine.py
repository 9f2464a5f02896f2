"""Which machine this is and how busy it is, without torch: the CPU's name, cores, other processes' load.

A saved benchmark holds for the setup it was measured on (:meth:`~valle_studio.engine.bench.record.Machine.same_setup`):
the CPU, its cores and the torch build. Those are read here without importing torch, so the window can
tell whether the saved benchmark is this machine's before the engine has started.
"""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, the platform's word elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def logical_cores() -> int:
    return os.cpu_count() or 1


def physical_cores() -> int:
    """Physical cores (hyper-threads not counted) where Linux says so, else the logical count."""
    try:
        cores: set[tuple[str, str]] = set()
        block: dict[str, str] = {}
        for line in [*Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines(), ""]:
            if not line.strip():
                if block:
                    cores.add((block.get("physical id", "0"), block.get("core id", block.get("processor", "0"))))
                block = {}
            elif ":" in line:
                key, value = line.split(":", 1)
                block[key.strip()] = value.strip()
        if cores:
            return len(cores)
    except OSError:
        pass
    return logical_cores()


def cpu_bf16_flag() -> str:
    """The ``/proc/cpuinfo`` flag that says this CPU computes bfloat16 natively ("" when none, or off Linux):
    AVX512_BF16 or AMX-BF16 on x86, BF16 on ARM."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return ""
    for flag, feature in (("avx512_bf16", "AVX512_BF16"), ("amx_bf16", "AMX-BF16"), ("bf16", "BF16")):
        if flag in flags:
            return feature
    return ""


def torch_version() -> str:
    """The installed torch's version, read from its package metadata (torch is not imported)."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat; None off Linux."""
    try:
        fields = Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def busy_cores_of_others(seconds: float = 1.0) -> float | None:
    """How many cores other processes kept busy over ``seconds`` (this process excluded); None off Linux."""
    before, own_before = _cpu_ticks(), os.times()
    time.sleep(seconds)
    after, own_after = _cpu_ticks(), os.times()
    if before is None or after is None:
        return None
    total = (after[1] - before[1]) or 1
    busy = (after[0] - before[0]) / total * logical_cores()
    own = (own_after.user - own_before.user + own_after.system - own_before.system) / seconds
    return max(0.0, busy - own)


def load_words(others: float | None) -> str:
    """``"load average 1.9, other processes busy on 1.2 of 2 cores"``: the state a measurement was made in."""
    try:
        average = f"load average {os.getloadavg()[0]:.2f}"
    except OSError:
        average = "load average n/a"
    if others is None:
        return average
    return f"{average}, other processes busy on {others:.1f} of {logical_cores()} cores"


__all__ = ["busy_cores_of_others", "cpu_bf16_flag", "cpu_name", "load_words", "logical_cores", "physical_cores",
           "torch_version"]
