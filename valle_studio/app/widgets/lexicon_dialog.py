"""A small table dialog to edit one pronunciation lexicon (global, a voice's, or a batch project's).

Three columns: the word (or phrase), its pronunciation (``/IPA/`` between slashes, or a respelling that
espeak reads instead) and the language it applies to ("All" by default). Saving checks every row: an
empty word, an empty pronunciation, a word listed twice, or IPA with symbols the tokenizer does not
know (they would reach the model as ``<unk>``) is named with its row, and the dialog stays open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from valle_studio.engine.text.languages import LANGUAGES
from valle_studio.engine.text.lexicon import Lexicon, LexiconEntry, LexiconError
from valle_studio.engine.text.lexicon_format import pronunciation_of, split_pronunciation

WORD, SAID, LANG = range(3)
HELP = ("Words the voice should say your way, matched as whole words, ignoring case, before espeak runs. "
        "Write IPA between slashes (/mˈʏlɐ/) to give the model exact phonemes, or a respelling (win) for "
        "espeak to read instead.")


class LexiconDialog(QDialog):
    """Edit ``lexicon``; :meth:`lexicon` is the result once accepted. ``unknown_symbols(ipa)`` returns the
    symbols of ``ipa`` the model's tokenizer lacks (None: no tokenizer installed, IPA is not checked)."""

    def __init__(self, lexicon: Lexicon, *, title: str,
                 unknown_symbols: Callable[[str], Sequence[str]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("lexiconDialog")
        self._unknown_symbols = unknown_symbols
        self._result = lexicon
        intro = QLabel(HELP)
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("lexiconTable")
        self.table.setHorizontalHeaderLabels(["Word", "Pronunciation (/IPA/ or respelling)", "Language"])
        self.table.horizontalHeader().setSectionResizeMode(SAID, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(True)
        self.add_button = QPushButton("&Add word")
        self.remove_button = QPushButton("&Remove selected")
        self.message = QLabel()
        self.message.setObjectName("lexiconMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        if unknown_symbols is None:
            self.message.setText("No tokenizer is installed yet, so IPA entries are not checked.")
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.add_button.clicked.connect(lambda: self.add_row())
        self.remove_button.clicked.connect(self.remove_selected)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for entry in lexicon.entries:
            self.add_row(entry.word, pronunciation_of(entry), entry.language)
        self.resize(640, 420)

    # -- rows --------------------------------------------------------------------------------------
    def add_row(self, word: str = "", pronunciation: str = "", language: str = "") -> int:
        """Append a row (focused for typing when empty); returns its index."""
        index = self.table.rowCount()
        self.table.insertRow(index)
        self.table.setItem(index, WORD, QTableWidgetItem(word))
        self.table.setItem(index, SAID, QTableWidgetItem(pronunciation))
        combo = QComboBox()
        combo.addItem("All", "")
        for code, lang in LANGUAGES.items():
            combo.addItem(lang.name, code)
        combo.setCurrentIndex(max(0, combo.findData(language)))
        self.table.setCellWidget(index, LANG, combo)
        if not word:
            self.table.setCurrentCell(index, WORD)
        return index

    def remove_selected(self) -> None:
        for index in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(index)

    def _cell(self, index: int, column: int) -> str:
        item = self.table.item(index, column)
        return item.text() if item is not None else ""

    def _language(self, index: int) -> str:
        combo = self.table.cellWidget(index, LANG)
        return str(combo.currentData()) if isinstance(combo, QComboBox) else ""

    # -- result ------------------------------------------------------------------------------------
    def entries_from_table(self) -> Lexicon:
        """The table as a lexicon; fully blank rows are skipped. Raises :class:`LexiconError` naming the row."""
        entries = []
        for index in range(self.table.rowCount()):
            word, said = self._cell(index, WORD), self._cell(index, SAID)
            if not word.strip() and not said.strip():
                continue
            pronunciation, kind = split_pronunciation(said)
            entries.append(LexiconEntry(word, pronunciation, kind, self._language(index), f"row {index + 1}"))
        return Lexicon(tuple(entries))

    def problems(self) -> list[str]:
        """What is wrong with the table, each naming its row and word ([] when it can be saved)."""
        try:
            lexicon = self.entries_from_table()
        except LexiconError as exc:
            return [str(exc)]
        if self._unknown_symbols is None:
            return []
        return lexicon.problems(self._unknown_symbols)

    def accept(self) -> None:
        problems = self.problems()
        if problems:
            self.message.setText("\n".join(problems))
            return
        self._result = Lexicon(tuple(LexiconEntry(e.word, e.pronunciation, e.kind, e.language)
                                     for e in self.entries_from_table().entries))
        super().accept()

    def lexicon(self) -> Lexicon:
        """The edited lexicon (the one given, until the dialog is accepted)."""
        return self._result
