"""VoicePanel end to end: import (button, drop, bad files), edit, save, library, play and record."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QInputDialog, QMessageBox

from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.widgets.voice_panel import VoicePanel
from valle_studio.audio.devices import NO_INPUT, NO_OUTPUT, SoundDeviceStreamFactory, list_output_devices
from valle_studio.audio.processing import active_rms_dbfs
from valle_studio.audio.recording import VANISHED
from valle_studio.studio.voices import VoiceLibrary

SR = 24000


def tone(seconds: float, amplitude: float = 0.3, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes shown, as (title, text); patched so they never block."""
    shown: list[tuple[str, str]] = []

    def warning(_parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warning)
    return shown


def make_panel(qtbot, tmp_path, factory: FakeStreamFactory | SoundDeviceStreamFactory) -> VoicePanel:
    library = VoiceLibrary(tmp_path / "voices")
    playback = PlaybackController(stream_factory=factory)
    recording = RecordingController(stream_factory=factory)
    panel = VoicePanel(library, playback, recording)
    qtbot.addWidget(panel)
    panel.resize(560, 600)
    panel.show()
    return panel


@pytest.fixture
def factory() -> FakeStreamFactory:
    return FakeStreamFactory(speed=25)


@pytest.fixture
def panel(qtbot, tmp_path, factory: FakeStreamFactory) -> VoicePanel:
    return make_panel(qtbot, tmp_path, factory)


def import_and_wait(qtbot, panel: VoicePanel, path) -> None:
    panel.import_file(path)
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)


def write(tmp_path, name: str, samples: np.ndarray, sr: int = SR):
    path = tmp_path / name
    sf.write(path, samples, sr)
    return path


def test_import_makes_an_unsaved_prompt(qtbot, tmp_path, panel: VoicePanel) -> None:
    audio = tone(4.0)
    path = write(tmp_path, "alice_take.wav", audio)
    with qtbot.waitSignal(panel.changed):
        import_and_wait(qtbot, panel, path)
    (samples, sr), = panel.prompts()
    assert sr == SR
    np.testing.assert_allclose(samples, audio, atol=1e-4)  # 16-bit WAV
    assert panel.voice_name() == "alice_take (unsaved)"
    assert panel.duration_label.text() == "4.0 s"
    assert panel.name_edit.text() == "alice_take"
    assert panel.waveform.duration == pytest.approx(4.0)
    assert panel.warning_label.text() == ""


@pytest.mark.parametrize(("seconds", "advice"), [(2.0, "Shorter than 3 s"), (14.0, "Longer than 12 s")])
def test_length_advice(qtbot, tmp_path, panel: VoicePanel, seconds: float, advice: str) -> None:
    import_and_wait(qtbot, panel, write(tmp_path, "x.flac", tone(seconds)))
    assert advice in panel.warning_label.text()
    assert not panel.warning_label.isHidden()


def test_bad_file_shows_a_clear_message(qtbot, tmp_path, panel: VoicePanel, boxes) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio", encoding="utf-8")
    import_and_wait(qtbot, panel, path)
    assert len(boxes) == 1
    title, text = boxes[0]
    assert title == "Could not open the audio file"
    assert "notes.wav" in text and "not an audio file" in text
    assert panel.prompts() == ()
    import_and_wait(qtbot, panel, tmp_path / "missing.flac")
    assert "does not exist" in boxes[1][1]


def test_a_newer_import_wins_over_a_slower_older_one(qtbot, tmp_path, panel: VoicePanel) -> None:
    first = write(tmp_path, "first.wav", tone(5.0))
    second = write(tmp_path, "second.wav", tone(3.5))
    panel.import_file(first)
    import_and_wait(qtbot, panel, second)
    qtbot.wait(100)  # give the first decode time to arrive late
    assert panel.voice_name() == "second (unsaved)"
    assert panel.waveform.duration == pytest.approx(3.5)


def _drop_event(path, cls):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    action = Qt.DropAction.CopyAction
    return mime, cls(_event_pos(cls), action, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)


def test_drag_and_drop_accepts_audio_files_only(qtbot, tmp_path, panel: VoicePanel) -> None:
    text = tmp_path / "readme.txt"
    text.write_text("hi", encoding="utf-8")
    _mime, enter = _drop_event(text, QDragEnterEvent)
    panel.dragEnterEvent(enter)
    assert not enter.isAccepted()
    clip = write(tmp_path, "dropped.ogg", tone(3.2))
    _mime, enter = _drop_event(clip, QDragEnterEvent)
    panel.dragEnterEvent(enter)
    assert enter.isAccepted()
    _mime2, drop = _drop_event(clip, QDropEvent)
    panel.dropEvent(drop)
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    assert panel.voice_name() == "dropped (unsaved)"


