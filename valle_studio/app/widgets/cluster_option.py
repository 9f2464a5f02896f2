"""The Batch tab's choice of running on a Ray cluster: one compact row in the run strip, a settings popup.

:class:`ClusterOption` is a checkbox ("Ray"), a "Cluster…" button and one elided line of the cluster's
progress (workers, lines done/failed/running, lines per minute), so the tab gets no taller.
"Cluster…" opens :class:`ClusterDialog`: the address (empty: a local Ray instance; ``auto``: the cluster of
this machine; or the head's address), workers, CPUs and GPUs per worker, retries, and while a run goes one
row per worker (state, lines done and failed, the line it runs). Without Ray installed the checkbox is off
and disabled, and both its tooltip and the popup say how to add it. The widget holds no Ray: it only
reads :func:`~valle_studio.cluster.availability.ray_available` (tests patch it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.widgets.compact import compact_button
from valle_studio.app.widgets.elided_label import ElidedLabel
from valle_studio.batch.eta import format_eta
from valle_studio.cluster import availability
from valle_studio.cluster.options import ClusterOptions
from valle_studio.cluster.progress import ClusterProgress

OFF_TIP = "Generate the lines on Ray workers (a local Ray instance, or a cluster: see Cluster…)"


def short_text(progress: ClusterProgress) -> str:
    """What the row itself shows: ``2 workers · 1 running`` (the rest is in its tooltip and the popup)."""
    alive = sum(1 for w in progress.workers if w.state != "dead")
    return f"{alive} worker{'s' if alive != 1 else ''} · {progress.running} running"


def progress_text(progress: ClusterProgress) -> str:
    """The whole progress in one line: the summary and the time left."""
    eta = format_eta(progress.eta_s)
    return progress.summary() + (f" · about {eta} left" if eta else "")


class ClusterDialog(QDialog):
    """See the module docstring: the cluster's settings and, during a run, its workers."""

    def __init__(self, options: ClusterOptions, *, available: bool, running: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ray cluster")
        self.address = QLineEdit(options.address)
        self.address.setPlaceholderText("empty: a local Ray instance · auto · host:6379")
        self.address.setToolTip("Empty starts a local Ray instance for the run; 'auto' joins the cluster this "
                                "machine belongs to (ray start ran here); or give the head's address")
        self.workers = QSpinBox()
        self.workers.setRange(1, 1024)
        self.workers.setValue(options.workers)
        self.cpus = QDoubleSpinBox()
        self.cpus.setRange(0.25, 512)
        self.cpus.setSingleStep(1)
        self.cpus.setValue(options.cpus)
        self.cpus.setToolTip("CPUs each worker reserves; torch uses as many threads")
        self.gpus = QDoubleSpinBox()
        self.gpus.setRange(0, 64)
        self.gpus.setSingleStep(1)
        self.gpus.setValue(options.gpus)
        self.retries = QSpinBox()
        self.retries.setRange(0, 100)
        self.retries.setValue(options.retries)
        self.retries.setToolTip("How often a line is tried again on another worker when its worker died")
        form = QFormLayout()
        form.addRow("Address:", self.address)
        form.addRow("Workers:", self.workers)
        form.addRow("CPUs per worker:", self.cpus)
        form.addRow("GPUs per worker:", self.gpus)
        form.addRow("Retries of a line:", self.retries)
        for field in (self.address, self.workers, self.cpus, self.gpus, self.retries):
            field.setEnabled(available and not running)
        self.note = QLabel("" if available else availability.INSTALL_HINT + ".")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.setVisible(not available)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["Worker", "Where", "State", "Done", "Failed", "Line"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(110)
        self.setMinimumWidth(560)
        self.summary = QLabel()
        self.table.setVisible(False)
        self.summary.setVisible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def options(self) -> ClusterOptions:
        return ClusterOptions(address=self.address.text().strip(), workers=self.workers.value(),
                              cpus=self.cpus.value(), gpus=self.gpus.value(), retries=self.retries.value())

    def show_progress(self, progress: ClusterProgress | None) -> None:
        """One row per worker (none: hidden)."""
        self.table.setVisible(progress is not None)
        self.summary.setVisible(progress is not None)
        if progress is None:
            return
        self.summary.setText(progress_text(progress))
        self.table.setRowCount(len(progress.workers))
        for row, worker in enumerate(progress.workers):
            line = f"{worker.line} ({worker.fraction:.0%})" if worker.line else ""
            where = worker.where[len(worker.name):].strip(" ()")
            for column, value in enumerate((worker.name, where, worker.state, str(worker.done), str(worker.failed),
                                            line)):
                item = QTableWidgetItem(value)
                item.setToolTip(worker.where if column < 2 else value)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()


class ClusterOption(QWidget):
    """See the module docstring. ``changed``: the choice or its settings changed."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, options: ClusterOptions | None = None) -> None:
        super().__init__(parent)
        self._options = options or ClusterOptions()
        self._progress: ClusterProgress | None = None
        self._running = False
        self.dialog: ClusterDialog | None = None
        self.available = availability.ray_available()
        self.check = QCheckBox("Ray")
        self.settings_button = QPushButton("Cluster…")
        self.settings_button.setToolTip("Where the Ray cluster is and how many workers run the lines")
        self.status = ElidedLabel(minimum_chars=9)  # "2 workers" at least; it elides, never widens the row
        compact_button(self.settings_button)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.settings_button)
        layout.addWidget(self.status, 1)
        self.check.toggled.connect(lambda _on: self._refresh())
        self.check.toggled.connect(lambda _on: self.changed.emit())
        self.settings_button.clicked.connect(self.open_settings)
        self._refresh()

    @property
    def enabled(self) -> bool:
        """The next run goes to the cluster."""
        return self.available and self.check.isChecked()

    def options(self) -> ClusterOptions:
        return self._options

    def set_options(self, options: ClusterOptions) -> None:
        self._options = options
        self._refresh()
        self.changed.emit()

    def set_running(self, running: bool) -> None:
        """A run goes (on the cluster or not): the choice is held until it ends."""
        self._running = running
        self.check.setEnabled(self.available and not running)
        if not running and self.dialog is not None:
            self.dialog.show_progress(self._progress)

    def show_progress(self, progress: ClusterProgress | None) -> None:
        self._progress = progress
        text = progress_text(progress) if progress is not None else ""
        self.status.setText(short_text(progress) if progress is not None else "")
        rows = [f"{w.where}: {w.state}, {w.done} done, {w.failed} failed" for w in progress.workers] if progress else []
        self.status.setToolTip("\n".join([text, *rows, "(Cluster… shows each worker)"]) if progress else "")
        if self.dialog is not None:
            self.dialog.show_progress(progress)

    def open_settings(self) -> None:
        """The popup (non-modal while a run goes, so the progress keeps coming)."""
        dialog = ClusterDialog(self._options, available=self.available, running=self._running, parent=self)
        dialog.show_progress(self._progress)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._accept(dialog))
        dialog.finished.connect(lambda _code: self._forget(dialog))
        dialog.open()

    def _accept(self, dialog: ClusterDialog) -> None:
        if self.available and not self._running:
            self.set_options(dialog.options())

    def _forget(self, dialog: ClusterDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _refresh(self) -> None:
        o = self._options
        self.check.setEnabled(self.available and not self._running)
        if not self.available:
            self.check.setChecked(False)
            self.check.setToolTip(availability.INSTALL_HINT)
            self.status.setText("Ray not installed")
            self.status.setToolTip(availability.INSTALL_HINT)
            return
        gpus = f", {o.gpus:g} GPU" if o.gpus else ""
        self.check.setToolTip(f"{OFF_TIP}. Now: {o.workers} worker(s) on {o.where()}, {o.cpus:g} CPU{gpus} each")
        if self._progress is None:
            self.status.setText(f"{o.workers} × {o.cpus:g} CPU{gpus}" if self.check.isChecked() else "")


__all__ = ["ClusterDialog", "ClusterOption", "progress_text"]
