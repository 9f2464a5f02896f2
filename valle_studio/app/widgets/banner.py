"""A one-line message strip across the top of the window with one action button (e.g. "no model installed").

It must not make the window taller than a laptop screen allows (1366x768 at 150%: 910x510 logical pixels):
the strip is one line high, the message is cut with "…" when the window is narrow (the whole message is
its tooltip), and while a banner shows, the window hides the Studio tab's progress strip, whose line would
only repeat it (see ``MainWindow``), so the window's minimum height barely changes.
"""

from __future__ import annotations

import re
from html import unescape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QStyle, QWidget

from valle_studio.app.widgets.compact import compact_button


class Banner(QFrame):
    """Rich-text message plus a button; colours come from the palette, so it suits light and dark.
    ``shown_changed(bool)`` when it is shown or hidden by its owner."""

    shown_changed = Signal(bool)

    def __init__(self, text: str, action_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        icon = QLabel()
        info = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
        icon.setPixmap(info.pixmap(18, 18))
        self.label = QLabel()
        self.label.setObjectName("bannerText")
        # One line that takes the room the row leaves: a long message never widens or heightens the window.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.action = QPushButton(action_text)
        self.action.setDefault(True)
        compact_button(self.action)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        self._html = ""
        self.setText(text)

    def text(self) -> str:
        return self._html

    def setText(self, text: str) -> None:
        """Set the message (rich text); the tooltip holds the whole of it as plain text."""
        self._html = text
        self.setToolTip(unescape(re.sub(r"<[^>]+>", "", text)))
        self._fit()

    def setVisible(self, visible: bool) -> None:
        super().setVisible(visible)
        self.shown_changed.emit(visible)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """The whole message when it fits on the line, else its plain text cut with "…"."""
        width = self.label.width()
        plain = self.toolTip()
        metrics = self.label.fontMetrics()
        # The rich text's bold part is a little wider than the plain text measured here: keep 10% spare.
        if width <= 0 or metrics.horizontalAdvance(plain) * 1.1 <= width:
            self.label.setText(self._html)
        else:
            self.label.setText(metrics.elidedText(plain, Qt.TextElideMode.ElideRight, width))
