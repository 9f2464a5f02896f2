"""Batch export provenance (issue 17): watermark + tags in every WAV, manifests with the provenance
columns read back from the files, WebVTT beside SRT, and one audit-log line per written file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.batch.test_project import SR
from tests.speech_like import speech_like
from valle_studio.audio.tags import read_tags
from valle_studio.batch.export import TIMESTAMP_COLUMNS, ExportOptions, export_project, vtt_text
from valle_studio.batch.project import BatchProject
from valle_studio.batch.script import ScriptLine
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.audit import AuditLog
from valle_studio.studio.provenance_export import file_confidence


@pytest.fixture
def project(tmp_path: Path):
    lines = [ScriptLine("First line <b>&</b>.", 1), ScriptLine("Second line.", 2)]
    with BatchProject.create(tmp_path / "proj", lines, name="prov", settings=GenerationSettings(),
                             default_voice="Narrator") as project:
        for index, row in enumerate(project.rows):
            project.add_take(row.id, speech_like(2.0, SR, seed=index), SR, seed=index,
                             settings=project.settings_for(row), text=row.text, voice=project.voice_label(row),
                             language=project.language_for(row), model="tiny", elapsed_s=0.1)
        project.save()
        yield project


def test_rows_are_watermarked_tagged_logged_and_manifests_say_so(project: BatchProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export_project(project, ExportOptions(out, srt=True, combined=True))
    assert result.vtt == "combined.vtt" and (out / "combined.vtt").is_file()
    for name in [*result.written, "combined.wav"]:
        tags = read_tags(out / name)
        assert tags["VALLE_SYNTHETIC"] == "synthetic speech" and tags["VALLE_WATERMARK"] == "perth-implicit"
        assert file_confidence(out / name) >= 0.5  # the file itself carries the mark
    first = read_tags(out / result.written[0])
    assert first["TITLE"] == first["VALLE_TEXT"] == "First line <b>&</b>."
    assert first["VALLE_VOICE"] == project.rows[0].approved_take.voice
    rows = list(csv.DictReader(io.StringIO((out / "manifest.csv").read_text(encoding="utf-8"))))
    assert [r["watermark"] for r in rows] == ["yes", "yes"]
    assert {r["synthetic"] for r in rows} == {"synthetic speech"} and all(r["app_version"] for r in rows)
    document = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(TIMESTAMP_COLUMNS) <= set(document["files"][0]) | set(document)  # the per-run columns, named
    assert document["files"][0]["watermark"] is True
    logged = AuditLog().entries()
    assert sorted(Path(e.path).name for e in logged) == sorted([*result.written, "combined.wav"])
    assert all(e.source == "batch" and e.watermark for e in logged)


def test_opting_out_writes_no_watermark_and_says_so(project: BatchProject, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export_project(project, ExportOptions(out, watermark=False))
    assert read_tags(out / result.written[0])["VALLE_WATERMARK"] == "none"
    assert file_confidence(out / result.written[0]) < 0.5
    rows = list(csv.DictReader(io.StringIO((out / "manifest.csv").read_text(encoding="utf-8"))))
    assert [r["watermark"] for r in rows] == ["no", "no"]
    assert not any(e.watermark for e in AuditLog().entries())


def test_webvtt_format() -> None:
    text = vtt_text([(0.0, 1.25, "a < b & c"), (3661.5, 3662.0, "")])
    assert text.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.250\na &lt; b &amp; c\n")
    assert "2\n01:01:01.500 --> 01:01:02.000\n" in text
