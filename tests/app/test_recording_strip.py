"""The voice panel's recording strip: a meter that moves, gain advice, a skippable countdown, and a take
that stops by itself (with the reason) when the microphone sends nonsense."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.app.prefs_window import close_window, make_window
from tests.app.test_voice_panel import SR, make_panel, tone
from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.widgets.recording_strip import GOOD, TOO_LOUD, TOO_QUIET, gain_hint, level_value
from valle_studio.app.widgets.voice_panel import VoicePanel
from valle_studio.audio.recording import FULL, JUNK

pytestmark = pytest.mark.gui


_panels: list[VoicePanel] = []


@pytest.fixture(autouse=True)
def stop_recordings() -> Iterator[None]:
    """A failed test must not leave its take running into the next test's widgets."""
    yield
    while _panels:
        panel = _panels.pop()
        panel.recording_strip.cancel_countdown()
        if panel.recording.is_recording:
            panel.recording.stop()


def panel_for(qtbot: Any, tmp_path: Path, source: np.ndarray, speed: float = 10) -> VoicePanel:
    panel = make_panel(qtbot, tmp_path, FakeStreamFactory(speed=speed, source=source))
    _panels.append(panel)
    return panel


def press_record(qtbot: Any, panel: VoicePanel) -> None:
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)


def test_meter_moves_with_the_input(qtbot: Any, tmp_path: Path) -> None:
    # Louder, softer, louder: the meter must follow up and down, with its peak-hold line above it.
    source = np.concatenate([tone(1.0, 0.5), tone(1.0, 0.02), tone(1.0, 0.5)])
    panel = panel_for(qtbot, tmp_path, source, speed=3)
    meter = panel.recording_strip.meter
    values: list[int] = []
    meter.valueChanged.connect(values.append)
    press_record(qtbot, panel)
    assert panel.recording.is_recording and meter.isVisible()
    qtbot.waitUntil(lambda: panel.recording_strip._duration > 2.8, timeout=30_000)
    assert meter.hold >= meter.value() > 0
    press_record(qtbot, panel)
    loud = [i for i, v in enumerate(values) if v >= level_value(-8.0)]  # the -6 dBFS parts
    assert loud, "the meter never showed the loud part"
    # Between the first and the second loud part the meter fell by more than 10 dB, and rose again.
    dip = min(values[loud[0]: loud[-1] + 1])
    assert dip < level_value(-18.0)
    assert len(set(values)) > 5
    assert meter.value() == 0 and meter.isHidden()  # reset when the take ends


@pytest.mark.parametrize(("amplitude", "hint"), [(0.01, TOO_QUIET), (0.3, GOOD), (1.0, TOO_LOUD)])
def test_gain_hint(qtbot: Any, tmp_path: Path, amplitude: float, hint: str) -> None:
    source = np.clip(tone(20.0, amplitude * 1.05), -1, 1)  # 1.05 x 1.0 clips: "too loud"
    panel = panel_for(qtbot, tmp_path, source, speed=4)
    press_record(qtbot, panel)
    strip = panel.recording_strip
    qtbot.waitUntil(lambda: strip.hint.text() == hint, timeout=30_000)  # after 1 s of audio (a loaded CI is slow)
    assert strip.hint.isVisible()
    press_record(qtbot, panel)


def test_gain_hint_rules() -> None:
    assert gain_hint([-45.0, -40.0]) == TOO_QUIET
    assert gain_hint([-20.0, -8.0]) == GOOD
    assert gain_hint([-20.0, -0.2]) == TOO_LOUD
    assert gain_hint([]) == TOO_QUIET


def test_countdown_then_record(qtbot: Any, tmp_path: Path) -> None:
    panel = panel_for(qtbot, tmp_path, tone(3.0))
    strip = panel.recording_strip
    strip.set_countdown(3)
    strip.tick_ms = 150
    counts: list[str] = []
    press_record(qtbot, panel)
    assert not panel.recording.is_recording and strip.counting
    assert strip.countdown_label.isVisible() and strip.countdown_label.text().startswith("Recording in 3")
    qtbot.waitUntil(lambda: strip.countdown_label.text().startswith("Recording in 2"), timeout=10_000)
    counts.append(strip.countdown_label.text())
    qtbot.waitUntil(lambda: strip.countdown_label.text().startswith("Recording in 1"), timeout=10_000)
    counts.append(strip.countdown_label.text())
    qtbot.waitUntil(lambda: panel.recording.is_recording, timeout=10_000)
    assert not strip.countdown_label.isVisible() and panel.record_button.text() == "Stop"
    assert len(counts) == 2
    press_record(qtbot, panel)
    assert not panel.recording.is_recording


