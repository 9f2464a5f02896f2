"""A waveform with a time ruler, a playback cursor and a draggable selection.

The min/max envelope is computed once per plot width (and per appended chunk), not on every paint,
so the moving cursor costs one cheap repaint. Colours come from the palette, so the view follows the
light or dark theme. Clicking asks to seek (``seek_requested``); dragging, when selection is
enabled, selects a region (``selection_changed(start, end)`` while dragging, ``selection_cleared``
when a click removes it).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from valle_studio.audio.processing import waveform_envelope

RULER_HEIGHT = 18
MARGIN = 6  # keeps the first and last ruler labels inside the widget
DRAG_THRESHOLD_PX = 4  # a press that moves less than this is a click
_TICK_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800)


def tick_step(duration: float, width_px: float, min_spacing_px: float = 64.0) -> float:
    """The smallest round step (seconds) whose ticks are at least ``min_spacing_px`` apart."""
    if duration <= 0 or width_px <= 0:
        return 1.0
    for step in _TICK_STEPS:
        if step / duration * width_px >= min_spacing_px:
            return step
    return _TICK_STEPS[-1]


def format_time(seconds: float, step: float) -> str:
    """Ruler label: "0", "1.5", "12", "1:30" with as many decimals as the step needs."""
    if seconds >= 60:
        minutes, secs = divmod(seconds, 60)
        return f"{int(minutes)}:{secs:02.0f}"
    if seconds == 0:
        return "0"
    decimals = next(d for d in range(4) if abs(round(step, d) - step) < 1e-9 or d == 3)
    return f"{seconds:.{decimals}f}"


class WaveformView(QWidget):
    """Shows mono samples ``[S]``; times are seconds from the start of the clip."""

    seek_requested = Signal(float)
    selection_changed = Signal(float, float)
    selection_cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._samples = np.zeros(0, np.float32)
        self._sr = 0
        self._envelope: tuple[int, int, np.ndarray, np.ndarray] | None = None  # (width, S, mins, maxs)
        self._cursor: float | None = None
        self._selection: tuple[float, float] | None = None
        self._selection_enabled = False
        self._press_x: float | None = None
        self._anchor = 0.0
        self._dragging = False
        self._placeholder = "No audio"
        self.setMinimumHeight(72)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Waveform")
        self._update_tooltip()

    def sizeHint(self) -> QSize:
        return QSize(480, 130)

    # --- data ------------------------------------------------------------------------------

    @property
    def duration(self) -> float:
        return len(self._samples) / self._sr if self._sr else 0.0

    @property
    def sample_rate(self) -> int:
        return self._sr

    def set_audio(self, samples: np.ndarray, sample_rate: int) -> None:
        """Show ``samples: [S]`` float; clears the selection and the cursor."""
        data = np.asarray(samples, dtype=np.float32)
        if data.ndim != 1:
            raise ValueError(f"WaveformView shows mono [S] samples, got shape {data.shape}")
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {sample_rate}")
        self._samples, self._sr = data, int(sample_rate)
        self._envelope = None
        self._cursor = None
        self.clear_selection()
        self.update()

    def append(self, samples: np.ndarray) -> None:
        """Add ``samples: [S]`` at the end (streamed audio); the view rescales to the new length."""
        if not self._sr:
            raise RuntimeError("set_audio() with a sample rate before append()")
        self._samples = np.concatenate([self._samples, np.asarray(samples, dtype=np.float32)])
        self._envelope = None
        self.update()

    def clear(self) -> None:
        self._samples, self._sr = np.zeros(0, np.float32), 0
        self._envelope = None
        self._cursor = None
        self.clear_selection()
        self.update()

    def set_placeholder_text(self, text: str) -> None:
        """What the empty view says."""
        self._placeholder = text
        self.update()

    def set_cursor(self, seconds: float | None) -> None:
        """Draw the playback cursor at ``seconds`` (None hides it)."""
        if seconds == self._cursor:
            return
        self._cursor = seconds
        self.update()

    def cursor_seconds(self) -> float | None:
        return self._cursor

    # --- selection -------------------------------------------------------------------------

    def set_selection_enabled(self, enabled: bool) -> None:
        self._selection_enabled = enabled
        if not enabled:
            self.clear_selection()
        self._update_tooltip()

    def selection(self) -> tuple[float, float] | None:
        """``(start, end)`` seconds of the selected region, or None."""
        return self._selection

    def set_selection(self, start: float, end: float) -> None:
        """Select ``start..end`` seconds (clamped to the clip); an empty range clears the selection."""
        lo, hi = sorted((min(max(start, 0.0), self.duration), min(max(end, 0.0), self.duration)))
        if hi - lo <= 0:
            self.clear_selection()
            return
        if self._selection != (lo, hi):
            self._selection = (lo, hi)
            self.selection_changed.emit(lo, hi)
            self.update()

    def clear_selection(self) -> None:
        if self._selection is not None:
            self._selection = None
            self.selection_cleared.emit()
            self.update()

    # --- geometry --------------------------------------------------------------------------

    def _plot_rect(self) -> QRectF:
        r = QRectF(self.rect()).adjusted(MARGIN, 2, -MARGIN, -RULER_HEIGHT)
        return r if r.width() > 1 and r.height() > 1 else QRectF(0, 0, 1, 1)

    def x_for_time(self, seconds: float) -> float:
        plot = self._plot_rect()
        return plot.left() + (seconds / self.duration if self.duration else 0.0) * plot.width()

    def time_at(self, x: float) -> float:
        plot = self._plot_rect()
        fraction = (x - plot.left()) / plot.width()
        return min(max(fraction, 0.0), 1.0) * self.duration

    def _envelope_for(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        cache = self._envelope
        if cache is None or cache[0] != width or cache[1] != len(self._samples):
            mins, maxs = waveform_envelope(self._samples, width)
            self._envelope = cache = (width, len(self._samples), mins, maxs)
        return cache[2], cache[3]

    # --- painting --------------------------------------------------------------------------

    def _colors(self) -> dict[str, QColor]:
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        dark = base.lightnessF() < 0.5
        wave = QColor(pal.color(QPalette.ColorRole.Highlight))
        if dark:
            wave = wave.lighter(130)
        selection = QColor(pal.color(QPalette.ColorRole.Highlight))
        selection.setAlpha(70)
        text = pal.color(QPalette.ColorRole.Text)
        grid = QColor(text)
        grid.setAlpha(60)
        cursor = QColor("#ff6b6b") if dark else QColor("#d62828")  # red reads as "now" on both themes
        return {"base": base, "wave": wave, "selection": selection, "text": text, "grid": grid,
                "cursor": cursor, "frame": pal.color(QPalette.ColorRole.Mid)}

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            colors = self._colors()
            painter.fillRect(self.rect(), colors["base"])
            painter.setPen(colors["frame"])
            painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
            plot = self._plot_rect()
            if not len(self._samples):
                painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                # Wrapped: in a narrow panel the hint goes on two lines instead of being cut at both ends.
                flags = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)
                painter.drawText(plot.adjusted(8, 0, -8, 0), flags, self._placeholder)
                return
            self._paint_selection(painter, plot, colors)
            self._paint_wave(painter, plot, colors)
            self._paint_ruler(painter, plot, colors)
            if self._cursor is not None:
                x = self.x_for_time(min(self._cursor, self.duration))
                painter.setPen(colors["cursor"])
                painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        finally:
            painter.end()

    def _paint_selection(self, painter: QPainter, plot: QRectF, colors: dict[str, QColor]) -> None:
        if self._selection is None:
            return
        x0, x1 = self.x_for_time(self._selection[0]), self.x_for_time(self._selection[1])
        painter.fillRect(QRectF(x0, plot.top(), max(1.0, x1 - x0), plot.height()), colors["selection"])

    def _paint_wave(self, painter: QPainter, plot: QRectF, colors: dict[str, QColor]) -> None:
        painter.setPen(colors["grid"])
        mid = plot.center().y()
        painter.drawLine(QPointF(plot.left(), mid), QPointF(plot.right(), mid))
        width = max(1, int(plot.width()))
        mins, maxs = self._envelope_for(width)
        half = plot.height() / 2 - 1
        xs = plot.left() + np.arange(width) + 0.5
        top = mid - np.clip(maxs, -1, 1) * half
        bottom = mid - np.clip(mins, -1, 1) * half
        bottom = np.maximum(bottom, top + 1)  # keep silence visible as a hairline
        points = [QPointF(x, y) for x, y in zip(xs, top, strict=True)]
        points += [QPointF(x, y) for x, y in zip(xs[::-1], bottom[::-1], strict=True)]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(colors["wave"])
        painter.setBrush(colors["wave"])
        painter.drawPolygon(QPolygonF(points))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_ruler(self, painter: QPainter, plot: QRectF, colors: dict[str, QColor]) -> None:
        step = tick_step(self.duration, plot.width())
        y = plot.bottom()
        painter.setPen(colors["text"])
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        metrics = painter.fontMetrics()
        for i in range(math.floor(self.duration / step + 1e-9) + 1):
            t = i * step
            x = self.x_for_time(t)
            painter.drawLine(QPointF(x, y), QPointF(x, y + 4))
            label = format_time(t, step) + (" s" if i == 0 else "")
            w = metrics.horizontalAdvance(label)
            left = min(max(x - w / 2, 1.0), self.width() - w - 1.0)
            painter.drawText(QPointF(left, y + 4 + metrics.ascent()), label)

    # --- interaction -----------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not len(self._samples):
            return super().mousePressEvent(event)
        self._press_x = event.position().x()
        self._anchor = self.time_at(self._press_x)
        self._dragging = False

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press_x is None or not self._selection_enabled:
            return super().mouseMoveEvent(event)
        x = event.position().x()
        if not self._dragging and abs(x - self._press_x) < DRAG_THRESHOLD_PX:
            return
        self._dragging = True
        self.set_selection(self._anchor, self.time_at(x))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press_x is None or event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        if not self._dragging:  # a click: play from here, and drop any selection
            self.clear_selection()
            self.seek_requested.emit(self._anchor)
        self._press_x = None
        self._dragging = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self._selection is not None:
            self.clear_selection()
            return
        select_all = event.key() == Qt.Key.Key_A and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if select_all and self._selection_enabled and self.duration:
            self.set_selection(0.0, self.duration)
            return
        super().keyPressEvent(event)

    def _update_tooltip(self) -> None:
        self.setToolTip("Click to play from there; drag to select the part to keep (Esc clears)"
                        if self._selection_enabled else "Click to play from there")
