"""How a take's verdict looks everywhere in the app: a coloured badge with a word, and its reasons.

The History, the batch table and the batch takes list all show a take's check the same way: a small
rounded badge in the verdict's colour with the verdict's word on it ("Good", "Suspect", "Bad"; "Not
checked" in grey), never colour alone, and the reasons in the tooltip. The colours are fixed hues that
read on light and dark palettes; the word is drawn in white or black, whichever contrasts more.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QIcon, QPainter, QPixmap

from valle_studio.engine.quality.verdict import TakeQuality

WORDS = {"good": "Good", "suspect": "Suspect", "bad": "Bad", None: "Not checked"}
COLORS = {"good": QColor(46, 140, 80), "suspect": QColor(214, 140, 20), "bad": QColor(200, 50, 50),
          None: QColor(128, 128, 128)}
_PADDING = 6


def word(quality: TakeQuality | None) -> str:
    return WORDS[None if quality is None else quality.verdict]


def color(quality: TakeQuality | None) -> QColor:
    return QColor(COLORS[None if quality is None else quality.verdict])


def _text_color(background: QColor) -> QColor:
    luminance = 0.299 * background.redF() + 0.587 * background.greenF() + 0.114 * background.blueF()
    return QColor(Qt.GlobalColor.black) if luminance > 0.6 else QColor(Qt.GlobalColor.white)


def badge_width(metrics: QFontMetrics, quality: TakeQuality | None) -> int:
    return metrics.horizontalAdvance(word(quality)) + 2 * _PADDING


def paint_badge(painter: QPainter, rect: QRect, quality: TakeQuality | None) -> None:
    """The badge filling ``rect``: the verdict's colour, its word centred on it."""
    fill = color(quality)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    radius = rect.height() / 2.5
    painter.drawRoundedRect(QRectF(rect), radius, radius)
    painter.setPen(_text_color(fill))
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), word(quality))
    painter.restore()


def badge_icon(quality: TakeQuality | None, size: int = 12) -> QIcon:
    """A round icon in the verdict's colour, for item views that show the word as text beside it."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color(quality))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


def reasons_html(quality: TakeQuality | None) -> str:
    """The verdict and its reasons as rich text for a tooltip."""
    if quality is None:
        return "<b>Not checked</b>: this take was made before the quality check, or with it turned off."
    head = f"<b style='color:{color(quality).name()}'>{word(quality)}</b> (score {quality.score:.2f})"
    if not quality.reasons:
        return head + ": every check passed."
    items = "".join(f"<li>{html.escape(reason)}</li>" for reason in quality.reasons)
    return f"{head}<ul style='margin-left:12px; -qt-list-indent:0'>{items}</ul>"


def verdict_text(quality: TakeQuality | None) -> str:
    """One line: ``"Suspect: too long: ..."``; ``"Good"``; ``"Not checked"``."""
    if quality is None or quality.good:
        return word(quality)
    problems = [r for r in quality.reasons if not r.startswith("not checked:")]
    return f"{word(quality)}: {problems[0]}" if problems else word(quality)


__all__ = ["COLORS", "WORDS", "badge_icon", "badge_width", "color", "paint_badge", "reasons_html", "verdict_text",
           "word"]
