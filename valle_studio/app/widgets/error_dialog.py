"""Errors as a person reads them: one human sentence, and the technical text behind a "Details" expander.

Two forms, used by every error the app shows:

* :func:`show_error` (an :class:`ErrorDialog`): a small non-blocking dialog with the sentence, a collapsed
  "Details" section (URLs, paths, the engine's own words; selectable, to paste into a bug report), an
  optional action button ("Open model manager") and Close.
* :class:`InlineError`: a one-line strip for a pane that must keep its size (the model manager). The strip
  has a fixed height and an elided sentence; "Details" shows the technical text *in place of* the widget it
  covers (a stacked page of the same size), so opening it never moves or squashes anything.

:func:`summary_of` turns the long messages of the store and the engine into that one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

Action = tuple[str, Callable[[], object]]

# (pattern in the technical message, what it means in words); the first match wins.
_REASONS: tuple[tuple[str, str], ...] = (
    (r"offline mode is on", "offline mode is on (VALLE_STUDIO_OFFLINE or HF_HUB_OFFLINE)"),
    (r"cannot reach|connect|name or service|getaddrinfo|network is unreachable|timed out",
     "the download server cannot be reached; check the network connection (what was already fetched is kept "
     "and the download resumes next time)"),
    (r"was not found on", "the file is no longer where the catalog says; VALL-E Studio may need an update"),
    (r"answered HTTP", "the server refused the download; try again later"),
    (r"check: expected|bytes but .* were expected|changed on the server", "the downloaded file was damaged and "
     "was deleted; try again"),
    (r"phoneme tokenizer is not installed", "its phoneme tokenizer is missing; add it in the model manager (Ctrl+M)"),
    (r"audio codec .* is not installed|codec \(EnCodec \+ Vocos\)", "the audio codec (EnCodec and Vocos) is missing; "
     "add it in the model manager (Ctrl+M)"),
    (r"cannot do NAR-len|no duration head", "this model cannot generate with NAR-len; choose AR + NAR"),
    (r"out of memory", "the device ran out of memory; try a shorter text or a lower Max duration"),
    (r"does not fit|ids reach", "its tokenizer does not belong to it"),
)


def summary_of(message: str, doing: str) -> str:
    """``doing`` ("Could not download ar+nar-len-llama-8") plus the cause of ``message`` in a few words:
    one sentence, never a wall of URLs (those stay in the details)."""
    for pattern, words in _REASONS:
        if re.search(pattern, message, flags=re.IGNORECASE):
            return f"{doing}: {words}."
    first = re.split(r"(?<=[.;])\s|\n", message.strip(), maxsplit=1)[0].rstrip(".;:")
    first = re.sub(r"\s*\((?:from |expected at |https?://)[^)]*\)", "", first)  # sources and paths: details
    if len(first) > 140:
        first = first[:139].rstrip() + "…"
    return f"{doing}: {first}." if first else f"{doing}."


class ElidingLabel(QLabel):
    """At most ``lines`` lines of text (word-wrapped), elided at the end with the whole text as its tooltip.
    Its height is fixed to those lines and it never asks for width, so no text can resize its window."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, lines: int = 1) -> None:
        super().__init__(parent)
        self._full = ""
        self._lines = max(1, lines)
        self.setWordWrap(self._lines > 1)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * self._lines + 2)
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if text else "")
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(40, self.width())
        metrics = self.fontMetrics()
        if self._lines == 1:
            super().setText(metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, width))
            return
        limit = metrics.lineSpacing() * self._lines

        def fits(text: str) -> bool:
            box = metrics.boundingRect(QRect(0, 0, width, 10 * limit), int(Qt.TextFlag.TextWordWrap), text)
            return box.height() <= limit

        if fits(self._full):
            super().setText(self._full)
            return
        low, high = 0, len(self._full)  # the longest prefix that fits with its ellipsis
        while low < high:
            middle = (low + high + 1) // 2
            if fits(self._full[:middle].rstrip() + "…"):
                low = middle
            else:
                high = middle - 1
        super().setText(self._full[:low].rstrip() + "…")


def _details_box(details: str) -> QPlainTextEdit:
    box = QPlainTextEdit(details)
    box.setObjectName("errorDetails")
    box.setReadOnly(True)
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    box.setAccessibleName("Error details")
    return box