def test_clean_up_trims_silence_and_normalises(qtbot, panel: VoicePanel) -> None:
    quiet = tone(4.0, amplitude=0.02)
    silence = np.zeros(SR, np.float32)
    panel.set_draft(np.concatenate([silence, quiet, silence]), SR, "quiet")
    assert panel.waveform.duration == pytest.approx(6.0)
    qtbot.mouseClick(panel.cleanup_button, Qt.MouseButton.LeftButton)
    (samples, _sr), = panel.prompts()
    assert len(samples) / SR == pytest.approx(4.2, abs=0.02)  # 0.1 s kept on each side
    assert active_rms_dbfs(samples, SR) == pytest.approx(-20.0, abs=0.2)
    assert panel.undo_button.isEnabled()
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert len(panel.prompts()[0][0]) == 6 * SR


def test_silent_clip_cannot_be_cleaned_up(panel: VoicePanel, boxes) -> None:
    panel.set_draft(np.zeros(SR * 4, np.float32), SR, "silence")
    panel.clean_up()
    assert boxes == [("Nothing to keep", "The clip is silent: there is no speech to keep.")]
    assert len(panel.prompts()[0][0]) == SR * 4


def test_keep_the_selected_part(qtbot, panel: VoicePanel) -> None:
    audio = np.linspace(-0.5, 0.5, 10 * SR, dtype=np.float32)
    panel.set_draft(audio, SR, "long")
    assert not panel.keep_button.isEnabled()
    view = panel.waveform

    def at(seconds: float) -> QPoint:
        return QPoint(round(view.x_for_time(seconds)), view.height() // 2)

    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(2.0))
    qtbot.mouseMove(view, at(6.0))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(6.0))
    start, end = view.selection()
    assert panel.duration_label.text().startswith("Selection 4.0 s")
    assert panel.keep_button.isEnabled()
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    (samples, _), = panel.prompts()
    np.testing.assert_array_equal(samples, audio[round(start * SR) : round(end * SR)])
    assert view.selection() is None and view.duration == pytest.approx(end - start, abs=1 / SR)


def test_save_add_clip_rename_delete_and_reload(qtbot, tmp_path, panel: VoicePanel, monkeypatch) -> None:
    panel.set_draft(tone(4.0), SR, "take1")
    panel.name_edit.setText("Narrator")
    assert panel.save_button.text() == "Save as voice"
    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.voice_name() == "Narrator"
    assert panel.library.names() == ["Narrator"]
    assert len(panel.prompts()) == 1
    assert panel.save_row.isHidden() and not panel.voice_hint.isHidden()

    # A second clip for the same voice: the name is already filled in, so Save becomes "Add to".
    panel.set_draft(tone(3.5, freq=330), SR, "take2")
    assert panel.voice_name() == "take2 (unsaved)"
    assert panel.name_edit.text() == "Narrator"
    assert panel.save_button.text() == "Add to \u201cNarrator\u201d"
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.voice_name() == "Narrator"
    prompts = panel.prompts()
    assert [round(len(s) / sr, 2) for s, sr in prompts] == [4.0, 3.5]
    assert panel.clip_list.count() == 2

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Old Narrator", True))
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    assert panel.voice_name() == "Old Narrator"

    # Another run of the app finds the voice and its clips.
    other = make_panel(qtbot, tmp_path, FakeStreamFactory())
    assert other.select_voice("old narrator")
    assert other.voice_name() == "Old Narrator" and len(other.prompts()) == 2

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert panel.library.names() == []
    assert panel.voice_combo.currentIndex() == 0


def test_invalid_name_disables_save_with_the_reason(panel: VoicePanel) -> None:
    panel.set_draft(tone(4.0), SR, "t")
    panel.name_edit.setText("a/b")
    assert not panel.save_button.isEnabled()
    assert "contains /" in panel.save_button.toolTip()


def test_play_moves_the_cursor_and_plays_the_clip(qtbot, panel: VoicePanel, factory) -> None:
    audio = np.linspace(-0.5, 0.5, 2 * SR, dtype=np.float32)
    panel.set_draft(audio, SR, "clip")
    positions: list[float] = []
    panel.playback.position_changed.connect(positions.append)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: panel.playback.state == "stopped", timeout=5000)
    assert any(0 < p < 2.0 for p in positions), "no cursor updates while playing"
    assert panel.play_button.text() == "Play"
    np.testing.assert_array_equal(factory.streams[0].output()[: len(audio)], audio)


def test_click_on_waveform_sets_where_play_starts(qtbot, panel: VoicePanel, factory) -> None:
    audio = np.linspace(-0.5, 0.5, 4 * SR, dtype=np.float32)
    panel.set_draft(audio, SR, "clip")
    view = panel.waveform
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_for_time(3.0)), 30))
    start = view.cursor_seconds()
    assert start == pytest.approx(3.0, abs=0.02)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.playback.state == "stopped", timeout=5000)
    out = factory.streams[0].output()
    first = round(start * SR)
    np.testing.assert_array_equal(out[: len(audio) - first], audio[first:])


