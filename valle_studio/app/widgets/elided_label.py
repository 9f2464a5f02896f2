"""A one-line label that never widens its window: too long a text is elided, the whole of it is the tooltip.

A plain :class:`QLabel` asks for the width of its whole text, so a status line such as "Selection 6.2 s
of 8.9 s" or a long model name grows the layout, and the window with it. :class:`ElidedLabel` asks for a
few characters at least (``minimum_chars``) and otherwise takes what the layout gives it, drawing
"…" where the text is cut; while the text is cut, the tooltip shows it whole (a tooltip set with
:meth:`setToolTip` is kept and shown below it). Plain text only: rich text cannot be elided safely.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QSizePolicy, QStyleOption, QWidget


class ElidedLabel(QFrame):
    """See the module docstring. ``text()``/``setText()`` as on a QLabel; ``elided()`` says if it is cut."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, minimum_chars: int = 4,
                 elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._text = ""
        self._tip = ""  # the tooltip set by the owner (shown under the whole text when cut)
        self._minimum_chars = max(0, minimum_chars)
        self._mode = elide
        self._alignment = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    # -- QLabel-like API -------------------------------------------------------------------
    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        text = " ".join(str(text).split()) if "\n" in str(text) else str(text)
        if text == self._text:
            return
        self._text = text
        self.updateGeometry()  # only the hint changes: the minimum stays a few characters
        self._refresh_tip()
        self.update()

    def setToolTip(self, tip: str) -> None:
        self._tip = tip
        self._refresh_tip()

    def ownToolTip(self) -> str:
        """The tooltip set by the owner, without the whole text added while it is cut."""
        return self._tip

    def setAlignment(self, alignment: Qt.AlignmentFlag) -> None:
        self._alignment = alignment
        self.update()

    def elided(self) -> bool:
        """True when the text does not fit and is drawn cut."""
        return self.fontMetrics().horizontalAdvance(self._text) > self.contentsRect().width()

    # -- sizes -----------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        width = metrics.horizontalAdvance(self._text) + margins.left() + margins.right() + 2
        return QSize(width, metrics.height() + margins.top() + margins.bottom())

    def minimumSizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        shown = self._text[: self._minimum_chars] + ("…" if len(self._text) > self._minimum_chars else "")
        width = metrics.horizontalAdvance(shown) + margins.left() + margins.right() + 2
        return QSize(width, metrics.height() + margins.top() + margins.bottom())

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self._text, self._mode, rect.width())
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawItemText(painter, rect, int(self._alignment), option.palette, self.isEnabled(), shown,
                                  self.foregroundRole())
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._refresh_tip()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._refresh_tip()  # a font change may cut the text, or stop cutting it

    def _refresh_tip(self) -> None:
        whole = self._text if self._text and self.elided() else ""
        tip = "\n\n".join(t for t in (whole, self._tip) if t)
        if tip != super().toolTip():
            super().setToolTip(tip)


__all__ = ["ElidedLabel"]
