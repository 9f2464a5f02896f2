"""Exactly what the model receives for a text: its pieces, their IPA and ids, and what it cannot say.

:func:`analyze_text` is the one way text becomes model input: the synthesizer generates from its pieces,
the phoneme view and ``valle-studio-cli phonemize`` show them. Each :class:`Piece` lists the symbols the
tokenizer does not know (:class:`UnknownSymbol`), which would reach the model as ``<unk>``, with the
word that produced them, so nothing is sent as ``<unk>`` silently.

Pieces come from :func:`split_pieces`: the text is split first (so ``lines`` mode sees the line breaks
and a blank line always ends a sentence) and each piece is cleaned afterwards
(:func:`~valle_studio.engine.text.clean.clean_text`). Pieces with nothing to pronounce ("...") are kept
here with ``speakable=False``; the synthesizer leaves them out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from valle_studio.engine.text.clean import clean_text, is_speakable
from valle_studio.engine.text.frontend import TextFrontend
from valle_studio.engine.text.lexicon import Lexicon
from valle_studio.engine.text.split import SplitMode, split_text

__all__ = ["UNK_MARK", "Piece", "UnknownSymbol", "analyze_text", "split_pieces", "unknown_warning"]

#: How an unknown symbol is shown in plain text (``phonemize``'s output): ``<unk:ʏ>``.
UNK_MARK = "<unk:{}>"
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass(frozen=True)
class UnknownSymbol:
    """A symbol outside the tokenizer: ``ipa[start:end]``, inside the IPA word ``ipa_word``, made from
    the source word ``word`` (None when no single word of the text produces it)."""

    symbol: str
    start: int
    end: int
    ipa_word: str
    word: str | None


@dataclass(frozen=True)
class Piece:
    """One generated piece: ``text`` (cleaned), ``ipa`` (raw text in no-phonemize mode) and ``ids``, the
    model's text ids ``[N]`` with ``<bos>``=1 first and ``</eos>``=2 last."""

    text: str
    ipa: str
    ids: tuple[int, ...]
    unknown: tuple[UnknownSymbol, ...] = ()
    lexicon: tuple[str, ...] = ()  # the lexicon entries used, described (``'Müller' → /mˈʏlɐ/``)
    raw_text: bool = False

    @property
    def speakable(self) -> bool:
        """Whether the piece has anything to pronounce (else it is not generated)."""
        return is_speakable(self.ipa)

    def marked(self, mark: Callable[[str], str] = UNK_MARK.format) -> str:
        """``ipa`` with each unknown symbol replaced by ``mark(symbol)`` (default ``<unk:ʏ>``)."""
        out, cursor = [], 0
        for unknown in self.unknown:
            out += [self.ipa[cursor:unknown.start], mark(unknown.symbol)]
            cursor = unknown.end
        return "".join(out) + self.ipa[cursor:]

    def unknown_words(self) -> list[str]:
        """``'Müller' (ʏ)`` per distinct word with unknown symbols, for messages."""
        words: dict[str, list[str]] = {}
        for unknown in self.unknown:
            name = repr(unknown.word) if unknown.word else f"IPA {unknown.ipa_word!r}"
            symbols = words.setdefault(name, [])
            if unknown.symbol not in symbols:
                symbols.append(unknown.symbol)
        return [f"{name} ({' '.join(symbols)})" for name, symbols in words.items()]


def split_pieces(text: str, mode: SplitMode | str = "sentences") -> list[str]:
    """The pieces ``text`` is generated in: split on the raw text, then cleaned and stripped; empty ones dropped."""
    pieces = (clean_text(piece).strip() for piece in split_text(text, cast(SplitMode, mode)))
    return [piece for piece in pieces if piece]


def _ipa_word(ipa: str, start: int, end: int) -> str:
    left = ipa.rfind(" ", 0, start) + 1
    right = ipa.find(" ", end)
    return ipa[left:] if right < 0 else ipa[left:right]


def _candidate_words(text: str) -> list[str]:
    """The words of ``text``; runs of a script without spaces (你好世界) also as single characters."""
    words = list(dict.fromkeys(_WORD.findall(text)))
    singles = [ch for word in words if len(word) > 1 and not word.isascii() and " " not in word
               and all(ord(c) > 0x2FFF for c in word) for ch in word]
    return words + list(dict.fromkeys(singles))


class _WordFinder:
    """Which source word makes an unknown symbol: each word phonemized alone, smallest match wins."""

    def __init__(self, frontend: TextFrontend, text: str, language: str, lexicon: Lexicon | None) -> None:
        self._frontend, self._language, self._lexicon = frontend, language, lexicon
        self._words = _candidate_words(text)
        self._ipa: dict[str, str] = {}

    def word_for(self, symbol: str) -> str | None:
        found = [w for w in self._words if symbol in self._phonemes(w)]
        return min(found, key=len) if found else None

    def _phonemes(self, word: str) -> str:
        if word not in self._ipa:
            self._ipa[word] = self._frontend.phonemes_for(word, self._language, self._lexicon)[0]
        return self._ipa[word]


def _raw_word(text: str, start: int) -> str | None:
    for match in _WORD.finditer(text):
        if match.start() <= start < match.end():
            return match.group()
    return None


def analyze_text(frontend: TextFrontend, text: str, language: str, mode: SplitMode | str = "sentences", *,
                 lexicon: Lexicon | None = None, no_phonemize: bool = False) -> list[Piece]:
    """Every piece of ``text`` as the model receives it (see the module docstring).

    Raises:
        ValueError: unsupported language or split mode; no-phonemize mode without a text tokenizer.
        PhonemizerUnavailableError: espeak-ng cannot be loaded (phoneme mode only).
    """
    frontend.language_id(language)  # an unknown language fails first, before espeak loads
    pieces = []
    for piece_text in split_pieces(text, mode):
        line = frontend.tokens_for(piece_text, language, no_phonemize=no_phonemize, lexicon=lexicon)
        tokenizer = frontend.text_tokenizer if no_phonemize else frontend.tokenizer
        assert tokenizer is not None  # tokens_for has refused no-phonemize mode without one
        spans = tokenizer.unknown_spans(line.phonemes)
        finder = None if no_phonemize or not spans else _WordFinder(frontend, piece_text, language, lexicon)
        unknown = []
        for start, end in spans:
            symbol = line.phonemes[start:end]
            word = _raw_word(line.phonemes, start) if finder is None else finder.word_for(symbol)
            unknown.append(UnknownSymbol(symbol, start, end, _ipa_word(line.phonemes, start, end), word))
        used = tuple(dict.fromkeys(hit.entry.describe(where=False) for hit in line.lexicon_hits))
        pieces.append(Piece(piece_text, line.phonemes, tuple(line.ids), tuple(unknown), used, line.raw_text))
    return pieces


def unknown_warning(pieces: list[Piece]) -> str | None:
    """One message naming every word that would reach the model as ``<unk>``, or None when none does."""
    parts = []
    for number, piece in enumerate(pieces, 1):
        if piece.unknown and piece.speakable:
            where = f"piece {number}: " if len(pieces) > 1 else ""
            parts.append(where + ", ".join(piece.unknown_words()))
    if not parts:
        return None
    return ("the model's tokenizer has no symbol for part of " + "; ".join(parts)
            + ": it would receive <unk> there. Add a lexicon entry, rephrase, or generate anyway")
