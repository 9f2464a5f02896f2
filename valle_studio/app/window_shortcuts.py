"""The main window's Ctrl shortcuts work whatever has the focus.

Qt first offers a key to the focused widget (a ``ShortcutOverride`` event); a line edit or a spin box
claims most Ctrl keys that way, on Linux even Ctrl+E (Emacs' "end of line"), so Export did nothing while
the seed box had the focus. :class:`WindowShortcuts` watches those offers for the window's widgets: when
the key is the shortcut of one of the window's enabled actions, the widget does not get to claim it, so
the action runs. Keys a text field really needs stay its own: copy, cut, paste, undo, redo and select all
(Ctrl+C/X/V/Z/Y/A), and every key without Ctrl, Alt or Meta (Space types a space in a text field).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

#: What a text field keeps even when the window has an action on the same keys.
TEXT_KEYS = (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.Cut, QKeySequence.StandardKey.Paste,
             QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo, QKeySequence.StandardKey.SelectAll)
_COMMAND = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
_MODIFIER_KEYS = {Qt.Key.Key_Control, Qt.Key.Key_Shift, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr}


def is_text_input(widget: QObject) -> bool:
    """A widget one types text into (where the editing keys of :data:`TEXT_KEYS` are its own)."""
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    if isinstance(widget, (QTextEdit, QPlainTextEdit)):
        selectable = bool(widget.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByKeyboard)
        return not widget.isReadOnly() or selectable
    return isinstance(widget, (QLineEdit, QAbstractSpinBox))


class WindowShortcuts(QObject):
    """See the module docstring. Lives as long as ``window`` (its child); filters the application's events."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # removed by Qt when this object is destroyed with the window

    def action_for(self, sequence: QKeySequence) -> QAction | None:
        """The window's enabled action whose shortcut is ``sequence`` (None: no such action)."""
        for action in self.window.findChildren(QAction):
            if not action.isEnabled() or action.shortcutContext() == Qt.ShortcutContext.WidgetShortcut:
                continue
            if any(shortcut.matches(sequence) == QKeySequence.SequenceMatch.ExactMatch
                   for shortcut in action.shortcuts()):
                return action
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(watched, QWidget):
            return False
        if watched.window() is not self.window or not isinstance(event, QKeyEvent):
            return False
        key = Qt.Key(event.key())
        if key in _MODIFIER_KEYS or not event.modifiers() & _COMMAND:
            return False  # plain keys (Space, letters, Esc) belong to the focused widget
        if is_text_input(watched) and any(event.matches(k) for k in TEXT_KEYS):
            return False
        if self.action_for(QKeySequence(event.keyCombination())) is None:
            return False
        event.ignore()  # the widget does not claim the key: the window's shortcut runs
        return True


__all__ = ["TEXT_KEYS", "WindowShortcuts", "is_text_input"]
