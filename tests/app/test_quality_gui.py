"""The quality guard in the app: verdict badges in the History and the Batch tab, "Take ready" only for
a good take, the Best-of control (every take kept, the chosen one marked), lines that need a look and
their re-run, and the Transcribe window. A scripted synthesizer decides each take's verdict."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.batch_table import COL_CHECK, QualityRole
from valle_studio.app.jobs import EngineController, LoadSpec
from valle_studio.app.main_window import MainWindow
from valle_studio.app.services import AppServices
from valle_studio.app.settings import AppSettings
from valle_studio.app.widgets.batch_view import BatchView
from valle_studio.app.widgets.history_panel import HistoryModel, HistoryPanel, SummaryRole
from valle_studio.app.widgets.history_panel import QualityRole as HistoryQualityRole
from valle_studio.batch.project import BatchProject
from valle_studio.batch.script import ScriptLine
from valle_studio.engine.progress import Progress, report
from valle_studio.engine.quality import TakeQuality, Transcript, derive_seed
from valle_studio.engine.quality.report import QUALITY_KEY
from valle_studio.engine.requests import SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.text.analysis import Piece
from valle_studio.studio.history import History
from valle_studio.studio.voices import VoiceLibrary

pytestmark = pytest.mark.gui

REASONS = {"good": (), "suspect": ("too long: 9.0 s of speech for 12 phonemes",),
           "bad": ("too short: 0.1 s of speech for 48 phonemes (normal speech needs at least 2.2 s)",)}


def quality(verdict: str, score: float) -> TakeQuality:
    return TakeQuality(verdict, score, REASONS[verdict], {"phoneme_error_rate": round(1 - score, 2)})


def tone(seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * 24_000)) / 24_000
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


class VerdictSynth:
    """Makes a short tone per take and judges the takes with ``verdicts``, in order (the last one repeats)."""

    info = SimpleNamespace(name="scripted", path=Path("scripted.sft"), device="cpu", dtype="torch.float32")
    sample_rate = 24_000

    def __init__(self, verdicts: list[tuple[str, float]], step_s: float = 0.002) -> None:
        self.verdicts = list(verdicts)
        self.step_s = step_s
        self.texts: list[str] = []
        self.seeds: list[int] = []
        self.heard: list[tuple[str, str | None]] = []

    def phonemize(self, text: str, language: str = "en", split: str = "sentences") -> list[str]:
        return [text]

    def analyze(self, text: str, language: str = "en", split: str = "sentences", **_: Any) -> list[Piece]:
        return [Piece(text, text, (1, 2))]

    def encode_prompts(self, sources: Any, length_frames: int = 0) -> Any:
        return np.zeros((20, 8), np.int64) if sources else None

    def synthesize(self, request: SynthesisRequest, *, progress: Any = None, cancel: Any = None,
                   decode: bool = True) -> SynthesisResult:
        self.texts.append(request.text)
        self.seeds.append(request.settings.seed)
        for step in range(1, 6):
            report(progress, cancel, "demasking", step, 5)
            time.sleep(self.step_s)
        return SynthesisResult(audio=tone(), sample_rate=24_000, codes=np.zeros((37, 8), np.int64), sentences=(),
                               seed=request.settings.seed, modality="nar-len", elapsed_s=0.05)

    def check(self, request: SynthesisRequest, result: SynthesisResult, *, progress: Any = None,
              cancel: Any = None) -> TakeQuality:
        report(progress, cancel, "checking", 1, 1)
        verdict = self.verdicts.pop(0) if len(self.verdicts) > 1 else self.verdicts[0]
        return quality(*verdict)

    def transcript(self, source: Any, language: str = "en", *, asked: str | None = None, progress: Any = None,
                   cancel: Any = None) -> Transcript:
        self.heard.append((language, asked))
        report(progress, cancel, "transcribing", 1, 1)
        return Transcript((40, 41, 42, 43), "həlˈoʊ", (40, 41, 50, 43) if asked else None,
                          "həlˈoː" if asked else None)


# -- the History ------------------------------------------------------------------------------------------------
def _result(seed: int) -> SynthesisResult:
    return SynthesisResult(audio=tone(), sample_rate=24_000, codes=np.zeros((37, 8), np.int64), sentences=(),
                           seed=seed, modality="nar-len", elapsed_s=0.1)


def fill_history(history: History) -> None:
    """A checked take of each verdict, an unchecked one, and a best-of run of three whose second won."""
    settings = GenerationSettings()
    history.add(_result(1), text="An old take, made before the check.", voice="Narrator", language="en",
                model="m", settings=settings)
    for i, (verdict, score) in enumerate((("bad", 0.2), ("good", 0.9), ("suspect", 0.5))):
        record = {**quality(verdict, score).to_dict(), "group": "g1", "index": i, "chosen": i == 1, "retry": False}
        history.add(_result(10 + i), text=f"Best of three, take {i + 1}.", voice="Narrator", language="en",
                    model="m", settings=settings, extra={QUALITY_KEY: record})
    record = {**quality("bad", 0.1).to_dict(), "group": "g2", "index": 0, "chosen": True, "retry": False}
    history.add(_result(20), text="A long sentence the model gave up on.", voice="Alice", language="en", model="m",
                settings=settings, extra={QUALITY_KEY: record})


def test_history_shows_a_badge_with_a_word_and_the_reasons(qtbot: Any, tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    fill_history(history)
    model = HistoryModel(history)
    panel = HistoryPanel(model)
    qtbot.addWidget(panel)
    panel.resize(420, 420)
    panel.show()
    words = [model.index(r).data(HistoryQualityRole) for r in range(model.rowCount())]
    assert [w.verdict if w else None for w in words] == ["bad", "suspect", "good", "bad", None]
    tip = model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Bad" in tip and "too short: 0.1 s of speech" in tip
    assert "Not checked" in model.index(4).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(2).data(SummaryRole).startswith("★ best of 3")  # the chosen one of its run
    assert not model.index(1).data(SummaryRole).startswith("★")
    assert not model.index(0).data(SummaryRole).startswith("★")  # chosen, but a run of one
    assert "Suspect" in model.index(1).data(Qt.ItemDataRole.AccessibleTextRole)
    assert not panel.grab().isNull()


# -- the Studio tab ---------------------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Any:
    from valle_studio.engine.debug import write_tiny_checkpoint
    from valle_studio.engine.store import ModelStore

    write_tiny_checkpoint(tmp_path / "models" / "tiny" / "model.sft")
    synth = VerdictSynth([("good", 0.9)])
    factory = FakeStreamFactory(speed=20.0, output_reason="no sound card in this test")
    services = AppServices(
        settings=AppSettings.from_file(tmp_path / "settings.ini"), history=History(tmp_path / "history"),
        store=ModelStore(tmp_path / "models"), loader=lambda spec: synth,
        playback=PlaybackController(stream_factory=factory), recording=RecordingController(stream_factory=factory),
        voices=VoiceLibrary(tmp_path / "voices"))
    win = MainWindow(services)
    win.synth = synth
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.engine.model_loaded, timeout=30_000):
        win.start()
    win.text_panel.set_text("Hello there.")
    win.sampler_panel.set_settings(GenerationSettings(seed=77))
    yield win
    win.close()
    assert not win.engine.worker_thread.isRunning()


def generate(qtbot: Any, win: Any) -> Any:
    with qtbot.waitSignal(win.take_added, timeout=30_000) as blocker:
        win.generate_action.trigger()
    return blocker.args[0]


def test_take_ready_only_for_a_good_take(qtbot: Any, window: Any) -> None:
    take = generate(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Take ready")
    assert take.extra[QUALITY_KEY]["verdict"] == "good"
    window.synth.verdicts = [("bad", 0.2)]
    take = generate(qtbot, window)
    message = window.statusBar().currentMessage()
    assert "Take ready" not in message and message.startswith("Bad take: too short")
    assert "Bad" in window.progress_panel.stage.text()
    window.synth.verdicts = [("suspect", 0.5)]
    generate(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Suspect take: too long")
    assert window.history_model.rowCount() == 3


def test_best_of_keeps_every_take_and_marks_the_chosen_one(qtbot: Any, window: Any) -> None:
    window.synth.verdicts = [("suspect", 0.45), ("good", 0.8), ("bad", 0.2)]
    window.best_of.set_options(3, 0)
    details: list[str] = []
    window.engine.job_progress.connect(lambda _job, event: details.append(event.detail))
    chosen = generate(qtbot, window)
    assert window.synth.seeds == [77, derive_seed(77, 1), derive_seed(77, 2)]
    assert {"take 1/3", "take 2/3", "take 3/3"} <= set(details)
    model = window.history_model
    assert model.rowCount() == 3 and chosen.seed == derive_seed(77, 1)
    assert chosen.extra[QUALITY_KEY]["chosen"] is True and window.history_panel.current_take().id == chosen.id
    summaries = {model.take_at(r).seed: model.index(r).data(SummaryRole) for r in range(3)}
    assert summaries[chosen.seed].startswith("★ best of 3")
    assert sum(s.startswith("★") for s in summaries.values()) == 1
    assert window.statusBar().currentMessage().startswith("Take ready") and "best of 3" in \
        window.statusBar().currentMessage()
    assert len(window.output_panel.samples) == len(tone())  # the chosen take is the one shown
    window.best_of.set_options(1, 2)
    window.synth.verdicts = [("bad", 0.1), ("bad", 0.15), ("suspect", 0.4)]
    generate(qtbot, window)
    assert model.rowCount() == 6  # one take and both retries, all kept
    assert window.statusBar().currentMessage().startswith("Suspect take, the best of 3 takes")


def test_stopping_a_best_of_run_keeps_the_takes_already_made(qtbot: Any, window: Any) -> None:
    window.synth.verdicts = [("bad", 0.2)]
    window.synth.step_s = 0.2
    window.best_of.set_options(4, 0)
    window.generate_action.trigger()
    qtbot.waitUntil(lambda: window.history_model.rowCount() == 1, timeout=30_000)
    with qtbot.waitSignal(window.engine.job_stopped, timeout=30_000):
        window.stop()
    qtbot.wait(50)
    assert window.history_model.rowCount() == 1 and "stopped" in window.statusBar().currentMessage().lower()
    assert window.history_model.take_at(0).extra[QUALITY_KEY]["chosen"] is False  # no run was decided


def test_transcribe_shows_heard_beside_asked_for_a_take_and_a_reference_clip(qtbot: Any, window: Any) -> None:
    generate(qtbot, window)
    window.history_panel.select(window.history_model.take_at(0).id)
    qtbot.mouseClick(window.history_panel.transcribe, Qt.MouseButton.LeftButton)
    dialog = window.transcriber.dialogs[-1]
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert window.synth.heard[-1] == ("en", "Hello there.")
    assert dialog.asked.text() == "həlˈoː" and "həl" in dialog.heard.text()
    assert dialog.rate.text().startswith("25%")  # one of the four asked tokens heard wrong
    window.voice_panel.set_draft(tone(2.0), 24_000, "reference.wav")
    qtbot.mouseClick(window.voice_panel.transcribe_button, Qt.MouseButton.LeftButton)
    clip_dialog = window.transcriber.dialogs[-1]
    qtbot.waitUntil(lambda: not clip_dialog.running, timeout=30_000)
    assert window.synth.heard[-1] == ("en", None) and "reference clip has no text" in clip_dialog.asked.text()
    assert clip_dialog.rate.text() == "—"


# -- the Batch tab ----------------------------------------------------------------------------------------------
def make_checked_project(folder: Path) -> BatchProject:
    lines = [ScriptLine(text, i + 1) for i, text in enumerate(("Good one.", "A suspect line.", "Good two.",
                                                                 "A bad line.", "Not run yet."))]
    project = BatchProject.create(folder, lines, name="checked", settings=GenerationSettings(max_steps=2))
    for row, verdict in zip(project.rows, ("good", "suspect", "good", "bad"), strict=False):
        score = {"good": 0.9, "suspect": 0.5, "bad": 0.1}[verdict]
        record = {**quality(verdict, score).to_dict(), "group": row.id, "index": 0, "chosen": True, "retry": False}
        project.add_take(row.id, tone(), 24_000, seed=1, settings=project.settings, text=row.text, voice="voice",
                         language="en", model="m", elapsed_s=0.1, extra={QUALITY_KEY: record})
    project.save()
    return project


@pytest.fixture
def batch_view(qtbot: Any, tmp_path: Path) -> Any:
    synth = VerdictSynth([("good", 0.85)])
    engine = EngineController(lambda spec: synth)
    with qtbot.waitSignal(engine.model_loaded, timeout=30_000):
        engine.load(LoadSpec("scripted"))
    playback = PlaybackController(stream_factory=FakeStreamFactory(speed=25))
    view = BatchView(engine, VoiceLibrary(tmp_path / "voices"), playback, lambda: GenerationSettings(max_steps=2),
                     projects_root=tmp_path / "batch", reopen_last=False)
    view.synth = synth
    qtbot.addWidget(view)
    view.resize(1100, 640)
    view.show()
    view.set_project(make_checked_project(tmp_path / "batch" / "checked"))
    yield view
    view.shutdown()
    assert engine.shutdown()
    playback.shutdown()


def hidden(view: Any) -> list[bool]:
    return [view.table.isRowHidden(r) for r in range(view.model.rowCount())]


def test_batch_lines_show_their_verdict_and_the_filter_keeps_those_that_need_a_look(qtbot: Any,
                                                                                    batch_view: Any) -> None:
    view = batch_view
    words = [view.model.index(r, COL_CHECK).data() for r in range(5)]
    assert words == ["Good", "Suspect", "Good", "Bad", ""]
    assert "too long" in view.model.index(1, COL_CHECK).data(Qt.ItemDataRole.ToolTipRole)
    assert view.model.index(3, COL_CHECK).data(QualityRole).verdict == "bad"
    assert hidden(view) == [False] * 5 and view.look.count.text() == "2 of 5 need a look"
    view.look.set_filtering(True)
    assert hidden(view) == [True, False, True, False, True]
    view.table.selectRow(1)
    labels = [view.takes.takes.item(i).text() for i in range(view.takes.takes.count())]
    assert labels == ["✓ Take 1 · 0.5 s · seed 1 · Suspect"]
    assert "too long" in view.takes.takes.item(0).toolTip()


def test_re_running_the_lines_that_need_a_look_runs_only_those(qtbot: Any, batch_view: Any) -> None:
    view = batch_view
    view.look.set_filtering(True)
    with qtbot.waitSignal(view.controller.finished, timeout=60_000):
        qtbot.mouseClick(view.look.rerun, Qt.MouseButton.LeftButton)
    assert view.synth.texts == ["A suspect line.", "A bad line."]
    rows = view.project.rows
    assert [len(r.takes) for r in rows] == [1, 2, 1, 2, 0]
    assert view.model.index(1, COL_CHECK).data() == "Good" and view.model.index(3, COL_CHECK).data() == "Good"
    assert hidden(view) == [True] * 5 and view.look.count.text() == "0 of 5 need a look"
    assert not view.look.rerun.isEnabled()


def test_a_batch_run_takes_the_best_of_the_windows_control(qtbot: Any, tmp_path: Path) -> None:
    from valle_studio.engine.quality import QualityOptions

    synth = VerdictSynth([("bad", 0.2), ("good", 0.7), ("suspect", 0.4)])
    engine = EngineController(lambda spec: synth)
    with qtbot.waitSignal(engine.model_loaded, timeout=30_000):
        engine.load(LoadSpec("scripted"))
    view = BatchView(engine, VoiceLibrary(tmp_path / "voices"), PlaybackController(stream_factory=FakeStreamFactory()),
                     lambda: GenerationSettings(max_steps=2, seed=5), projects_root=tmp_path / "b", reopen_last=False,
                     quality=lambda: QualityOptions(best_of=3))
    qtbot.addWidget(view)
    try:
        project = BatchProject.create(tmp_path / "b" / "p", [ScriptLine("One line.", 1)], name="p",
                                      settings=GenerationSettings(max_steps=2, seed=5))
        view.set_project(project)
        with qtbot.waitSignal(view.controller.finished, timeout=60_000):
            view.run_all()
        row = project.rows[0]
        assert len(row.takes) == 3 and row.approved_take.seed == derive_seed(5, 1)
        view.table.selectRow(0)
        labels = [view.takes.takes.item(i).text() for i in range(3)]
        assert labels[1] == f"✓ Take 2 · 0.5 s · seed {derive_seed(5, 1)} · Good ★"
        assert labels[0].endswith("· Bad") and labels[2].endswith("· Suspect")
    finally:
        view.shutdown()
        assert engine.shutdown()


def test_progress_of_a_checked_take_reaches_the_end_of_the_bar() -> None:
    from valle_studio.app.widgets.progress_panel import overall_fraction

    assert overall_fraction(Progress("checking", 1, 1, "take 2/2")) == 1.0
    assert overall_fraction(Progress("decoding", 0, 1)) < overall_fraction(Progress("decoding", 1, 1)) \
        <= overall_fraction(Progress("checking", 0, 1)) < overall_fraction(Progress("checking", 1, 1))


def test_the_best_of_control_never_holds_a_refused_value(qtbot: Any, tmp_path: Path) -> None:
    from valle_studio.app.widgets.best_of_control import BestOfControl
    from valle_studio.engine.quality.options import MAX_BEST_OF, MAX_RETRY_BAD

    control = BestOfControl()
    qtbot.addWidget(control)
    control.set_options(0, -3)  # a hand-edited settings file
    assert control.options().best_of == 1 and control.options().retry_bad == 0
    control.set_options(999, 999)
    assert (control.best_of.value(), control.retry.value()) == (MAX_BEST_OF, MAX_RETRY_BAD)
    control.best_of.lineEdit().setText("0")  # typing below the range is corrected, never refused later
    control.best_of.interpretText()
    assert control.options().best_of >= 1
    settings = AppSettings.from_file(tmp_path / "bad.ini")
    settings.qsettings.setValue("setting/best_of", "many")
    assert settings.best_of == 1  # unreadable: the default, with a warning in the log
