"""Help → About: the app's version and the espeak-ng it phonemizes with (and why that version matters).

The espeak-ng line is looked up on a background task (the first lookup loads the library), so the
dialog opens at once and fills the line in when it is known.
"""

from __future__ import annotations

import html
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

import valle_studio
from valle_studio.app.jobs.background import BackgroundTask
from valle_studio.engine.text.espeak_setup import TRAINED_VERSION

ESPEAK_WHY = (f"The published models were trained on espeak-ng {TRAINED_VERSION} phonemes; VALL-E Studio uses "
              f"{TRAINED_VERSION} wherever it can be had (README: “espeak-ng”).")


class AboutDialog(QDialog):
    """See the module docstring. :attr:`espeak_label` holds the espeak-ng line once known."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About VALL-E Studio")
        self.setObjectName("aboutDialog")
        title = QLabel(f"<h2>VALL-E Studio {html.escape(valle_studio.__version__)}</h2>"
                       "<p>Desktop voice cloning with the VALL-E models of ecker/vall-e.</p>")
        self.espeak_label = QLabel("espeak-ng: looking it up…")
        self.espeak_label.setObjectName("aboutEspeak")
        self.espeak_label.setWordWrap(True)
        self.espeak_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        why = QLabel(ESPEAK_WHY)
        why.setWordWrap(True)
        details = QLabel(f"Python {sys.version.split()[0]} · own code MIT · espeak-ng GPL-3.0 · "
                         "model weights: see the model manager")
        details.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (title, self.espeak_label, why, details, buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(520)
        self._task = BackgroundTask(lambda _progress, _cancel: _espeak_line(), name="valle-about")
        self._task.finished.connect(self._show_espeak)
        self._task.failed.connect(lambda message: self._show_espeak(f"espeak-ng: {message}"))
        self._task.start()

    def _show_espeak(self, line: object) -> None:
        self.espeak_label.setText(str(line))


def _espeak_line() -> str:
    from valle_studio.engine.about import espeak_line

    return espeak_line()
