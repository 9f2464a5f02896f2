"""Help → User guide (F1): the short guide bundled with the app (``assets/user_guide.md``), offline.

The guide is Markdown, shown by Qt's own renderer; links to the web open in the browser. The file
travels in the frozen bundle under ``assets/`` (installer/valle_studio.spec) and is found there as in a
checkout (:func:`~valle_studio.app.icons.assets_dir`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from valle_studio.app.icons import assets_dir

GUIDE_FILE = "user_guide.md"


def guide_path() -> Path:
    return assets_dir() / GUIDE_FILE


def guide_text(path: Path | None = None) -> str:
    """The guide's Markdown, or one sentence saying it is missing (a broken install)."""
    path = path or guide_path()
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return (f"# User guide\n\nThe user guide was not found at `{path}`: this installation is incomplete. "
                "The README of VALL-E Studio has the same information.")


class GuideDialog(QDialog):
    """The guide in a browser pane (non-modal, so it can stay open beside the window)."""

    def __init__(self, parent: QWidget | None = None, path: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("VALL-E Studio user guide")
        self.setObjectName("guideDialog")
        self.browser = QTextBrowser()
        self.browser.setObjectName("guideBrowser")
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(guide_text(path))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(680, 620)


__all__ = ["GuideDialog", "guide_path", "guide_text"]
