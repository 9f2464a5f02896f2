"""The Batch tab's voices: the default voice of lines that name none, and a question before lines with no
voice at all are rendered.

A mixin of :class:`~valle_studio.app.widgets.batch_view.BatchView`. Without a project the combo offers
the voice last used (the Studio tab's saved voice, given by the window) or else the first saved voice:
"(none)" is only shown when there is no saved voice, or when the user picked it. A run whose lines would
be spoken in no one's voice (the model's own, random one) while saved voices exist asks once per project.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtWidgets import QMessageBox

NO_VOICE = "(none)"


USE, WITHOUT, CANCEL = "use", "without", "cancel"  # the answers of :func:`ask_no_voice`


def no_voice_question(count: int, total: int, suggestion: str) -> str:
    """The question's text: how many lines have no voice, what that means and how to give them one."""
    lines = f"{count} of the {total} lines" if total != count else (f"All {total} lines" if total > 1 else "The line")
    verb = "has" if count == 1 and total == 1 else "have"
    hint = (f" Speak them in \u201c{suggestion}\u201d (it becomes the default voice), or pick a voice per line."
            if suggestion else " Pick a default voice above or a voice per line to give them one.")
    return (f"{lines} to render {verb} no voice: they would be spoken in the model's own, random voice."
            f"{hint}")


def ask_no_voice(parent: Any, text: str, suggestion: str) -> str:
    """Ask what to do with lines that have no voice: :data:`USE` the ``suggestion`` (a saved voice),
    render them :data:`WITHOUT` a voice, or :data:`CANCEL` the run."""
    box = QMessageBox(QMessageBox.Icon.Question, "Lines without a voice", text, QMessageBox.StandardButton.Cancel,
                      parent)
    use = box.addButton(f"Use \u201c{suggestion}\u201d", QMessageBox.ButtonRole.AcceptRole) if suggestion else None
    without = box.addButton("Render without a voice", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(use if use is not None else QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return USE if use is not None and clicked is use else WITHOUT if clicked is without else CANCEL


class BatchVoiceChoice:
    """See the module docstring; every attribute it reads is the view's."""

    def _fill_voice_combo(self: Any) -> None:
        """List the saved voices; select the project's default voice, else the choice made, else the voice
        last used (or the first saved one)."""
        previous = self.voice_combo.currentData() if self.voice_combo.count() else None
        names = self.voices.names()
        self.voice_combo.clear()
        self.voice_combo.addItem(NO_VOICE, "")
        for name in names:
            self.voice_combo.addItem(name, name)
        if self.project is not None:
            wanted = self.project.default_voice
        elif self._voice_picked:
            wanted = previous  # the user chose it (even "(none)")
        else:
            wanted = self._suggested_voice(names)
        if wanted and self.voice_combo.findData(wanted) < 0:
            self.voice_combo.addItem(f"{wanted} (not saved)", wanted)
        self.voice_combo.setCurrentIndex(max(0, self.voice_combo.findData(wanted or "")))

    def _suggested_voice(self: Any, names: list[str]) -> str:
        """The voice last used (if it is still saved), else the first saved voice, else ""."""
        last = self._last_voice() if self._last_voice is not None else ""
        folded = {n.casefold(): n for n in names}
        return folded.get(last.casefold(), names[0] if names else "") if last else (names[0] if names else "")

    def _on_default_voice(self: Any) -> None:
        self._voice_picked = True
        if self.project is not None:
            self.project.set_defaults(default_voice=self.voice_combo.currentData() or "")
            self.model.refresh()

    def _missing_voices_note(self: Any) -> str:
        if self.project is None:
            return ""
        known = {n.casefold() for n in self.voices.names()}
        wanted = {self.project.voice_for(r) for r in self.project.rows} - {""}
        missing = sorted(v for v in wanted if v.casefold() not in known)
        if not missing:
            return ""
        return ("<br>No saved voice called " + ", ".join(f"<b>{html.escape(m)}</b>" for m in missing)
                + ": save it in the voice panel, or pick another voice for those lines.")

    def _voiceless_ok(self: Any, row_ids: list[str]) -> bool:
        """Before a run: True to go on. Asks once per project when some of ``row_ids`` have no voice while
        saved voices exist (with none saved there is nothing to pick, and the model's voice is the point)."""
        project = self.project
        names = self.voices.names()
        if project is None or not names or project.folder in self._voiceless_accepted:
            return True
        wanted = set(row_ids)
        count = sum(1 for row in project.rows if row.id in wanted and not project.voice_for(row))
        if not count:
            return True
        suggestion = self._suggested_voice(names)
        answer = ask_no_voice(self, no_voice_question(count, len(wanted), suggestion), suggestion)
        if answer == USE:  # the suggested voice becomes the project's default voice, as if picked above
            self.voice_combo.setCurrentIndex(self.voice_combo.findData(suggestion))
            self._on_default_voice()
            return True
        if answer != WITHOUT:
            self._say(f"Not started: {count} line{'s' * (count != 1)} without a voice. Pick a default voice "
                      "(or a voice per line), then run again.")
            return False
        self._voiceless_accepted.add(project.folder)
        return True


__all__ = ["CANCEL", "NO_VOICE", "USE", "WITHOUT", "BatchVoiceChoice", "ask_no_voice", "no_voice_question"]
