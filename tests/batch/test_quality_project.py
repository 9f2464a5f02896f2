"""Verdicts in a batch project and in the History: every candidate stored with its check, the chosen one
approved and marked, kept across a reopen; the lines that need a look; the report built from the project;
damaged records read as "not checked"."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from valle_studio.batch import quality as bq
from valle_studio.batch.project import BatchProject
from valle_studio.batch.script import ScriptLine
from valle_studio.engine.quality import Candidate, Candidates, TakeQuality
from valle_studio.engine.quality.report import QUALITY_KEY, chosen_in, group_of, quality_of
from valle_studio.engine.requests import SynthesisResult
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.history import History


def result(seed: int, frames: int = 30) -> SynthesisResult:
    return SynthesisResult(audio=np.full(frames * 320, 0.1, np.float32), sample_rate=24_000,
                           codes=np.zeros((frames, 8), np.int64), sentences=(), seed=seed, modality="nar-len",
                           elapsed_s=0.1)


def candidates(*verdicts: tuple[str, float]) -> Candidates:
    takes = tuple(Candidate(i, 100 + i, result(100 + i, 20 + i), TakeQuality(v, s, (f"{v} because",) if v != "good"
                                                                                   else ()))
                  for i, (v, s) in enumerate(verdicts))
    best = max(range(len(takes)), key=lambda i: takes[i].quality.score)
    return Candidates(takes, best, 100)


def test_every_candidate_is_a_take_the_chosen_one_approved_and_kept_across_a_reopen(tmp_path: Path) -> None:
    lines = [ScriptLine("One.", 1), ScriptLine("Two.", 2), ScriptLine("Three.", 3)]
    settings = GenerationSettings(max_steps=2)
    with BatchProject.create(tmp_path / "p", lines, name="p", settings=settings) as project:
        first, second = project.rows[0].id, project.rows[1].id
        chosen = bq.add_candidates(project, first, candidates(("bad", 0.2), ("good", 0.8), ("suspect", 0.5)),
                                   settings=settings, text="One.", voice="v", language="en", model="m")
        bq.add_candidates(project, second, candidates(("suspect", 0.45)), settings=settings, text="Two.",
                          voice="v", language="en", model="m")
        project.save()
        assert chosen.seed == 101 and project.rows[0].approved == chosen.id
    with BatchProject.open(tmp_path / "p") as project:
        row = project.rows[0]
        assert [t.seed for t in row.takes] == [100, 101, 102] and row.approved_take.seed == 101
        assert [chosen_in(t.extra) for t in row.takes] == [False, True, False]
        assert len({group_of(t.extra) for t in row.takes}) == 1 and len(bq.group_takes(row, row.takes[0])) == 3
        assert bq.row_quality(row).verdict == "good" and not bq.needs_a_look(row)
        assert bq.ids_needing_a_look(project) == [project.rows[1].id]
        assert bq.lines_without_a_good_take(project) == [2]
        assert bq.manifest_columns(row.approved_take) == {"verdict": "good", "score": 0.8, "reasons": []}
        report = bq.project_report(project)
        assert report["version"] == 1 and [line["line"] for line in report["lines"]] == [1, 2]
        one = report["lines"][0]
        assert one["chosen"] == 1 and [t["seed"] for t in one["takes"]] == [100, 101, 102]
        assert [t["frames"] for t in one["takes"]] == [20, 21, 22] and one["text"] == "One."
        assert report["lines"][1]["takes"][0]["verdict"] == "suspect"


def test_unchecked_and_damaged_takes_read_as_not_checked(tmp_path: Path) -> None:
    settings = GenerationSettings()
    with BatchProject.create(tmp_path / "p", [ScriptLine("One.", 1)], name="p", settings=settings) as project:
        row_id = project.rows[0].id
        plain = project.add_take(row_id, np.zeros(2400, np.float32), 24_000, seed=1, settings=settings, text="One.",
                                 voice="v", language="en", model="m", elapsed_s=0.1)
        assert bq.take_quality(plain) is None and bq.manifest_columns(plain) == {"verdict": None, "score": None,
                                                                                "reasons": []}
        assert bq.line_report(project.rows[0], 0) is None and bq.project_report(project)["lines"] == []
        assert not bq.needs_a_look(project.rows[0])
    for damaged in ({QUALITY_KEY: "good"}, {QUALITY_KEY: {"verdict": "excellent", "score": 0.5}},
                    {QUALITY_KEY: {"verdict": "good", "score": "high"}}, {}):
        assert quality_of(damaged) is None


def test_the_history_keeps_a_takes_verdict_and_its_chosen_mark(tmp_path: Path) -> None:
    history = History(tmp_path / "h")
    record = {**TakeQuality("suspect", 0.5, ("too long",)).to_dict(), "group": "g", "index": 0, "chosen": False}
    take = history.add(result(7), text="Hi.", voice="v", language="en", model="m", settings=GenerationSettings(),
                       extra={QUALITY_KEY: record})
    updated = history.set_extra(take.id, **{QUALITY_KEY: {**record, "chosen": True}})
    assert chosen_in(updated.extra) and quality_of(updated.extra).reasons == ("too long",)
    again = History(tmp_path / "h").get(take.id)
    assert chosen_in(again.extra) and quality_of(again.extra).verdict == "suspect"
