"""The quality check in a batch project: each take's verdict, the lines that need a look, the report.

A row's takes keep their verdict in ``extra["quality"]`` (:func:`~valle_studio.engine.quality.report.
take_record`): the runner stores every candidate of a best-of run there and marks the chosen one, which
it approves. From those records this module answers what the CLI, the manifests and the Batch tab ask:
the verdict of a row's approved take, which rows need a look (their approved take is suspect or bad),
the manifest's ``verdict``/``score``/``reasons`` columns and the batch report (one object per line).
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np

from valle_studio.batch.project import BatchProject
from valle_studio.batch.rows import Row, Take
from valle_studio.core.codec_format import FRAMES_PER_SECOND
from valle_studio.engine.quality.best_of import Candidates
from valle_studio.engine.quality.report import (
    QUALITY_KEY,
    REPORT_VERSION,
    batch_report,
    chosen_in,
    group_of,
    quality_of,
    take_record,
)
from valle_studio.engine.quality.verdict import GOOD, TakeQuality
from valle_studio.engine.settings import GenerationSettings

#: Verdicts that put a line on the "needs a look" list.
LOOK_AT = ("suspect", "bad")


def take_quality(take: Take | None) -> TakeQuality | None:
    """The verdict kept with ``take`` (None: no take, or it was not checked)."""
    return None if take is None else quality_of(take.extra)


def row_quality(row: Row) -> TakeQuality | None:
    """The verdict of the row's approved take."""
    return take_quality(row.approved_take)


def needs_a_look(row: Row) -> bool:
    """Whether the row's approved take was checked and found suspect or bad."""
    quality = row_quality(row)
    return quality is not None and quality.verdict in LOOK_AT


def ids_needing_a_look(project: BatchProject) -> list[str]:
    """The rows whose approved take is suspect or bad, in order."""
    with project.lock:
        return [row.id for row in project.rows if needs_a_look(row)]


def group_takes(row: Row, take: Take) -> list[Take]:
    """The takes of ``row`` made in the same best-of run as ``take`` (just ``take`` outside one)."""
    group = group_of(take.extra)
    if group is None:
        return [take]
    return [t for t in row.takes if group_of(t.extra) == group]


def is_chosen(take: Take) -> bool:
    """Whether ``take`` won its best-of run."""
    return chosen_in(take.extra)


def manifest_columns(take: Take) -> dict[str, Any]:
    """``verdict``, ``score`` and ``reasons`` of a take for the manifests (None/[] when not checked)."""
    quality = take_quality(take)
    if quality is None:
        return {"verdict": None, "score": None, "reasons": []}
    return {"verdict": quality.verdict, "score": round(quality.score, 4), "reasons": list(quality.reasons)}


def line_report(row: Row, index: int) -> dict[str, Any] | None:
    """The report object of row ``index`` (0-based): the takes of its approved take's best-of run, which
    one is the approved (chosen) one, and the line and text; None when the approved take was not checked."""
    approved = row.approved_take
    if approved is None or take_quality(approved) is None:
        return None
    takes = [t for t in group_takes(row, approved) if take_quality(t) is not None]
    entries = []
    for take in takes:
        quality = take_quality(take)
        assert quality is not None
        record = take.extra.get(QUALITY_KEY)
        frames = record.get("frames") if isinstance(record, dict) else None
        entries.append({"seed": take.seed, "frames": frames if isinstance(frames, int) else
                        round(take.duration_s * FRAMES_PER_SECOND), **quality.to_dict(), "take": take.id})
    return {"version": REPORT_VERSION, "line": index + 1, "text": row.text, "chosen": takes.index(approved),
            "takes": entries}


def project_report(project: BatchProject) -> dict[str, Any]:
    """The batch report: every line whose approved take was checked, and the lines that failed."""
    with project.lock:
        lines = [entry for i, row in enumerate(project.rows) if (entry := line_report(row, i)) is not None]
        failed = [{"line": i + 1, "text": row.text, "error": row.error} for i, row in enumerate(project.rows)
                  if row.error and row.approved_take is None]
    return batch_report(lines, failed)


def lines_without_a_good_take(project: BatchProject) -> list[int]:
    """1-based numbers of the lines whose approved take was checked and is not good."""
    with project.lock:
        return [i + 1 for i, row in enumerate(project.rows)
                if (quality := row_quality(row)) is not None and quality.verdict != GOOD]


def add_candidates(project: BatchProject, row_id: str, candidates: Candidates, *, settings: GenerationSettings,
                   text: str, voice: str, language: str, model: str) -> Take:
    """Store every candidate of one best-of run as a take of the row, each with its check, the chosen one
    marked and approved; returns the chosen take. The caller saves the project."""
    group = secrets.token_hex(4)
    chosen: Take | None = None
    for candidate in candidates.takes:
        result = candidate.result
        if result.audio is None:
            raise RuntimeError("the synthesizer returned no audio (no codec loaded)")
        won = candidate.index == candidates.best.index
        take = project.add_take(row_id, np.asarray(result.audio, dtype=np.float32), result.sample_rate,
                                seed=candidate.seed, settings=settings, text=text, voice=voice, language=language,
                                model=model, elapsed_s=result.elapsed_s, modality=result.modality, approve=won,
                                extra={QUALITY_KEY: take_record(candidate, group, chosen=won)})
        if won:
            chosen = take
    assert chosen is not None
    return chosen


__all__ = ["LOOK_AT", "add_candidates", "group_takes", "ids_needing_a_look", "is_chosen", "line_report",
           "lines_without_a_good_take", "manifest_columns", "needs_a_look", "project_report", "row_quality",
           "take_quality"]
