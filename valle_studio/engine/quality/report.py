"""The words and the JSON of a check: the verdict line of each take and the report's exact shape.

Report, version 1 (extra keys may be added; readers must ignore those they do not know)::

    {"version": 1, "chosen": <index>, "takes": [{"seed": int, "frames": int,
      "verdict": "good"|"suspect"|"bad", "score": float, "reasons": [str], "checks": {<name>: number|bool|null}}]}

A batch report holds one such object per line under ``"lines"`` (each with ``"line"``, its 1-based row
number, and ``"text"``). Only checked takes can be reported. The same per-take fields are what the studio
and batch keep with a take (:func:`take_record`), so a take's verdict survives a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valle_studio.core.codec_format import FRAMES_PER_SECOND
from valle_studio.engine.quality.best_of import Candidate, Candidates
from valle_studio.engine.quality.verdict import TakeQuality

REPORT_VERSION = 1
#: The key of a take record's ``extra`` that holds its check (and best-of place).
QUALITY_KEY = "quality"


def take_entry(candidate: Candidate) -> dict[str, Any]:
    """One element of the report's ``takes``: seed, frames, then the verdict fields (and ``retry``)."""
    if candidate.quality is None:
        raise ValueError("an unchecked take cannot be reported")
    return {"seed": candidate.seed, "frames": candidate.frames, **candidate.quality.to_dict(),
            "retry": candidate.retry}


def report_of(candidates: Candidates) -> dict[str, Any]:
    """The report of one request (see the module docstring)."""
    return {"version": REPORT_VERSION, "chosen": candidates.chosen,
            "takes": [take_entry(c) for c in candidates.takes], "base_seed": candidates.base_seed}


def batch_report(lines: list[dict[str, Any]], failed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A batch's report: ``{"version": 1, "lines": [...]}`` (plus ``"failed"`` rows: line and reason)."""
    return {"version": REPORT_VERSION, "lines": lines, "failed": list(failed or [])}


def verdict_line(candidate: Candidate, count: int) -> str:
    """``take 2/3 (seed 41, 1.2 s): suspect, score 0.52: too short: ...; ...``: one line per take."""
    seconds = candidate.frames / FRAMES_PER_SECOND
    head = f"take {candidate.index + 1}/{count}" if count > 1 else "take"
    head += f" (seed {candidate.seed}, {seconds:.1f} s{', retry' if candidate.retry else ''})"
    quality = candidate.quality
    if quality is None:
        return f"{head}: not checked"
    reasons = "; ".join(quality.reasons)
    return f"{head}: {quality.verdict}, score {quality.score:.2f}" + (f": {reasons}" if reasons else "")


def take_record(candidate: Candidate, group: str, *, chosen: bool = False) -> dict[str, Any]:
    """What a stored take keeps of its check in ``extra[QUALITY_KEY]``: the verdict fields (none when it
    was not checked), and where it stood in its best-of run: ``group`` names the run, ``index`` is its
    place, ``chosen`` whether it won (set once the run is over), ``retry`` whether a retry made it, and
    ``frames`` how many code frames it has (the report's ``frames``)."""
    record: dict[str, Any] = candidate.quality.to_dict() if candidate.quality is not None else {}
    record.update({"group": group, "index": candidate.index, "chosen": chosen, "retry": candidate.retry,
                   "frames": candidate.frames})
    return record


def quality_of(extra: Mapping[str, Any]) -> TakeQuality | None:
    """The verdict a stored take's ``extra`` holds, None when it was not checked (or the record is damaged)."""
    record = extra.get(QUALITY_KEY)
    if not isinstance(record, Mapping) or "verdict" not in record:
        return None
    try:
        return TakeQuality.from_dict(record)
    except ValueError:
        return None


def chosen_in(extra: Mapping[str, Any]) -> bool:
    """Whether a stored take was the chosen one of its best-of run."""
    record = extra.get(QUALITY_KEY)
    return isinstance(record, Mapping) and record.get("chosen") is True


def group_of(extra: Mapping[str, Any]) -> str | None:
    """The best-of run a stored take belongs to (None when it was made outside one)."""
    record = extra.get(QUALITY_KEY)
    group = record.get("group") if isinstance(record, Mapping) else None
    return str(group) if group else None


__all__ = ["QUALITY_KEY", "REPORT_VERSION", "batch_report", "chosen_in", "group_of", "quality_of", "report_of",
           "take_entry", "take_record", "verdict_line"]
