"""The generation progress strip: one bar over all stages, stage text, elapsed time and RTF.

Engine stages are mapped onto parts of one bar (length 0–5 %, demasking or AR 5–70 %, refinement
70–90 %, decoding 90–95 %, the quality check 95–100 %), so the bar moves forward through a piece of
text; the takes of a best-of run (``take i/N`` in the detail) share the bar. The elapsed
clock is a UI-thread timer: it keeps ticking while the engine thread works, which is also the
visible proof that the window is responsive.
"""

from __future__ import annotations

import re
import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from valle_studio.app.widgets.elided_label import ElidedLabel
from valle_studio.engine.progress import Progress
from valle_studio.engine.quality.best_of import loop_fraction
from valle_studio.engine.requests import SynthesisResult

#: stage -> (start, end) share of the bar
STAGE_SPANS: dict[str, tuple[float, float]] = {
    "predicting length": (0.0, 0.05),
    "demasking": (0.05, 0.7),
    "generating": (0.05, 0.7),
    "ar": (0.05, 0.7),
    "refining": (0.7, 0.9),
    "decoding": (0.9, 0.95),
    "checking": (0.95, 1.0),
}
_PIECE = re.compile(r"sentence\s+(\d+)\s*/\s*(\d+)")


def stage_text(progress: Progress) -> str:
    """Words for the status line: ``"demasking 12/25"``, ``"refining level 3/7"``."""
    if progress.stage == "refining" and progress.total:
        core = f"refining level {progress.done}/{progress.total}"
        return f"{core} ({progress.detail})" if progress.detail else core
    return progress.text


def overall_fraction(progress: Progress) -> float | None:
    """Where ``progress`` sits on the whole bar (0..1), or None for an unknown stage.

    A ``detail`` of the form ``"sentence 2/3"`` places generation stages inside that piece's share;
    decoding runs once at the end over all pieces.
    """
    span = STAGE_SPANS.get(progress.stage.lower())
    if span is None:
        return None
    within = min(1.0, progress.done / progress.total) if progress.total > 0 else 0.0
    start, end = span
    value = start + (end - start) * within
    match = _PIECE.search(progress.detail) if progress.stage not in ("decoding", "checking") else None
    if match:
        index, count = int(match.group(1)), int(match.group(2))
        if count > 0 and 1 <= index <= count:
            value = 0.9 * ((index - 1) + value / 0.9) / count
    return max(0.0, min(1.0, loop_fraction(progress.detail, value)))


def format_seconds(seconds: float) -> str:
    """``75.3`` -> ``"1:15.3"``."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


class ProgressPanel(QWidget):
    """Bar, stage, elapsed time and real-time factor of the current (or last) generation."""

    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Generation progress")
        # Changing texts elide (whole in the tooltip) instead of widening the window.
        self.stage = ElidedLabel("Ready", minimum_chars=12)
        self.stage.setObjectName("stage")
        # Before a take: its expected duration; while it runs: the time left (valle_studio.app.take_estimate).
        self.expected = ElidedLabel("", minimum_chars=6)
        self.expected.setObjectName("expected")
        self.elapsed = QLabel("")
        self.elapsed.setObjectName("elapsed")
        self.elapsed.setToolTip("Time spent on this generation so far.")
        self.rtf = QLabel("")
        self.rtf.setObjectName("rtf")
        self.rtf.setToolTip("Real-time factor: seconds of computing per second of speech. "
                            "Below 1 is faster than real time.")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop the generation (Esc). It ends within one model step.")
        self.stop.setEnabled(False)
        self.stop.clicked.connect(self.stop_requested)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.stage, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.expected, 1)
        layout.addWidget(self.elapsed)
        layout.addWidget(self.rtf)
        layout.addWidget(self.stop)

        self._started = 0.0
        self._clock = QTimer(self)
        self._clock.setInterval(100)
        self._clock.timeout.connect(self._tick)
        self.ticks = 0  # clock ticks of the current run (tests read it to see the event loop run)

    @property
    def running(self) -> bool:
        return self._clock.isActive()

    def start(self, what: str = "starting") -> None:
        self._started = time.monotonic()
        self.ticks = 0
        self.bar.setRange(0, 0)  # busy until the first stage arrives
        self.stage.setText(what)
        self.rtf.setText("")
        self.stop.setEnabled(True)
        self._clock.start()
        self._tick()

    def update_progress(self, progress: Progress) -> None:
        fraction = overall_fraction(progress)
        if fraction is not None:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
        self.stage.setText(stage_text(progress))

    def finish(self, result: SynthesisResult, verdict: str = "") -> None:
        """The run ended with ``result``; ``verdict``: its check in one line ("Bad: too short: ...")."""
        self._end()
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000)
        self.stage.setText(f"Done: {result.duration_s:.1f} s of speech" + (f" · {verdict}" if verdict else ""))
        self.stage.setToolTip(verdict)
        self.elapsed.setText(format_seconds(result.elapsed_s))
        rtf = result.real_time_factor
        self.rtf.setText(f"RTF {rtf:.2f}" if rtf != float("inf") else "")

    def cancelled(self) -> None:
        self._end()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.stage.setText("Stopped")

    def failed(self, message: str) -> None:
        self._end()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.stage.setText("Failed")
        self.stage.setToolTip(message)

    def set_expected(self, text: str, tip: str = "") -> None:
        """The expected duration of the next take, or the time left of the running one."""
        self.expected.setText(text)
        self.expected.setToolTip(tip)

    def show_message(self, text: str) -> None:
        """A one-line state outside a run ("Loading model…")."""
        self.stage.setText(text)

    def _end(self) -> None:
        self._clock.stop()
        self.stop.setEnabled(False)

    def _tick(self) -> None:
        self.ticks += 1
        self.elapsed.setText(format_seconds(time.monotonic() - self._started))
