"""Help → About: the versions in use (app, Python, Qt, PyTorch, espeak-ng with its source), the model in
use, and the licence terms of every model and codec the app runs.

The espeak-ng line is looked up on a background task (the first lookup loads the library), so the
dialog opens at once and fills the line in when it is known. PyTorch's version comes from its package
metadata: the About box never imports torch on the UI thread.
"""

from __future__ import annotations

import html
import importlib.metadata
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

import valle_studio
from valle_studio.app.jobs.background import BackgroundTask
from valle_studio.engine.text.espeak_setup import TRAINED_VERSION

ESPEAK_WHY = (f"The published models were trained on espeak-ng {TRAINED_VERSION} phonemes; VALL-E Studio uses "
              f"{TRAINED_VERSION} wherever it can be had (README: “espeak-ng”).")
OWN_TERMS = [("VALL-E Studio", "MIT (its own code)"), ("espeak-ng", "GPL-3.0 (the phonemizer library)")]


@dataclass(frozen=True)
class AboutContext:
    """What the window knows when About opens: the model in use and the terms of what it runs."""

    model: str = ""  # display name, "" when none is loaded
    model_detail: str = ""  # device, precision, file
    licences: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (name, terms), models and codecs


def package_version(name: str) -> str:
    """The installed version of distribution ``name`` (from its metadata, without importing it)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def version_rows() -> list[tuple[str, str]]:
    """``(component, version)`` for everything but espeak-ng (looked up in the background)."""
    return [("VALL-E Studio", valle_studio.__version__), ("Python", sys.version.split()[0]),
            ("Qt / PySide6", f"{qVersion()} / {pyside_version}"), ("PyTorch", package_version("torch"))]


class AboutDialog(QDialog):
    """See the module docstring. :attr:`espeak_label` holds the espeak-ng line once known."""

    def __init__(self, parent: QWidget | None = None, context: AboutContext | None = None) -> None:
        super().__init__(parent)
        context = context or AboutContext()
        self.setWindowTitle("About VALL-E Studio")
        self.setObjectName("aboutDialog")
        title = QLabel(f"<h2>VALL-E Studio {html.escape(valle_studio.__version__)}</h2>"
                       "<p>Desktop voice cloning with the VALL-E models of ecker/vall-e.</p>")
        rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                       for k, v in version_rows())
        self.versions_label = QLabel(f"<table>{rows}</table>")
        self.versions_label.setObjectName("aboutVersions")
        self.versions_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.espeak_label = QLabel("espeak-ng: looking it up…")
        self.espeak_label.setObjectName("aboutEspeak")
        self.espeak_label.setWordWrap(True)
        self.espeak_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        why = QLabel(ESPEAK_WHY)
        why.setWordWrap(True)
        self.model_label = QLabel(f"<b>Model in use:</b> {html.escape(context.model)}"
                                  + (f" ({html.escape(context.model_detail)})" if context.model_detail else "")
                                  if context.model else "<b>Model in use:</b> none loaded")
        self.model_label.setObjectName("aboutModel")
        self.model_label.setWordWrap(True)
        self.licences_view = QTextBrowser()
        self.licences_view.setObjectName("aboutLicences")
        self.licences_view.setOpenExternalLinks(True)
        self.licences_view.setHtml(_licences_html([*context.licences, *OWN_TERMS]))
        self.licences_view.setMinimumHeight(150)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (title, self.versions_label, self.espeak_label, why, self.model_label,
                       QLabel("<b>Licences of what runs</b>")):
            layout.addWidget(widget)
        layout.addWidget(self.licences_view, 1)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)
        self.resize(620, 600)
        self._task = BackgroundTask(lambda _progress, _cancel: _espeak_line(), name="valle-about")
        self._task.finished.connect(self._show_espeak)
        self._task.failed.connect(lambda message: self._show_espeak(f"espeak-ng: {message}"))
        self._task.start()

    def licences_text(self) -> str:
        return self.licences_view.toPlainText()

    def _show_espeak(self, line: object) -> None:
        self.espeak_label.setText(str(line))


def _licences_html(notes: Sequence[tuple[str, str]]) -> str:
    seen: set[str] = set()
    items = []
    for name, terms in notes:
        if name in seen:
            continue
        seen.add(name)
        items.append(f"<p><b>{html.escape(name)}</b>: {html.escape(terms)}</p>")
    return "".join(items)


def _espeak_line() -> str:
    from valle_studio.engine.about import espeak_line

    return espeak_line()
