"""The recording strip of the voice panel: a level meter, advice on the input gain, and a countdown.

* The meter (:class:`LevelMeter`) is a progress bar drawn as a peak meter: green up to -12 dBFS, amber
  to -3, red above, with a peak-hold line, fed by the recording controller's ``level_changed``.
* The hint reads the recent peaks (the last :data:`HINT_WINDOW_S` seconds of audio) and says "too quiet",
  "good level" or "too loud" in words a user can act on.
* Record counts down first (:meth:`RecordingStrip.toggle`, ``countdown_s`` seconds, 0 = none), so the
  take does not start with the click; *Start now* (or Record again) skips the rest, *Cancel* stops it.
* When a take ends by itself (the length cap, a device that sent nonsense, one that vanished) the strip
  keeps saying why.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

from valle_studio.app import theme
from valle_studio.app.audio_bridge import RecordingController
from valle_studio.app.icons import action_icon

METER_FLOOR_DB = -60.0
HINT_WINDOW_S = 2.0  # seconds of audio the gain hint looks back over
HINT_AFTER_S = 1.0  # ... and waits for before saying anything
QUIET_DB = -30.0  # speech peaking under this is too quiet to clone well
HOT_DB = -1.0  # peaks above this leave no headroom
TOO_QUIET = "Too quiet: move closer to the microphone or raise its input gain."
TOO_LOUD = "Too loud: lower the input gain or move back a little."
GOOD = "Good level."
ZONES = ((-12.0, "#2fb344"), (-3.0, "#e0a800"), (0.0, "#e5484d"))  # (up to dBFS, colour)


def level_value(dbfs: float) -> int:
    """A dBFS peak as the meter's value: tenths of a dB above the floor (0 for silence or -inf)."""
    if not np.isfinite(dbfs):
        return 0
    return int(min(max(dbfs - METER_FLOOR_DB, 0.0), -METER_FLOOR_DB) * 10)  # as the voice panel's own


def gain_hint(peaks_db: list[float]) -> str:
    """Advice from recent peaks (dBFS): too quiet, too loud, or good."""
    loudest = max(peaks_db, default=float("-inf"))
    if loudest > HOT_DB:
        return TOO_LOUD
    if loudest < QUIET_DB:
        return TOO_QUIET
    return GOOD


class LevelMeter(QProgressBar):
    """A peak meter with coloured zones and a peak-hold line (value: see :func:`level_value`)."""

    HOLD_TICKS = 45  # ~1.5 s at the controller's 30 Hz

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, int(-METER_FLOOR_DB * 10))
        self.setTextVisible(False)
        self.setFixedHeight(12)
        self.setAccessibleName("Input level")
        self.setToolTip("Input level, -60 to 0 dBFS: speak so it stays in the green, touching amber")
        self._hold = 0
        self._hold_age = 0
        self.valueChanged.connect(self._follow)

    @property
    def hold(self) -> int:
        """The peak-hold position (a value like :meth:`value`)."""
        return self._hold

    def _follow(self, value: int) -> None:
        self._hold_age += 1
        if value >= self._hold or self._hold_age > self.HOLD_TICKS:
            self._hold, self._hold_age = value, 0

    def reset(self) -> None:
        super().reset()
        self._hold = self._hold_age = 0
        self.setValue(0)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        palette = self.palette()
        p.setPen(palette.color(QPalette.ColorRole.Mid))
        p.setBrush(palette.color(QPalette.ColorRole.Base))
        p.drawRect(rect)
        span = self.maximum() - self.minimum() or 1
        width = rect.width() - 2
        x0 = rect.left() + 1
        filled = width * (self.value() - self.minimum()) / span
        start_db = METER_FLOOR_DB
        p.setPen(Qt.PenStyle.NoPen)
        for end_db, colour in ZONES:  # each zone's part of the filled length
            a = width * (start_db - METER_FLOOR_DB) / -METER_FLOOR_DB
            b = min(filled, width * (end_db - METER_FLOOR_DB) / -METER_FLOOR_DB)
            if b > a:
                p.setBrush(QColor(colour))
                p.drawRect(QRectF(x0 + a, rect.top() + 1, b - a, rect.height() - 2))
            start_db = end_db
        text = palette.color(QPalette.ColorRole.WindowText)
        text.setAlpha(90)
        p.setPen(text)
        for db in (-48, -36, -24, -12, -6, -3):  # scale ticks
            x = x0 + width * (db - METER_FLOOR_DB) / -METER_FLOOR_DB
            p.drawLine(int(x), int(rect.bottom() - 3), int(x), int(rect.bottom()))
        if self._hold > 0:
            x = x0 + width * self._hold / span
            p.setPen(palette.color(QPalette.ColorRole.WindowText))
            p.drawLine(int(x), int(rect.top() + 1), int(x), int(rect.bottom() - 1))
        p.end()


