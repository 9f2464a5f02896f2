"""Continue a batch whose script was edited: keep the finished lines whose text is unchanged.

A batch remembers its script's SHA-256 and refuses to resume when the file changed, since its rows no
longer say what the script says. After fixing a failed line, or adding and removing lines, the user
runs ``batch SCRIPT --out-dir DIR --sync-script`` instead: :func:`sync_rows` lines the edited script up
with the project's rows.

* A line whose text, voice, file name, seed, language and own settings (its ``lora`` column) equal
  those of a row keeps that row, with
  its takes and its approval: a finished line stays finished (duplicates are matched in order).
* Every other line (new, or edited) becomes a new row, to be generated.
* Rows no line matches any more are removed with their take files; their exported WAV files are
  removed by the next export plan (``batch.export.plan_export``) if nobody changed them.

The project is saved once, with the new script's fingerprint, before any take file is deleted, so a
crash in between leaves only unreferenced files that the next open sweeps.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from valle_studio.batch.project import BatchProject
from valle_studio.batch.rows import DONE, Row, new_id
from valle_studio.batch.script import ScriptLine

Key = tuple[str, str, str, int | None, str, str]


@dataclass(frozen=True)
class SyncSummary:
    """What :func:`sync_rows` did: rows kept (of them ``kept_done`` finished), rows added, rows removed."""

    kept: int
    kept_done: int
    added: int
    removed: int

    def describe(self) -> str:
        """One line for the user."""
        return (f"the edited script keeps {self.kept_done} finished line(s) whose text is unchanged; "
                f"{self.added} new or edited line(s) to generate, {self.removed} removed")


def _line_key(line: ScriptLine) -> Key:
    return (line.text, line.voice, line.filename, line.seed, line.language, _settings_key(line.settings()))


def _row_key(row: Row) -> Key:
    return (row.text, row.voice, row.filename, row.seed, row.language, _settings_key(row.settings))


def _settings_key(settings: dict[str, Any]) -> str:
    """A line's own settings as a comparable key (a row's may hold lists, read back from JSON)."""
    return json.dumps(settings, sort_keys=True, default=str)


def sync_rows(project: BatchProject, lines: Sequence[ScriptLine], script: dict[str, Any]) -> SyncSummary:
    """Make the project's rows those of ``lines`` (see the module docstring) and save it with the new
    ``script`` record (``path``, ``sha256``, ``format``, ``encoding``)."""
    with project.lock:
        unused: dict[Key, deque[Row]] = defaultdict(deque)
        for row in project.rows:
            unused[_row_key(row)].append(row)
        taken = {row.id for row in project.rows}
        rows: list[Row] = []
        kept = kept_done = 0
        for line in lines:
            matches = unused.get(_line_key(line))
            if matches:
                row = matches.popleft()
                row.source_line = line.line
                kept += 1
                kept_done += project.status(row) == DONE
            else:
                row_id = new_id(taken, "r")
                row = Row(row_id, line.text, line.voice, line.seed, line.filename, line.language,
                          settings=line.settings(), source_line=line.line)
            taken.add(row.id)
            rows.append(row)
        gone = [row for queue in unused.values() for row in queue]
        project.rows = rows
        project.script = dict(script)
        project.save()
    for row in gone:  # after the save: a crash before this only leaves files the next open sweeps
        for take in row.takes:
            with contextlib.suppress(OSError):
                (project.folder / take.audio_file).unlink(missing_ok=True)
    return SyncSummary(kept=kept, kept_done=kept_done, added=len(rows) - kept, removed=len(gone))


__all__ = ["SyncSummary", "sync_rows"]
