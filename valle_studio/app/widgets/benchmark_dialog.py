"""Help → Benchmark this machine: run the benchmark, see its table and its advice, apply the advice in one click.

The dialog gets the :class:`~valle_studio.app.jobs.benchmark.BenchmarkController` (the run is a job of
the engine, with progress and cancel) and the window's :class:`~valle_studio.app.estimates.Estimates`
(the saved result). It shows the saved result when it opens, one table of measured items (time and
its ratio to the hardware bound, the bound in the tooltip), one of expected times for 3 s, 10 s and
30 s lines, and the one plain sentence. "Apply recommended preset" emits :attr:`BenchmarkDialog.apply_requested`
with the :class:`~valle_studio.engine.bench.recommend.Recommendation`; the window applies it.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.estimates import Estimates
from valle_studio.app.jobs.benchmark import BenchmarkController
from valle_studio.app.jobs.records import EngineBusy
from valle_studio.engine.bench.estimate import format_duration
from valle_studio.engine.bench.recommend import Recommendation, auto_precision
from valle_studio.engine.bench.record import ITEM_LABELS, ITEMS, BenchRecord
from valle_studio.engine.bench.report import LINE_SECONDS, estimate_rows
from valle_studio.engine.progress import Progress

INTRO = ("Measures how fast this machine runs VALL-E on every device and precision it has: each step beside the "
         "hardware's own limit, measured in the same run. The quick run takes well under a minute on an idle "
         "machine; the full one a few minutes. Other programs that keep the CPU busy slow it down.")


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class BenchmarkDialog(QDialog):
    """See the module docstring."""

    apply_requested = Signal(object)  # Recommendation

    def __init__(self, controller: BenchmarkController, estimates: Estimates, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Benchmark this machine")
        self.setObjectName("benchmarkDialog")
        self.controller = controller
        self.estimates = estimates
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.quick = QCheckBox("&Quick run")
        self.quick.setChecked(True)
        self.quick.setToolTip("Fewer and shorter measurements: less exact, and done in well under a minute.")
        self.start_button = QPushButton("&Start")
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop after the current measurement; nothing is saved.")
        controls = QHBoxLayout()
        controls.addWidget(self.quick)
        controls.addStretch(1)
        controls.addWidget(self.start_button)
        controls.addWidget(self.cancel_button)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("benchmarkStatus")
        self.status.setWordWrap(True)
        self.sentence = QLabel("")
        self.sentence.setObjectName("benchmarkSentence")
        self.sentence.setWordWrap(True)
        self.sentence.setTextFormat(Qt.TextFormat.RichText)
        self.precision_note = QLabel("")
        self.precision_note.setObjectName("benchmarkPrecision")
        self.precision_note.setWordWrap(True)
        self.items = _table(["Precision", *(ITEM_LABELS[i] for i in ITEMS)])
        self.items.setObjectName("benchmarkItems")
        self.items.setToolTip("Each measured time, and in brackets how many times the hardware bound it is "
                              "(1.0x = as fast as the memory or the arithmetic units allow). Hover for the bound.")
        self.lines = _table(["Precision", "How", *(f"{s:g} s line" for s in LINE_SECONDS)])
        self.lines.setObjectName("benchmarkLines")
        self.lines.setToolTip("Expected time to generate one line of that length, with a 3 s reference voice.")
        self.apply_button = QPushButton("&Apply recommended preset")
        self.apply_button.setEnabled(False)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.apply_button)
        bottom.addStretch(1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(controls)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.sentence)
        layout.addWidget(self.precision_note)
        layout.addWidget(QLabel("Measured (time, and its ratio to the hardware bound):"))
        layout.addWidget(self.items, 2)
        layout.addWidget(QLabel("Expected time per line:"))
        layout.addWidget(self.lines, 3)
        layout.addLayout(bottom)
        self.resize(860, 640)

        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(controller.cancel)
        self.apply_button.clicked.connect(self._apply)
        controller.progress.connect(self._on_progress)
        controller.finished.connect(self._on_finished)
        controller.failed.connect(self._on_failed)
        controller.cancelled.connect(self._on_cancelled)
        controller.running_changed.connect(self._on_running)
        self._advice: Recommendation | None = None
        self.show_record(estimates.record, estimates.note)

    # -- running -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start a run (quick or full, as ticked); False with the reason shown when the engine is busy."""
        try:
            self.controller.start(quick=self.quick.isChecked())
        except EngineBusy as busy:
            self.status.setText(f"{busy} The benchmark needs the engine to itself.")
            return False
        self.bar.setRange(0, 0)
        self.status.setText("Starting…")
        return True

    def _on_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.quick.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _on_progress(self, event: Progress) -> None:
        if event.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * event.done / event.total))
        self.status.setText(f"Measuring: {event.detail}…" if event.detail else "Measuring…")

    def _on_finished(self, record: BenchRecord, path: Path) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000)
        self.estimates.reload()
        self.show_record(record, "")
        self.status.setText(f"Done. Saved to {path}; estimates and precision 'auto' now follow it.")

    def _on_failed(self, message: str) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.status.setText(f"The benchmark failed: {message} Nothing was saved.")

    def _on_cancelled(self) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.status.setText("Cancelled. Nothing was saved" + (": the earlier result still holds." if
                                                              self.estimates.record is not None else "."))

    # -- results -------------------------------------------------------------------------------
    def show_record(self, record: BenchRecord | None, note: str) -> None:
        """Fill the tables and the sentence from ``record`` (None: say why there is none)."""
        self.items.setRowCount(0)
        self.lines.setRowCount(0)
        self._advice = self.estimates.recommendation() if record is not None else None
        self.apply_button.setEnabled(self._advice is not None)
        if record is None:
            self.sentence.setText(f"<i>{html.escape(note[:1].upper() + note[1:])}.</i>" if note else "")
            self.precision_note.setText("")
            return
        advice = self._advice
        self.sentence.setText(f"<b>{html.escape(advice.sentence)}</b>" if advice else "")
        if advice is not None:
            self.apply_button.setToolTip(advice.tip)
        if record.variant("cpu", "float32") is not None:
            self.precision_note.setText(f"Precision 'auto' on this CPU means {auto_precision(record)[1]}.")
        multi = len(record.devices()) > 1
        for variant in record.variants:
            row = self.items.rowCount()
            self.items.insertRow(row)
            label = f"{variant.device} {variant.precision}" if multi else variant.precision
            self.items.setItem(row, 0, QTableWidgetItem(label))
            for column, item in enumerate(ITEMS, start=1):
                m = variant.measurement(item)
                cell = QTableWidgetItem("–" if m is None else f"{_duration(m.seconds)} ({m.ratio:.2f}x)")
                if m is not None:
                    cell.setToolTip(f"bound {_duration(m.bound_s)}: {m.bound}; {m.work}")
                self.items.setItem(row, column, cell)
        for est in estimate_rows(record, can_nar_len=self.estimates.can_nar_len):
            row = self.lines.rowCount()
            self.lines.insertRow(row)
            label = f"{est.device} {est.precision}" if multi else est.precision
            cells = [label, est.plan, *(format_duration(s) for s in est.seconds)]
            for column, text in enumerate(cells):
                self.lines.setItem(row, column, QTableWidgetItem(text))
        weights = "the installed model" if record.weights == "installed" else "random weights of the model's shapes"
        when = record.created[:16].replace("T", " ")
        self.status.setText(f"{'Quick' if record.quick else 'Full'} benchmark of {when} UTC on {weights}, "
                            f"{record.machine.threads} thread(s); {record.load}.")

    def _apply(self) -> None:
        if self._advice is not None:
            self.apply_requested.emit(self._advice)


__all__ = ["INTRO", "BenchmarkDialog"]
