"""Export: names, manifests, combined file and SRT timings, and never overwriting someone else's file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.batch.test_project import SR, add_take
from valle_studio.batch.export import (
    ExportConflict,
    ExportOptions,
    export_project,
    plan_export,
    srt_text,
)
from valle_studio.batch.project import BatchProject
from valle_studio.batch.script import ScriptLine
from valle_studio.engine.settings import GenerationSettings

HOSTILE = [ScriptLine("../../x", 1), ScriptLine("CON", 2), ScriptLine("y" * 300, 3),
           ScriptLine("🎉 party time 🎉", 4), ScriptLine("Same text.", 5), ScriptLine("same   TEXT!", 6),
           ScriptLine("Own name", 7, filename="../escape/intro.wav"), ScriptLine("no take yet", 8)]


@pytest.fixture
def project(tmp_path: Path):
    with BatchProject.create(tmp_path / "proj", HOSTILE, name="hostile", settings=GenerationSettings(),
                             default_voice="Nar/rator") as project:
        for index in range(7):
            add_take(project, index, seed=index, seconds=0.25 + 0.05 * index)
        project.save()
        yield project


def test_hostile_lines_get_safe_distinct_names_inside_the_folder(project: BatchProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export_project(project, ExportOptions(out, template="{slug}"))
    names = result.written
    assert names[:4] == ["x.wav", "_con.wav", "y" * 48 + ".wav", "party-time.wav"]
    assert names[4:] == ["same-text.wav", "same-text-2.wav", "escape_intro.wav"]  # duplicates told apart
    assert result.missing_rows == [8]
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "manifest.csv", "manifest.json"])
    assert not (tmp_path / "escape").exists() and not (tmp_path / "x.wav").exists()


def test_manifests_list_every_exported_file_with_its_settings(project: BatchProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_project(project, ExportOptions(out))
    document = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = document["files"]
    assert len(files) == 7 and document["sample_rate"] == SR
    assert files[0]["file"] == "001_Nar-rator_x.wav" and files[0]["voice"] == "Nar/rator"
    for entry, row in zip(files, project.rows, strict=False):
        take = row.approved_take
        assert entry["text"] == row.text and entry["seed"] == take.seed == entry["settings"]["seed"]
        info = sf.info(out / entry["file"])
        assert info.samplerate == SR and info.subtype == "PCM_16"
        assert entry["duration_s"] == pytest.approx(info.frames / SR, abs=1e-3)
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["file"] for r in rows] == [f["file"] for f in files]
    assert json.loads(rows[2]["settings"]) == files[2]["settings"]
    assert rows[3]["text"] == "🎉 party time 🎉"


def test_combined_file_and_srt_use_the_real_timings(project: BatchProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export_project(project, ExportOptions(out, combined=True, combined_gap_s=0.25, srt=True,
                                                   wav_format="float", watermark=False))  # sample-exact
    assert (result.combined, result.srt) == ("combined.wav", "combined.srt")
    combined, sr = sf.read(out / "combined.wav", dtype="float32")
    takes = [r.approved_take for r in project.rows[:7]]
    gap = int(0.25 * SR)
    assert sr == SR and len(combined) == sum(int(t.duration_s * SR) for t in takes) + 6 * gap
    first = project.take_audio(takes[0])[0]
    np.testing.assert_allclose(combined[: len(first)], first, atol=1e-6)
    assert not combined[len(first): len(first) + gap].any()  # the gap is silence
    cues = (out / "combined.srt").read_text(encoding="utf-8").strip().split("\n\n")
    assert len(cues) == 7
    assert cues[0].splitlines()[:2] == ["1", "00:00:00,000 --> 00:00:00,250"]
    assert cues[1].splitlines()[1] == "00:00:00,500 --> 00:00:00,800"  # 0.25 + gap 0.25, then 0.30 s long
    assert cues[2].splitlines()[2:] == ["y" * 42, "y" * 42, "y" * 42, "y" * 42, "y" * 42, "y" * 42, "y" * 42,
                                        "y" * 6]


def test_srt_timestamps_past_an_hour() -> None:
    text = srt_text([(3723.5, 3725.25, "Late line")])
    assert text == "1\n01:02:03,500 --> 01:02:05,250\nLate line\n"


def test_existing_files_are_never_silently_overwritten(project: BatchProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    foreign = out / "001_Nar-rator_x.wav"
    foreign.write_bytes(b"someone else's file")
    result = export_project(project, ExportOptions(out))
    assert foreign.read_bytes() == b"someone else's file"
    assert result.renamed == {"001_Nar-rator_x.wav": "001_Nar-rator_x-2.wav"}
    assert (out / "001_Nar-rator_x-2.wav").is_file()
    with pytest.raises(ExportConflict, match="1 file\\(s\\) already exist") as info:
        (tmp_path / "out2").mkdir()
        (tmp_path / "out2" / "manifest.csv").write_text("mine")
        plan_export(project, ExportOptions(tmp_path / "out2", on_conflict="error"))
    assert info.value.paths == [(tmp_path / "out2" / "manifest.csv").resolve()]
    export_project(project, ExportOptions(tmp_path / "out2", on_conflict="overwrite"))
    assert (tmp_path / "out2" / "manifest.csv").read_text().startswith("index,file")


def test_re_export_rewrites_only_what_changed_and_respects_edits(project: BatchProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_project(project, ExportOptions(out))
    again = export_project(project, ExportOptions(out))
    assert again.written == [] and len(again.unchanged) == 7 and again.renamed == {}
    # A new approved take for row 2 is written over this project's own, untouched file.
    add_take(project, 1, seed=99)
    third = export_project(project, ExportOptions(out))
    assert third.written == ["002_Nar-rator_con.wav"] and third.renamed == {}
    # Someone edits an exported file: from now on it is theirs and is kept.
    edited = out / "003_Nar-rator_" f"{'y' * 48}.wav"
    edited.write_bytes(edited.read_bytes() + b"\0\0")
    add_take(project, 2, seed=98)
    fourth = export_project(project, ExportOptions(out))
    assert fourth.renamed == {edited.name: edited.name.replace(".wav", "-2.wav")}
    # Editing a row's text renames its file; the superseded file of this project is removed.
    project.update_row(project.rows[3].id, text="A new text.")
    add_take(project, 3, seed=97)
    fifth = export_project(project, ExportOptions(out))
    assert fifth.removed == ["004_Nar-rator_party-time.wav"]
    assert (out / "004_Nar-rator_a-new-text.wav").is_file() and not (out / "004_Nar-rator_party-time.wav").exists()
