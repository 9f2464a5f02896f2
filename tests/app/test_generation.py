"""The main window end to end with a tiny random model: real engine thread, real signals, real files.

The model is written by ``engine.debug.write_tiny_checkpoint`` into a temporary model store, the
tokenizer comes from the ``tiny_tokenizer`` fixture and the codec is ``EncodecVocosCodec.random``. Sound
goes to ``tests.audio.fake_stream.FakeStreamFactory``, a stand-in for PortAudio that runs its own
callback thread at 20x real time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt, QThread, QTimer
from PySide6.QtTest import QTest

from tests.app.export_wait import export_and_wait
from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.jobs import LoadSpec
from valle_studio.app.main_window import MainWindow
from valle_studio.app.services import AppServices
from valle_studio.app.settings import AppSettings
from valle_studio.engine.settings import PRESETS
from valle_studio.studio.history import History
from valle_studio.studio.voices import VoiceLibrary

pytestmark = pytest.mark.gui

# Short runs: one piece, 5 demasking steps, at most 1 s of speech.
FAST = PRESETS["default"].replace(max_steps=5, max_duration=1.0, seed=1234)


def make_services(home: Path, tokenizer: Path, codec: Any, *,
                  output_reason: str | None = None) -> AppServices:
    from valle_studio.engine.store import ModelStore

    store = ModelStore(home / "models")
    loads: list[LoadSpec] = []

    def loader(spec: LoadSpec) -> Any:
        from valle_studio.engine.synthesizer import Synthesizer

        loads.append(spec)
        assert QThread.currentThread().objectName() == "valle-engine"  # never on the UI thread
        return Synthesizer.load(store.path_of(spec.model), device="cpu", dtype="float32", codec=codec,
                                tokenizer=tokenizer, store=store)  # as the app's loader does: its LoRAs too

    factory = FakeStreamFactory(speed=20.0, output_reason=output_reason)
    services = AppServices(
        settings=AppSettings.from_file(home / "settings.ini"), history=History(home / "history"),
        store=store, loader=loader, playback=PlaybackController(stream_factory=factory),
        recording=RecordingController(stream_factory=factory), voices=VoiceLibrary(home / "voices"),
    )
    services.loads = loads  # type: ignore[attr-defined]
    return services


def open_window(qtbot: Any, services: AppServices) -> MainWindow:
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.engine.model_loaded, timeout=60_000):
        window.start()
    return window


def close_window(window: MainWindow) -> None:
    window.close()
    assert not window.engine.worker_thread.isRunning()


def test_generate_take_through_worker_thread(qtbot: Any, home: Path, tiny_tokenizer: Path, codec: Any) -> None:
    services = make_services(home, tiny_tokenizer, codec)
    window = open_window(qtbot, services)
    assert services.loads == [LoadSpec("tiny", "auto", "auto")]  # type: ignore[attr-defined]
    assert window.model_label.text() == "Model: tiny"
    assert window.device_label.text() == "Device: cpu"
    assert "CPU" in window.device_label.toolTip()  # says up front that the CPU is slow
    assert window.precision_label.text() == "Precision: float32"
    assert not window.banner.isVisible()

    window.text_panel.set_text("Hello there.")
    window.text_panel.set_split_mode("none")
    window.sampler_panel.set_settings(FAST)
    assert window.generate_action.isEnabled()
    stages: list[str] = []
    window.engine.job_progress.connect(lambda _j, p: stages.append(p.stage))
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    with qtbot.waitSignal(window.take_added, timeout=60_000) as blocker:
        window.generate_action.trigger()
        assert not window.generate_action.isEnabled() and window.stop_action.isEnabled()
    timer.stop()
    take = blocker.args[0]

    # The UI thread kept running its event loop all along: the timer fired and the clock ticked.
    assert len(ticks) >= 5
    assert window.progress_panel.ticks >= 1
    assert {"predicting length", "demasking", "refining", "decoding"} <= set(stages)
    assert window.progress_panel.bar.value() == 1000
    assert window.progress_panel.rtf.text().startswith("RTF ")

    assert take.text == "Hello there." and take.seed == 1234 and take.model == "tiny"
    assert take.settings == FAST.replace(split="none")
    assert take.modality == "nar-len" and 0 < take.duration_s <= 1.0 + 1e-6
    audio, rate = services.history.load_audio(take)
    assert rate == 24_000 and len(audio) == pytest.approx(take.duration_s * rate, abs=1)
    assert window.history_model.rowCount() == 1
    assert window.output_panel.samples is not None and len(window.output_panel.samples) == len(audio)
    assert window.generate_action.isEnabled() and not window.stop_action.isEnabled()
    close_window(window)


def test_cancel_mid_run_never_finishes(qtbot: Any, home: Path, tiny_tokenizer: Path, codec: Any) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    window.text_panel.set_text("A sentence that would take a long while to demask.")
    window.sampler_panel.set_settings(PRESETS["default"].replace(max_steps=500, max_duration=8.0, seed=7))
    finished: list[int] = []
    window.engine.job_finished.connect(lambda job, _r: finished.append(job))
    with qtbot.waitSignal(window.engine.job_progress, timeout=60_000,
                          check_params_cb=lambda _j, p: p.stage == "demasking"):
        job = window.generate()
    with qtbot.waitSignal(window.engine.job_stopped, timeout=10_000) as stopped:
        window.stop_action.trigger()  # Esc
        assert window.progress_panel.stage.text() == "Stopped"
        assert window.generate_action.isEnabled()
    assert stopped.args == [job, "cancelled"]  # the worker itself ended by cancellation
    qtbot.wait(50)
    assert finished == [] and window.history_model.rowCount() == 0
    close_window(window)


def test_keyboard_generate_stop_and_space(qtbot: Any, home: Path, tiny_tokenizer: Path, codec: Any) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    window.sampler_panel.set_settings(PRESETS["default"].replace(max_steps=500, max_duration=8.0))
    editor = window.text_panel.editor
    editor.setFocus()
    QTest.keyClicks(editor, "Hi there")  # Space types into the editor; it does not toggle playback
    assert editor.toPlainText() == "Hi there"
    with qtbot.waitSignal(window.engine.job_progress, timeout=60_000):
        QTest.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.engine.is_busy and editor.toPlainText() == "Hi there"
    with qtbot.waitSignal(window.engine.job_stopped, timeout=10_000) as stopped:
        QTest.keyClick(editor, Qt.Key.Key_Escape)
    assert stopped.args[1] == "cancelled"
    # Space on a focused button presses the button (keyboard use) instead of toggling playback.
    window.sampler_panel.seed.setText("77")
    button = window.sampler_panel.random_seed
    button.setFocus()
    toggles: list[bool] = []
    window.play_action.triggered.connect(lambda *_: toggles.append(True))
    QTest.keyClick(button, Qt.Key.Key_Space)
    assert window.sampler_panel.seed.text() == "" and toggles == []
    window.output_panel.set_clip(np.zeros(2400, np.float32), 24_000, title="clip", name="clip")
    assert window.play_action.isEnabled()
    window.history_panel.list.setFocus()
    QTest.keyClick(window.history_panel.list, Qt.Key.Key_Space)
    assert toggles == [True]  # elsewhere Space is play/pause
    assert window.generate_action.shortcuts()[0].toString() == "Ctrl+Return"
    assert window.play_action.shortcut().toString() == "Space"
    close_window(window)


def test_history_persists_and_reuse_and_audition(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                 codec: Any) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    window.text_panel.set_text("Keep me.")
    window.text_panel.set_split_mode("none")
    window.sampler_panel.set_settings(FAST.replace(ar_temperature=0.7))
    with qtbot.waitSignal(window.take_added, timeout=60_000) as blocker:
        window.generate()
    first = blocker.args[0]
    window.resize(1180, 707)
    close_window(window)

    # A restart: new services over the same folders.
    services = make_services(home, tiny_tokenizer, codec)
    again = open_window(qtbot, services)
    assert again.history_model.rowCount() == 1
    take = again.history_model.take_at(0)
    assert take == first
    assert again.text_panel.text() == "Keep me." and again.text_panel.split_mode() == "none"
    assert again.sampler_panel.settings().ar_temperature == pytest.approx(0.7)  # settings persisted too
    # And the window geometry (the default is 1280x780; the offscreen screen may clamp the width).
    assert again.height() == 707 and not services.settings.geometry.isEmpty()

    again.sampler_panel.set_settings(PRESETS["expressive"])
    again.history_panel.select(take.id)
    again.history_panel.reuse.click()
    assert again.sampler_panel.settings() == FAST.replace(ar_temperature=0.7, split="none")
    assert again.sampler_panel.seed.text() == "1234"

    # Clicking the take auditions it: its audio goes to the output and plays on the (fake) device.
    again.output_panel.clear()
    index = again.history_model.index(0)
    with qtbot.waitSignal(services.playback.state_changed, timeout=5_000,
                          check_params_cb=lambda s: s == "playing"):
        again.history_panel.list.clicked.emit(index)
    audio, _ = services.history.load_audio(take)
    np.testing.assert_array_equal(again.output_panel.samples, audio)
    positions: list[float] = []
    services.playback.position_changed.connect(positions.append)
    qtbot.waitUntil(lambda: services.playback.state == "stopped", timeout=10_000)
    assert max(positions) > 0.1  # the cursor moved with playback
    assert again.output_panel.play.text() == "Play"

    # Clicking the waveform seeks: the cursor, the time label and the player all move there.
    again.output_panel.waveform.seek_requested.emit(0.5)
    assert again.output_panel.waveform.cursor_seconds() == pytest.approx(0.5)
    assert again.output_panel.time.text().startswith("0:00.5 / ")
    assert services.playback.position == pytest.approx(0.5, abs=0.01)
    with qtbot.waitSignal(services.playback.state_changed, timeout=5_000,
                          check_params_cb=lambda s: s == "playing"):
        again.play_action.trigger()  # Space
    with qtbot.waitSignal(services.playback.state_changed, timeout=5_000,
                          check_params_cb=lambda s: s == "paused"):
        again.play_action.trigger()
    assert again.output_panel.play.text() == "Play"
    close_window(again)


def test_generation_uses_the_chosen_voice(qtbot: Any, home: Path, tiny_tokenizer: Path, codec: Any) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    rng = np.random.default_rng(0)
    window.voice_panel.set_draft((0.1 * rng.standard_normal(3 * 24_000)).astype(np.float32), 24_000, "Alice")
    assert len(window.build_request().prompts) == 1
    window.text_panel.set_text("In Alice's voice.")
    window.text_panel.set_split_mode("none")
    window.sampler_panel.set_settings(FAST)
    with qtbot.waitSignal(window.take_added, timeout=60_000) as blocker:
        window.generate()
    assert blocker.args[0].voice == window.voice_panel.voice_name() == "Alice (unsaved)"
    close_window(window)


def test_export_and_read_back(qtbot: Any, home: Path, tiny_tokenizer: Path, codec: Any,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    window.text_panel.set_text("Export me.")
    window.text_panel.set_split_mode("none")
    window.sampler_panel.set_settings(FAST)
    with qtbot.waitSignal(window.take_added, timeout=60_000):
        window.generate()
    samples = window.output_panel.samples
    assert samples is not None

    from PySide6.QtWidgets import QFileDialog

    asked: list[str] = []

    def fake_dialog(_parent: Any, _title: str, start: str, filters: str, chosen: str) -> tuple[str, str]:
        asked.append(start)
        target = {"wav": "take", "flac": "take.flac", "ogg": "take"}[fake_dialog.kind]  # type: ignore[attr-defined]
        wanted = next(f for f in filters.split(";;") if fake_dialog.kind in f.lower())  # type: ignore[attr-defined]
        return str(home / target), wanted

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    for kind in ("wav", "flac", "ogg"):
        fake_dialog.kind = kind  # type: ignore[attr-defined]
        path = export_and_wait(window.output_panel)
        assert path == home / f"take.{kind}"
        data, rate = sf.read(path, dtype="float32")
        assert rate == 24_000 and len(data) == len(samples)
        # lossy Vorbis vs 16-bit PCM; the watermark is a small change (issue 17)
        tolerance = 0.3 if kind == "ogg" else 0.1
        assert np.max(np.abs(data - samples)) < tolerance
    assert asked[0].endswith("export-me_seed1234")
    from valle_studio.audio.tags import read_tags

    tags = read_tags(home / "take.flac")  # the take's own provenance (issue 17)
    assert (tags["VALLE_TEXT"], tags["VALLE_MODEL"]) == ("Export me.", "tiny")
    close_window(window)


def test_no_model_leads_to_model_manager(qtbot: Any, tmp_path: Path, tiny_tokenizer: Path, codec: Any) -> None:
    services = make_services(tmp_path, tiny_tokenizer, codec)  # empty store
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    window.start()
    assert window.banner.isVisible()
    assert "No voice model is installed yet" in window.banner.text()
    assert not window.generate_action.isEnabled()
    assert "model manager" in window.generate_action.toolTip()
    window.text_panel.set_text("Hello.")
    window.generate()  # with no model, Generate opens the model manager instead of failing
    dialog = window._dialog
    assert dialog is not None and dialog.isVisible()
    window.banner.action.click()
    assert window._dialog is dialog
    close_window(window)


def test_download_from_window_loads_the_model(qtbot: Any, tmp_path: Path, tiny_tokenizer: Path,
                                              codec: Any) -> None:
    from valle_studio.engine.debug import write_tiny_checkpoint
    from valle_studio.engine.progress import report

    services = make_services(tmp_path, tiny_tokenizer, codec)  # nothing installed

    class Downloader:  # the store's download signature; writes a real tiny checkpoint
        def download(self, name: str, *, progress: Any = None, cancel: Any = None) -> list[Path]:
            report(progress, cancel, "downloading model.sft", 0, 2)
            path = write_tiny_checkpoint(services.store.folder_of(name) / "model.sft")
            report(progress, cancel, "downloading model.sft", 2, 2)
            return [path]

    services.downloader = Downloader()
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    window.start()
    assert window.banner.isVisible()
    dialog = window.open_model_manager()
    with qtbot.waitSignal(window.engine.model_loaded, timeout=60_000) as loaded:
        dialog.download.click()
    assert loaded.args[0].model == services.store.default_model
    assert not window.banner.isVisible()
    window.text_panel.set_text("Now it can speak.")
    assert window.generate_action.isEnabled()
    close_window(window)
    assert dialog.task is None


def _dark_palette() -> Any:
    """A dark palette like the ones desktop themes supply (disabled and placeholder colours too)."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    colors = {"Window": "#2b2b2b", "Base": "#1e1e1e", "AlternateBase": "#333333", "Button": "#353535",
              "Text": "#e0e0e0", "WindowText": "#e0e0e0", "ButtonText": "#e0e0e0",
              "PlaceholderText": "#8a8a8a", "Highlight": "#2f65ca", "HighlightedText": "#ffffff",
              "ToolTipBase": "#3a3a3a", "ToolTipText": "#e0e0e0"}
    for name, color in colors.items():
        role = getattr(QPalette.ColorRole, name)
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6e6e6e"))
    return palette


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_follows_the_palette(qtbot: Any, tmp_path: Path, codec: Any, dark: bool) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    original = app.palette()
    if dark:
        app.setPalette(_dark_palette())
    try:
        window = MainWindow(make_services(tmp_path, tmp_path, codec))
        qtbot.addWidget(window)
        window.show()
        window.start()
        image = window.grab().toImage()
        samples = [image.pixelColor(x, y).lightness() for x in range(0, image.width(), 37)
                   for y in range(0, image.height(), 23)]
        mean = sum(samples) / len(samples)
        banner = window.banner.grab().toImage().pixelColor(4, 4).lightness()
        close_window(window)
    finally:
        app.setPalette(original)
    # No colour is hard-coded: the whole window, the banner included, follows the palette.
    assert (mean < 90 and banner < 90) if dark else (mean > 170 and banner > 170)


def test_no_audio_device_explains_disabled_play(qtbot: Any, home: Path, tiny_tokenizer: Path, codec: Any) -> None:
    services = make_services(home, tiny_tokenizer, codec, output_reason="No audio output device found")
    window = open_window(qtbot, services)
    window.text_panel.set_text("Silent.")
    window.text_panel.set_split_mode("none")
    window.sampler_panel.set_settings(FAST)
    with qtbot.waitSignal(window.take_added, timeout=60_000):
        window.generate()
    output = window.output_panel
    assert not output.play.isEnabled()
    assert "No audio output device found" in output.play.toolTip()
    assert "No audio output device found" in output.device_note.text() and output.device_note.isVisible()
    assert output.export.isEnabled()  # exporting still works
    assert not window.play_action.isEnabled()
    window.play_action.trigger()
    output.toggle()  # no crash
    close_window(window)
