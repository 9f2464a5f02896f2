"""The voice panel's library side: list the saved voices, pick, save, rename, delete and blend them.

A mixin of :class:`~valle_studio.app.widgets.voice_panel.VoicePanel` (kept apart so the panel's file is
about the draft clip): every method here reads or writes the :class:`~valle_studio.studio.voices.VoiceLibrary`
and then shows the library again with :meth:`VoiceLibrarySide.refresh_voices`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

from valle_studio.app.widgets.voice_panel_state import UNSAVED
from valle_studio.audio.io import AudioError
from valle_studio.studio.voices import PromptClip, Voice, VoiceError


class VoiceLibrarySide:
    """See the module docstring; every attribute it reads is the panel's."""

    _voice: Voice | None  # the saved voice chosen (None: the draft)
    _voice_audio: list[PromptClip]  # its clips, decoded

    def refresh_voices(self: Any, select_name: str | None = None) -> None:
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

    def select_voice(self: Any, name: str) -> bool:
        """Choose a saved voice by name; False when there is none of that name."""
        index = self.voice_combo.findData(name, flags=Qt.MatchFlag.MatchFixedString)
        if index < 0:
            return False
        self.voice_combo.setCurrentIndex(index)
        return True

    def save_voice(self: Any) -> None:
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

    def _on_voice_picked(self: Any, index: int) -> None:
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

    def _clip_label(self: Any, index: int, seconds: float) -> str:
        """"Clip 2 — 3.1 s", or for a blend whose voice the clip comes from: "Bob (weight 0.4) — 3.1 s"."""
        if self._voice is not None and self._voice.is_blend:
            owners = [m for m in self._voice.members for _ in m.clips]
            member = owners[index]
            return f"{member.name} (weight {member.weight:g}) \u2014 {seconds:.1f} s"
        return f"Clip {index + 1} \u2014 {seconds:.1f} s"

    def _rename_voice(self: Any) -> None:
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

    def _delete_voice(self: Any) -> None:
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

    def _blend_voices(self: Any) -> None:
        from valle_studio.app.widgets.blend_dialog import BlendDialog

        dialog = BlendDialog(self.library, self)
        if dialog.exec() and dialog.saved is not None:
            self.refresh_voices(select_name=dialog.saved.name)

    def _remove_clip(self: Any) -> None:
        row = self.clip_list.currentRow()
        if self._voice is None or row < 0:
            return
        try:
            voice = self.library.remove_clip(self._voice.name, row)
        except (VoiceError, OSError) as exc:
            self._warn("Could not remove the clip", str(exc))
            return
        self.refresh_voices(select_name=voice.name)

__all__ = ["VoiceLibrarySide"]
