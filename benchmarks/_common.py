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

# How busy the machine is and its cores: the same functions ``valle-studio-cli bench`` uses.
from valle_studio.engine.bench.machine import busy_cores_of_others, physical_cores


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
