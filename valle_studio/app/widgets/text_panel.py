"""What to say: the text, its language, how it is cut into pieces, and the phonemes the model gets.

The panel holds no engine logic. When the phoneme view is open it asks for phonemes with
``phonemes_requested`` (debounced while typing); the window forwards that to the engine thread and
hands the answer back through :meth:`TextPanel.set_phonemes`: the pieces the model receives, each with
its token count, symbols the tokenizer lacks marked in red (they reach the model as ``<unk>``, and the
word that made them is named) and the lexicon entries that said a word.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.widgets.compact import short_label
from valle_studio.engine.settings import SPECS
from valle_studio.engine.text.languages import LANGUAGES

SPLIT = SPECS["split"]  # the split mode's one declaration: its choices, their labels and tips
PHONEME_DELAY_MS = 400  # wait for a pause in typing before phonemizing again
UNKNOWN_STYLE = "color:#c62828; font-weight:bold; text-decoration:underline"  # readable on light and dark


def _shrinkable(combo: QComboBox) -> None:
    """Let a combo box get narrower than its longest item, so the window fits small screens."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(5)


class TextPanel(QWidget):
    """Multi-line editor with language, split mode and an optional IPA view."""

    changed = Signal()
    phonemes_requested = Signal(str, str, str)  # text, language code, split mode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("textEditor")
        self.editor.setPlaceholderText("Type what the voice should say…")
        self.editor.setAccessibleName("Text to speak")
        self.editor.setTabChangesFocus(True)  # Tab moves on, so the panel is keyboard-usable

        self.language = QComboBox()
        self.language.setAccessibleName("Language")
        for code, lang in LANGUAGES.items():
            self.language.addItem(short_label(lang.name), code)  # "Chinese"; the tooltip says "(Mandarin)"
            tip = f"{lang.name}: phonemized with the espeak-ng voice '{lang.voice}'"
            if lang.note:
                tip += f"; {lang.note}"
            self.language.setItemData(self.language.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.language.setToolTip("The language of the text. It decides how words are turned into sounds.")
        _shrinkable(self.language)

        self.split = QComboBox()
        self.split.setAccessibleName("Split text by")
        for choice in SPLIT.choices:
            self.split.addItem(choice.label, choice.value)
            self.split.setItemData(self.split.count() - 1, choice.tip, Qt.ItemDataRole.ToolTipRole)
        self.split.setToolTip(SPLIT.tip)
        _shrinkable(self.split)

        self.show_phonemes = QCheckBox("Show &phonemes")
        self.show_phonemes.setToolTip("Show the IPA phonemes the model will actually receive, "
                                      "piece by piece.")

        self.phoneme_view = QTextEdit()
        self.phoneme_view.setObjectName("phonemeView")
        self.phoneme_view.setAcceptRichText(False)
        self.phoneme_view.setReadOnly(True)
        self.phoneme_view.setAccessibleName("Phonemes the model receives")
        self.phoneme_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.phoneme_view.setVisible(False)
        self.phoneme_view.setMaximumHeight(120)
        self.count_label = QLabel()
        self.count_label.setObjectName("textCount")

        language_label = QLabel("&Language")
        language_label.setBuddy(self.language)
        split_label = QLabel(SPLIT.label)
        split_label.setBuddy(self.split)
        row = QHBoxLayout()
        row.addWidget(language_label)
        row.addWidget(self.language, 3)  # "Chinese (Mandarin)" is the longest item: it gets more of the room
        row.addWidget(split_label)
        row.addWidget(self.split, 2)
        below = QHBoxLayout()
        below.addWidget(self.show_phonemes)
        below.addStretch(1)
        below.addWidget(self.count_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor, 1)
        layout.addLayout(row)
        layout.addLayout(below)
        layout.addWidget(self.phoneme_view)

        self.unknown_words: list[str] = []  # what the view marks as <unk>, per piece, for tests and tooltips
        # (text, language, split) last asked about, and the one the view shows (None: nothing or stale)
        self._asked: tuple[str, str, str] | None = None
        self._shown: tuple[str, str, str] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PHONEME_DELAY_MS)
        self._timer.timeout.connect(self.request_phonemes)

        self.editor.textChanged.connect(self._on_changed)
        self.language.currentIndexChanged.connect(self._on_changed)
        self.split.currentIndexChanged.connect(self._on_changed)
        self.show_phonemes.toggled.connect(self._on_toggle_phonemes)
        self._update_count()

    # -- values --------------------------------------------------------------------------------
    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)

    def language_code(self) -> str:
        return str(self.language.currentData())

    def set_language_code(self, code: str) -> None:
        index = self.language.findData(code)
        if index >= 0:
            self.language.setCurrentIndex(index)

    def split_mode(self) -> str:
        return str(self.split.currentData())

    def set_split_mode(self, mode: str) -> None:
        index = self.split.findData(mode)
        if index >= 0:
            self.split.setCurrentIndex(index)

    def phonemes_shown(self) -> bool:
        return self.show_phonemes.isChecked()

    # -- phonemes ------------------------------------------------------------------------------
    def request_phonemes(self) -> None:
        """Ask for the phonemes of the current text now (when the view is open)."""
        self._timer.stop()
        if not self.phonemes_shown():
            return
        if not self.text().strip():
            self._asked = self._key()
            self.set_phonemes([])
            return
        self._clear_stale()
        self._asked = self._key()
        self.phonemes_requested.emit(self.text(), self.language_code(), self.split_mode())

    def phonemes_for_run(self) -> None:
        """A run starts: if the view does not show this text's phonemes yet, ask for them now (no delay)."""
        if self.phonemes_shown() and self._shown != self._key():
            self.request_phonemes()

    def _key(self) -> tuple[str, str, str]:
        return self.text(), self.language_code(), self.split_mode()

    def _clear_stale(self) -> None:
        """The view shows phonemes of another text: empty it until the answer for this one arrives."""
        self._shown = None
        self.unknown_words = []
        self.phoneme_view.clear()
        self.phoneme_view.setPlaceholderText("Phonemizing…")

    def set_phonemes(self, pieces: Sequence[Any] | str) -> None:
        """Show the engine's answer: the pieces (:class:`~valle_studio.engine.text.analysis.Piece`, or plain
        IPA strings) or a sentence saying why there are none."""
        self.unknown_words = []
        self._shown = self._asked  # the answer is for the text last asked about
        if isinstance(pieces, str):
            self.phoneme_view.setPlainText("")
            self.phoneme_view.setPlaceholderText(pieces)
            return
        self.phoneme_view.setPlaceholderText("Nothing to say yet.")
        if not all(hasattr(p, "ipa") for p in pieces):  # plain IPA strings
            lines = [f"{i}. {p}" for i, p in enumerate(pieces, 1)] if len(pieces) > 1 else list(map(str, pieces))
            self.phoneme_view.setPlainText("\n".join(lines))
            return
        self.phoneme_view.setHtml(self._pieces_html(pieces))

    def _pieces_html(self, pieces: Sequence[Any]) -> str:
        rows = []
        for number, piece in enumerate(pieces, 1):
            head = f"{number}. " if len(pieces) > 1 else ""
            ipa = piece.marked(lambda symbol: f"\0{symbol}\1")  # placeholders survive escaping
            ipa = html.escape(ipa).replace("\0", f'<span style="{UNKNOWN_STYLE}">').replace("\1", "</span>")
            rows.append(f"{head}<span style='color:gray'>[{len(piece.ids)} tokens]</span> {ipa}")
            if piece.unknown:
                words = ", ".join(piece.unknown_words())
                self.unknown_words.append(words)
                rows.append(f'&nbsp;&nbsp;<span style="{UNKNOWN_STYLE}">⚠ not in the tokenizer, the model '
                            f"receives &lt;unk&gt;: {html.escape(words)}</span>")
            for entry in piece.lexicon:
                rows.append(f"&nbsp;&nbsp;<i>lexicon: {html.escape(entry)}</i>")
        return "<br>".join(rows)

    # -- internals -----------------------------------------------------------------------------
    def _on_changed(self) -> None:
        self._update_count()
        self.changed.emit()
        if self.phonemes_shown():
            if self._shown is not None and self._shown != self._key():
                self._clear_stale()  # never the phonemes of an older text, even for a moment
            self._timer.start()

    def _on_toggle_phonemes(self, shown: bool) -> None:
        self.phoneme_view.setVisible(shown)
        if shown:
            self.request_phonemes()

    def _update_count(self) -> None:
        text = self.text()
        words = len(text.split())
        self.count_label.setText(f"{len(text)} characters · {words} words")
