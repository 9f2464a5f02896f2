"""The batch table: a ``QAbstractTableModel`` over a :class:`~valle_studio.batch.project.BatchProject`.

Columns: row number, voice, text, seed, status, duration, takes, and the approved take's quality check
(a badge: colour and word, reasons in the tooltip). Voice, text and seed are edited in place; every edit
goes through the project, which validates and saves it at once. The model also
keeps the live state of a run (queued, running with its progress), which is never saved: after a
crash a row is simply pending again. A delegate draws the running row's progress bar in its cell.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from valle_studio.app.widgets.verdict_badge import badge_width, paint_badge, reasons_html, word
from valle_studio.batch.project import BatchProject
from valle_studio.batch.quality import row_quality
from valle_studio.batch.rows import CHANGED, DONE, FAILED, PENDING, Row

COLUMNS = ("#", "Voice", "Text", "Seed", "Status", "Duration", "Takes", "Check")
COL_INDEX, COL_VOICE, COL_TEXT, COL_SEED, COL_STATUS, COL_DURATION, COL_TAKES, COL_CHECK = range(len(COLUMNS))
QUEUED, RUNNING = "queued", "running"
ProgressRole = Qt.ItemDataRole.UserRole + 1  # float 0..1 for a running row, else None
StatusRole = Qt.ItemDataRole.UserRole + 2  # the status key ("done", "running", ...)
QualityRole = Qt.ItemDataRole.UserRole + 3  # the approved take's TakeQuality (None: no take, or unchecked)
_Index = QModelIndex | QPersistentModelIndex
_STATUS_TEXT = {PENDING: "Pending", DONE: "Done", FAILED: "Failed", CHANGED: "Changed", QUEUED: "Queued",
                RUNNING: "Running"}
# Fixed hues read on light and dark palettes alike.
_STATUS_COLOR = {FAILED: QColor(220, 60, 60), DONE: QColor(60, 160, 90), CHANGED: QColor(210, 140, 30)}


class BatchTableModel(QAbstractTableModel):
    """See the module docstring. ``edit_failed(message)`` reports an edit the project refused."""

    edit_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project: BatchProject | None = None
        self._live: dict[str, tuple[str, float, str]] = {}  # row id -> (state, fraction, stage text)

    # -- the project ------------------------------------------------------------------------------
    def set_project(self, project: BatchProject | None) -> None:
        self.beginResetModel()
        self.project = project
        self._live.clear()
        self.endResetModel()

    def row_id(self, row: int) -> str:
        assert self.project is not None
        return self.project.rows[row].id

    def index_of(self, row_id: str, column: int = 0) -> QModelIndex:
        if self.project is None:
            return QModelIndex()
        try:
            return self.index(self.project.index_of(row_id), column)
        except ValueError:
            return QModelIndex()

    def refresh(self, row_id: str | None = None) -> None:
        """Repaint one row (or all) after the project changed outside the model."""
        if self.project is None or not self.project.rows:
            return
        if row_id is None:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.project.rows) - 1, len(COLUMNS) - 1))
            return
        index = self.index_of(row_id)
        if index.isValid():
            self.dataChanged.emit(index, self.index(index.row(), len(COLUMNS) - 1))

    def reload(self) -> None:
        """Rows were inserted or removed."""
        self.beginResetModel()
        self.endResetModel()

    # -- live run state ---------------------------------------------------------------------------
    def set_live(self, row_id: str, state: str, fraction: float = 0.0, stage: str = "") -> None:
        self._live[row_id] = (state, fraction, stage)
        self.refresh(row_id)

    def clear_live(self, row_id: str | None = None) -> None:
        if row_id is None:
            ids = list(self._live)
            self._live.clear()
            for rid in ids:
                self.refresh(rid)
        elif self._live.pop(row_id, None) is not None:
            self.refresh(row_id)

    def status_of(self, row: Row) -> str:
        live = self._live.get(row.id)
        if live is not None:
            return live[0]
        assert self.project is not None
        return self.project.status(row)

    # -- Qt model API -----------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.project is None else len(self.project.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {COL_SEED: "A fixed seed for this line's first take (empty: a fresh random seed)",
                    COL_TAKES: "How many takes this line has; pick and approve one below",
                    COL_CHECK: "The quality check of the approved take: good, suspect or bad (the reasons are "
                               "in its tooltip)"}.get(section)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() in (COL_VOICE, COL_TEXT, COL_SEED):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self.project is None or not index.isValid() or index.row() >= len(self.project.rows):
            return None
        row = self.project.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, index.row(), column)
        if role == Qt.ItemDataRole.EditRole:
            return {COL_VOICE: row.voice, COL_TEXT: row.text,
                    COL_SEED: "" if row.seed is None else str(row.seed)}.get(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == COL_STATUS:
            color = _STATUS_COLOR.get(self.status_of(row))
            return QBrush(color) if color is not None else None
        if role == Qt.ItemDataRole.ForegroundRole and ((column == COL_VOICE and not row.voice)
                                                        or (column == COL_SEED and row.seed is None)):
            return QApplication.palette().brush(QPalette.ColorGroup.Active, QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.FontRole and column == COL_VOICE and not row.voice:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_INDEX, COL_SEED, COL_DURATION, COL_TAKES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ProgressRole:
            live = self._live.get(row.id)
            return live[1] if live and live[0] == RUNNING else None
        if role == StatusRole:
            return self.status_of(row)
        if role == QualityRole:
            return row_quality(row)
        return None

    def _display(self, row: Row, number: int, column: int) -> Any:
        assert self.project is not None
        take = row.approved_take
        if column == COL_INDEX:
            return f"{number + 1}{' ⚙' if row.settings else ''}"
        if column == COL_VOICE:
            return row.voice or (self.project.voice_label(row) if self.project.voice_for(row) or
                                 self.project.prompt_files else "model's own")
        if column == COL_TEXT:
            return row.text
        if column == COL_SEED:
            return "random" if row.seed is None else str(row.seed)
        if column == COL_STATUS:
            state = self.status_of(row)
            live = self._live.get(row.id)
            if state == RUNNING and live is not None:
                return f"{live[1]:.0%}"
            return _STATUS_TEXT.get(state, state)
        if column == COL_DURATION:
            return f"{take.duration_s:.1f} s" if take else ""
        if column == COL_TAKES:
            return str(len(row.takes)) if row.takes else ""
        if column == COL_CHECK:
            return word(row_quality(row)) if row.approved_take is not None else ""
        return None

    def _tooltip(self, row: Row, column: int) -> str | None:
        assert self.project is not None
        if column == COL_TEXT:
            return f"<p>{html.escape(row.text)}</p>" + (f"<p>Line {row.source_line} of the script.</p>"
                                                         if row.source_line else "")
        if column == COL_STATUS:
            live = self._live.get(row.id)
            if live is not None and live[2]:
                return live[2]
            if row.error and self.project.status(row) == FAILED:
                return f"Failed: {row.error}"
            if self.project.status(row) == CHANGED:
                return "Edited since its take was generated: run it again to match the text."
        if column == COL_VOICE and not row.voice:
            return "The project's default voice (change it above, or pick one for this line)"
        if column == COL_INDEX and row.settings:
            changes = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(row.settings.items()))
            return f"Own settings: {changes}"
        if column == COL_SEED and row.seed is None and row.approved_take:
            return f"Random; the approved take used seed {row.approved_take.seed}"
        if column == COL_CHECK and row.approved_take is not None:
            return reasons_html(row_quality(row))
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if self.project is None or not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        row = self.project.rows[index.row()]
        column = index.column()
        try:
            if column == COL_TEXT:
                if str(value).strip() == row.text:
                    return False
                self.project.update_row(row.id, text=str(value))
            elif column == COL_VOICE:
                self.project.update_row(row.id, voice=str(value or "").strip())
            elif column == COL_SEED:
                text = str(value).strip().replace("_", "")
                self.project.update_row(row.id, seed=int(text) if text else None)
            else:
                return False
        except ValueError as exc:
            message = str(exc) if column != COL_SEED or "seed" in str(exc) else \
                f"A seed is a whole number from 0 to 2^63 - 1, not {value!r}."
            self.edit_failed.emit(message)
            return False
        self.refresh(row.id)
        return True


class StatusDelegate(QStyledItemDelegate):
    """Draws a progress bar in the status cell of the running row; other cells paint as usual."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        fraction = index.data(ProgressRole)
        if fraction is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = round(100 * float(fraction))
        bar.text = f"{bar.progress} %"
        bar.textVisible = True
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