class RecordingStrip(QWidget):
    """See the module docstring. ``record_button`` is the panel's Record/Stop button (not re-parented)."""

    countdown_started = Signal(int)
    countdown_finished = Signal()  # recording was asked to start (the countdown ran out or was skipped)

    def __init__(self, recording: RecordingController, record_button: QPushButton | None = None,
                 parent: QWidget | None = None, *, countdown_s: int = 0) -> None:
        super().__init__(parent)
        self.setObjectName("recordingStrip")
        self.recording = recording
        self.record_button = record_button
        self.countdown_s = countdown_s
        self.tick_ms = 1000  # one step of the countdown (tests shorten it)
        self._left = 0
        self._peaks: deque[tuple[float, float]] = deque()  # (seconds recorded, dBFS)
        self._duration = 0.0
        self.meter = LevelMeter()
        self.hint = QLabel("")
        self.hint.setObjectName("gainHint")
        self.countdown_label = QLabel("")
        self.countdown_label.setObjectName("countdown")
        font = self.countdown_label.font()
        font.setBold(True)
        self.countdown_label.setFont(font)
        self.start_now_button = QPushButton("Start now")
        self.start_now_button.setToolTip("Skip the countdown (or press Record again)")
        self.start_now_button.clicked.connect(self._start_now)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Do not record")
        self.cancel_button.clicked.connect(self.cancel_countdown)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._step)
        for label in (self.hint, self.countdown_label):  # one line; long advice is cut, whole in the tooltip
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(0)
        hidden: tuple[QWidget, ...] = (self.start_now_button, self.cancel_button, self.countdown_label, self.hint)
        for widget in hidden:
            widget.setVisible(False)
        # One row, so recording never adds height: the countdown, or the meter and its hint.
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.countdown_label, 3)
        layout.addWidget(self.start_now_button)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.meter, 2)
        layout.addWidget(self.hint, 3)
        recording.level_changed.connect(self._on_level)
        recording.duration_changed.connect(self._on_duration)
        recording.recording_changed.connect(self._on_recording_changed)
        recording.stopped_itself.connect(self._on_stopped_itself)
        theme.theme_changes.changed.connect(self._on_theme)  # a bound slot: dropped when the strip goes
        self._refresh_icon()

    # -- control -----------------------------------------------------------------------------------
    @property
    def counting(self) -> bool:
        return self._timer.isActive()

    def set_countdown(self, seconds: int) -> None:
        """Seconds counted down before the next recording starts (0 = start at once)."""
        self.countdown_s = max(0, int(seconds))

    def toggle(self) -> bool:
        """Record pressed: stop a take, skip a running countdown, or start one (or the take, with no
        countdown). False when the take could not start (the controller said why)."""
        if self.recording.is_recording:
            self.recording.stop()
            return True
        if self.counting:
            return self._start_now()
        if self.countdown_s <= 0:
            return self._start_now()
        self._left = self.countdown_s
        self._show_count()
        self._timer.start(self.tick_ms)
        self.countdown_started.emit(self._left)
        return True

    def cancel_countdown(self) -> None:
        self._timer.stop()
        self._hide_count()

    # -- slots -------------------------------------------------------------------------------------
    def _step(self) -> None:
        self._left -= 1
        if self._left > 0:
            self._show_count()
        else:
            self._start_now()

    def _start_now(self) -> bool:
        self._timer.stop()
        self._hide_count()
        self.countdown_finished.emit()
        started = self.recording.start()
        if not started and self.record_button is not None:
            self.record_button.setChecked(False)
        return started

    def _show_count(self) -> None:
        text = f"Recording in {self._left}…"
        self.countdown_label.setText(text)
        self.countdown_label.setToolTip(text)
        self.meter.setVisible(False)
        self.countdown_label.setVisible(True)
        self.start_now_button.setVisible(True)
        self.cancel_button.setVisible(True)
        self.hint.setVisible(False)

    def _hide_count(self) -> None:
        self.countdown_label.setVisible(False)
        self.start_now_button.setVisible(False)
        self.cancel_button.setVisible(False)
        self.meter.setVisible(self.recording.is_recording)

    def _on_theme(self, _appearance: str) -> None:
        self._refresh_icon()

    def _refresh_icon(self) -> None:
        """The Record button's glyph: a red dot to record, a square to stop (in the palette's colours)."""
        if self.record_button is not None:
            self.record_button.setIcon(action_icon("stop" if self.recording.is_recording else "record"))

    def _on_recording_changed(self, recording: bool) -> None:
        self._refresh_icon()
        self._peaks.clear()
        self._duration = 0.0
        if recording:
            self.meter.reset()
            self.hint.setText("Listening…")
            self.hint.setVisible(True)
        else:
            self.meter.reset()
            self.hint.setVisible(False)

    def _on_duration(self, seconds: float) -> None:
        self._duration = seconds

    def _on_level(self, dbfs: float) -> None:
        self.meter.setValue(level_value(dbfs))
        if not self.recording.is_recording:
            return
        self._peaks.append((self._duration, dbfs))
        while self._peaks and self._peaks[0][0] < self._duration - HINT_WINDOW_S:
            self._peaks.popleft()
        if self._duration >= HINT_AFTER_S:
            hint = gain_hint([db for _t, db in self._peaks])
            self._say(hint)
            self.hint.setStyleSheet("" if hint == GOOD else "font-weight: bold")

    def _say(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setToolTip(text)

    def _on_stopped_itself(self, reason: str) -> None:
        self._say(f"Stopped: {reason}.")
        self.hint.setStyleSheet("font-weight: bold")
        self.hint.setVisible(True)


__all__ = ["LevelMeter", "RecordingStrip", "gain_hint", "level_value"]
