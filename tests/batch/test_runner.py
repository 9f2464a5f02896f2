"""The batch queue on a tiny real model: saving after every row, progress, failures, cancel, pause, seeds."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.batch.conftest import FAST
from valle_studio.batch.eta import EtaEstimator, format_eta, row_cost
from valle_studio.batch.project import PROJECT_FILE, BatchProject
from valle_studio.batch.rows import DONE, FAILED, PENDING
from valle_studio.batch.runner import (
    PAUSED,
    RESUMED,
    ROW_FAILED,
    ROW_FINISHED,
    ROW_PROGRESS,
    ROW_STARTED,
    BatchEvent,
    BatchRunner,
    PauseGate,
)
from valle_studio.batch.script import ScriptLine
from valle_studio.engine.progress import CancelToken


def make_project(folder: Path, lines: list[ScriptLine], **meta) -> BatchProject:
    return BatchProject.create(folder, lines, name="t", settings=FAST, default_voice="Narrator", **meta)


LINES = [ScriptLine("Hello there.", 1), ScriptLine("A second line.", 2, voice="Alice"),
         ScriptLine("Third.", 3)]


def test_rows_are_saved_one_by_one_with_progress_and_eta(tiny_synth, voices, tmp_path: Path) -> None:
    events: list[BatchEvent] = []
    saved_when_reported: list[bool] = []
    with make_project(tmp_path / "p", LINES) as project:
        def on_event(event: BatchEvent) -> None:
            events.append(event)
            if event.kind == ROW_FINISHED:  # on disk already when the row is reported finished
                data = json.loads((project.folder / PROJECT_FILE).read_text())
                saved = data["rows"][event.index]
                saved_when_reported.append(bool(saved["takes"]) and saved["approved"] == saved["takes"][0]["id"])

        summary = BatchRunner(project, tiny_synth, voices=voices, on_event=on_event).run(
            [r.id for r in project.rows])
        assert summary.ok and summary.finished == tuple(r.id for r in project.rows)
        assert saved_when_reported == [True, True, True]
        assert [project.status(r) for r in project.rows] == [DONE, DONE, DONE]
        take = project.rows[1].approved_take
        assert take.voice == "Alice" and take.text == "A second line." and take.model == "tiny"
        assert 0 < take.duration_s <= 0.5 + 1e-6 and take.settings.max_steps == 2

    kinds = [e.kind for e in events]
    assert kinds[0] == ROW_STARTED and kinds[-1] == ROW_FINISHED and kinds.count(ROW_FINISHED) == 3
    assert ROW_PROGRESS in kinds
    for row_id in summary.finished:  # per-row fraction only grows, 0..1
        fractions = [e.row_fraction for e in events if e.row_id == row_id]
        assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] == 1.0
    overall = [e.fraction for e in events]
    assert overall == sorted(overall) and overall[-1] == pytest.approx(1.0)
    finished = [e for e in events if e.kind == ROW_FINISHED]
    assert [e.done for e in finished] == [1, 2, 3] and all(e.total == 3 for e in finished)
    assert events[0].eta_s is None and finished[0].eta_s is not None and finished[-1].eta_s == 0


def test_a_failing_row_is_recorded_and_the_queue_goes_on(tiny_synth, voices, tmp_path: Path) -> None:
    broken = voices.save("Broken", [(np.full(24_000, 0.2, np.float32), 24_000)])
    broken.clips[0].path.unlink()  # the voice's clip vanished from disk
    lines = [ScriptLine("One.", 1), ScriptLine("Two.", 2, voice="Broken"), ScriptLine("Three.", 3)]
    try:
        with make_project(tmp_path / "p", lines) as project:
            events: list[BatchEvent] = []
            summary = BatchRunner(project, tiny_synth, voices=voices, on_event=events.append).run(
                [r.id for r in project.rows])
            assert not summary.ok and list(summary.failed) == [project.rows[1].id]
            assert "does not exist" in summary.failed[project.rows[1].id]
            assert [project.status(r) for r in project.rows] == [DONE, FAILED, DONE]
            failed = next(e for e in events if e.kind == ROW_FAILED)
            assert failed.index == 1 and failed.message == project.rows[1].error
        with BatchProject.open(tmp_path / "p") as again:  # the failure was saved too
            assert again.status(again.rows[1]) == FAILED and again.ids_needing_work() == [again.rows[1].id]
    finally:
        voices.delete("Broken")


def test_cancel_mid_row_records_nothing_half_done(tiny_synth, voices, tmp_path: Path) -> None:
    cancel = CancelToken()
    with make_project(tmp_path / "p", LINES) as project:
        second = project.rows[1].id

        def on_event(event: BatchEvent) -> None:
            if event.kind == ROW_PROGRESS and event.row_id == second:
                cancel.cancel()

        summary = BatchRunner(project, tiny_synth, voices=voices, on_event=on_event, cancel=cancel).run(
            [r.id for r in project.rows])
        assert summary.cancelled and summary.finished == (project.rows[0].id,)
        assert [project.status(r) for r in project.rows] == [DONE, PENDING, PENDING]
        assert sorted(p.name for p in (project.folder / "takes").iterdir()) == [
            Path(project.rows[0].approved_take.audio_file).name]


def test_pause_holds_the_row_until_resumed(tiny_synth, voices, tmp_path: Path) -> None:
    gate = PauseGate()
    events: list[BatchEvent] = []
    timers: list[threading.Timer] = []

    def on_event(event: BatchEvent) -> None:
        events.append(event)
        if event.kind == ROW_PROGRESS and not timers:
            gate.pause()
            timers.append(threading.Timer(0.3, gate.resume))
            timers[0].start()

    with make_project(tmp_path / "p", LINES[:2]) as project:
        summary = BatchRunner(project, tiny_synth, voices=voices, on_event=on_event, gate=gate).run(
            [r.id for r in project.rows])
    timers[0].join()
    assert summary.ok
    kinds = [e.kind for e in events]
    paused, resumed = kinds.index(PAUSED), kinds.index(RESUMED)
    assert paused < resumed and kinds[paused + 1: resumed] == []  # nothing ran while paused
    assert events[paused].row_id == events[resumed].row_id == summary.finished[0]


def test_seeds_pinned_rows_repeat_and_new_takes_vary(tiny_synth, voices, tmp_path: Path) -> None:
    lines = [ScriptLine("Same words.", 1, seed=1234), ScriptLine("Same words.", 2, seed=1234)]
    with make_project(tmp_path / "p", lines) as project:
        runner = BatchRunner(project, tiny_synth, voices=voices)
        runner.run([r.id for r in project.rows])
        first, second = (r.approved_take for r in project.rows)
        assert first.seed == second.seed == 1234
        a, b = project.take_audio(first)[0], project.take_audio(second)[0]
        np.testing.assert_array_equal(a, b)
        runner.run([project.rows[0].id])  # regenerate a finished row: another take, a fresh seed
        row = project.rows[0]
        assert len(row.takes) == 2 and row.approved_take.seed != 1234


def test_each_voice_is_encoded_once_per_run(tiny_synth, voices, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    codec = tiny_synth.codec(required=True)
    original = codec.encode
    monkeypatch.setattr(codec, "encode", lambda samples, rate: calls.append(rate) or original(samples, rate))
    lines = [ScriptLine("One.", 1), ScriptLine("Two.", 2, voice="Alice"), ScriptLine("Three.", 3),
             ScriptLine("Four.", 4, voice="Alice")]
    with make_project(tmp_path / "p", lines) as project:
        assert BatchRunner(project, tiny_synth, voices=voices).run([r.id for r in project.rows]).ok
    assert len(calls) == 3  # Narrator's one clip + Alice's two clips encoded once each, for four rows


def test_eta_weighs_rows_by_text_length() -> None:
    costs = {"a": row_cost("x" * 80), "b": row_cost("x" * 80), "c": row_cost("x" * 180)}
    eta = EtaEstimator(costs)
    assert eta.seconds_left() is None and eta.fraction() == 0
    eta.finished("a", 10.0)  # 100 units in 10 s
    assert eta.seconds_left() == pytest.approx(30.0)
    assert eta.seconds_left("b", 0.5) == pytest.approx(25.0)
    assert eta.fraction("b", 0.5) == pytest.approx(150 / 400)
    assert format_eta(3725) == "1:02:05" and format_eta(65) == "1:05" and format_eta(None) == ""


class _PublicApiSynth:
    """Only the public Synthesizer API the runner may use: ``encode_prompts``, ``synthesize``, ``check``,
    ``info``."""

    def __init__(self) -> None:
        self.encoded: list[tuple] = []
        self.requests: list = []
        self.checked: list = []

    def check(self, request, result, *, progress=None, cancel=None):
        from valle_studio.engine.quality import TakeQuality

        self.checked.append(request)
        return TakeQuality("good", 0.9)

    def encode_prompts(self, sources, length_frames=0):
        self.encoded.append(tuple(sources))
        return np.full((4 * len(sources), 8), len(self.encoded), np.int64)

    def synthesize(self, request, *, progress=None, cancel=None, decode=True):
        from valle_studio.engine.requests import SynthesisResult

        self.requests.append(request)
        return SynthesisResult(audio=np.full(2400, 0.1, np.float32), sample_rate=24_000,
                               codes=np.zeros((8, 8), np.int64), sentences=(), seed=1, modality="nar-len",
                               elapsed_s=0.01)


def test_runner_encodes_each_voice_once_through_the_synthesizers_public_api(voices, tmp_path: Path) -> None:
    import soundfile as sf

    from valle_studio.core.clip import Clip

    prompt = tmp_path / "narrator.wav"
    t = np.arange(44_100) / 44_100
    sf.write(prompt, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44_100)
    lines = [ScriptLine("One.", 1), ScriptLine("Two.", 2, voice="Alice"), ScriptLine("Three.", 3),
             ScriptLine("Four.", 4, voice="Alice")]
    synth = _PublicApiSynth()
    with BatchProject.create(tmp_path / "p", lines, name="t", settings=FAST, prompt_files=[str(prompt)]) as project:
        assert BatchRunner(project, synth, voices=voices).run([r.id for r in project.rows]).ok
    assert len(synth.encoded) == 2  # the project's prompt file, then Alice's two clips
    (from_file,), alice = synth.encoded
    assert isinstance(from_file, Clip) and from_file.sample_rate == 24_000 and from_file.name == str(prompt)
    assert len(alice) == 2 and all(isinstance(c, Clip) for c in alice)
    prompts = [r.prompts for r in synth.requests]
    assert all(len(p) == 1 and p[0].shape[1] == 8 for p in prompts)
    assert prompts[0][0] is prompts[2][0] and prompts[1][0] is prompts[3][0]  # the cached codes, per voice
    assert [r.prompts for r in synth.checked] == prompts  # each take is checked against the codes it was made from


def test_rows_use_the_global_voice_and_project_lexicons(voices, tmp_path: Path) -> None:
    """The project's entries win over the voice's, which win over the global ones (studio/lexicons.py)."""
    from valle_studio.engine.text.lexicon import Lexicon, LexiconEntry
    from valle_studio.studio.lexicons import global_lexicon_path, save_lexicon, voice_lexicon_path

    save_lexicon(global_lexicon_path(), Lexicon((LexiconEntry("tomato", "global"), LexiconEntry("one", "g1"))))
    save_lexicon(voice_lexicon_path(voices.get("Alice")), Lexicon((LexiconEntry("tomato", "alice"),)))
    lines = [ScriptLine("One tomato.", 1), ScriptLine("One tomato.", 2, voice="Alice")]
    synth = _PublicApiSynth()
    with BatchProject.create(tmp_path / "p", lines, name="t", settings=FAST) as project:
        project.set_lexicon(Lexicon((LexiconEntry("one", "project"),)))
        assert project.lexicon_path.is_file()
        assert BatchRunner(project, synth, voices=voices).run([r.id for r in project.rows]).ok
    said = [{e.word: e.pronunciation for e in r.lexicon.entries} for r in synth.requests]
    assert said == [{"tomato": "global", "one": "project"}, {"tomato": "alice", "one": "project"}]


def test_a_broken_lexicon_fails_the_row_naming_the_line(voices, tmp_path: Path) -> None:
    from valle_studio.studio.lexicons import global_lexicon_path

    global_lexicon_path().write_text("word\tpronunciation\nonly-a-word\n", encoding="utf-8")
    synth = _PublicApiSynth()
    with BatchProject.create(tmp_path / "p", [ScriptLine("Hi.", 1)], name="t", settings=FAST) as project:
        summary = BatchRunner(project, synth, voices=voices).run([r.id for r in project.rows])
    assert not summary.ok and "line 2 of global lexicon" in next(iter(summary.failed.values()))
