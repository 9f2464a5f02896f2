"""The take history: a list (newest first) over :class:`~valle_studio.studio.history.History`.

:class:`HistoryModel` wraps the non-Qt history; :class:`HistoryPanel` shows it. Every take carries its
verdict badge (the word and its colour, :mod:`.verdict_badge`), with the reasons in the tooltip; the
chosen take of a best-of run says so on its second line. Clicking (or pressing Enter on) a take asks to
audition it; "Reuse settings" asks to load its settings back; "Transcribe" asks to hear it through the
model's speech-to-text head. The panel only emits requests; the window decides what they do.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.widgets.compact import compact_buttons
from valle_studio.app.widgets.elided_label import ElidedLabel
from valle_studio.app.widgets.verdict_badge import badge_width, paint_badge, reasons_html, word
from valle_studio.engine.quality.report import chosen_in, group_of, quality_of
from valle_studio.studio.history import History, HistoryError, Take

TakeRole = Qt.ItemDataRole.UserRole + 1
SummaryRole = Qt.ItemDataRole.UserRole + 2
QualityRole = Qt.ItemDataRole.UserRole + 3  # the take's TakeQuality, or None when it was not checked
_Index = QModelIndex | QPersistentModelIndex


def summary(take: Take, candidates: int = 1) -> str:
    """Second line of a list item: length, seed, RTF, time, voice; ``candidates``: the size of the take's
    best-of run ("★ best of 3" leads the line of the chosen one)."""
    parts = [f"★ best of {candidates}"] if candidates > 1 and chosen_in(take.extra) else []
    parts += [f"{take.duration_s:.1f} s", f"seed {take.seed}"]
    if take.real_time_factor is not None:
        parts.append(f"RTF {take.real_time_factor:.2f}")
    parts += [take.created_local.strftime("%d %b %H:%M"), take.voice or "no voice"]
    return " · ".join(parts)


def details(take: Take) -> str:
    """Rich-text tooltip: everything recorded with the take."""
    s = take.settings
    rows = [
        ("Text", take.text), ("Voice", take.voice or "none"), ("Language", take.language),
        ("Model", take.model), ("Modality", take.modality), ("Seed", str(take.seed)),
        ("Duration", f"{take.duration_s:.2f} s"), ("Generated in", f"{take.elapsed_s:.2f} s"),
        ("Real-time factor", "n/a" if take.real_time_factor is None else f"{take.real_time_factor:.2f}"),
        ("Settings", f"temperature {s.ar_temperature:g}/{s.nar_temperature:g}, steps {s.max_steps}, "
                     f"CFG {s.cfg_strength:g}, max {s.max_duration:g} s, split {s.split}"),
        ("Created", take.created_local.strftime("%Y-%m-%d %H:%M:%S")),
    ]
    body = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<p>{reasons_html(quality_of(take.extra))}</p><table>{body}</table>"


class HistoryModel(QAbstractListModel):
    """Takes of a :class:`History`, newest first. Adding and removing go through the model."""

    def __init__(self, history: History, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self._takes: list[Take] = list(reversed(history.takes()))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._takes)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._takes):
            return None
        take = self._takes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return " ".join(take.text.split())
        if role == SummaryRole:
            return summary(take, self.run_size(take))
        if role == Qt.ItemDataRole.ToolTipRole:
            return details(take)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{take.text}. {word(quality_of(take.extra))}. {summary(take, self.run_size(take))}"
        if role == TakeRole:
            return take
        if role == QualityRole:
            return quality_of(take.extra)
        return None

    def run_size(self, take: Take) -> int:
        """How many takes of the history belong to ``take``'s best-of run."""
        group = group_of(take.extra)
        return 1 if group is None else sum(1 for t in self._takes if group_of(t.extra) == group)

    def take_at(self, row: int) -> Take:
        return self._takes[row]

    def row_of(self, take_id: str) -> int:
        return next((i for i, t in enumerate(self._takes) if t.id == take_id), -1)

    def add(self, take: Take) -> None:
        """Show a take the history already stored (it goes to the top)."""
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._takes.insert(0, take)
        self.endInsertRows()
        self._drop_pruned()

    def replace(self, take: Take) -> None:
        """Show the stored ``take`` in place of the one with its id (its check was updated)."""
        row = self.row_of(take.id)
        if row >= 0:
            self._takes[row] = take
            group = group_of(take.extra)
            rows = [i for i, t in enumerate(self._takes) if group is not None and group_of(t.extra) == group] or [row]
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))

    def remove(self, take_id: str, *, undoable: bool = False) -> Take:
        """Delete a take from the history and from the list; its audio too, or (``undoable``) into the
        history's trash, for :meth:`restore`. Raises HistoryError (and then nothing changed)."""
        row = self.row_of(take_id)
        take = self.history.remove(take_id, undoable=undoable)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._takes[row]
            self.endRemoveRows()
        return take

    def restore(self, take: Take) -> None:
        """Bring back a take removed with ``undoable``, at its place (newest first). Raises HistoryError."""
        self.history.restore(take)
        if self.row_of(take.id) >= 0:
            return
        stored = [t.id for t in reversed(self.history.takes())]  # the history's order, newest first
        row = min(stored.index(take.id), len(self._takes))
        self.beginInsertRows(QModelIndex(), row, row)
        self._takes.insert(row, take)
        self.endInsertRows()

    def _drop_pruned(self) -> None:
        # History.add may have pruned the oldest takes; they are at the bottom here.
        keep = {t.id for t in self.history.takes()}
        while self._takes and self._takes[-1].id not in keep:
            last = len(self._takes) - 1
            self.beginRemoveRows(QModelIndex(), last, last)
            self._takes.pop()
            self.endRemoveRows()


