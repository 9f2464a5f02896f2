"""WaveformView: envelope caching, click-to-seek, drag selection, cursor, ruler, palette colours."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPalette

import valle_studio.app.widgets.waveform_view as wv
from valle_studio.app.widgets.waveform_view import WaveformView, format_time, tick_step

SR = 8000


@pytest.fixture
def view(qtbot) -> WaveformView:
    widget = WaveformView()
    widget.resize(500, 140)
    qtbot.addWidget(widget)
    t = np.arange(10 * SR) / SR
    widget.set_audio((0.5 * np.sin(2 * np.pi * 3 * t)).astype(np.float32), SR)
    widget.set_selection_enabled(True)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def at(view: WaveformView, seconds: float) -> QPoint:
    return QPoint(round(view.x_for_time(seconds)), view.height() // 2)


def test_ruler_steps_and_labels() -> None:
    assert tick_step(10.0, 500) == 2  # 1 s would put ticks 50 px apart, under the 64 px minimum
    assert tick_step(1.0, 800) == 0.1
    assert tick_step(600.0, 400) == 120
    assert format_time(1.5, 0.5) == "1.5"
    assert format_time(4.0, 2) == "4"
    assert format_time(90.0, 30) == "1:30"
    assert format_time(0.25, 0.05) == "0.25"
    assert format_time(0.75, 0.25) == "0.75"  # a quarter-second step needs two decimals
    assert format_time(0.0, 0.25) == "0"


def test_click_requests_a_seek(qtbot, view: WaveformView) -> None:
    with qtbot.waitSignal(view.seek_requested) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 4.0))
    assert blocker.args[0] == pytest.approx(4.0, abs=0.05)  # one pixel is 10 s / 488 px
    assert view.selection() is None


def test_drag_selects_a_region_either_way(qtbot, view: WaveformView) -> None:
    seen: list[tuple[float, float]] = []
    view.selection_changed.connect(lambda a, b: seen.append((a, b)))
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(view, 6.0))
    qtbot.mouseMove(view, at(view, 4.0))
    qtbot.mouseMove(view, at(view, 2.0))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(view, 2.0))
    start, end = view.selection()
    assert start == pytest.approx(2.0, abs=0.05) and end == pytest.approx(6.0, abs=0.05)
    assert seen[-1] == (start, end) and len(seen) == 2  # live updates while dragging
    # A plain click afterwards drops the selection (and seeks).
    with qtbot.waitSignals([view.selection_cleared, view.seek_requested]):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 8.0))
    assert view.selection() is None


def test_drag_is_only_a_click_when_selection_is_disabled(qtbot, view: WaveformView) -> None:
    view.set_selection_enabled(False)
    with qtbot.waitSignal(view.seek_requested):
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(view, 1.0))
        qtbot.mouseMove(view, at(view, 5.0))
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(view, 5.0))
    assert view.selection() is None


def test_selection_is_clamped_and_keyboard_works(qtbot, view: WaveformView) -> None:
    view.set_selection(-3, 42)
    assert view.selection() == (0.0, 10.0)
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.selection() is None
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert view.selection() == (0.0, 10.0)
    view.set_audio(np.zeros(100, np.float32), SR)  # new audio clears the selection
    assert view.selection() is None


def test_envelope_is_cached_per_width(monkeypatch: pytest.MonkeyPatch, view: WaveformView) -> None:
    calls: list[int] = []
    real = wv.waveform_envelope
    monkeypatch.setattr(wv, "waveform_envelope", lambda s, n: calls.append(n) or real(s, n))
    view.set_audio(np.ones(SR, np.float32) * 0.1, SR)
    view.grab()
    view.set_cursor(0.3)
    view.grab()
    view.set_cursor(0.6)
    view.grab()
    assert len(calls) == 1, "the cursor moving must not recompute the envelope"
    view.resize(300, 140)
    view.grab()
    assert len(calls) == 2 and calls[1] < calls[0]
    view.append(np.ones(SR, np.float32) * 0.1)
    assert view.duration == pytest.approx(2.0)
    view.grab()
    assert len(calls) == 3


def _pixel(image, x: float, y: float) -> QColor:
    return image.pixelColor(round(x), round(y))


@pytest.mark.parametrize("base", ["#ffffff", "#1e1e1e"])
def test_colours_follow_the_palette(view: WaveformView, base: str) -> None:
    palette = view.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor(base))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#2060c0"))
    view.setPalette(palette)
    square = np.where(np.arange(10 * SR) % 2 == 0, 0.5, -0.5).astype(np.float32)  # spans mid +- half/2
    view.set_audio(square, SR)
    view.set_cursor(5.0)
    image = view.grab().toImage()
    plot_mid = (view.height() - wv.RULER_HEIGHT) / 2
    half = plot_mid
    assert _pixel(image, view.x_for_time(2.0), plot_mid - 0.8 * half).name() == base  # outside: background
    wave = _pixel(image, view.x_for_time(2.0), plot_mid - 0.25 * half)
    expected = QColor("#2060c0") if base == "#ffffff" else QColor("#2060c0").lighter(130)
    assert wave.name() == expected.name()
    cursor = _pixel(image, view.x_for_time(5.0), plot_mid - 0.8 * half)
    assert cursor.red() > 200 and cursor.green() < 120, "the cursor line is missing"


def test_empty_view_paints_its_placeholder(qtbot) -> None:
    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(300, 100)
    view.set_placeholder_text("Nothing yet")
    assert view.duration == 0.0
    view.grab()  # must not fail with no audio
    with pytest.raises(RuntimeError, match="set_audio"):
        view.append(np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="mono"):
        view.set_audio(np.zeros((10, 2), np.float32), SR)