def test_record_a_clip_with_meter_and_clip_warning(qtbot, tmp_path) -> None:
    source = np.concatenate([tone(1.0, 0.5), np.ones(50, np.float32), tone(1.0, 0.5)])
    factory = FakeStreamFactory(speed=10, source=source)
    panel = make_panel(qtbot, tmp_path, factory)
    assert panel.device_combo.count() == 3  # "System default" + two fake devices
    panel.device_combo.setCurrentIndex(1)
    assert panel.recording.device == 3
    levels: list[float] = []
    panel.recording.level_changed.connect(levels.append)
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    assert panel.record_button.text() == "Stop" and not panel.meter.isHidden()
    qtbot.waitUntil(lambda: not panel.clip_label.isHidden(), timeout=5000)
    qtbot.waitUntil(lambda: panel.waveform.duration > 0.5, timeout=5000)  # the take is drawn live
    assert panel.duration_label.text().startswith("Recording ")
    qtbot.waitUntil(lambda: factory.streams[0].frames_done >= len(source), timeout=5000)
    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    assert panel.record_button.text() == "Record"
    # The tone peaks at -6 dBFS and the meter decays 24 dB/s; the fake runs 10x real time, so one
    # 33 ms UI tick spans 0.33 s of audio: the reading lands a few dB under the peak.
    assert -12.0 < max(levels) <= 0.0
    assert levels[-1] == float("-inf") and panel.meter.value() == 0
    (samples, sr), = panel.prompts()
    assert sr == SR
    np.testing.assert_array_equal(samples[: len(source)], source)
    assert panel.voice_name() == "Recording (unsaved)"
    assert not panel.clip_label.isHidden(), "the clip warning belongs to this take and stays"
    panel.set_draft(tone(4.0), SR, "imported")
    assert panel.clip_label.isHidden()


def test_microphone_unplugged_mid_recording(qtbot, tmp_path, boxes) -> None:
    factory = FakeStreamFactory(speed=10, source=tone(3.0), vanish_after_frames=SR // 2)
    panel = make_panel(qtbot, tmp_path, factory)
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(boxes), timeout=5000)
    assert boxes == [("Recording problem", VANISHED)]
    assert panel.record_button.text() == "Record"
    (samples, _), = panel.prompts()
    assert len(samples) >= SR // 2 - 256  # what came in before the device vanished is kept


def test_without_devices_buttons_are_disabled_and_say_why(qtbot, tmp_path) -> None:
    factory = FakeStreamFactory(output_reason=NO_OUTPUT, input_reason=NO_INPUT)
    panel = make_panel(qtbot, tmp_path, factory)
    panel.set_draft(tone(4.0), SR, "clip")
    assert not panel.play_button.isEnabled()
    assert panel.play_button.toolTip() == f"Cannot play: {NO_OUTPUT}"
    assert not panel.record_button.isEnabled()
    assert panel.record_button.toolTip() == f"Cannot record: {NO_INPUT}"
    assert panel.device_combo.currentText() == "No microphone found"
    assert panel.cleanup_button.isEnabled()  # preparing a clip needs no sound card


def test_on_this_machine_with_the_real_backend(qtbot, tmp_path) -> None:
    if list_output_devices():
        pytest.skip("this machine has an audio output device")
    panel = make_panel(qtbot, tmp_path, SoundDeviceStreamFactory())
    panel.set_draft(tone(4.0), SR, "clip")
    assert not panel.play_button.isEnabled()
    assert "No audio output device found" in panel.play_button.toolTip()


def test_play_follows_the_clip_on_show(qtbot, tmp_path, factory) -> None:
    panel = make_panel(qtbot, tmp_path, factory)
    first, second = tone(1.0, freq=200), tone(0.5, freq=300)
    panel.library.save("Duo", [(first, SR), (second, SR)])
    panel.refresh_voices()
    assert panel.select_voice("Duo")
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.playback.state == "stopped", timeout=5000)
    panel.clip_list.setCurrentRow(1)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.playback.state == "stopped", timeout=5000)
    assert len(factory.streams) == 2
    np.testing.assert_allclose(factory.streams[1].output()[: len(second)], second, atol=2.0**-22)


def test_playback_that_fails_to_start_is_reported(qtbot, tmp_path, boxes, monkeypatch) -> None:
    factory = FakeStreamFactory()
    panel = make_panel(qtbot, tmp_path, factory)
    panel.set_draft(tone(3.0), SR, "clip")

    def broken_open(**_kwargs):
        from valle_studio.audio.devices import AudioUnavailable

        raise AudioUnavailable("Could not open the audio output device: Device unavailable")

    monkeypatch.setattr(factory, "open_output", broken_open)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert boxes == [("Playback problem", "Could not open the audio output device: Device unavailable")]
    assert panel.play_button.text() == "Play"


def _event_pos(event_type: type) -> object:
    """Drop events take a QPointF; drag enter/move events take a QPoint (PySide6 6.11 is strict)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QDropEvent

    return QPointF(10, 10) if event_type is QDropEvent else QPoint(10, 10)