class ErrorDialog(QDialog):
    """The sentence, a collapsed "Details" section, an optional action and Close. Non-blocking."""

    def __init__(self, parent: QWidget | None, summary: str, details: str, *, title: str = "VALL-E Studio",
                 action: Action | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorDialog")
        self.setWindowTitle(title)
        self.summary, self.details_text = summary, details
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(32, 32))
        self.label = QLabel(summary)
        self.label.setObjectName("errorSummary")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.label, 1)

        self.toggle = QToolButton()
        self.toggle.setObjectName("errorDetailsToggle")
        self.toggle.setText("&Details")
        self.toggle.setCheckable(True)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.toggle.setVisible(bool(details.strip()))
        self.details = _details_box(details)
        self.details.setVisible(False)
        self.toggle.toggled.connect(self.set_expanded)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        self.action_button: QPushButton | None = None
        if action is not None:
            text, callback = action
            self.action_button = buttons.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
            self.action_button.clicked.connect(lambda: (callback(), self.close()))
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def set_expanded(self, expanded: bool) -> None:
        """Show or hide the technical details (the dialog grows downwards, the sentence stays put)."""
        self.details.setVisible(expanded)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        if self.toggle.isChecked() != expanded:
            self.toggle.setChecked(expanded)
        self.resize(max(self.width(), 560 if expanded else 0), self.sizeHint().height() if not expanded
                    else max(self.height(), 320))

    def present(self) -> None:
        """Show it without blocking (tests record what would be shown by patching this)."""
        self.show()
        self.raise_()


def show_error(parent: QWidget | None, summary: str, details: str = "", *, title: str = "VALL-E Studio",
               action: Action | None = None) -> ErrorDialog:
    """Show ``summary`` (one sentence) with ``details`` behind "Details"; returns the dialog (deleted on close)."""
    dialog = ErrorDialog(parent, summary, details, title=title, action=action)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.present()
    return dialog


class InlineError(QWidget):
    """A fixed-height error strip for a pane; its details replace the ``covered`` widget while open.

    Put :attr:`stack` in the layout where ``covered`` was, and the strip itself where the error line goes.
    """

    dismissed = Signal()

    def __init__(self, covered: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inlineError")
        self.covered = covered
        self.details = _details_box("")
        self.stack = QStackedWidget()
        self.stack.addWidget(covered)
        self.stack.addWidget(self.details)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(16, 16))
        self.label = ElidingLabel(lines=2)  # room for the whole sentence at the manager's usual width
        self.label.setObjectName("inlineErrorSummary")
        self.toggle = QToolButton()
        self.toggle.setObjectName("inlineErrorDetails")
        self.toggle.setText("Details")
        self.toggle.setCheckable(True)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.toggle.toggled.connect(self.set_expanded)
        self.dismiss = QToolButton()
        self.dismiss.setText("Dismiss")
        self.dismiss.setAutoRaise(True)
        self.dismiss.clicked.connect(self.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(icon)
        row.addWidget(self.label, 1)
        row.addWidget(self.toggle)
        row.addWidget(self.dismiss)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # appearing and going never moves the rows around it
        self.setSizePolicy(policy)
        self._active = False
        self.setVisible(False)

    def show_error(self, summary: str, details: str) -> None:
        self.label.setText(summary)
        self.details.setPlainText(details)
        self.toggle.setVisible(bool(details.strip()))
        self.set_expanded(False)
        self._active = True
        self.setVisible(True)

    def summary(self) -> str:
        """The sentence shown ("" when none is)."""
        return self.label.full_text() if self._active else ""

    def expanded(self) -> bool:
        return self.stack.currentWidget() is self.details

    def set_expanded(self, expanded: bool) -> None:
        self.stack.setCurrentWidget(self.details if expanded else self.covered)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.toggle.setToolTip("Hide the details" if expanded else "Show the technical details in the pane below")
        if self.toggle.isChecked() != expanded:
            self.toggle.setChecked(expanded)

    def clear(self) -> None:
        """Take the error away (Dismiss, or a new task starting)."""
        was = self._active
        self._active = False
        self.set_expanded(False)
        self.setVisible(False)
        if was:
            self.dismissed.emit()


__all__ = ["ElidingLabel", "ErrorDialog", "InlineError", "show_error", "summary_of"]
