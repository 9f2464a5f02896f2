"""Help → Keyboard shortcuts: every shortcut of the window, read from its actions (never a list kept by hand).

The menus are walked in order, so each shortcut is shown with the menu it lives in; actions with a
shortcut that are in no menu (added to the window or a toolbar only) follow under "Window". An action
added later shows up the next time the dialog opens.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class ShortcutRow:
    """One action with a shortcut: its text without mnemonics, its keys, where it is found."""

    action: str
    keys: str
    where: str


def action_label(action: QAction) -> str:
    """The action's text as the user reads it ("&Export take…" -> "Export take…")."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcut_rows(window: QMainWindow) -> list[ShortcutRow]:
    """Every action of ``window`` that has a shortcut, in menu order, each once."""
    rows: list[ShortcutRow] = []
    seen: set[int] = set()

    def add(action: QAction, where: str) -> None:
        if id(action) in seen or action.isSeparator() or not action.shortcuts():
            return
        seen.add(id(action))
        keys = ", ".join(seq.toString(QKeySequence.SequenceFormat.NativeText) for seq in action.shortcuts())
        rows.append(ShortcutRow(action_label(action), keys, where))

    def walk(menu: QMenu, where: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{where} → {action_label(action)}")
            else:
                add(action, where)

    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            walk(menu, action_label(top))
    for action in [*window.actions(), *window.findChildren(QAction)]:
        add(action, "Window")
    return rows


class ShortcutsDialog(QDialog):
    """A table of :func:`shortcut_rows` (non-modal)."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        self.rows = shortcut_rows(window)
        self.table = QTableWidget(len(self.rows), 3)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut", "Menu"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        for r, row in enumerate(self.rows):
            for c, text in enumerate((row.action, row.keys, row.where)):
                item = QTableWidgetItem(text)
                if c == 1:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 460)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)


__all__ = ["ShortcutRow", "ShortcutsDialog", "action_label", "shortcut_rows"]
