"""The main window follows the engine's busy state: a studio take and a batch never run together.

The window runs the counting synthesizer of ``test_engine_jobs`` (it records whether two model calls
ever overlapped) behind a stand-in model store, with no output device, so takes are generated whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.app.test_engine_jobs import CountingSynth
from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.main_window import BATCH_RUNNING_TAB, BATCH_TAB, MainWindow
from valle_studio.app.services import AppServices
from valle_studio.app.settings import AppSettings
from valle_studio.app.widgets.batch_run_bar import WAITING_TEXT
from valle_studio.studio.history import History
from valle_studio.studio.voices import VoiceLibrary

pytestmark = pytest.mark.gui


class OneModelStore:
    """The part of the model store the window reads: one installed model, chosen as the default."""

    default_model = "counting"

    def installed(self) -> list[str]:
        return ["counting"]

    def available(self) -> list[str]:
        return []


def open_window(qtbot: Any, tmp_path: Path, synth: CountingSynth) -> MainWindow:
    factory = FakeStreamFactory(speed=50.0, output_reason="No audio output device found")
    services = AppServices(settings=AppSettings.from_file(tmp_path / "settings.ini"),
                           history=History(tmp_path / "history"), store=OneModelStore(),  # type: ignore[arg-type]
                           loader=lambda spec: synth, playback=PlaybackController(stream_factory=factory),
                           recording=RecordingController(stream_factory=factory),
                           voices=VoiceLibrary(tmp_path / "voices"))
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.engine.model_loaded, timeout=30_000):
        window.start()
    return window


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "scene.txt"
    path.write_text("First line.\nSecond line.\n", encoding="utf-8")
    return path


def test_batch_during_a_take_is_refused_and_generate_during_a_batch_too(qtbot: Any, tmp_path: Path,
                                                                        script: Path) -> None:
    synth = CountingSynth()
    window = open_window(qtbot, tmp_path, synth)
    batch = window.batch_view
    assert batch.open_script(script)
    window.text_panel.set_text("hold this take")
    assert window.generate() is not None
    assert synth.reached.wait(10)

    # The Batch tab knows: its run buttons are off and say why; a run asked for anyway is refused.
    assert window.engine_label.text() == "Engine: generating a take"
    assert not batch.run_all_button.isEnabled() and "Studio tab" in batch.run_all_button.toolTip()
    assert not batch.run_all()
    assert "A take is being generated on the Studio tab" in batch.message.text()
    assert not batch.controller.is_running and window.stop_action.isEnabled()

    with qtbot.waitSignal(window.take_added, timeout=10_000):
        synth.release.set()
    assert batch.run_all_button.isEnabled() and "Generate every line" in batch.run_all_button.toolTip()

    # Now the batch holds the engine: Generate is off, says why, and refuses when triggered anyway.
    synth.steps, synth.step_s = 60, 0.01
    with qtbot.waitSignal(batch.controller.batch_event, timeout=10_000):
        qtbot.mouseClick(batch.run_all_button, Qt.MouseButton.LeftButton)
    assert window.tabs.tabText(1) == BATCH_RUNNING_TAB
    assert window.engine_label.text() == 'Engine: running the batch "scene"'
    assert window.progress_panel.stage.text() == 'Engine busy: running the batch "scene" on the Batch tab'
    assert not window.generate_action.isEnabled() and not window.stop_action.isEnabled()
    assert window.generate_action.toolTip() == "A batch is running on the Batch tab: wait for it or cancel it first."
    assert window.generate() is None
    assert window.statusBar().currentMessage().startswith("A batch is running")
    with qtbot.waitSignal(batch.controller.finished, timeout=30_000) as done:
        pass
    assert done.args[0].ok and window.tabs.tabText(1) == BATCH_TAB and window.engine_label.text() == "Engine: idle"
    assert window.generate_action.isEnabled() and window.progress_panel.stage.text() == "Ready"
    assert [text for text, *_ in synth.calls] == ["hold this take", "First line.", "Second line."]
    assert synth.max_active == 1 and synth.overlapping() == []
    window.close()
    assert not window.engine.worker_thread.isRunning()


def test_batch_after_esc_waits_for_the_take_to_wind_down(qtbot: Any, tmp_path: Path, script: Path) -> None:
    synth = CountingSynth()
    synth.hold_checks_cancel = False  # the stopped take keeps the engine thread until released
    window = open_window(qtbot, tmp_path, synth)
    batch = window.batch_view
    batch.open_script(script)
    window.text_panel.set_text("hold, then Esc")
    window.generate()
    assert synth.reached.wait(10)
    window.stop_action.trigger()  # Esc
    assert window.progress_panel.stage.text() == "Stopped" and window.engine_label.text() == "Engine: stopping a take"
    assert batch.run_all_button.isEnabled()  # a take winding down holds nothing ...
    assert batch.run_all() and batch.progress_label.text() == WAITING_TEXT  # ... the batch queues behind it
    qtbot.wait(100)
    assert synth.calls == []
    with qtbot.waitSignal(batch.controller.finished, timeout=30_000) as done:
        synth.release.set()
    assert done.args[0].ok and [text for text, *_ in synth.calls] == ["hold, then Esc", "First line.",
                                                                       "Second line."]
    assert synth.max_active == 1 and synth.overlapping() == [] and window.history_model.rowCount() == 0
    window.close()


def test_model_change_during_a_batch_stops_it_and_says_so(qtbot: Any, tmp_path: Path, script: Path) -> None:
    synth = CountingSynth(steps=400, step_s=0.005)
    window = open_window(qtbot, tmp_path, synth)
    batch = window.batch_view
    batch.open_script(script)
    with qtbot.waitSignal(batch.controller.batch_event, timeout=10_000):
        batch.run_all()
    with qtbot.waitSignal(batch.controller.finished, timeout=30_000) as done:
        window.load_default_model()  # the model manager changed the device, say
        assert window.statusBar().currentMessage() == 'Stopped the batch "scene" to change the model to counting.'
    assert done.args[0].cancelled
    assert "the lines not reached are still pending" in batch.message.text()
    assert "Stopped the batch" in batch.message.text()
    qtbot.waitUntil(lambda: window.model_ready, timeout=30_000)
    assert window.engine_label.text() == "Engine: idle" and synth.max_active == 1
    window.close()


def test_the_model_manager_warns_and_closing_mid_batch_stops_it_cleanly(qtbot: Any, tmp_path: Path,
                                                                          script: Path) -> None:
    synth = CountingSynth(steps=2000, step_s=0.005)
    window = open_window(qtbot, tmp_path, synth)
    dialog = window.open_model_manager()
    assert not dialog.busy_note.isVisible()
    batch = window.batch_view
    batch.open_script(script)
    with qtbot.waitSignal(batch.controller.batch_event, timeout=10_000):
        batch.run_all()
    assert dialog.busy_note.isVisible() and "stops it" in dialog.busy_note.text()
    project = batch.project
    window.close()  # mid-row: the run is cancelled and waited for, then the project is let go
    assert not window.engine.worker_thread.isRunning() and synth.active == 0
    assert all(project.status(row) == "pending" for row in project.rows)  # nothing half-done recorded
