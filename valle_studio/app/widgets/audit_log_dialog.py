"""Tools → Audit log: every exported file in a table (newest first), a filter, and "Open containing folder".

The rows come from :class:`valle_studio.studio.audit.AuditLog` (JSON lines; reading them is quick, so the
dialog reads on open and on Refresh). The filter matches any column, case-insensitively. Long texts are
elided in the cell and shown whole in its tooltip.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from valle_studio.studio.audit import AuditEntry, AuditLog

COLUMNS = ("Time", "From", "Text", "Voice", "Model", "Watermark", "File")
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def _cells(entry: AuditEntry) -> list[str]:
    return [local_time(entry.time), entry.source, entry.text, entry.voice, entry.model,
            "yes" if entry.watermark else "no", entry.path]


class AuditLogDialog(QDialog):
    """See the module docstring."""

    def __init__(self, audit: AuditLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit log of exports")
        self.audit = audit
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        self.filter = QLineEdit()
        self.filter.setObjectName("auditFilter")
        self.filter.setPlaceholderText("Filter: text, voice, model, file…")
        self.filter.setClearButtonEnabled(True)
        self.table = QTableView()
        self.table.setObjectName("auditTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.summary = QLabel()
        self.summary.setObjectName("auditSummary")
        self.where = QLabel(f"Log file: {audit.path}")
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where.setWordWrap(True)
        self.open_folder = QPushButton("&Open containing folder")
        self.open_folder.setObjectName("auditOpenFolder")
        self.refresh_button = QPushButton("&Refresh")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.refresh_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.open_folder)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.where)
        layout.addLayout(bottom)

        self.filter.textChanged.connect(self._on_filter)
        self.refresh_button.clicked.connect(self.refresh)
        self.open_folder.clicked.connect(self.open_selected_folder)
        self.table.doubleClicked.connect(lambda _index: self.open_selected_folder())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.resize(900, 420)
        self.refresh()

    def refresh(self) -> None:
        """Read the log again (newest first)."""
        self.model.removeRows(0, self.model.rowCount())
        for entry in reversed(self.audit.entries()):
            items = []
            for column, text in enumerate(_cells(entry)):
                item = QStandardItem(text)
                item.setToolTip(text)
                item.setData(entry.path, PATH_ROLE)
                if COLUMNS[column] == "Watermark" and not entry.watermark:
                    item.setToolTip("No watermark was confirmed in this file (switched off, or not detected).")
                items.append(item)
            self.model.appendRow(items)
        widths = (140, 60, 260, 110, 150, 80)
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, width)
        self._update_summary()
        self._update_buttons()

    def rows(self) -> int:
        """Rows shown (after the filter)."""
        return self.proxy.rowCount()

    def selected_path(self) -> Path | None:
        indexes = self.table.selectionModel().selectedRows()
        index: QModelIndex = indexes[0] if indexes else self.table.currentIndex()
        if not index.isValid():
            return None
        value = self.proxy.data(index, PATH_ROLE)
        return Path(str(value)) if value else None

    def open_selected_folder(self) -> bool:
        """Open the selected file's folder in the file manager; False when none is selected or it is gone."""
        path = self.selected_path()
        if path is None:
            return False
        folder = path.parent
        if not folder.is_dir():
            self.summary.setText(f"The folder {folder} no longer exists.")
            return False
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))

    def _on_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_summary()
        self._update_buttons()

    def _update_summary(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.summary.setText(f"{total} export{'s' if total != 1 else ''}" if shown == total else
                             f"{shown} of {total} exports match")

    def _update_buttons(self) -> None:
        self.open_folder.setEnabled(bool(self.table.selectionModel().selectedRows()))


__all__ = ["AuditLogDialog"]
