"""Issue 17, items 5-7 (layout's part): nothing forgotten or stale, a voice for every batch line, Delete
asks and can be undone, the CPU warning is in sight, the window's Ctrl shortcuts work in any field.

The window runs the counting synthesizer behind a one-model store (``tests/app/test_window_busy.py``), on
the CPU, with no audio output device; the voice panel records from the fake sound device.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QKeyCombination, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox

from tests.app.test_engine_jobs import CountingSynth
from tests.app.test_voice_panel import SR, make_panel, tone
from tests.app.test_window_busy import open_window
from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController
from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.records import LoadSpec
from valle_studio.app.widgets import batch_voice_choice
from valle_studio.app.widgets.batch_view import BatchView
from valle_studio.app.widgets.history_panel import HistoryModel, HistoryPanel
from valle_studio.app.widgets.text_panel import TextPanel
from valle_studio.engine.requests import SynthesisResult
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.history import TRASH_DIR, History
from valle_studio.studio.voices import VoiceLibrary

pytestmark = pytest.mark.gui
YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def _save_voice(library: VoiceLibrary, name: str) -> None:
    library.save(name, [(tone(3.0), SR)])


# -- 5. state forgotten or stale ---------------------------------------------------------------------
def test_the_chosen_voice_is_restored_after_a_restart(qtbot: Any, tmp_path: Path) -> None:
    _save_voice(VoiceLibrary(tmp_path / "voices"), "Alice")
    _save_voice(VoiceLibrary(tmp_path / "voices"), "Bob")
    first = open_window(qtbot, tmp_path, CountingSynth())
    first.voice_panel.refresh_voices()
    assert first.voice_panel.select_voice("Bob")
    first.close()
    second = open_window(qtbot, tmp_path, CountingSynth())
    assert second.voice_panel.saved_voice_name() == "Bob"
    assert second.voice_panel.voice_name() == "Bob"
    second.close()


def test_clipping_warning_belongs_to_the_recorded_draft_only(qtbot: Any, tmp_path: Path) -> None:
    source = np.concatenate([tone(1.0, 0.5), np.ones(50, np.float32), tone(1.0, 0.5)])
    factory = FakeStreamFactory(speed=10, source=source)
    panel = make_panel(qtbot, tmp_path, factory)
    _save_voice(panel.library, "Alice")
    panel.refresh_voices(select_name="")
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: factory.streams[0].frames_done >= len(source), timeout=5000)
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    assert not panel.clip_label.isHidden()  # the recorded take clipped
    assert panel.select_voice("Alice")
    assert panel.clip_label.isHidden(), "Clipping! stays while a saved voice is shown"
    panel.voice_combo.setCurrentIndex(0)  # back to the recorded draft: its warning again
    assert not panel.clip_label.isHidden()


def test_the_phoneme_view_never_shows_an_older_text(qtbot: Any) -> None:
    panel = TextPanel()
    qtbot.addWidget(panel)
    asked: list[str] = []
    panel.phonemes_requested.connect(lambda text, _lang, _split: asked.append(text))
    panel.show_phonemes.setChecked(True)
    panel.set_text("One.")
    panel.request_phonemes()
    panel.set_phonemes(["wʌn"])
    assert "wʌn" in panel.phoneme_view.toPlainText()
    panel.set_text("Two.")  # the answer waits (the engine thread is busy with a take, say)
    assert panel.phoneme_view.toPlainText() == "", "the phonemes of the old text are still shown"
    assert panel.phoneme_view.placeholderText() == "Phonemizing…"
    panel.phonemes_for_run()  # a run starts: it asks at once, not after the typing pause
    assert asked[-1] == "Two."
    panel.set_phonemes(["tuː"])
    count = len(asked)
    panel.phonemes_for_run()  # up to date: nothing to ask
    assert len(asked) == count and "tuː" in panel.phoneme_view.toPlainText()


def _batch_view(qtbot: Any, tmp_path: Path, voices: VoiceLibrary, *, loaded: bool = False,
                last_voice: str = "") -> BatchView:
    engine = EngineController(lambda spec: CountingSynth())
    if loaded:
        with qtbot.waitSignal(engine.model_loaded, timeout=30_000):
            engine.load(LoadSpec("counting"))
    view = BatchView(engine, voices, PlaybackController(stream_factory=FakeStreamFactory(speed=25)),
                     lambda: GenerationSettings(max_steps=2, max_duration=0.5), projects_root=tmp_path / "batch",
                     reopen_last=False, last_voice=lambda: last_voice)
    qtbot.addWidget(view)
    view.show()
    return view


def _close(view: BatchView) -> None:
    view.shutdown()
    view.engine.shutdown()


def _script(tmp_path: Path, name: str, lines: int) -> Path:
    path = tmp_path / f"{name}.txt"
    path.write_text("".join(f"Line {i}.\n" for i in range(lines)), encoding="utf-8")
    return path


def test_the_batch_progress_line_is_the_shown_projects(qtbot: Any, tmp_path: Path) -> None:
    view = _batch_view(qtbot, tmp_path, VoiceLibrary(tmp_path / "voices"))
    assert view.open_script(_script(tmp_path, "long", 4))
    view.run_bar.show_end(cancelled=False, clean=True, done=4, total=4)  # as after a finished run
    assert view.open_script(_script(tmp_path, "short", 2))
    assert view.progress_label.text() == "0 of 2 lines done" and view.progress.value() == 0
    _close(view)


# -- 6. a voice for every batch line ----------------------------------------------------------------
def test_batch_default_voice_is_the_last_used_or_the_first_saved(qtbot: Any, tmp_path: Path) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    view = _batch_view(qtbot, tmp_path, library)
    assert view.voice_combo.currentData() == ""  # nothing saved yet
    _save_voice(library, "Alice")  # saved on the Studio tab meanwhile ...
    view.hide()
    view.show()  # ... then the Batch tab is shown again
    assert view.voice_combo.currentData() == "Alice", "still (none) although a voice is saved"
    _save_voice(library, "Bob")
    other = _batch_view(qtbot, tmp_path, library, last_voice="Bob")
    assert other.voice_combo.currentData() == "Bob"  # the voice last used wins over the first saved one
    _close(view)
    _close(other)


def _voiceless_project(qtbot: Any, tmp_path: Path, lines: int) -> Any:
    """A Batch tab with the saved voice Alice, "(none)" chosen on purpose as the default voice, and a script
    of ``lines`` lines that name no voice."""
    library = VoiceLibrary(tmp_path / "voices")
    _save_voice(library, "Alice")
    view = _batch_view(qtbot, tmp_path, library, loaded=True)
    view.voice_combo.setCurrentIndex(0)
    view._on_default_voice()
    assert view.open_script(_script(tmp_path, "scene", lines))
    return view


def test_lines_without_a_voice_are_rendered_only_after_asking_once(qtbot: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    view = _voiceless_project(qtbot, tmp_path, 3)
    asked: list[str] = []

    def answer(reply: str) -> Any:
        return lambda _parent, text, suggestion: (asked.append(f"{text} [{suggestion}]"), reply)[1]

    monkeypatch.setattr(batch_voice_choice, "ask_no_voice", answer(batch_voice_choice.CANCEL))
    assert not view.run_all()  # ... still asked before three lines are spoken in no one's voice
    assert len(asked) == 1 and "All 3 lines" in asked[0] and "Alice" in asked[0]
    assert "Not started" in view.message.text() and not view.controller.is_running
    monkeypatch.setattr(batch_voice_choice, "ask_no_voice", answer(batch_voice_choice.WITHOUT))
    with qtbot.waitSignal(view.controller.finished, timeout=60_000):
        assert view.run(view.project.ids_needing_work()[:1])
    assert len(asked) == 2 and view.project.rows[0].voice == "" and not view.project.voice_for(view.project.rows[0])
    with qtbot.waitSignal(view.controller.finished, timeout=60_000):
        assert view.run_all()  # once per project: no second question
    assert len(asked) == 2
    _close(view)


def test_use_the_suggested_voice_from_the_question(qtbot: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    view = _voiceless_project(qtbot, tmp_path, 2)
    monkeypatch.setattr(batch_voice_choice, "ask_no_voice", lambda *_a: batch_voice_choice.USE)
    with qtbot.waitSignal(view.controller.finished, timeout=60_000):
        assert view.run_all()
    # "Use “Alice”": the lines are spoken in Alice's voice, which is now the project's default voice
    assert view.voice_combo.currentData() == "Alice"
    assert all(view.project.voice_for(row) == "Alice" for row in view.project.rows)
    _close(view)


def test_the_question_offers_the_voice_render_without_or_cancel(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    texts: list[list[str]] = []

    def press(label: str) -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        texts.append([b.text() for b in box.buttons()])
        next(b for b in box.buttons() if b.text().replace("&", "") == label).click()

    for label, expected in (("Use \u201cAlice\u201d", batch_voice_choice.USE),
                            ("Render without a voice", batch_voice_choice.WITHOUT),
                            ("Cancel", batch_voice_choice.CANCEL)):
        QTimer.singleShot(50, lambda label=label: press(label))
        assert batch_voice_choice.ask_no_voice(None, "All 2 lines to render have no voice.", "Alice") == expected
    assert {"Use \u201cAlice\u201d", "Render without a voice"} <= {t.replace("&", "") for t in texts[0]}


# -- 7. Delete asks, Undo brings it back; CPU warning; Ctrl shortcuts ------------------------------
def _take(history: History, text: str, seed: int) -> Any:
    result = SynthesisResult(audio=np.full(2400, 0.1, np.float32), sample_rate=24000,
                             codes=np.zeros((0, 8), np.int64), sentences=(), seed=seed, modality="nar-len",
                             elapsed_s=0.1)
    return history.add(result, text=text, voice="", language="en", model="m", settings=GenerationSettings())


def test_history_delete_asks_first_and_undo_restores_the_take_and_its_file(qtbot: Any, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    history = History(tmp_path / "history")
    old, new = _take(history, "The older take.", 1), _take(history, "The newer take.", 2)
    model = HistoryModel(history)
    panel = HistoryPanel(model)
    qtbot.addWidget(panel)
    panel.show()
    panel.select(old.id)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda _p, _t, text, *_a, **_k: (asked.append(text), NO)[1])
    panel.delete.click()
    assert model.rowCount() == 2 and len(asked) == 1 and "The older take." in asked[0]  # No: nothing deleted
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: YES)
    panel.delete.click()
    audio = history.folder / old.audio_file
    assert model.rowCount() == 1 and not audio.exists() and (history.folder / TRASH_DIR / audio.name).is_file()
    assert panel.undo_row.isVisible() and "The older take." in panel.undo_label.text()
    panel.undo.click()
    assert [model.take_at(i).id for i in range(model.rowCount())] == [new.id, old.id]  # at its place
    assert audio.is_file() and panel.current_take() == old and not panel.undo_row.isVisible()
    index = json.loads(history.index_path.read_text(encoding="utf-8"))
    assert [t["id"] for t in index["takes"]] == [old.id, new.id]
    assert History(history.folder).load_audio(old)[0].shape == (2400,)


def test_the_cpu_warning_is_in_sight(qtbot: Any, tmp_path: Path) -> None:
    window = open_window(qtbot, tmp_path, CountingSynth())  # its model runs on the CPU
    assert window.cpu_badge.isVisible()
    assert "CPU" in window.cpu_badge.text() and "longer" in window.cpu_badge.text()
    window.close()


class DesktopLineEdit(QLineEdit):
    """A line edit as it behaves under KDE and GNOME key bindings, where Ctrl+E is "move to the end of the
    line" (``QKeySequence.MoveToEndOfLine``) and the field claims it; the offscreen platform has Windows'
    bindings, where it does not."""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and \
                event.keyCombination() == QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_E):
            event.accept()
            return True
        return super().event(event)


def test_ctrl_shortcuts_work_whatever_has_the_focus(qtbot: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window(qtbot, tmp_path, CountingSynth())
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: ("", ""))  # Export asks where: cancel
    window.output_panel.set_clip(np.zeros(2400, np.float32), 24000, title="a take", name="take")
    window.activateWindow()
    exported: list[bool] = []
    window.export_action.triggered.connect(lambda *_: exported.append(True))
    desktop = DesktopLineEdit(window.sampler_panel)  # a field that claims Ctrl+E, as on a Linux desktop
    desktop.show()
    fields = [desktop, window.sampler_panel.spins["max_steps"], window.sampler_panel.seed, window.text_panel.editor]
    for field in fields:
        field.setFocus()
        QApplication.processEvents()
        QTest.keyClick(field, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        assert exported, f"Ctrl+E was swallowed by {type(field).__name__}"
        exported.clear()
    # Keys a text field needs stay its own, even when the window has an action on them.
    grabbed = QAction("Select all takes", window)
    grabbed.setShortcut(QKeySequence.StandardKey.SelectAll)
    window.addAction(grabbed)
    fired: list[bool] = []
    grabbed.triggered.connect(lambda *_: fired.append(True))
    seed = window.sampler_panel.seed
    seed.setText("1234")
    seed.setFocus()
    QTest.keyClick(seed, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert seed.selectedText() == "1234" and not fired
    window.close()
