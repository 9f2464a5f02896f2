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
from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
    QWidget,
)

from valle_studio.app.audio_bridge import AudioFileLoader, PlaybackController, RecordingController
from valle_studio.app.widgets.voice_panel_layout import METER_FLOOR_DB, PLACEHOLDER, VoicePanelLayout
from valle_studio.app.widgets.voice_panel_library import VoiceLibrarySide
from valle_studio.app.widgets.voice_panel_state import VoicePanelState
from valle_studio.audio.io import AudioClip, AudioError
from valle_studio.audio.processing import select
from valle_studio.core.clip import Clip
from valle_studio.engine.interfaces import TaskSupportProtocol
from valle_studio.engine.requests import BlendPart
from valle_studio.studio import voices
from valle_studio.studio.voices import PromptClip, Voice, VoiceError, VoiceLibrary

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


class VoicePanel(VoicePanelLayout, VoiceLibrarySide, VoicePanelState, QWidget):
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
        self._draft_clipped = False  # the draft is a recording that clipped (see _update)
        self._loader = AudioFileLoader(self)
        self._loader.loaded.connect(self._on_file_loaded)
        self._loader.failed.connect(self._on_file_failed)
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        self.refresh_voices()
        self.refresh_devices()
        self._update()

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
        self.recording.clip_warning.connect(self._on_clip_warning)
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

    def saved_voice_name(self) -> str:
        """The chosen saved voice's name; "" while the draft (or nothing) is the voice."""
        return self._voice.name if self._voice is not None else ""

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
        self._draft_clipped = False  # a recorded take that clipped says so while it is the draft shown
        if not self.name_edit.text().strip() and label != "Recording":
            self.name_edit.setText(label)
        self.voice_combo.setCurrentIndex(0)  # the draft is what the user now works on
        self._show(self._draft)
        self.changed.emit()



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



    def _on_clip_picked(self, row: int) -> None:
        if 0 <= row < len(self._voice_audio):
            self._show(self._voice_audio[row])





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
            self._draft_clipped = self.recording.clipped  # the warning is about this take
            self._update()
        else:
            self._show(self._draft)

    def _on_clip_warning(self, clipping: bool) -> None:
        if self.recording.is_recording:  # live, while the take comes in; afterwards _update decides
            self.clip_label.setVisible(clipping)

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