class VerdictDelegate(QStyledItemDelegate):
    """Draws the check column as a badge (the verdict's colour and word); nothing for a line without a take."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        if not index.data(Qt.ItemDataRole.DisplayRole):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        quality = index.data(QualityRole)
        rect = opt.rect
        metrics = opt.fontMetrics
        width = min(rect.width() - 4, badge_width(metrics, quality))
        height = min(rect.height() - 4, metrics.height() + 2)
        badge = QRect(rect.x() + 2, rect.y() + (rect.height() - height) // 2, width, height)
        paint_badge(painter, badge, quality)


class VoiceDelegate(QStyledItemDelegate):
    """A combo box of saved voices for the voice column; the first entry means "project default"."""

    DEFAULT = "(project default)"

    def __init__(self, names: Callable[[], list[str]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._names = names  # the saved voice names, read each time an editor opens

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index) -> QWidget:
        combo = QComboBox(parent)
        combo.addItem(self.DEFAULT, "")
        for name in self._names():
            combo.addItem(name, name)
        return combo

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        assert isinstance(editor, QComboBox)
        current = index.data(Qt.ItemDataRole.EditRole) or ""
        position = editor.findData(current)
        if position < 0:  # a voice the script named but the library lacks: keep it selectable
            editor.addItem(f"{current} (not saved)", current)
            position = editor.count() - 1
        editor.setCurrentIndex(position)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: _Index) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class BatchTableView(QTableView):
    """The table widget: whole-row selection, the status and voice delegates, a stretching text column.
    Editing starts with a double click, F2 or a click on a selected cell (Space is left for playback)."""

    def __init__(self, model: BatchTableModel, voice_names: Callable[[], list[str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setAccessibleName("Batch lines")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.SelectedClicked)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegateForColumn(COL_STATUS, StatusDelegate(self))
        self.setItemDelegateForColumn(COL_VOICE, VoiceDelegate(voice_names, self))
        self.setItemDelegateForColumn(COL_CHECK, VerdictDelegate(self))
        header = self.horizontalHeader()
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        for column, width in ((COL_INDEX, 48), (COL_VOICE, 120), (COL_SEED, 90), (COL_STATUS, 90),
                              (COL_DURATION, 70), (COL_TAKES, 50), (COL_CHECK, 90)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(column, width)
