"""Shared helpers of the benchmark scripts: timing, machine load, threads, memory, result table.

Every ratio the benchmarks print is measured within one run, the bound and our time back to back
and repeated in rounds, so a busy machine slows both sides alike; medians are reported.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def median_time(fn: Callable[[], Any], *, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat; None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def busy_cores_of_others(seconds: float = 1.0) -> float | None:
    """How many cores other processes kept busy over ``seconds`` (ours excluded); None off Linux."""
    before, own_before = _cpu_ticks(), os.times()
    time.sleep(seconds)
    after, own_after = _cpu_ticks(), os.times()
    if before is None or after is None:
        return None
    cores = os.cpu_count() or 1
    total = (after[1] - before[1]) or 1
    busy = (after[0] - before[0]) / total * cores
    own = (own_after.user - own_before.user + own_after.system - own_before.system) / seconds
    return max(0.0, busy - own)


def physical_cores() -> int:
    """Physical cores (hyper-threads not counted) where Linux says so, else the logical count."""
    try:
        cores = set()
        block: dict[str, str] = {}
        for line in [*Path("/proc/cpuinfo").read_text().splitlines(), ""]:
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
    return os.cpu_count() or 1


def choose_threads(requested: str) -> tuple[int, str]:
    """``"auto"``: physical cores minus the cores other processes keep busy (at least 1).

    Oversubscribed OpenMP threads wait for each other at every barrier: on a 2-core machine with one
    core taken by another process, 2 threads made an AR step 3-8x slower than 1 thread.
    """
    cores = physical_cores()
    if requested != "auto":
        return int(requested), f"{requested} (given)"
    others = busy_cores_of_others(1.0)
    if others is None:
        return cores, f"{cores} (physical cores)"
    threads = max(1, cores - round(others))
    return threads, f"{threads} ({cores} physical cores, others busy on {others:.1f})"


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux: ``VmHWM`` of /proc/self/status (``ru_maxrss`` would carry over the parent's peak into a
    child started by fork + exec); elsewhere ``getrusage``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def rss_mb() -> float:
    """Current resident memory in MiB (Linux; the peak elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {physical_cores()} physical / {os.cpu_count()} logical cores, Python {platform.python_version()}"


@dataclass
class Report:
    """Collects the figures printed along the way and the target checks for the summary."""

    lines: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def section(self, title: str) -> None:
        self.say()
        self.say(f"== {title} " + "=" * max(0, 76 - len(title)))
        self.say(f"   load average {load_average()}")

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append((name, ok, detail))
        self.say(f"   [{'MET' if ok else 'NOT MET'}] {name}: {detail}")

    def summary(self) -> None:
        self.say()
        self.say("== targets " + "=" * 68)
        for name, ok, detail in self.checks:
            self.say(f"   [{'MET' if ok else 'NOT MET'}] {name}: {detail}")
