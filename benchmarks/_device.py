"""Device helpers for ``gpu_check``: timing that waits for the GPU, peak memory per item, read bandwidth.

CUDA runs asynchronously: a clock read right after a launch measures the launch, not the work, so
every timed region here ends with :func:`sync`. Peak memory is the allocator's high-water mark on
CUDA (``torch.cuda.max_memory_allocated``) and the resident set's high-water mark (``VmHWM``) on the
CPU; both are reset before each item, so each item reports its own peak.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch

from benchmarks._common import machine_line, peak_rss_mb

T = TypeVar("T")


def sync(device: torch.device) -> None:
    """Wait until every kernel queued on ``device`` has finished (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], T], device: torch.device) -> tuple[T, float]:
    """``(fn(), seconds)``, the clock stopped only once ``device`` has finished the work."""
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - start


def reset_peak(device: torch.device) -> bool:
    """Start a new peak-memory window; False where the platform cannot reset it (then the peak
    reported is the process's since its start)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return True
    try:  # Linux: writing 5 to clear_refs resets VmHWM to the current resident set
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_mib(device: torch.device) -> float:
    """Peak memory of the current window in MiB: CUDA allocations on CUDA, resident memory on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return peak_rss_mb()


def memory_kind(device: torch.device) -> str:
    if device.type == "cuda":
        return "VRAM (torch.cuda.max_memory_allocated)"
    return "resident memory (VmHWM of /proc/self/status)"


def release(device: torch.device) -> None:
    """Hand cached blocks back (so the next item's peak is its own, not the allocator's cache)."""
    import gc

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def read_bandwidth_gbps(device: torch.device, megabytes: int, *, rounds: int = 3) -> float:
    """Best-of-``rounds`` rate (GB/s) at which ``device`` reads a ``megabytes`` buffer once (a sum).

    The buffer is far larger than the caches, so this is the memory's read rate: no AR step can
    stream its weights faster. Used as the bound of the AR step (bytes it must read / this rate).
    """
    n = megabytes * 2**20 // 4
    buffer = torch.ones(n, dtype=torch.float32, device=device)
    buffer.sum()  # warm-up: first-touch page faults, kernel load
    best = float("inf")
    for _ in range(rounds):
        _, seconds = timed(buffer.sum, device)
        best = min(best, seconds)
    del buffer
    release(device)
    return n * 4 / best / 1e9


def device_line(device: torch.device) -> str:
    """The device in words, for the report's header."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return (f"{props.name}, {props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs, "
                f"CUDA {torch.version.cuda}, driver-visible GPUs {torch.cuda.device_count()}")
    return f"CPU: {machine_line()}, torch threads {torch.get_num_threads()}"


def environment() -> dict[str, str]:
    """Versions that decide the numbers (stored in the JSON)."""
    return {"torch": torch.__version__, "cuda": str(torch.version.cuda), "python": platform.python_version()}
