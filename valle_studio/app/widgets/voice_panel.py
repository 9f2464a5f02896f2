"""Whose voice: import or record a reference clip, prepare it, and keep it as a named voice.

The panel works on one *draft* clip at a time (imported, dropped or recorded). The user selects the
part to keep on the waveform, cleans it up (silence trimmed, loudness normalised) and saves it as a
new voice or adds it to an existing one, so several clips can make one voice. The voice picker at
the top chooses what :meth:`VoicePanel.prompts` returns: a saved voice's clips, or the draft.

Files are decoded on a worker thread (long files take a while); the result comes back as a queued
signal and a stale one (the user picked another file meanwhile) is dropped. Playback and recording
go through the window's shared controllers; with no device their buttons are disabled and the
tooltip says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.audio_bridge import AudioFileLoader, PlaybackController, RecordingController
from valle_studio.app.widgets.recording_strip import RecordingStrip
from valle_studio.app.widgets.voice_panel_state import UNSAVED, VoicePanelState
from valle_studio.app.widgets.waveform_view import WaveformView
from valle_studio.audio.io import AudioClip, AudioError
from valle_studio.audio.processing import select
from valle_studio.core.clip import Clip
from valle_studio.engine.interfaces import TaskSupportProtocol
from valle_studio.engine.requests import BlendPart
from valle_studio.studio import voices
from valle_studio.studio.voices import PromptClip, Voice, VoiceError, VoiceLibrary

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
METER_FLOOR_DB = -60.0
PLACEHOLDER = "Import or record a clip of 3-12 s of clear speech"


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


class VoicePanel(VoicePanelState, QWidget):
    """Reference clip workbench and voice library picker."""

    changed = Signal()  # what prompts() or voice_name() returns has changed
    model_clean_requested = Signal(object, int)  # samples [S] float32, sample rate: clean the draft with the model
    transcribe_requested = Signal(object)  # PromptClip: the clip shown, to hear with the model's STT head

    def __init__(self, library: VoiceLibrary, playback: PlaybackController, recording: RecordingController,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.playback = playback
        self.recording = recording
        self._draft: PromptClip | None = None
        self._original: PromptClip | None = None  # the draft as imported/recorded, for "Undo edits"
        self._voice: Voice | None = None
        self._voice_audio: list[PromptClip] = []
        self._shown: PromptClip | None = None
        self._start_at = 0.0  # where Play starts when the player holds other audio
        self._loaded: PromptClip | None = None  # the clip this panel last handed to the player
        self._pending = 0  # ticket of the file being decoded
        self._notes = ""  # advice about the draft's source file
        self._names: set[str] = set()  # casefolded voice names, for the Save button's label
        self._plain_voices = 0
        self._model_clean = "Load a model first."  # why the model cannot clean ("" = it can)
        self._model_cleaning = False
        self._loader = AudioFileLoader(self)
        self._loader.loaded.connect(self._on_file_loaded)
        self._loader.failed.connect(self._on_file_failed)
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        self.refresh_voices()
        self.refresh_devices()
        self._update()

    # --- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.voice_combo = QComboBox()
        self.voice_combo.setAccessibleName("Voice")
        self.voice_combo.setToolTip("The voice to speak with: a saved voice, or the clip prepared below")
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
        library_layout.addLayout(_row((self.voice_combo, 1), self.rename_button, self.delete_button,
                                      self.blend_button))
        clips_row = _row((self.clip_list, 1), self.remove_clip_button)
        clips_row.setAlignment(self.remove_clip_button, Qt.AlignmentFlag.AlignTop)
        library_layout.addLayout(clips_row)

        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Open a WAV, FLAC, OGG or MP3 file (or drop one on this panel)")
        self.device_combo = QComboBox()
        self.device_combo.setAccessibleName("Microphone")
        self.record_button = QPushButton("Record")
        self.record_button.setCheckable(True)
        self.recording_strip = RecordingStrip(self.recording, self.record_button)  # prefs: meter, gain hint, countdown
        self.meter = self.recording_strip.meter
        policy = self.meter.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # showing it while recording must not shift the layout
        self.meter.setSizePolicy(policy)
        self.clip_label = QLabel("Clipping! Move away from the microphone or lower its gain.")
        self.clip_label.setStyleSheet("color: #d62828; font-weight: bold")
        self.clip_label.setVisible(False)

        self.waveform = WaveformView()
        self.waveform.set_selection_enabled(True)
        self.waveform.set_placeholder_text(PLACEHOLDER)
        self.play_button = QPushButton("Play")
        self.keep_button = QPushButton("Keep selection")
        self.keep_button.setToolTip("Cut the clip down to the selected part")
        self.cleanup_button = QPushButton("Clean up")
        self.cleanup_button.setToolTip("Trim silence at both ends and bring the loudness to a standard level")
        self.model_clean_button = QPushButton("Clean with the model")
        self.model_clean_button.setObjectName("modelClean")
        self.undo_button = QPushButton("Undo edits")
        self.transcribe_button = QPushButton("Transcribe")
        self.transcribe_button.setToolTip("Hear the clip with the model's speech-to-text head")
        self.duration_label = QLabel("")
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

        self.save_row = QWidget()  # one widget, so it can be hidden while a saved voice is shown
        _row((self.name_edit, 1), self.save_button, parent=self.save_row).setContentsMargins(0, 0, 0, 0)
        clip_box = QGroupBox("Reference clip")
        clip_layout = QVBoxLayout(clip_box)
        clip_layout.addLayout(_row(self.import_button, QLabel("  Mic"), (self.device_combo, 1),
                                   self.record_button))
        for widget in (self.recording_strip, self.clip_label):
            clip_layout.addWidget(widget)
        clip_layout.addWidget(self.waveform, 1)
        clip_layout.addLayout(_row(self.play_button, self.keep_button, self.cleanup_button, self.model_clean_button,
                                   self.undo_button, self.transcribe_button, (None, 1), self.duration_label))
        for below in (self.warning_label, self.save_row, self.voice_hint):
            clip_layout.addWidget(below)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(library_box)
        layout.addWidget(clip_box, 1)

    def _request_transcription(self) -> None:
        if self._shown is not None:
            self.transcribe_requested.emit(self._shown)

    def _connect(self) -> None:
        self.voice_combo.currentIndexChanged.connect(self._on_voice_picked)
        self.clip_list.currentRowChanged.connect(self._on_clip_picked)
        self.rename_button.clicked.connect(self._rename_voice)
        self.delete_button.clicked.connect(self._delete_voice)
        self.remove_clip_button.clicked.connect(self._remove_clip)
        self.import_button.clicked.connect(self._choose_file)
        self.device_combo.currentIndexChanged.connect(
            lambda _i: self.recording.set_device(self.device_combo.currentData()))
        self.record_button.clicked.connect(self._toggle_recording)
        self.play_button.clicked.connect(self._toggle_playback)
        self.keep_button.clicked.connect(self.keep_selection)
        self.cleanup_button.clicked.connect(self.clean_up)
        self.model_clean_button.clicked.connect(self.request_model_clean)
        self.blend_button.clicked.connect(self._blend_voices)
        self.undo_button.clicked.connect(self._undo_edits)
        self.transcribe_button.clicked.connect(self._request_transcription)
        self.save_button.clicked.connect(self.save_voice)
        self.name_edit.textChanged.connect(lambda _t: self._update())
        self.waveform.seek_requested.connect(self._seek)
        self.waveform.selection_changed.connect(lambda _a, _b: self._update())
        self.waveform.selection_cleared.connect(self._update)
        self.playback.position_changed.connect(self._on_position)
        self.playback.state_changed.connect(lambda _s: self._update())
        self.playback.loaded.connect(self._update)
        self.playback.error.connect(self._on_playback_error)
        self.recording.level_changed.connect(self._on_level)
        self.recording.clip_warning.connect(self.clip_label.setVisible)
        self.recording.recording_changed.connect(self._on_recording_changed)
        self.recording.live_audio.connect(self._on_live_audio)
        self.recording.duration_changed.connect(lambda s: self.duration_label.setText(f"Recording {s:.1f} s"))
        self.recording.finished.connect(self._on_recorded)
        self.recording.error.connect(lambda msg: self._warn("Recording problem", msg))

    # --- public ----------------------------------------------------------------------------

    def prompts(self) -> tuple[tuple[np.ndarray, int], ...]:
        """``(samples [S] float32, sample_rate)`` per clip of the chosen voice, or of the draft."""
        if self._voice is not None:
            return tuple((c.samples, c.sample_rate) for c in self._voice_audio)
        if self._draft is not None:
            return ((self._draft.samples, self._draft.sample_rate),)
        return ()

    def request_voice(self) -> tuple[tuple[Clip, ...], tuple[BlendPart, ...]]:
        """The chosen voice as a request's ``(prompts, blend)``: its clips, or a blended voice's members."""
        if self._voice is not None and self._voice.is_blend:
            try:
                return (), self._voice.blend_parts()
            except (VoiceError, AudioError) as exc:
                raise VoiceError(f"Could not open the blend '{self._voice.name}': {exc}") from exc
        return tuple(Clip(samples, rate) for samples, rate in self.prompts()), ()

    def set_model_tasks(self, tasks: Mapping[str, TaskSupportProtocol] | None) -> None:
        """What the loaded model can do (``info.tasks``); None while no model is loaded."""
        ns = tasks.get("ns") if tasks else None
        self._model_clean = ("Load a model first." if tasks is None else
                             "" if ns is not None and ns.available else
                             (ns.reason if ns is not None else "this model cannot clean clips"))
        self._update()

    def set_model_cleaning(self, busy: bool) -> None:
        """A clean-up by the model runs (or ended): the draft is not edited meanwhile."""
        self._model_cleaning = busy
        self._update()

    def request_model_clean(self) -> None:
        """Ask for the draft to be cleaned by the model (noise suppression); the window runs the job."""
        if self._draft is not None and not self._model_clean and not self._model_cleaning:
            self.model_clean_requested.emit(self._draft.samples, self._draft.sample_rate)

    def apply_model_clean(self, samples: np.ndarray, sample_rate: int) -> None:
        """The model's cleaned draft replaces the draft (Undo edits brings the original back)."""
        if self._draft is None:
            return
        self._draft = PromptClip(np.asarray(samples, np.float32), int(sample_rate), self._draft.label)
        self._show(self._draft)
        self.changed.emit()

    def voice_name(self) -> str:
        """The chosen voice's name; for an unsaved clip, its source marked "(unsaved)"; "" for none."""
        if self._voice is not None:
            return self._voice.name
        if self._draft is not None:
            return f"{self._draft.label} (unsaved)"
        return ""

    @property
    def busy(self) -> bool:
        """True while a file is being decoded."""
        return self._pending != 0

    def import_file(self, path: str | Path) -> None:
        """Decode ``path`` in the background; it becomes the draft (or a message box explains why not)."""
        self._pending = self._loader.load(Path(path))
        self.duration_label.setText("Loading…")
        self._update()

    def set_draft(self, samples: np.ndarray, sample_rate: int, label: str, *, notes: str = "") -> None:
        """Make ``samples: [S]`` the clip being prepared and choose it as the voice.

        ``notes`` is advice about the source (clipping, low sample rate) shown under the waveform.
        """
        self._original = self._draft = PromptClip(np.asarray(samples, np.float32), int(sample_rate), label)
        self._notes = notes
        self.clip_label.setVisible(False)
        if not self.name_edit.text().strip() and label != "Recording":
            self.name_edit.setText(label)
        self.voice_combo.setCurrentIndex(0)  # the draft is what the user now works on
        self._show(self._draft)
        self.changed.emit()

    def refresh_voices(self, select_name: str | None = None) -> None:
        """Re-read the library; keeps the current choice unless ``select_name`` is given."""
        current = select_name if select_name is not None else (self._voice.name if self._voice else None)
        self.voice_combo.blockSignals(True)
        self.voice_combo.clear()
        self.voice_combo.addItem(UNSAVED, None)
        saved = self.library.list()
        self._names = {v.name.casefold() for v in saved}
        self._plain_voices = sum(1 for v in saved if not v.is_blend)  # what a blend can be made of
        for voice in saved:
            count = len(voice.clips)
            if voice.is_blend:
                parts = ", ".join(f"{m.name} {m.weight:g}" for m in voice.members)
                self.voice_combo.addItem(f"{voice.name}  (blend of {parts}, experimental)", voice.name)
            else:
                self.voice_combo.addItem(f"{voice.name}  ({count} clip{'s' * (count != 1)}, "
                                         f"{voice.duration_s:.1f} s)", voice.name)
        index = self.voice_combo.findData(current) if current else 0
        self.voice_combo.setCurrentIndex(max(index, 0))
        self.voice_combo.blockSignals(False)
        self._on_voice_picked(self.voice_combo.currentIndex())

    def select_voice(self, name: str) -> bool:
        """Choose a saved voice by name; False when there is none of that name."""
        index = self.voice_combo.findData(name, flags=Qt.MatchFlag.MatchFixedString)
        if index < 0:
            return False
        self.voice_combo.setCurrentIndex(index)
        return True

    def refresh_devices(self) -> None:
        """List the input devices again (after one was plugged in)."""
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        devices = self.recording.input_devices()
        if devices:
            self.device_combo.addItem("System default", None)
            for dev in devices:
                self.device_combo.addItem(dev.label, dev.index)
        else:
            self.device_combo.addItem("No microphone found", None)
        self.device_combo.blockSignals(False)
        self.recording.set_device(self.device_combo.currentData())
        self._update()

    # --- editing ---------------------------------------------------------------------------

    def keep_selection(self) -> None:
        """Cut the draft down to the selected region."""
        sel = self.waveform.selection()
        if self._draft is None or sel is None:
            return
        samples = select(self._draft.samples, self._draft.sample_rate, *sel)
        self._replace_draft(samples)

    def clean_up(self) -> None:
        """Trim silence at both ends, then normalise the loudness, in one step."""
        if self._draft is None:
            return
        try:
            self._replace_draft(voices.clean_up_clip(self._draft.samples, self._draft.sample_rate))
        except VoiceError as exc:
            self._warn("Nothing to keep", str(exc))

    def save_voice(self) -> None:
        """Save the draft as a new voice, or add it to the voice whose name is typed."""
        if self._draft is None:
            return
        name = self.name_edit.text()
        try:
            if self.library.exists(name):
                voice = self.library.add_clip(name, self._draft.samples, self._draft.sample_rate)
            else:
                voice = self.library.save(name, [(self._draft.samples, self._draft.sample_rate)])
        except (VoiceError, AudioError, OSError) as exc:
            self._warn("Could not save the voice", str(exc))
            return
        self.refresh_voices(select_name=voice.name)

    # --- slots -----------------------------------------------------------------------------

    def _replace_draft(self, samples: np.ndarray) -> None:
        assert self._draft is not None
        self._draft = PromptClip(samples, self._draft.sample_rate, self._draft.label)
        self._show(self._draft)
        self.changed.emit()

    def _undo_edits(self) -> None:
        if self._original is not None and self._original is not self._draft:
            self._draft = self._original
            self._show(self._draft)
            self.changed.emit()

    def _show(self, clip: PromptClip | None) -> None:
        if self.playback.owner is self:
            self.playback.stop()
        self._loaded = None
        self._shown = clip
        self._start_at = 0.0
        if clip is None or not len(clip.samples):
            self.waveform.clear()
        else:
            self.waveform.set_audio(clip.samples, clip.sample_rate)
        self._update()

    def _on_voice_picked(self, index: int) -> None:
        name = self.voice_combo.itemData(index)
        previous = self._voice
        self._voice, self._voice_audio = None, []
        if name is not None:
            try:
                voice = self.library.get(name)
                audio = voice.load_clips()
            except (VoiceError, AudioError) as exc:
                self._warn("Could not open the voice", str(exc))
                self.voice_combo.setCurrentIndex(0)
                return
            self._voice, self._voice_audio = voice, audio
            self.name_edit.setText(voice.name)  # so a new clip is offered to this voice
        self.clip_list.blockSignals(True)
        self.clip_list.clear()
        for i, clip in enumerate(self._voice_audio):
            self.clip_list.addItem(self._clip_label(i, clip.duration))
        self.clip_list.blockSignals(False)
        if self._voice_audio:
            self.clip_list.setCurrentRow(0)
            self._show(self._voice_audio[0])
        else:
            self._show(self._draft)
        if previous is not self._voice:
            self.changed.emit()

    def _clip_label(self, index: int, seconds: float) -> str:
        """"Clip 2 — 3.1 s", or for a blend whose voice the clip comes from: "Bob (weight 0.4) — 3.1 s"."""
        if self._voice is not None and self._voice.is_blend:
            owners = [m for m in self._voice.members for _ in m.clips]
            member = owners[index]
            return f"{member.name} (weight {member.weight:g}) \u2014 {seconds:.1f} s"
        return f"Clip {index + 1} \u2014 {seconds:.1f} s"

    def _on_clip_picked(self, row: int) -> None:
        if 0 <= row < len(self._voice_audio):
            self._show(self._voice_audio[row])

    def _rename_voice(self) -> None:
        if self._voice is None:
            return
        new, ok = QInputDialog.getText(self, "Rename voice", "New name:", QLineEdit.EchoMode.Normal,
                                       self._voice.name)
        if not ok or new.strip() == self._voice.name:
            return
        try:
            voice = self.library.rename(self._voice.name, new)
        except VoiceError as exc:
            self._warn("Could not rename the voice", str(exc))
            return
        self.refresh_voices(select_name=voice.name)

    def _delete_voice(self) -> None:
        if self._voice is None:
            return
        answer = QMessageBox.question(self, "Delete voice",
                                      f"Delete the voice \u201c{self._voice.name}\u201d and its "
                                      f"{len(self._voice.clips)} clip(s)? This cannot be undone.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.library.delete(self._voice.name)
        except (VoiceError, OSError) as exc:
            self._warn("Could not delete the voice", str(exc))
            return
        self.refresh_voices(select_name="")

    def _blend_voices(self) -> None:
        from valle_studio.app.widgets.blend_dialog import BlendDialog

        dialog = BlendDialog(self.library, self)
        if dialog.exec() and dialog.saved is not None:
            self.refresh_voices(select_name=dialog.saved.name)

    def _remove_clip(self) -> None:
        row = self.clip_list.currentRow()
        if self._voice is None or row < 0:
            return
        try:
            voice = self.library.remove_clip(self._voice.name, row)
        except (VoiceError, OSError) as exc:
            self._warn("Could not remove the clip", str(exc))
            return
        self.refresh_voices(select_name=voice.name)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import reference clip", "",
                                              "Audio (*.wav *.flac *.ogg *.mp3);;All files (*)")
        if path:
            self.import_file(path)

    def _on_file_loaded(self, ticket: int, clip: AudioClip) -> None:
        if ticket != self._pending:
            return  # the user picked another file meanwhile
        self._pending = 0
        self.set_draft(clip.samples, clip.sample_rate, clip.source.stem, notes=" ".join(clip.notes))

    def _on_file_failed(self, ticket: int, message: str) -> None:
        if ticket != self._pending:
            return
        self._pending = 0
        self._update()
        self._warn("Could not open the audio file", message)

    def _toggle_recording(self) -> None:
        if not self.recording_strip.toggle():  # prefs: stop, or count down (skippable) and record
            self.record_button.setChecked(False)
        self._update()

    def _on_recording_changed(self, recording: bool) -> None:
        if recording:  # the take replaces the view as it comes in
            self._show(None)
            self.waveform.set_placeholder_text("Recording…")
        else:
            self.waveform.set_placeholder_text(PLACEHOLDER)
        self._update()

    def _on_live_audio(self, samples: np.ndarray, sample_rate: int) -> None:
        if self.waveform.sample_rate != sample_rate or not self.waveform.duration:
            self.waveform.set_audio(samples, sample_rate)
        else:
            self.waveform.append(samples)

    def _on_recorded(self, samples: np.ndarray, sample_rate: int) -> None:
        if len(samples):
            self.set_draft(samples, sample_rate, "Recording")
            self.clip_label.setVisible(self.recording.clipped)  # the warning is about this take
        else:
            self._show(self._draft)

    def _on_level(self, dbfs: float) -> None:
        value = 0.0 if not np.isfinite(dbfs) else min(max(dbfs - METER_FLOOR_DB, 0.0), -METER_FLOOR_DB)
        self.meter.setValue(int(value * 10))

    def _toggle_playback(self) -> None:
        clip = self._shown
        if clip is None:
            return
        if self._plays_shown():
            self.playback.toggle()
        else:
            self.playback.load(clip.samples, clip.sample_rate, owner=self)
            self._loaded = clip
            self.playback.play(self._start_at)

    def _plays_shown(self) -> bool:
        """True when the shared player holds the clip on show (not another widget's audio)."""
        return self.playback.owner is self and self._loaded is not None and self._loaded is self._shown

    def _seek(self, seconds: float) -> None:
        if self._plays_shown():
            self.playback.seek(seconds)
        else:
            self._start_at = seconds
        self.waveform.set_cursor(seconds)

    def _on_position(self, seconds: float) -> None:
        if self._plays_shown():
            self.waveform.set_cursor(seconds if self.playback.state != "stopped" else None)

    def _on_playback_error(self, message: str) -> None:
        if self._plays_shown():  # another widget's playback reports its own problems
            self._warn("Playback problem", message)

    def _warn(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def shutdown(self) -> None:
        """Wait for a file still being decoded (the window is closing)."""
        self._loader.shutdown()

    # --- drag and drop ---------------------------------------------------------------------
    @staticmethod
    def _dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
        for url in event.mimeData().urls():
            path = Path(url.toLocalFile())
            if url.isLocalFile() and path.suffix.lower() in AUDIO_SUFFIXES:
                return path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.import_file(path)
