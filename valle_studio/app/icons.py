"""The application icon (found both in a checkout and inside the frozen bundle) and the action icons."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap, QPolygonF

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def assets_dir() -> Path:
    """``assets/`` of a checkout, or of the PyInstaller bundle (``sys._MEIPASS`` = ``<bundle>/_internal``)."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle, "assets") if bundle else Path(__file__).resolve().parents[2] / "assets"


def app_icon() -> QIcon:
    """Every rendered size of the icon (an empty icon when the renders are missing)."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = assets_dir() / "icons" / f"valle-studio-{size}.png"
        if path.is_file():
            icon.addFile(str(path), QSize(size, size))
    return icon


# -- action icons ------------------------------------------------------------------------------------
# Simple glyphs drawn in the palette's text colour, so they read on a light and on a dark window alike
# (the style's bitmaps are dark grey on every palette). Redrawn when the appearance changes.
GLYPHS = ("generate", "stop", "play", "pause", "export", "record", "models", "preferences", "help", "keyboard",
          "about")
_GLYPH_SIZES = (16, 20, 24, 32, 48)
RECORD_RED = "#e5484d"


def action_icon(kind: str, palette: QPalette | None = None) -> QIcon:
    """The glyph ``kind`` (one of :data:`GLYPHS`) in the palette's text colour, greyed when disabled."""
    from PySide6.QtGui import QGuiApplication

    palette = palette or QGuiApplication.palette()
    normal = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    icon = QIcon()
    for size in _GLYPH_SIZES:
        for mode, colour in ((QIcon.Mode.Normal, normal), (QIcon.Mode.Disabled, disabled)):
            icon.addPixmap(_glyph(kind, size, colour, mode is QIcon.Mode.Disabled), mode)
    return icon


def _glyph(kind: str, size: int, colour: QColor, disabled: bool) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 24.0, size / 24.0)  # every glyph is drawn on a 24x24 grid
    pen = QPen(colour, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    _DRAW[kind](p, colour, disabled)
    p.end()
    return pixmap


def _triangle(p: QPainter, colour: QColor, x: float = 7.0) -> None:
    p.setBrush(colour)
    p.drawPolygon(QPolygonF([QPointF(x, 4.5), QPointF(x + 13, 12), QPointF(x, 19.5)]))


def _generate(p: QPainter, colour: QColor, _disabled: bool) -> None:
    _triangle(p, colour, 4.0)
    p.drawLine(QPointF(20, 3), QPointF(20, 8))  # a spark: "make new audio", unlike plain Play
    p.drawLine(QPointF(17.5, 5.5), QPointF(22.5, 5.5))


def _stop(p: QPainter, colour: QColor, _disabled: bool) -> None:
    p.setBrush(colour)
    p.drawRoundedRect(QRectF(5.5, 5.5, 13, 13), 2, 2)


def _play(p: QPainter, colour: QColor, _disabled: bool) -> None:
    _triangle(p, colour)


def _pause(p: QPainter, colour: QColor, _disabled: bool) -> None:
    p.setBrush(colour)
    p.drawRect(QRectF(6.5, 5, 3.5, 14))
    p.drawRect(QRectF(14, 5, 3.5, 14))


def _export(p: QPainter, _colour: QColor, _disabled: bool) -> None:
    p.drawLine(QPointF(12, 3.5), QPointF(12, 15))
    p.drawPolyline(QPolygonF([QPointF(7.5, 10.5), QPointF(12, 15), QPointF(16.5, 10.5)]))
    p.drawPolyline(QPolygonF([QPointF(4, 15), QPointF(4, 20), QPointF(20, 20), QPointF(20, 15)]))


def _record(p: QPainter, colour: QColor, disabled: bool) -> None:
    red = colour if disabled else QColor(RECORD_RED)  # red reads as "record" on both palettes
    p.setPen(QPen(red, 1.5))
    p.setBrush(red)
    p.drawEllipse(QPointF(12, 12), 7, 7)


def _models(p: QPainter, _colour: QColor, _disabled: bool) -> None:
    top = QPolygonF([QPointF(12, 3.5), QPointF(20, 7.5), QPointF(12, 11.5), QPointF(4, 7.5)])
    p.drawPolygon(top)
    p.drawPolyline(QPolygonF([QPointF(4, 7.5), QPointF(4, 16.5), QPointF(12, 20.5), QPointF(20, 16.5),
                              QPointF(20, 7.5)]))
    p.drawLine(QPointF(12, 11.5), QPointF(12, 20.5))


def _preferences(p: QPainter, _colour: QColor, _disabled: bool) -> None:
    import math

    p.drawEllipse(QPointF(12, 12), 3, 3)
    p.drawEllipse(QPointF(12, 12), 6.5, 6.5)
    for i in range(8):  # the gear's teeth
        a = i * math.pi / 4
        p.drawLine(QPointF(12 + 6.5 * math.cos(a), 12 + 6.5 * math.sin(a)),
                   QPointF(12 + 9.5 * math.cos(a), 12 + 9.5 * math.sin(a)))


def _help(p: QPainter, colour: QColor, _disabled: bool) -> None:
    p.drawEllipse(QPointF(12, 12), 9, 9)
    path = QPainterPath(QPointF(9, 9.5))
    path.cubicTo(QPointF(9, 6), QPointF(15, 6), QPointF(15, 9.5))
    path.cubicTo(QPointF(15, 12), QPointF(12, 12), QPointF(12, 14.5))
    p.drawPath(path)
    p.setBrush(colour)
    p.drawEllipse(QPointF(12, 17.5), 0.6, 0.6)


def _keyboard(p: QPainter, _colour: QColor, _disabled: bool) -> None:
    p.drawRoundedRect(QRectF(2.5, 6, 19, 12), 2, 2)
    for x in (6.5, 10, 13.5, 17):
        p.drawPoint(QPointF(x, 10))
    p.drawLine(QPointF(8, 14.5), QPointF(16, 14.5))


def _about(p: QPainter, colour: QColor, _disabled: bool) -> None:
    p.drawEllipse(QPointF(12, 12), 9, 9)
    p.drawLine(QPointF(12, 11), QPointF(12, 17))
    p.setBrush(colour)
    p.drawEllipse(QPointF(12, 7.5), 0.6, 0.6)


_DRAW = {"generate": _generate, "stop": _stop, "play": _play, "pause": _pause, "export": _export,
         "record": _record, "models": _models, "preferences": _preferences, "help": _help,
         "keyboard": _keyboard, "about": _about}
