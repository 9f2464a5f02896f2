"""How the voice panel looks: the voice picker with its actions, then the reference-clip workbench.

A mixin of :class:`~valle_studio.app.widgets.voice_panel.VoicePanel` (kept apart so the panel's file is
about behaviour): :meth:`VoicePanelLayout._build` makes every control once. The panel must fit a third of
a 910 px wide window, so no row holds more than three or four short buttons and every text that changes
(the clip's length, the selection) is an :class:`~.elided_label.ElidedLabel` that never widens it.

Other modules add a strip under the recording row (a level meter, a countdown) with
:meth:`VoicePanelLayout.add_clip_strip`, without reaching into the layout.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.widgets.compact import compact_button, compact_buttons, fitting_combo
from valle_studio.app.widgets.elided_label import ElidedLabel
from valle_studio.app.widgets.recording_strip import RecordingStrip
from valle_studio.app.widgets.waveform_view import WaveformView

METER_FLOOR_DB = -60.0
PLACEHOLDER = "Import or record a clip of 3-12 s of clear speech"
MODEL_CLEAN_TEXT = "Denoise"  # with the model's own noise-suppression task (the tooltip says so)
CLIPPING_TEXT = "Clipping! Move away from the microphone or lower its gain."


def _row(*items: QWidget | tuple[QWidget | None, int], parent: QWidget | None = None) -> QHBoxLayout:
    """A horizontal layout of widgets; ``(widget, stretch)`` stretches one, ``(None, n)`` adds a stretch."""
    row = QHBoxLayout(parent) if parent is not None else QHBoxLayout()
    for item in items:
        widget, stretch = item if isinstance(item, tuple) else (item, 0)
        if widget is None:
            row.addStretch(stretch)
        else:
            row.addWidget(widget, stretch)
    return row


class VoicePanelLayout:
    """See the module docstring; every attribute it sets is the panel's."""

    def _build(self: Any) -> None:
        self.voice_combo = QComboBox()
        self.voice_combo.setAccessibleName("Voice")
        self.voice_combo.setToolTip("The voice to speak with: a saved voice, or the clip prepared below")
        fitting_combo(self.voice_combo, 12)
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete")
        self.blend_button = QPushButton("Blend…")
        self.blend_button.setToolTip("Mix saved voices with weights into a new, blended voice (experimental)")
        self.clip_list = QListWidget()
        self.clip_list.setAccessibleName("Clips of this voice")
        self.clip_list.setMaximumHeight(72)
        self.remove_clip_button = QPushButton("Remove clip")

        library_box = QGroupBox("Voice")
        library_layout = QVBoxLayout(library_box)
        library_layout.setContentsMargins(6, 4, 6, 6)  # tight: the panel is a third of a narrow window
        library_layout.addWidget(self.voice_combo)
        library_layout.addLayout(_row(self.rename_button, self.delete_button, self.blend_button, (None, 1)))
        clips_row = _row((self.clip_list, 1), self.remove_clip_button)
        clips_row.setAlignment(self.remove_clip_button, Qt.AlignmentFlag.AlignTop)
        library_layout.addLayout(clips_row)

        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Open a WAV, FLAC, OGG or MP3 file (or drop one on this panel)")
        self.device_combo = QComboBox()
        self.device_combo.setAccessibleName("Microphone")
        fitting_combo(self.device_combo, 3)  # the Record button carries an icon: the row must still fit
        self.record_button = QPushButton("Record")
        self.record_button.setCheckable(True)
        self.recording_strip = RecordingStrip(self.recording, self.record_button)  # meter, gain hint, countdown
        self.meter = self.recording_strip.meter
        policy = self.meter.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # showing it while recording must not shift the layout
        self.meter.setSizePolicy(policy)
        self.clip_label = ElidedLabel(CLIPPING_TEXT)
        self.clip_label.setStyleSheet("color: #d62828; font-weight: bold")
        self.clip_label.setVisible(False)

        self.waveform = WaveformView()
        self.waveform.set_selection_enabled(True)
        self.waveform.set_placeholder_text(PLACEHOLDER)
        self.play_button = QPushButton("Play")
        self.keep_button = QPushButton("Crop")
        self.keep_button.setToolTip("Keep the selection: cut the clip down to the selected part")
        self.cleanup_button = QPushButton("Clean up")
        self.cleanup_button.setToolTip("Trim silence at both ends and bring the loudness to a standard level")
        self.model_clean_button = QPushButton(MODEL_CLEAN_TEXT)
        self.model_clean_button.setObjectName("modelClean")
        self.undo_button = QPushButton("Undo edits")
        self.transcribe_button = QPushButton("Transcribe")
        self.transcribe_button.setToolTip("Hear the clip with the model's speech-to-text head")
        # The clip's length and the selection: a changing text, so it elides instead of widening the panel.
        self.duration_label = ElidedLabel("", minimum_chars=5)
        self.duration_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.warning_label = QLabel("")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b26a00")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Voice name")
        self.name_edit.setAccessibleName("Voice name")
        self.save_button = QPushButton("Save as voice")
        self.voice_hint = QLabel("To add another clip to this voice, import or record it, "
                                 "then press \u201cAdd to …\u201d.")
        self.voice_hint.setWordWrap(True)
        self.voice_hint.setEnabled(False)  # drawn greyed: a hint, not a control

        compact_buttons(self.rename_button, self.delete_button, self.blend_button, self.remove_clip_button,
                        self.import_button, self.keep_button, self.cleanup_button, self.undo_button,
                        self.transcribe_button)
        compact_button(self.save_button, "Save as voice", "Add to \u201cNarrator voice\u2026\u201d")
        compact_button(self.play_button, "Play", "Pause")
        compact_button(self.record_button, "Record", "Stop")
        compact_button(self.model_clean_button, MODEL_CLEAN_TEXT, "Denoising…")
        self.save_row = QWidget()  # one widget, so it can be hidden while a saved voice is shown
        _row((self.name_edit, 1), self.save_button, parent=self.save_row).setContentsMargins(0, 0, 0, 0)
        # The draft's editing tools, in one widget: hidden together while a saved voice is shown.
        self.edit_row = QWidget()
        _row(self.keep_button, self.cleanup_button, self.model_clean_button, (None, 1),
             parent=self.edit_row).setContentsMargins(0, 0, 0, 0)
        clip_box = QGroupBox("Reference clip")
        self.clip_layout = QVBoxLayout(clip_box)
        self.clip_layout.setContentsMargins(6, 4, 6, 6)
        self.clip_layout.addLayout(_row(self.import_button, QLabel("Mic"), (self.device_combo, 1),
                                        self.record_button))
        for widget in (self.recording_strip, self.clip_label):
            self.clip_layout.addWidget(widget)
        self.clip_layout.addWidget(self.waveform, 1)
        self.clip_layout.addLayout(_row(self.play_button, self.transcribe_button, self.undo_button,
                                        (self.duration_label, 1)))
        for below in (self.edit_row, self.warning_label, self.save_row, self.voice_hint):
            self.clip_layout.addWidget(below)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(library_box)
        layout.addWidget(clip_box, 1)

    def add_clip_strip(self: Any, widget: QWidget) -> None:
        """Show ``widget`` (one line high, e.g. a recording strip) under the recording row."""
        self.clip_layout.insertWidget(self.clip_layout.indexOf(self.clip_label) + 1, widget)


__all__ = ["CLIPPING_TEXT", "METER_FLOOR_DB", "MODEL_CLEAN_TEXT", "PLACEHOLDER", "VoicePanelLayout"]
