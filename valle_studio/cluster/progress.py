"""What a cluster run reports besides the batch events: each worker's lines, throughput, time left."""

from __future__ import annotations

import time
from dataclasses import dataclass

from valle_studio.cluster.pool import Worker


@dataclass(frozen=True)
class WorkerRow:
    """One worker as the progress shows it: name, where it runs, its state (idle, running, starting,
    dead), lines done and failed this run, and the 1-based line it runs now (0: none)."""

    name: str
    where: str
    state: str
    done: int
    failed: int
    line: int
    fraction: float


@dataclass(frozen=True)
class ClusterProgress:
    """The whole cluster: one row per worker, lines done/failed/running/left, lines per minute, seconds left
    (None until a line finished), seconds since the run started."""

    workers: tuple[WorkerRow, ...]
    done: int
    failed: int
    running: int
    left: int
    lines_per_minute: float
    eta_s: float | None
    elapsed_s: float

    def summary(self) -> str:
        """One line: ``3 workers · 12 done · 1 failed · 2 running · 40/min``."""
        alive = sum(1 for w in self.workers if w.state != "dead")
        parts = [f"{alive} worker{'s' if alive != 1 else ''}", f"{self.done} done"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        parts.append(f"{self.running} running")
        if self.lines_per_minute:
            parts.append(f"{self.lines_per_minute:.1f} lines/min")
        return " · ".join(parts)


def snapshot(workers: list[Worker], lines: dict[str, int], *, done: int, failed: int, left: int,
             started: float, paused_s: float, eta_s: float | None) -> ClusterProgress:
    """The progress now; ``lines``: row id -> its 0-based index; ``paused_s`` is left out of the rate."""
    elapsed = max(1e-9, time.monotonic() - started - paused_s)
    rows = tuple(WorkerRow(w.name, w.where(), w.state, w.done, w.failed,
                           lines.get(w.row_id, -1) + 1 if w.row_id else 0, w.fraction) for w in workers)
    running = sum(1 for w in workers if w.row_id)
    return ClusterProgress(rows, done, failed, running, left, 60.0 * (done + failed) / elapsed, eta_s,
                           time.monotonic() - started)


__all__ = ["ClusterProgress", "WorkerRow", "snapshot"]
