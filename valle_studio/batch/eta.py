"""Time left in a batch run, from how fast the rows so far went.

Generation time grows with the length of the text, so rows are weighed by characters (plus a fixed
per-row cost for prompt handling and decoding) rather than counted: a run of short lines followed
by a paragraph gets a sensible estimate. Time spent paused is the caller's to leave out.
"""

from __future__ import annotations

from collections.abc import Mapping

ROW_OVERHEAD_CHARS = 20.0


def row_cost(text: str) -> float:
    """Work units of one row."""
    return len(text) + ROW_OVERHEAD_CHARS


class EtaEstimator:
    """Seconds left for the rows of ``costs`` (row id -> :func:`row_cost`)."""

    def __init__(self, costs: Mapping[str, float]) -> None:
        self._costs = dict(costs)
        self._done: set[str] = set()
        self._done_cost = 0.0
        self._done_seconds = 0.0

    def finished(self, row_id: str, seconds: float) -> None:
        """Row ``row_id`` took ``seconds`` (failed rows count too: they also took time)."""
        if row_id in self._done or row_id not in self._costs:
            return
        self._done.add(row_id)
        self._done_cost += self._costs[row_id]
        self._done_seconds += max(0.0, seconds)

    def seconds_left(self, current: str | None = None, current_fraction: float = 0.0) -> float | None:
        """None until one row has finished; then remaining cost times seconds per unit so far."""
        if not self._done_cost:
            return None
        left = sum(c for r, c in self._costs.items() if r not in self._done)
        if current is not None and current in self._costs and current not in self._done:
            left -= self._costs[current] * min(max(current_fraction, 0.0), 1.0)
        return max(0.0, left) * self._done_seconds / self._done_cost

    def fraction(self, current: str | None = None, current_fraction: float = 0.0) -> float:
        """Share of the run's work done, 0..1."""
        total = sum(self._costs.values())
        if not total:
            return 1.0
        done = self._done_cost
        if current is not None and current in self._costs and current not in self._done:
            done += self._costs[current] * min(max(current_fraction, 0.0), 1.0)
        return min(1.0, done / total)


def format_eta(seconds: float | None) -> str:
    """``"1:05:09"``, ``"4:07"``, ``"0:09"``; "" when unknown."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
