"""The batch project on disk: round trip, statuses, locking, and recovery from crashes and damage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from valle_studio.batch.lock import ProjectBusy, ProjectLock
from valle_studio.batch.project import PROJECT_FILE, BatchProject, ProjectError
from valle_studio.batch.rows import CHANGED, DONE, FAILED, PENDING
from valle_studio.batch.script import ScriptLine
from valle_studio.engine.settings import GenerationSettings, SettingsError

SR = 24_000
LINES = [ScriptLine("First line.", 1), ScriptLine("Second line.", 2, voice="Alice", seed=5),
         ScriptLine("Third line.", 3, filename="third.wav", language="de")]


def tone(seconds: float = 0.5, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def add_take(project: BatchProject, index: int, seed: int = 1, seconds: float = 0.5):
    row = project.rows[index]
    return project.add_take(row.id, tone(seconds), SR, seed=seed, settings=project.settings_for(row),
                            text=row.text, voice=project.voice_label(row), language=project.language_for(row),
                            model="tiny", elapsed_s=0.1)


@pytest.fixture
def project(tmp_path: Path):
    with BatchProject.create(tmp_path / "proj", LINES, name="demo", settings=GenerationSettings(max_steps=4),
                             default_voice="Narrator") as project:
        yield project


def test_create_save_and_reopen_round_trip(project: BatchProject, tmp_path: Path) -> None:
    take = add_take(project, 0, seed=11)
    project.save()
    project.close()
    with BatchProject.open(tmp_path / "proj") as again:
        assert [r.text for r in again.rows] == ["First line.", "Second line.", "Third line."]
        assert again.rows[1].voice == "Alice" and again.rows[1].seed == 5
        assert again.rows[2].filename == "third.wav" and again.language_for(again.rows[2]) == "de"
        assert again.settings == GenerationSettings(max_steps=4) and again.default_voice == "Narrator"
        assert again.rows[0].approved_take == take
        assert again.rows[0].approved_take.settings.seed == 11  # the take's settings reproduce it
        samples, sr = again.take_audio(take)
        assert sr == SR and np.allclose(samples, tone(), atol=1e-5)


def test_statuses_follow_takes_errors_and_edits(project: BatchProject) -> None:
    first, second = project.rows[0], project.rows[1]
    assert project.status(first) == PENDING
    project.mark_failed(first.id, "boom")
    assert project.status(first) == FAILED
    add_take(project, 0)
    assert project.status(first) == DONE and first.error == ""
    project.update_row(first.id, text="  First   line, edited. ")
    assert first.text == "First line, edited." and project.status(first) == CHANGED
    add_take(project, 1)
    project.update_row(second.id, voice="Bob")
    assert project.status(second) == CHANGED
    assert project.ids_needing_work() == [first.id, second.id, project.rows[2].id]
    assert project.counts() == {PENDING: 1, DONE: 0, FAILED: 0, CHANGED: 2}


def test_takes_approval_and_deletion(project: BatchProject) -> None:
    row = project.rows[0]
    one, two = add_take(project, 0, seed=1), add_take(project, 0, seed=2)
    assert row.approved == two.id
    project.approve(row.id, one.id)
    assert row.approved_take == one
    project.delete_take(row.id, one.id)
    assert row.approved == two.id and not (project.folder / one.audio_file).exists()
    with pytest.raises(KeyError):
        project.approve(row.id, one.id)


def test_row_edits_are_validated_and_saved(project: BatchProject) -> None:
    row = project.rows[0]
    with pytest.raises(ProjectError, match="cannot be empty"):
        project.update_row(row.id, text="   ")
    with pytest.raises(SettingsError, match="top_p"):
        project.update_row(row.id, settings={"top_p": 5.0})
    project.update_row(row.id, settings={"top_k": 40, "max_steps": 4})  # max_steps equals the project's
    assert row.settings == {"top_k": 40}
    assert project.settings_for(row).top_k == 40
    saved = json.loads((project.folder / PROJECT_FILE).read_text())
    assert saved["rows"][0]["settings"] == {"top_k": 40}
    new = project.insert_row(1, "Inserted.")
    assert [r.id for r in project.rows].index(new.id) == 1
    project.remove_rows([new.id])
    assert len(project.rows) == 3


def test_a_second_opener_is_refused_until_the_first_closes(project: BatchProject) -> None:
    with pytest.raises(ProjectBusy, match="in use by another run"):
        BatchProject.open(project.folder)
    project.close()
    BatchProject.open(project.folder).close()


def test_crash_leftovers_are_cleaned_and_missing_takes_dropped(project: BatchProject) -> None:
    kept, lost = add_take(project, 0), add_take(project, 1)
    project.save()
    project.close()
    # A crash after a take file was written but before project.json mentioned it, plus a stale temp file.
    orphan = project.folder / "takes" / "rdeadbeef-00000000.flac"
    orphan.write_bytes(b"partial")
    temp = project.folder / ".project.json.1234abcd.tmp"
    temp.write_text("{")
    (project.folder / lost.audio_file).unlink()  # a take deleted by hand
    with BatchProject.open(project.folder) as again:
        assert not orphan.exists() and not temp.exists()
        assert (again.folder / kept.audio_file).exists()
        assert again.rows[1].takes == [] and again.rows[1].approved is None
        assert again.status(again.rows[1]) == PENDING
        assert again.warnings == ["row 2: 1 take file(s) are missing and were dropped"]


def test_damaged_or_foreign_project_files_are_clear_errors(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    with pytest.raises(ProjectError, match="no batch project"):
        BatchProject.open(folder)
    (folder / PROJECT_FILE).write_text("{not json")
    with pytest.raises(ProjectError, match=r"project\.json cannot be read"):
        BatchProject.open(folder)
    (folder / PROJECT_FILE).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ProjectError, match="not a VALL-E Studio batch project"):
        BatchProject.open(folder)
    (folder / PROJECT_FILE).write_text(json.dumps({"format": "valle-studio-batch", "version": 99}))
    with pytest.raises(ProjectError, match="newer VALL-E Studio"):
        BatchProject.open(folder)
    (folder / PROJECT_FILE).write_text(json.dumps({"format": "valle-studio-batch", "version": 1,
                                                   "rows": [{"id": "r1"}]}))
    with pytest.raises(ProjectError, match="is damaged"):
        BatchProject.open(folder)
    ProjectLock(folder).acquire().release()  # each failed open released its lock
    with pytest.raises(ProjectError, match="already holds a batch project"):
        BatchProject.create(folder, LINES, name="x", settings=GenerationSettings())


def test_a_format_1_project_opens_and_is_saved_as_format_2(tmp_path: Path) -> None:
    """project.json as format 1 wrote it (by hand here): takes named their audio ``file`` and kept their
    settings as a plain dict, rounded, without modality, sample rate or RTF."""
    import soundfile as sf

    folder = tmp_path / "old"
    (folder / "takes").mkdir(parents=True)
    sf.write(folder / "takes" / "r1-t1.flac", tone(), SR, format="FLAC", subtype="PCM_24")
    take_settings = {**GenerationSettings(max_steps=4).to_dict(), "seed": 11}
    take = {"id": "t1", "file": "takes/r1-t1.flac", "seed": 11, "duration_s": 0.5, "settings": take_settings,
            "text": "First line.", "voice": "Narrator", "language": "en", "model": "tiny",
            "created": "2024-05-01T09:30:00+00:00", "elapsed_s": 0.125}
    rows = [{"id": "r1", "text": "First line.", "voice": "", "seed": None, "filename": "", "language": "",
             "settings": {}, "takes": [take], "approved": "t1", "error": "", "source_line": 1},
            {"id": "r2", "text": "Second line.", "voice": "Alice", "seed": 5, "filename": "", "language": "",
             "settings": {"top_k": 5}, "takes": [], "approved": None, "error": "", "source_line": 2}]
    (folder / PROJECT_FILE).write_text(json.dumps({
        "format": "valle-studio-batch", "version": 1, "name": "old", "created": "2024-05-01T09:00:00+00:00",
        "script": {}, "model": "tiny", "language": "en", "default_voice": "Narrator", "prompt_files": [],
        "settings": GenerationSettings(max_steps=4).to_dict(), "rows": rows, "exports": []}), encoding="utf-8")

    with BatchProject.open(folder) as project:
        assert project.warnings == [] and project.counts()[DONE] == 1 and project.counts()[PENDING] == 1
        old = project.rows[0].approved_take
        assert old is not None and old.audio_file == "takes/r1-t1.flac"
        assert old.settings == GenerationSettings(max_steps=4, seed=11) and old.seed == 11
        assert (old.text, old.voice, old.language, old.model, old.elapsed_s) == \
            ("First line.", "Narrator", "en", "tiny", 0.125)
        assert (old.modality, old.sample_rate, old.real_time_factor) == ("", 0, 0.25)
        assert np.allclose(project.take_audio(old)[0], tone(), atol=1e-5)
        assert project.settings_for(project.rows[1]).top_k == 5
        new = add_take(project, 1, seed=3)
        project.save()
    saved = json.loads((folder / PROJECT_FILE).read_text(encoding="utf-8"))
    assert saved["version"] == 2
    stored = saved["rows"][0]["takes"][0]
    assert "file" not in stored and stored["audio_file"] == "takes/r1-t1.flac" and stored["seed"] == 11
    assert saved["rows"][1]["takes"][0]["sample_rate"] == SR
    with BatchProject.open(folder) as again:
        assert again.rows[0].approved_take == old and again.rows[1].approved_take == new
        assert (folder / "takes" / "r1-t1.flac").is_file()  # not taken for a leftover


def test_a_take_that_cannot_be_read_is_a_damaged_project_not_a_lost_take(project: BatchProject,
                                                                         tmp_path: Path) -> None:
    add_take(project, 0, seed=11)
    project.save()
    project.close()
    path = tmp_path / "proj" / PROJECT_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    take = data["rows"][0]["takes"][0]
    take["settings"]["max_steps"] = 0
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match=rf"is damaged: take {take['id']}: max_steps"):
        BatchProject.open(tmp_path / "proj")
    assert (tmp_path / "proj" / take["audio_file"]).is_file() and path.read_text(encoding="utf-8") == json.dumps(data)