def _blend(a: QColor, b: QColor, weight: float) -> QColor:
    """``weight`` of ``a`` plus the rest of ``b`` (works for light and dark palettes alike)."""
    rgb_a, rgb_b = (a.redF(), a.greenF(), a.blueF()), (b.redF(), b.greenF(), b.blueF())
    return QColor.fromRgbF(*(weight * x + (1 - weight) * y for x, y in zip(rgb_a, rgb_b, strict=True)))


class TakeDelegate(QStyledItemDelegate):
    """Two lines per take, each elided to the list's width: the text with the verdict badge at its right,
    then the summary (dimmer)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        height = option.fontMetrics.height()
        return QSize(0, 2 * height + 10)  # width 0: never wider than the view, so no side scrolling

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = opt.rect.adjusted(6, 4, -6, -4)
        metrics = opt.fontMetrics
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Normal if opt.state & QStyle.StateFlag.State_Enabled else \
            QPalette.ColorGroup.Disabled
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        quality = index.data(QualityRole)
        width = badge_width(metrics, quality)
        badge = QRect(rect.right() - width, rect.y(), width, metrics.height())
        paint_badge(painter, badge, quality)
        first = metrics.elidedText(str(index.data()), Qt.TextElideMode.ElideRight, rect.width() - width - 6)
        second = metrics.elidedText(str(index.data(SummaryRole)), Qt.TextElideMode.ElideRight, rect.width())
        painter.save()
        painter.setPen(opt.palette.color(group, role))
        painter.drawText(rect.x(), rect.y() + metrics.ascent(), first)
        if not selected:  # a dimmer second line: text colour blended toward the background
            painter.setPen(_blend(opt.palette.color(group, QPalette.ColorRole.Text),
                                  opt.palette.color(group, QPalette.ColorRole.Base), 0.6))
        painter.drawText(rect.x(), rect.y() + metrics.height() + metrics.ascent() + 2, second)
        painter.restore()


def delete_question(take: Take) -> str:
    """What the Delete button asks: which take (its first words, its seed), and that Undo exists."""
    words = " ".join(take.text.split())
    words = words if len(words) <= 60 else words[:59] + "\u2026"
    return (f"Delete the take \u201c{words}\u201d (seed {take.seed}, {take.duration_s:.1f} s) and its audio "
            "from the history?\n\nUndo delete brings it back until VALL-E Studio closes.")


class HistoryPanel(QWidget):
    """List of takes with "Reuse settings", "Transcribe" and "Delete"."""

    audition_requested = Signal(object)  # Take
    reuse_requested = Signal(object)  # Take
    transcribe_requested = Signal(object)  # Take

    def __init__(self, model: HistoryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.list = QListView()
        self.list.setObjectName("historyList")
        self.list.setModel(model)
        self.list.setAccessibleName("Take history")
        self.list.setAlternatingRowColors(True)
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(False)
        self.list.setItemDelegate(TakeDelegate(self.list))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.empty = QLabel("Takes you generate appear here. Click one to hear it again.")
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)

        self.reuse = QPushButton("Reuse &settings")
        self.reuse.setToolTip("Load this take's settings and seed back into the sampler, "
                              "to repeat or vary it.")
        self.transcribe = QPushButton("&Transcribe")
        self.transcribe.setToolTip("Hear this take through the model's own speech-to-text head: the phonemes it "
                                   "hears beside the ones asked for.")
        self.delete = QPushButton("Delete…")
        self.delete.setToolTip("Delete this take and its audio from the history (asks first; Undo brings it back).")
        compact_buttons(self.reuse, self.transcribe, self.delete)
        # After a delete: what was deleted, and Undo (in the row of the empty-history hint: no extra height
        # unless a take was just deleted).
        self.undo_label = ElidedLabel("", minimum_chars=6)
        self.undo_label.setObjectName("historyUndoText")
        self.undo = QPushButton("&Undo delete")
        self.undo.setObjectName("historyUndo")
        self.undo.setToolTip("Bring the deleted take and its audio back.")
        compact_buttons(self.undo)
        self.undo_row = QWidget()
        undo_layout = QHBoxLayout(self.undo_row)
        undo_layout.setContentsMargins(0, 0, 0, 0)
        undo_layout.addWidget(self.undo_label, 1)
        undo_layout.addWidget(self.undo)
        self.undo_row.setVisible(False)
        self._deleted: list[Take] = []  # deleted this session, the last one first to come back
        buttons = QHBoxLayout()
        buttons.addWidget(self.reuse)
        buttons.addWidget(self.transcribe)
        buttons.addWidget(self.delete)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.undo_row)
        layout.addLayout(buttons)

        self.list.clicked.connect(self._on_clicked)
        self.list.activated.connect(self._on_clicked)
        self.list.selectionModel().currentChanged.connect(self._update_buttons)
        self.reuse.clicked.connect(self._on_reuse)
        self.transcribe.clicked.connect(self._on_transcribe)
        self.delete.clicked.connect(self._on_delete)
        self.undo.clicked.connect(self.undo_delete)
        model.rowsInserted.connect(self._update_buttons)
        model.rowsRemoved.connect(self._update_buttons)
        self._update_buttons()

    def current_take(self) -> Take | None:
        index = self.list.currentIndex()
        return self.model.take_at(index.row()) if index.isValid() else None

    def select(self, take_id: str) -> None:
        row = self.model.row_of(take_id)
        if row >= 0:
            self.list.setCurrentIndex(self.model.index(row))

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.audition_requested.emit(self.model.take_at(index.row()))

    def _on_reuse(self) -> None:
        take = self.current_take()
        if take is not None:
            self.reuse_requested.emit(take)

    def _on_transcribe(self) -> None:
        take = self.current_take()
        if take is not None:
            self.transcribe_requested.emit(take)

    def _on_delete(self) -> None:
        take = self.current_take()
        if take is None:
            return
        answer = QMessageBox.question(self, "Delete take", delete_question(take))
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.model.remove(take.id, undoable=True)
        except HistoryError as exc:
            QMessageBox.warning(self, "Could not delete the take", str(exc))
            return
        self._deleted.append(take)
        self._show_undo()

    def undo_delete(self) -> None:
        """Bring back the take deleted last (and its audio), and select it."""
        if not self._deleted:
            return
        take = self._deleted[-1]
        try:
            self.model.restore(take)
        except HistoryError as exc:
            self._deleted.pop()
            self._show_undo()
            QMessageBox.warning(self, "Could not bring the take back", str(exc))
            return
        self._deleted.pop()
        self.select(take.id)
        self._show_undo()

    def _show_undo(self) -> None:
        self.undo_row.setVisible(bool(self._deleted))
        if self._deleted:
            last = self._deleted[-1]
            more = f" (and {len(self._deleted) - 1} more)" if len(self._deleted) > 1 else ""
            self.undo_label.setText(f"Deleted \u201c{' '.join(last.text.split())}\u201d{more}")

    def _update_buttons(self, *_: object) -> None:
        has = self.current_take() is not None
        self.reuse.setEnabled(has)
        self.transcribe.setEnabled(has)
        self.delete.setEnabled(has)
        self.empty.setVisible(self.model.rowCount() == 0)
