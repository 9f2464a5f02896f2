"""The application icon, found both in a checkout and inside the frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

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
