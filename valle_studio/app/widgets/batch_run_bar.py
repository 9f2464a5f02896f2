"""The run strip at the bottom of the Batch tab: Run all / Run selected / Run failed, Pause, Cancel,
one bar and the line of text beside it.

It shows what the view tells it: a run's progress (:class:`~valle_studio.batch.runner.BatchEvent`),
its end, a run waiting for the engine thread, an export. Which lines run, and when the buttons are
allowed, is the view's business; the bar only says why they are off when other work holds the engine.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from valle_studio.app.jobs.records import JobInfo
from valle_studio.app.widgets.compact import compact_button, compact_buttons
from valle_studio.app.widgets.elided_label import ElidedLabel
from valle_studio.batch.eta import format_eta
from valle_studio.batch.runner import PAUSED, BatchEvent

WAITING_TEXT = "Waiting for the engine: a stopped take is winding down…"


def engine_busy_text(holder: JobInfo) -> str:
    """Why a batch cannot start now, in the words of the window's controls."""
    if holder.kind.is_studio_take:
        return "A take is being generated on the Studio tab: wait for it, or stop it (Esc), then run the batch."
    return f"The engine is busy with {holder.label}: wait for it or cancel it first."


class BatchRunBar(QWidget):
    """See the module docstring. ``pause_toggled(bool)``: the user pressed Pause (True) or Resume."""

    pause_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_all_button = QPushButton("Run all")
        self.run_all_button.setToolTip("Generate every line without a current take (failed and edited "
                                       "lines included); finished lines are kept")
        self.run_selected_button = QPushButton("Run selected")
        self.run_selected_button.setToolTip("Generate a new take of each selected line")
        self.run_failed_button = QPushButton("Run failed")
        self.run_failed_button.setToolTip("Generate the lines that failed again")
        self.run_buttons = (self.run_all_button, self.run_selected_button, self.run_failed_button)
        self._tips = {button: button.toolTip() for button in self.run_buttons}
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.label = ElidedLabel("", minimum_chars=10)  # a changing line: it elides, never widens the tab
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # As narrow as their texts: with the cluster option beside them the row must fit a 910 px window.
        compact_buttons(*self.run_buttons, self.cancel_button)
        compact_button(self.pause_button, "Pause", "Resume")
        for button in (*self.run_buttons, self.pause_button, self.cancel_button):
            layout.addWidget(button)
        layout.addWidget(self.progress, 1)
        layout.addWidget(self.label)
        self.pause_button.toggled.connect(self.pause_toggled)

    def update_buttons(self, *, idle: bool, running: bool, selected: bool, failed: bool,
                       holder: JobInfo | None) -> None:
        """``idle``: a project is open and nothing runs or exports; ``holder``: other work holding the engine."""
        for button in self.run_buttons:
            button.setToolTip(engine_busy_text(holder) if holder is not None else self._tips[button])
        free = idle and holder is None
        self.run_all_button.setEnabled(free)
        self.run_selected_button.setEnabled(free and selected)
        self.run_failed_button.setEnabled(free and failed)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        if not running:
            self.set_paused(False)

    def set_run_all_note(self, note: str) -> None:
        """Add ``note`` (the expected run time) to Run all's tooltip."""
        tip = ("Generate every line without a current take (failed and edited lines included); finished lines "
               "are kept")
        self._tips[self.run_all_button] = f"{tip}. {note}" if note else tip
        self.run_all_button.setToolTip(self._tips[self.run_all_button])

    def set_paused(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if paused else "Pause")

    def show_queued(self, count: int, *, waiting: bool) -> None:
        self.progress.setValue(0)
        self.label.setText(WAITING_TEXT if waiting else f"0 of {count} lines")

    def show_waiting(self) -> None:
        self.label.setText(WAITING_TEXT)

    def show_event(self, event: BatchEvent) -> None:
        self.progress.setValue(round(event.fraction * 1000))
        eta = format_eta(event.eta_s)
        paused = event.kind == PAUSED
        state = "paused" if paused else f"{event.fraction:.0%}"
        self.label.setText(f"{event.done} of {event.total} lines · {state}"
                           + (f" · about {eta} left" if eta and not paused else ""))

    def show_end(self, *, cancelled: bool, clean: bool, done: int, total: int) -> None:
        """A run ended; ``clean``: every line got its take (the bar fills up)."""
        self.label.setText(f"{'Cancelled' if cancelled else 'Finished'} · {done} of {total} lines done")
        if clean:
            self.progress.setValue(1000)

    def reset(self, done: int, total: int) -> None:
        """Another project is shown: its own count, nothing of the last project's run."""
        self.progress.setValue(round(1000 * done / total) if total else 0)
        self.label.setText(f"{done} of {total} lines done" if total else "")

    def show_fraction(self, fraction: float) -> None:
        self.progress.setValue(round(1000 * fraction))

    def show_text(self, text: str) -> None:
        self.label.setText(text)


__all__ = ["WAITING_TEXT", "BatchRunBar", "engine_busy_text"]
