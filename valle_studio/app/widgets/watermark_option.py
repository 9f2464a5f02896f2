"""The Preferences checkbox for the watermark (issue 17): "Watermark every exported file".

A section widget for the Preferences dialog (``add_section(WatermarkOption.SECTION, widget)``): it reads
and writes :attr:`AppSettings.watermark <valle_studio.app.settings.AppSettings.watermark>` at once, so
the next export (Studio or Batch) follows it; the note under it says what switching it off means.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from valle_studio.app.settings import AppSettings

NOTE_ON = ("Every exported file carries an inaudible watermark (resemble-perth) that tools can detect even "
           "after the tags are stripped, so the audio can be recognised as synthetic speech.")
NOTE_OFF = ("Exports will not be watermarked: once their tags are stripped nothing marks them as synthetic "
            "speech. The audit log records this for every file.")


class WatermarkOption(QWidget):
    """See the module docstring. ``changed(bool)`` after the user toggled it (the setting is saved)."""

    SECTION = "Provenance"
    changed = Signal(bool)

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.checkbox = QCheckBox("&Watermark every exported file")
        self.checkbox.setObjectName("watermarkOption")
        self.checkbox.setChecked(bool(settings.watermark))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("watermarkNote")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.checkbox)
        layout.addWidget(self.note)
        self._show_note()
        self.checkbox.toggled.connect(self._on_toggled)

    def _on_toggled(self, checked: bool) -> None:
        self.settings.watermark = checked
        self._show_note()
        self.changed.emit(checked)

    def _show_note(self) -> None:
        self.note.setText(NOTE_ON if self.checkbox.isChecked() else NOTE_OFF)


__all__ = ["WatermarkOption"]
