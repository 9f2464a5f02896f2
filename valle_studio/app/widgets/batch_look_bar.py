"""The Batch tab's "lines that need a look": show only the lines whose take the check found suspect or
bad, and generate only those again.

:class:`LookBar` holds the filter ("All lines" / "Lines that need a look") and the "Re-run these" button.
It hides the other rows of the table (the rows keep their places, so selections and row numbers stay the
project's) and follows the table's model: when a re-run makes a line good, the line leaves the filtered
view by itself. Which lines need a look is :func:`valle_studio.batch.quality.ids_needing_a_look`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from valle_studio.app.batch_table import BatchTableModel
from valle_studio.batch.quality import ids_needing_a_look

ALL, LOOK = "all", "look"


class LookBar(QWidget):
    """See the module docstring. ``rerun_requested(row_ids)``: "Re-run these" was pressed."""

    rerun_requested = Signal(list)

    def __init__(self, table: QTableView, model: BatchTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.model = model
        self._running = False
        self.filter = QComboBox()
        self.filter.setObjectName("lookFilter")
        self.filter.setAccessibleName("Show lines")
        self.filter.addItem("All lines", ALL)
        self.filter.addItem("Lines that need a look", LOOK)
        self.filter.setToolTip("Show only the lines whose approved take the quality check found suspect or bad")
        self.count = QLabel()
        self.rerun = QPushButton("Re-run these")
        self.rerun.setObjectName("rerunLook")
        self.rerun.setToolTip("Generate the lines that need a look again (each gets new takes; the best is approved)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Show:"))
        layout.addWidget(self.filter)
        layout.addWidget(self.count)
        layout.addStretch(1)
        layout.addWidget(self.rerun)
        self.filter.currentIndexChanged.connect(lambda _i: self.apply())
        self.rerun.clicked.connect(self._on_rerun)
        model.modelReset.connect(self.apply)
        model.dataChanged.connect(self._on_data_changed)
        model.rowsInserted.connect(self.apply)
        model.rowsRemoved.connect(self.apply)
        self.apply()

    @classmethod
    def above(cls, table: QTableView, model: BatchTableModel) -> tuple[QWidget, LookBar]:
        """A bar for ``table`` and one widget holding the bar above the table."""
        box = QWidget()
        bar = cls(table, model)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(bar)
        layout.addWidget(table, 1)
        return box, bar

    @property
    def filtering(self) -> bool:
        return self.filter.currentData() == LOOK

    def set_filtering(self, on: bool) -> None:
        self.filter.setCurrentIndex(self.filter.findData(LOOK if on else ALL))

    def looked_at(self) -> list[str]:
        """The ids of the lines that need a look (none without a project)."""
        project = self.model.project
        return ids_needing_a_look(project) if project is not None else []

    def set_running(self, running: bool) -> None:
        """A run started or ended: no re-run meanwhile, and the view is brought up to date at its end."""
        self._running = running
        self.apply()

    def _on_data_changed(self, *_args: object) -> None:
        if not self._running:  # rows change every step while a batch runs; the filter follows at its end
            self.apply()

    def apply(self) -> None:
        """Hide or show the rows for the filter, and say how many lines need a look."""
        project = self.model.project
        rows = project.rows if project is not None else []
        wanted = set(self.looked_at())
        for index, row in enumerate(rows):
            self.table.setRowHidden(index, self.filtering and row.id not in wanted)
        self.count.setText(f"{len(wanted)} of {len(rows)} need a look" if rows else "")
        self.rerun.setEnabled(bool(wanted) and not self._running)

    def _on_rerun(self) -> None:
        ids = self.looked_at()
        if ids:
            self.rerun_requested.emit(ids)


__all__ = ["ALL", "LOOK", "LookBar"]
