"""The Batch tab's lines: the current line and its takes, the right-click menu, inserting and deleting
lines, and per-line settings.

A mixin of :class:`~valle_studio.app.widgets.batch_view.BatchView` (kept apart so the view's file is about
projects and runs); every attribute it reads is the view's.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu, QMessageBox

from valle_studio.app.batch_table import COL_TEXT
from valle_studio.batch.rows import Row


class BatchRows:
    """See the module docstring."""

    def _set_row_settings(self: Any, row_ids: list[str], use_current: bool) -> None:
        assert self.project is not None
        base = self.project.settings.to_dict()
        overrides = {k: v for k, v in self._settings().to_dict().items() if base.get(k) != v} if use_current else {}
        try:
            for row_id in row_ids:
                self.project.update_row(row_id, settings=overrides)
        except ValueError as exc:
            self._say(str(exc), error=True)
        self.model.refresh()

    def _current_row(self: Any) -> Row | None:
        index = self.table.currentIndex()
        if self.project is None or not index.isValid() or index.row() >= len(self.project.rows):
            return None
        return self.project.rows[index.row()]

    def _show_current_takes(self: Any) -> None:
        self.takes.show_row(self.project, self._current_row())

    def play_current(self: Any) -> None:
        """Play (or pause) the approved take of the current line."""
        row = self._current_row()
        take = row.approved_take if row is not None else None
        if take is not None:
            self.takes.show_row(self.project, row)
            self.takes.play_take(take, restart=False)

    def _context_menu(self: Any, position: QPoint) -> None:
        if self.project is None:
            return
        ids = self.selected_row_ids()
        running = self.controller.is_running
        menu = QMenu(self)
        regenerate = menu.addAction("Generate a new take", lambda: self.run(ids))
        regenerate.setEnabled(bool(ids) and not running)
        menu.addSeparator()
        menu.addAction("Use the sampler's current settings for these lines",
                       lambda: self._set_row_settings(ids, True)).setEnabled(bool(ids))
        menu.addAction("Back to the project's settings",
                       lambda: self._set_row_settings(ids, False)).setEnabled(bool(ids))
        menu.addSeparator()
        menu.addAction("Insert a line above", self._insert_row).setEnabled(not running)
        menu.addAction("Delete lines…", lambda: self.delete_rows(ids)).setEnabled(bool(ids) and not running)
        menu.popup(self.table.viewport().mapToGlobal(position))

    def _insert_row(self: Any) -> None:
        assert self.project is not None
        index = self.table.currentIndex().row() if self.table.currentIndex().isValid() else len(self.project.rows)
        self.project.insert_row(index, "New line.")
        self.model.reload()
        self.table.setCurrentIndex(self.model.index(index, COL_TEXT))
        self.table.edit(self.model.index(index, COL_TEXT))

    def delete_rows(self: Any, row_ids: list[str], *, confirm: bool = True) -> None:
        if self.project is None or not row_ids or self.controller.is_running:
            return
        if confirm:
            answer = QMessageBox.question(self, "Delete lines", f"Delete {len(row_ids)} line(s) and their takes?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.project.remove_rows(row_ids)
        self.model.reload()
        self._show_current_takes()
        self._update_summary()

__all__ = ["BatchRows"]
