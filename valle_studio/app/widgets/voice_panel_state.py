"""The voice panel's enabled, visible and label state, recomputed from its data after every change.

A mixin of :class:`~valle_studio.app.widgets.voice_panel.VoicePanel` (kept apart so the panel's file stays
about building and slots): :meth:`_update` is the one place that decides what can be pressed and what
is shown, from the draft, the chosen voice, the devices, the recording and the model's tasks.
"""

from __future__ import annotations

from typing import Any

from valle_studio.app.widgets.voice_panel_layout import MODEL_CLEAN_TEXT
from valle_studio.studio import voices
from valle_studio.studio.voices import VoiceError

UNSAVED, NO_VOICE = "Current clip (not saved)", "No voice chosen yet"


class VoicePanelState:
    """See the module docstring; every attribute it reads is the panel's."""

    def _update(self: Any) -> None:
        draft_mode = self._voice is None
        has_draft = self._draft is not None and len(self._draft.samples) > 0
        editing = draft_mode and has_draft and not self.busy
        recording = self.recording.is_recording
        self.voice_combo.setItemText(0, UNSAVED if has_draft else NO_VOICE)
        self.rename_button.setEnabled(not draft_mode)
        self.delete_button.setEnabled(not draft_mode)
        self.blend_button.setEnabled(self._plain_voices >= 2)
        self.clip_list.setVisible(not draft_mode)
        blend = self._voice is not None and self._voice.is_blend
        self.remove_clip_button.setVisible(not draft_mode and not blend)
        # A saved voice's clips are listened to, not edited: the tools work on the draft only.
        for widget in (self.edit_row, self.undo_button, self.save_row):
            widget.setVisible(draft_mode)
        editing = editing and not self._model_cleaning
        self.model_clean_button.setEnabled(editing and not self._model_clean)
        self.model_clean_button.setText("Denoising…" if self._model_cleaning else MODEL_CLEAN_TEXT)
        self.model_clean_button.setToolTip(
            "Clean the clip with the model: it says the clip again without its noise (its own noise-suppression "
            "task, experimental); Undo edits brings the original back" if not self._model_clean
            else f"Cannot denoise with the model: {self._model_clean}")
        self.voice_hint.setVisible(not draft_mode)
        self.voice_hint.setText(
            "A blended voice (experimental): the model mixes its voices at its prompt, with these weights. "
            "To change it, save a new blend." if blend else
            "To add another clip to this voice, import or record it, then press \u201cAdd to \u2026\u201d.")
        self.waveform.set_selection_enabled(draft_mode)
        self.remove_clip_button.setEnabled(len(self._voice_audio) > 1)
        self.keep_button.setEnabled(editing and self.waveform.selection() is not None)
        self.cleanup_button.setEnabled(editing)
        self.undo_button.setEnabled(editing and self._original is not self._draft)
        self.import_button.setEnabled(not recording and not self.busy)
        self.transcribe_button.setEnabled(self._shown is not None and not recording)

        if self.playback.available:
            self.play_button.setEnabled(self._shown is not None and not recording)
            self.play_button.setToolTip("Listen to the clip (click the waveform to start elsewhere)")
        else:
            self.play_button.setEnabled(False)
            self.play_button.setToolTip(f"Cannot play: {self.playback.unavailable_reason}")
        playing = self._plays_shown() and self.playback.is_playing
        self.play_button.setText("Pause" if playing else "Play")

        if self.recording.available:
            self.record_button.setEnabled(not self.busy)
            self.record_button.setToolTip("Record a reference clip from the microphone")
        else:
            self.record_button.setEnabled(False)
            self.record_button.setToolTip(f"Cannot record: {self.recording.unavailable_reason}")
        self.device_combo.setEnabled(self.recording.available and not recording)
        self.record_button.setChecked(recording)
        self.record_button.setText("Stop" if recording else "Record")
        self.meter.setVisible(recording)
        if not recording:
            self.meter.setValue(0)
            # "Clipping!" is about the recorded draft: not while a saved voice (or another clip) is shown.
            self.clip_label.setVisible(draft_mode and self._draft_clipped)

        self._update_labels(has_draft and not self.busy)

    def _update_labels(self: Any, can_save: bool) -> None:
        shown = self._shown
        if not self.busy:
            sel = self.waveform.selection()
            if shown is None:
                self.duration_label.setText("")
            elif sel is not None:
                self.duration_label.setText(f"Selection {sel[1] - sel[0]:.1f} s of {shown.duration:.1f} s")
            else:
                self.duration_label.setText(f"{shown.duration:.1f} s")
            length = (sel[1] - sel[0] if sel else shown.duration) if shown is not None else None
            advice = [] if length is None else [voices.prompt_length_advice(length)]
            if shown is not None and shown is self._original:
                advice.append(self._notes)
            self.warning_label.setText(" ".join(a for a in advice if a))
            self.warning_label.setVisible(bool(self.warning_label.text()))

        name = self.name_edit.text().strip()
        try:
            voices.validate_name(name)
            problem = ""
        except VoiceError as exc:
            problem = str(exc)
        existing = not problem and name.casefold() in self._names
        shown = name if len(name) <= 16 else name[:15] + "\u2026"  # a long name must not widen the panel
        self.save_button.setText(f"Add to \u201c{shown}\u201d" if existing else "Save as voice")
        self.save_button.setEnabled(can_save and self._voice is None and not problem)
        self.save_button.setToolTip(problem or ("Add this clip to the saved voice of that name" if existing
                                                else "Keep this clip as a named voice for later"))
