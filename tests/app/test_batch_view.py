"""The Batch tab driven through its widgets: open a script, edit cells, run / pause / cancel / retry on a
tiny real model in the worker thread, audition and approve takes, reopen after a crash, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit, QMessageBox

from tests.audio.fake_stream import FakeStreamFactory
from tests.batch.helpers import SR, tiny_model, voice_clip
from valle_studio.app.audio_bridge import PlaybackController
from valle_studio.app.batch_table import COL_DURATION, COL_INDEX, COL_SEED, COL_STATUS, COL_TAKES, COL_TEXT, COL_VOICE
from valle_studio.app.jobs import EngineController, LoadSpec
from valle_studio.app.widgets.batch_export_dialog import BatchExportDialog, BatchExporter
from valle_studio.app.widgets.batch_view import BatchView
from valle_studio.batch.export import ExportOptions
from valle_studio.batch.project import PROJECT_FILE
from valle_studio.batch.runner import PAUSED, RESUMED, ROW_FINISHED, ROW_PROGRESS, ROW_STARTED
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.voices import VoiceLibrary

pytestmark = pytest.mark.gui
FAST = GenerationSettings(max_steps=2, max_duration=0.5)
SCRIPT = "# scene\n[Alice] Who is there?\nIt is me.\nAlice: Come in.\nNarrator: Thank you.\n"
RUN_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def synth(tiny_tokenizer: Path, tmp_path_factory: pytest.TempPathFactory):
    from valle_studio.engine.codec import EncodecVocosCodec
    from valle_studio.engine.synthesizer import Synthesizer

    return Synthesizer.load(tiny_model(tmp_path_factory.mktemp("model")), device="cpu", dtype="float32",
                            codec=EncodecVocosCodec.random(seed=0), tokenizer=tiny_tokenizer)


@pytest.fixture
def voices(tmp_path: Path) -> VoiceLibrary:
    library = VoiceLibrary(tmp_path / "voices")
    library.save("Narrator", [(voice_clip(), SR)])
    library.save("Alice", [(voice_clip(base=260.0), SR)])
    return library


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "scene.txt"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.fixture
def make_view(qtbot, tmp_path: Path, synth, voices: VoiceLibrary):
    views: list[BatchView] = []
    engines: list[EngineController] = []
    playback = PlaybackController(stream_factory=FakeStreamFactory(speed=25))

    def make(*, reopen_last: bool = False, settings: GenerationSettings = FAST, loaded: bool = True) -> BatchView:
        engine = EngineController(lambda spec: synth)  # the window's engine: it holds the model, not the view
        engines.append(engine)
        if loaded:
            with qtbot.waitSignal(engine.model_loaded, timeout=60_000):
                engine.load(LoadSpec("tiny"))
        view = BatchView(engine, voices, playback, lambda: settings,
                         projects_root=tmp_path / "batch", reopen_last=reopen_last)
        qtbot.addWidget(view)
        view.resize(1000, 640)
        view.show()
        views.append(view)
        return view

    yield make
    for view in views:
        view.shutdown()
    for engine in engines:
        assert engine.shutdown()
    playback.shutdown()


def cell(view: BatchView, row: int, column: int) -> str:
    return view.model.index(row, column).data() or ""


def run_and_wait(qtbot, view: BatchView, button) -> object:
    with qtbot.waitSignal(view.controller.finished, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_empty_view_then_a_script_fills_the_table(make_view, script: Path) -> None:
    view = make_view()
    assert view.stack.currentIndex() == 0 and not view.run_all_button.isEnabled()
    assert view.voice_combo.currentData() == "Alice"  # the first saved voice: the default for a new script
    view.voice_combo.setCurrentIndex(view.voice_combo.findData("Narrator"))
    assert view.open_script(script)
    assert view.stack.currentIndex() == 1 and view.model.rowCount() == 4
    assert [cell(view, r, COL_VOICE) for r in range(4)] == ["Alice", "Narrator", "Alice", "Narrator"]
    assert view.model.index(1, COL_VOICE).data(Qt.ItemDataRole.FontRole).italic()  # the default voice
    assert [cell(view, r, COL_STATUS) for r in range(4)] == ["Pending"] * 4
    assert cell(view, 0, COL_SEED) == "random" and cell(view, 3, COL_TEXT) == "Thank you."
    assert "scene" in view.project_label.text() and "0 of 4 done" in view.project_label.text()
    assert view.run_all_button.isEnabled() and not view.cancel_button.isEnabled()
    assert view.project.folder.parent == view.projects_root


def test_cells_are_edited_in_place_and_saved(qtbot, make_view, script: Path) -> None:
    view = make_view()
    view.open_script(script)
    index = view.model.index(1, COL_TEXT)
    view.table.setCurrentIndex(index)
    view.table.edit(index)
    editor = view.table.findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "It is   me, Bob.")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits through a queued call
    qtbot.waitUntil(lambda: cell(view, 1, COL_TEXT) == "It is me, Bob.", timeout=5000)
    saved = json.loads((view.project.folder / PROJECT_FILE).read_text())
    assert saved["rows"][1]["text"] == "It is me, Bob."

    assert view.model.setData(view.model.index(1, COL_VOICE), "Alice")
    assert view.model.setData(view.model.index(1, COL_SEED), "1_234")
    assert (cell(view, 1, COL_VOICE), cell(view, 1, COL_SEED)) == ("Alice", "1234")
    assert not view.model.setData(view.model.index(1, COL_SEED), "soon")
    assert "A seed is a whole number" in view.message.text() and view.message_frame.isVisible()
    assert not view.model.setData(view.model.index(1, COL_TEXT), "   ")
    assert "cannot be empty" in view.message.text()


def test_run_all_in_the_worker_with_progress_then_audition_and_approve(qtbot, make_view, script: Path) -> None:
    view = make_view()
    view.open_script(script)
    seen: list[tuple[str, str]] = []
    busy: list[bool] = []
    view.busy_changed.connect(busy.append)

    def watch(event) -> None:  # what the table showed while the worker ran
        row = view.project.index_of(event.row_id)
        seen.append((event.kind, cell(view, row, COL_STATUS)))
        if event.kind == ROW_STARTED:
            assert not view.run_all_button.isEnabled() and view.cancel_button.isEnabled()

    view.controller.batch_event.connect(watch)
    summary = run_and_wait(qtbot, view, view.run_all_button)
    assert summary.ok and len(summary.finished) == 4 and busy == [True, False]
    assert ("row_started", "0%") in seen and ("row_finished", "Done") in seen
    assert [cell(view, r, COL_STATUS) for r in range(4)] == ["Done"] * 4
    assert all(cell(view, r, COL_DURATION).endswith(" s") and cell(view, r, COL_TAKES) == "1" for r in range(4))
    assert view.progress.value() == 1000 and view.progress_label.text().startswith("Finished")
    assert "4 lines generated" in view.message.text()

    # Regenerate line 1: a second take, approved; the first can be approved back.
    view.table.selectRow(0)
    summary = run_and_wait(qtbot, view, view.run_selected_button)
    row = view.project.rows[0]
    assert summary.finished == (row.id,) and len(row.takes) == 2 and row.approved == row.takes[1].id
    panel = view.takes
    assert panel.takes.count() == 2 and panel.takes.item(1).text().startswith("✓ Take 2")
    panel.takes.setCurrentRow(0)
    qtbot.mouseClick(panel.approve_button, Qt.MouseButton.LeftButton)
    assert row.approved == row.takes[0].id and panel.takes.item(0).text().startswith("✓ Take 1")
    saved = json.loads((view.project.folder / PROJECT_FILE).read_text())
    assert saved["rows"][0]["approved"] == row.takes[0].id

    # Audition in the shared player: the take's own samples, played by the window's controller.
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert view.playback.owner is panel and view.playback.is_playing
    expected = view.project.take_audio(row.takes[0])[0]
    assert view.playback.duration == pytest.approx(len(expected) / SR)
    assert panel.play_button.text() == "Pause"
    view.playback.stop()
    # Space on the table plays the current line's approved take.
    view.table.setCurrentIndex(view.model.index(2, COL_TEXT))
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Space)
    assert view.playback.is_playing and view.playback.duration == pytest.approx(
        view.project.rows[2].approved_take.duration_s)
    view.playback.stop()


def test_pause_resume_then_cancel_leaves_the_rest_pending(qtbot, make_view, script: Path) -> None:
    view = make_view()
    view.open_script(script)
    kinds: list[str] = []
    resumed = [False]

    def steer(event) -> None:
        kinds.append(event.kind)
        if event.kind == ROW_FINISHED and kinds.count(ROW_FINISHED) == 1:
            qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
        elif resumed[0] and event.kind in (ROW_STARTED, ROW_PROGRESS) and view.cancel_button.isEnabled():
            qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)

    view.controller.batch_event.connect(steer)
    qtbot.mouseClick(view.run_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: PAUSED in kinds, timeout=RUN_TIMEOUT_MS)
    assert view.controller.is_paused and view.pause_button.text() == "Resume" and view.pause_button.isChecked()
    assert "paused" in view.progress_label.text()
    count = len(kinds)
    qtbot.wait(300)
    assert kinds[count:] == []  # nothing runs while paused
    resumed[0] = True
    with qtbot.waitSignal(view.controller.finished, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)  # resume; the next event cancels
    assert blocker.args[0].cancelled and RESUMED in kinds
    statuses = [cell(view, r, COL_STATUS) for r in range(4)]
    assert statuses[0] == "Done" and statuses[2:] == ["Pending", "Pending"]
    assert statuses[1] in ("Done", "Pending")  # cancel lands at the next model step of line 2
    assert view.pause_button.text() == "Pause" and not view.cancel_button.isEnabled()
    assert "cancelled" in view.message.text() and view.progress_label.text().startswith("Cancelled")


def test_failed_line_is_shown_and_retried(qtbot, make_view, voices: VoiceLibrary, script: Path) -> None:
    broken = voices.save("Broken", [(voice_clip(), SR)])
    clip = broken.clips[0].path
    saved_clip = clip.read_bytes()
    clip.unlink()
    script.write_text("One.\n[Broken] Two.\n", encoding="utf-8")
    view = make_view()
    view.open_script(script)
    summary = run_and_wait(qtbot, view, view.run_all_button)
    assert len(summary.failed) == 1
    status = view.model.index(1, COL_STATUS)
    assert status.data() == "Failed" and "does not exist" in status.data(Qt.ItemDataRole.ToolTipRole)
    assert status.data(Qt.ItemDataRole.ForegroundRole).color().red() > 200
    assert view.run_failed_button.isEnabled() and "1 failed" in view.message.text()
    clip.write_bytes(saved_clip)  # repaired
    summary = run_and_wait(qtbot, view, view.run_failed_button)
    assert summary.ok and summary.finished == (view.project.rows[1].id,)
    assert cell(view, 1, COL_STATUS) == "Done" and not view.run_failed_button.isEnabled()


def test_reopening_resumes_where_it_stopped(qtbot, make_view, script: Path) -> None:
    first = make_view()
    first.open_script(script)
    first.table.selectRow(0)
    run_and_wait(qtbot, first, first.run_selected_button)
    folder = first.project.folder
    done_take = first.project.rows[0].approved
    first.shutdown()  # the process is gone (a crash releases the lock the same way)

    again = make_view(reopen_last=True)
    assert again.project is not None and again.project.folder == folder
    assert "1 of 4 lines done" in again.message.text() and "Run all" in again.message.text()
    started: list[str] = []
    again.controller.batch_event.connect(lambda e: e.kind == ROW_STARTED and started.append(e.row_id))
    summary = run_and_wait(qtbot, again, again.run_all_button)
    ids = [r.id for r in again.project.rows]
    assert started == ids[1:] and summary.finished == tuple(ids[1:])  # line 1 was not redone
    assert again.project.rows[0].approved == done_take and len(again.project.rows[0].takes) == 1


def test_row_settings_insert_and_delete(qtbot, make_view, script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    view = make_view(settings=FAST.replace(top_k=40))
    view.open_script(script)
    assert view.project.settings.top_k == 40
    view.project.set_settings(FAST)
    view.table.selectRow(2)
    view._set_row_settings(view.selected_row_ids(), True)
    assert view.project.rows[2].settings == {"top_k": 40}
    assert cell(view, 2, COL_INDEX) == "3 ⚙" and "top k 40" in view.model.index(2, COL_INDEX).data(
        Qt.ItemDataRole.ToolTipRole)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    view.delete_rows(view.selected_row_ids())
    assert view.model.rowCount() == 3 and "Alice: Come in." not in [r.text for r in view.project.rows]


def test_no_model_loaded_is_explained(make_view, script: Path) -> None:
    view = make_view(loaded=False)
    view.open_script(script)
    assert not view.run_all()
    assert "Load a voice model first" in view.message.text() and not view.controller.is_running
    assert cell(view, 0, COL_STATUS) == "Pending"


def _drag(kind, path: Path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime, kind(_event_pos(kind), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)


def test_dropping_a_script_opens_it(make_view, script: Path, tmp_path: Path) -> None:
    view = make_view()
    _mime, enter = _drag(QDragEnterEvent, tmp_path / "clip.wav")
    view.dragEnterEvent(enter)
    assert not enter.isAccepted()
    _mime, enter = _drag(QDragEnterEvent, script)
    view.dragEnterEvent(enter)
    assert enter.isAccepted()
    _mime, drop = _drag(QDropEvent, script)
    view.dropEvent(drop)
    assert view.project is not None and view.model.rowCount() == 4


def test_export_writes_files_and_asks_before_touching_foreign_ones(qtbot, make_view, script: Path,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    view = make_view()
    view.open_script(script)
    run_and_wait(qtbot, view, view.run_all_button)

    dialog = BatchExportDialog(view.project, view)
    qtbot.addWidget(dialog)
    assert "001_Alice_who-is-there.wav" in dialog.preview.text()
    dialog.template.setText("{voice.__class__}")
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert "unknown field" in dialog.preview.text()
    dialog.template.setText("{index:02d}-{slug}")
    dialog.folder.setText(str(tmp_path / "out"))
    dialog.srt.setChecked(True)
    options = dialog.options()
    assert options.template == "{index:02d}-{slug}" and options.srt and options.on_conflict == "error"

    out = tmp_path / "out"
    out.mkdir()
    (out / "01-who-is-there.wav").write_bytes(b"not ours")
    asked: list[str] = []
    monkeypatch.setattr(BatchExporter, "ask_conflict", lambda self, conflict: asked.append(str(conflict)) or "rename")
    with qtbot.waitSignal(view.exporter.done, timeout=RUN_TIMEOUT_MS) as blocker:
        assert view.start_export(ExportOptions(out, template="{index:02d}-{slug}", srt=True))
    text, error = blocker.args
    assert not error and "Exported 4 files" in text and "-2 suffix" in text
    assert asked and "01-who-is-there.wav" in asked[0]
    assert (out / "01-who-is-there.wav").read_bytes() == b"not ours"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["01-who-is-there-2.wav", "01-who-is-there.wav", "02-it-is-me.wav", "03-come-in.wav",
                     "04-thank-you.wav", "combined.srt", "combined.vtt", "manifest.csv", "manifest.json"]
    samples = np.asarray(json.loads((out / "manifest.json").read_text())["files"][0]["duration_s"])
    assert samples > 0 and view.progress.value() == 1000


def _event_pos(event_type: type) -> object:
    """Drop events take a QPointF; drag enter/move events take a QPoint (PySide6 6.11 is strict)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QDropEvent

    return QPointF(10, 10) if event_type is QDropEvent else QPoint(10, 10)


def test_lexicon_button_asks_for_the_open_projects_lexicon(qtbot, make_view, script: Path) -> None:
    view = make_view()
    assert not view.lexicon_button.isEnabled()  # no project yet
    assert view.open_script(script)
    assert view.lexicon_button.isEnabled()
    with qtbot.waitSignal(view.lexicon_requested, timeout=2000) as asked:
        view.lexicon_button.click()
    assert asked.args == [view.project] and view.project.lexicon_path.parent == view.project.folder