def test_countdown_can_be_skipped_or_cancelled(qtbot: Any, tmp_path: Path) -> None:
    panel = panel_for(qtbot, tmp_path, tone(3.0))
    strip = panel.recording_strip
    strip.set_countdown(3)
    strip.tick_ms = 60_000  # never runs out in this test
    press_record(qtbot, panel)
    assert strip.counting and not panel.recording.is_recording
    press_record(qtbot, panel)  # Record again: start now
    assert panel.recording.is_recording and not strip.counting
    press_record(qtbot, panel)
    assert not panel.recording.is_recording
    press_record(qtbot, panel)
    assert strip.counting and strip.start_now_button.isVisible()
    qtbot.mouseClick(strip.start_now_button, Qt.MouseButton.LeftButton)  # the button skips too
    assert panel.recording.is_recording and not strip.counting
    press_record(qtbot, panel)
    press_record(qtbot, panel)
    assert strip.counting
    qtbot.mouseClick(strip.cancel_button, Qt.MouseButton.LeftButton)
    assert not strip.counting and not panel.recording.is_recording
    assert not strip.countdown_label.isVisible()


def test_the_window_counts_down_as_the_preferences_say(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path, source=tone(2.0))
    strip = window.voice_panel.recording_strip
    assert strip.countdown_s == window.settings.record_countdown == 3
    strip.tick_ms = 60_000
    press_record(qtbot, window.voice_panel)
    assert strip.counting and not window.services.recording.is_recording
    qtbot.mouseClick(strip.cancel_button, Qt.MouseButton.LeftButton)
    close_window(window)


def test_junk_from_the_microphone_stops_the_take_and_keeps_the_good_part(qtbot: Any, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, title, text, *a, **k: boxes.append((title, text)))
    good = tone(1.0, 0.4)
    source = np.concatenate([good, np.full(SR * 2, np.nan, np.float32), tone(5.0, 0.4)])
    panel = panel_for(qtbot, tmp_path, source)
    press_record(qtbot, panel)
    qtbot.waitUntil(lambda: bool(boxes), timeout=20_000)
    title, text = boxes[0]
    assert title == "Recording problem" and text.startswith(JUNK["invalid"][1])
    assert not panel.recording.is_recording and panel.record_button.text() == "Record"
    (samples, _rate), = panel.prompts()
    assert len(good) - 256 <= len(samples) <= len(good)
    np.testing.assert_array_equal(samples, good[: len(samples)])
    hint = panel.recording_strip.hint
    assert hint.isVisible() and hint.text().startswith("Stopped: " + JUNK["invalid"][1])


def test_the_cap_is_a_clear_stop(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import valle_studio.app.audio_bridge as bridge

    original = bridge.Recorder
    monkeypatch.setattr(bridge, "Recorder", lambda *a, **k: original(*a, **k, max_seconds=0.5))
    panel = panel_for(qtbot, tmp_path, tone(3.0))
    press_record(qtbot, panel)
    qtbot.waitUntil(lambda: not panel.recording.is_recording, timeout=20_000)
    assert panel.recording_strip.hint.text() == f"Stopped: {FULL.format(limit=0.5)}."
    (samples, _rate), = panel.prompts()
    assert len(samples) == SR // 2


def test_record_button_shows_record_then_stop(qtbot: Any, tmp_path: Path) -> None:
    panel = panel_for(qtbot, tmp_path, tone(3.0))
    def image() -> object:
        return panel.record_button.icon().pixmap(16, 16).toImage()

    idle = image()
    assert not panel.record_button.icon().isNull()
    press_record(qtbot, panel)
    assert panel.recording.is_recording and image() != idle
    press_record(qtbot, panel)
    assert image() == idle
