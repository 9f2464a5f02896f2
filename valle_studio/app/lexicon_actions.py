"""The studio's pronunciation lexicons: the menu actions that edit them and the lexicon of each take.

A take uses the global lexicon and, for a saved voice, that voice's lexicon (the voice's entries win;
``studio/lexicons.py``). The batch tab adds the project's lexicon itself (``batch/runner.py``). Each
edit opens a :class:`~valle_studio.app.widgets.lexicon_dialog.LexiconDialog` (window-modal, never
blocking the event loop) that checks IPA against the installed tokenizer; saving writes the file
atomically and emits :attr:`LexiconActions.changed`, so the phoneme view shows the new pronunciations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from valle_studio.app.services import AppServices
from valle_studio.app.widgets.lexicon_dialog import LexiconDialog
from valle_studio.engine.text.lexicon import Lexicon, LexiconError
from valle_studio.studio.lexicons import combined, global_lexicon_path, load_lexicon, save_lexicon, voice_lexicon_path
from valle_studio.studio.voices import Voice, VoiceError

log = logging.getLogger(__name__)


def tokenizer_check(services: AppServices) -> Callable[[str], Sequence[str]] | None:
    """``unknown_symbols(ipa)`` of the installed phoneme tokenizer, or None when none is installed."""
    from valle_studio.engine.text.tokenizer import PhonemeTokenizer, TokenizerFileError

    path = Path(services.store.tokenizer_paths()[0])
    if not path.is_file():
        return None
    try:
        return PhonemeTokenizer(path).unknown_symbols
    except TokenizerFileError as exc:
        log.warning("cannot check lexicon IPA: %s", exc)
        return None


class LexiconActions(QObject):
    """See the module docstring. ``voice_name()`` is the studio's chosen voice ("" or a draft: none)."""

    changed = Signal()

    def __init__(self, services: AppServices, voice_name: Callable[[], str], parent: QWidget) -> None:
        super().__init__(parent)
        self.services = services
        self._voice_name = voice_name
        self._window = parent
        self.global_action = QAction("&Pronunciation lexicon…", parent)
        self.global_action.setToolTip("Words every voice should say your way (IPA or a respelling)")
        self.voice_action = QAction("&Voice's lexicon…", parent)
        self.voice_action.setToolTip("Words the chosen saved voice says its own way; they win over the global ones")
        self.global_action.triggered.connect(self.edit_global)
        self.voice_action.triggered.connect(self.edit_voice)
        self.dialog: LexiconDialog | None = None
        self.last_error = ""

    def saved_voice(self) -> Voice | None:
        """The chosen voice when it is a saved one (drafts have no lexicon)."""
        name = self._voice_name()
        if not name:
            return None
        try:
            return self.services.voices.get(name)
        except VoiceError:
            return None

    def current(self) -> Lexicon | None:
        """Global + the saved voice's lexicon, merged; None when empty or unreadable (the reason is logged
        and kept in :attr:`last_error`, so a broken file never stops a take)."""
        try:
            self.last_error = ""
            return combined(voice=self.saved_voice())
        except LexiconError as exc:
            self.last_error = str(exc)
            log.warning("lexicon not used: %s", exc)
            return None

    def edit_global(self) -> LexiconDialog | None:
        return self._edit(global_lexicon_path(), "global lexicon", "Pronunciation lexicon (every voice)")

    def edit_voice(self) -> LexiconDialog | None:
        voice = self.saved_voice()
        if voice is None:
            QMessageBox.information(self._window, "Voice's lexicon",
                                    "Choose a saved voice first: a voice's lexicon is kept with the voice.")
            return None
        return self._edit(voice_lexicon_path(voice), f"lexicon of the voice {voice.name!r}",
                          f"Pronunciation lexicon of the voice “{voice.name}”")

    def edit_project(self, project: Any) -> LexiconDialog | None:
        """The batch project's lexicon (``project.lexicon_path``); rows generated afterwards use it."""
        return self._edit(project.lexicon_path, "the batch project's lexicon",
                          f"Pronunciation lexicon of the batch “{project.name}”")

    def _edit(self, path: Path, name: str, title: str) -> LexiconDialog | None:
        try:
            lexicon = load_lexicon(path, name)
        except LexiconError as exc:
            QMessageBox.warning(self._window, title, f"{exc}\n\nFix or remove {path} to edit it here.")
            return None
        dialog = LexiconDialog(lexicon, title=title, unknown_symbols=tokenizer_check(self.services),
                               parent=self._window)
        dialog.accepted.connect(lambda: self._save(path, dialog))
        dialog.open()
        self.dialog = dialog
        return dialog

    def _save(self, path: Path, dialog: LexiconDialog) -> None:
        try:
            save_lexicon(path, dialog.lexicon())
        except OSError as exc:
            QMessageBox.warning(self._window, "Could not save the lexicon", f"{path}: {exc}")
            return
        self.changed.emit()
