"""Appearance: System, Light or Dark, applied to the running application at once (no restart).

*System* gives back what Qt chose at start (the platform style and palette, which follow the OS's
light/dark setting where the platform reports it). *Light* and *Dark* use the Fusion style with a palette
of their own, so they look the same on every platform and a dark window is dark even where the platform
style ignores dark mode. A few stylesheet bits (tooltips, links, the disabled text of line edits) finish
what a palette alone leaves light on some styles.

:func:`apply_appearance` is the one entry point; :data:`theme_changes` tells widgets that draw their own
colours (the action icons) to redraw.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

APPEARANCES = ("system", "light", "dark")
LABELS = {"system": "System (follow the operating system)", "light": "Light", "dark": "Dark"}

# The dark palette: dark greys with a blue accent, contrast of text on window about 13:1.
_DARK = {
    QPalette.ColorRole.Window: "#2b2d31",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1f22",
    QPalette.ColorRole.AlternateBase: "#27292d",
    QPalette.ColorRole.ToolTipBase: "#3a3d42",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.PlaceholderText: "#8c8f94",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#35373c",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#4a4d53",
    QPalette.ColorRole.Midlight: "#404348",
    QPalette.ColorRole.Mid: "#2f3136",
    QPalette.ColorRole.Dark: "#18191c",
    QPalette.ColorRole.Shadow: "#0d0d0f",
    QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ea8ff",
    QPalette.ColorRole.LinkVisited: "#b78cff",
}
_DARK_DISABLED = {
    QPalette.ColorRole.WindowText: "#7d8086",
    QPalette.ColorRole.Text: "#7d8086",
    QPalette.ColorRole.ButtonText: "#7d8086",
    QPalette.ColorRole.Base: "#25262a",
    QPalette.ColorRole.Button: "#2e3034",
    QPalette.ColorRole.Highlight: "#4a4d53",
}
_DARK_SHEET = """
QToolTip { color: #f0f0f0; background-color: #3a3d42; border: 1px solid #5a5d63; }
QMenu::separator { background: #4a4d53; height: 1px; margin: 3px 6px; }
QTabBar::tab:selected { color: #ffffff; }
"""
_LIGHT_SHEET = "QToolTip { color: #111111; background-color: #ffffdc; border: 1px solid #999999; }"


@dataclass
class _Start:
    """What Qt chose before the first change, given back by *System*."""

    style: str
    palette: QPalette
    sheet: str


class _ThemeChanges(QObject):
    changed = Signal(str)  # the appearance now applied


theme_changes = _ThemeChanges()
_start: _Start | None = None
_applied = "system"


def dark_palette() -> QPalette:
    """The palette of *Dark* (every group; the disabled group greyed)."""
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role, colour in _DARK_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def is_dark(palette: QPalette | None = None) -> bool:
    """True when the window colour is darker than its text (the palette in use by default)."""
    palette = palette or QGuiApplication.palette()
    role = QPalette.ColorRole
    return palette.color(role.Window).lightness() < palette.color(role.WindowText).lightness()


def current() -> str:
    """The appearance last applied ("system" until one is)."""
    return _applied


def apply_appearance(appearance: str, app: QApplication | None = None) -> str:
    """Apply ``appearance`` (one of :data:`APPEARANCES`; anything else means "system") to the running
    app and every open window; returns what was applied. Applying "system" first changes nothing."""
    global _start, _applied
    app = app or QApplication.instance()  # type: ignore[assignment]
    if not isinstance(app, QApplication):
        return _applied
    appearance = appearance if appearance in APPEARANCES else "system"
    if _start is None:
        if appearance == "system":
            return _applied  # nothing changed yet: leave Qt's own choice alone
        _start = _Start(app.style().name(), QPalette(app.palette()), app.styleSheet())
    hints = app.styleHints()
    if appearance == "system":
        hints.unsetColorScheme()
        app.setStyle(_start.style)
        app.setPalette(_start.palette)
        app.setStyleSheet(_start.sheet)
    else:
        hints.setColorScheme(Qt.ColorScheme.Dark if appearance == "dark" else Qt.ColorScheme.Light)
        app.setStyle("Fusion")
        if appearance == "dark":
            app.setPalette(dark_palette())
        else:
            app.setPalette(app.style().standardPalette())  # Fusion's own light palette
        app.setStyleSheet(_start.sheet + (_DARK_SHEET if appearance == "dark" else _LIGHT_SHEET))
    _applied = appearance
    theme_changes.changed.emit(appearance)
    return appearance


__all__ = ["APPEARANCES", "LABELS", "apply_appearance", "current", "dark_palette", "is_dark", "theme_changes"]
