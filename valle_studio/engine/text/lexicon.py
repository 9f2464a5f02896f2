"""A pronunciation lexicon: words the user tells espeak-ng how to say, applied before espeak runs.

An entry maps a word (or a phrase) to either IPA, given to the model as it is, or a respelling, plain
text that espeak reads in the word's place (``Nguyen → win``). Entries match whole words, ignoring
case: ``read`` matches "Read" and "READ" but not "reader" or "bread". A word written in a script
without spaces (Chinese, Japanese) matches wherever it occurs, since such text has no word boundaries.
An entry may be limited to one language; the longest matching entry wins.

Lexicons come from three places (global, the voice's, the batch project's) and are merged with
:meth:`Lexicon.merged`: a later one overrides an earlier one for the same word and language. The file
formats are in :mod:`~valle_studio.engine.text.lexicon_format`.

How a line is phonemized with a lexicon (:func:`phonemize_with_lexicon`): respellings are put into the
text; the text is then cut around the IPA entries, espeak phonemizes the text between them, and the
IPA is put in between, with a space where the text had one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

__all__ = ["Lexicon", "LexiconEntry", "LexiconError", "LexiconHit", "phonemize_with_lexicon"]

Kind = Literal["ipa", "say"]


class LexiconError(ValueError):
    """A lexicon entry or file is unusable; the message names the entry (and its line)."""


def _is_unspaced_script(ch: str) -> bool:
    """Han, kana and fullwidth forms: scripts whose words are not separated by spaces."""
    o = ord(ch)
    return 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF66 <= o <= 0xFF9D


@dataclass(frozen=True)
class LexiconEntry:
    """``word`` said as ``pronunciation``: IPA (``kind="ipa"``) or a respelling (``kind="say"``).

    ``language``: a language code, or "" for every language. ``where``: where the entry comes from
    ("line 3 of names.tsv"), for messages.
    """

    word: str
    pronunciation: str
    kind: Kind = "ipa"
    language: str = ""
    where: str = ""

    def __post_init__(self) -> None:
        label = f"{self.where}: " if self.where else ""
        if not self.word.strip():
            raise LexiconError(f"{label}an entry has an empty word")
        if not self.pronunciation.strip():
            raise LexiconError(f"{label}the entry {self.word!r} has an empty pronunciation")
        if self.kind not in ("ipa", "say"):
            raise LexiconError(f"{label}the entry {self.word!r} has kind {self.kind!r}; expected 'ipa' or 'say'")
        object.__setattr__(self, "word", " ".join(self.word.split()))
        object.__setattr__(self, "pronunciation", self.pronunciation.strip())
        object.__setattr__(self, "language", self.language.strip().lower())

    @property
    def key(self) -> tuple[str, str]:
        """What makes two entries the same entry: the case-folded word and the language."""
        return self.word.casefold(), self.language

    def describe(self, *, where: bool = True) -> str:
        """``'Müller' → /mˈʏlɐ/`` (or ``→ "win"`` for a respelling), after where it comes from (``where``)."""
        said = f"/{self.pronunciation}/" if self.kind == "ipa" else f'"{self.pronunciation}"'
        lang = f" ({self.language})" if self.language else ""
        origin = f"{self.where}: " if where and self.where else ""
        return f"{origin}{self.word!r}{lang} → {said}"

    def pattern(self) -> str:
        """A regular expression for the word, with word boundaries where its script has them."""
        body = r"\s+".join(re.escape(part) for part in self.word.split(" "))
        start = "" if _is_unspaced_script(self.word[0]) else r"(?<!\w)"
        end = "" if _is_unspaced_script(self.word[-1]) else r"(?!\w)"
        return start + body + end


@dataclass(frozen=True)
class LexiconHit:
    """One place where an entry matched: ``text[start:end]`` is said as ``entry``."""

    entry: LexiconEntry
    start: int
    end: int


@dataclass(frozen=True)
class Lexicon:
    """An ordered set of entries, one per (word, language); immutable and hashable."""

    entries: tuple[LexiconEntry, ...] = ()
    name: str = ""
    _index: dict[tuple[str, str], int] = field(default_factory=dict, init=False, repr=False, compare=False,
                                               hash=False)

    def __post_init__(self) -> None:
        for i, entry in enumerate(self.entries):
            first = self._index.setdefault(entry.key, i)
            if first != i:
                raise LexiconError(f"{entry.describe()}: the word is already in the lexicon "
                                   f"({self.entries[first].describe()})")

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    @classmethod
    def merged(cls, lexicons: Iterable[Lexicon | None], name: str = "") -> Lexicon:
        """One lexicon of ``lexicons`` in order: a later entry replaces an earlier one with the same key."""
        chosen: dict[tuple[str, str], LexiconEntry] = {}
        for lexicon in lexicons:
            for entry in lexicon.entries if lexicon else ():
                chosen.pop(entry.key, None)
                chosen[entry.key] = entry
        return cls(tuple(chosen.values()), name)

    def for_language(self, language: str) -> tuple[LexiconEntry, ...]:
        """The entries that apply to ``language``; one limited to it wins over an all-languages one."""
        specific = {e.word.casefold() for e in self.entries if e.language == language}
        return tuple(e for e in self.entries if e.language == language
                     or (not e.language and e.word.casefold() not in specific))

    @cached_property
    def _patterns(self) -> dict[str, tuple[re.Pattern[str], tuple[LexiconEntry, ...]]]:
        return {}

    def _compiled(self, language: str) -> tuple[re.Pattern[str] | None, tuple[LexiconEntry, ...]]:
        cached = self._patterns.get(language)
        if cached is None:
            entries = tuple(sorted(self.for_language(language), key=lambda e: -len(e.word)))  # longest first
            if not entries:
                return None, ()
            alternatives = "|".join(f"(?P<e{i}>{e.pattern()})" for i, e in enumerate(entries))
            cached = (re.compile(alternatives, re.IGNORECASE), entries)
            self._patterns[language] = cached
        return cached

    def find(self, text: str, language: str) -> list[LexiconHit]:
        """Where entries match in ``text`` (left to right, longest entry first, no overlaps)."""
        pattern, entries = self._compiled(language)
        if pattern is None:
            return []
        hits = []
        for match in pattern.finditer(text):
            index = int((match.lastgroup or "e0")[1:])
            hits.append(LexiconHit(entries[index], match.start(), match.end()))
        return hits

    def problems(self, known: Callable[[str], Sequence[str]]) -> list[str]:
        """One message per IPA entry with symbols the tokenizer does not know; ``known(ipa)`` returns them."""
        out = []
        for entry in self.entries:
            if entry.kind != "ipa":
                continue
            unknown = list(dict.fromkeys(known(entry.pronunciation)))
            if unknown:
                out.append(f"{entry.describe()}: {', '.join(repr(s) for s in unknown)} "
                           f"{'is' if len(unknown) == 1 else 'are'} not in the tokenizer (the model would "
                           "receive <unk>)")
        return out


def phonemize_with_lexicon(text: str, language: str, lexicon: Lexicon | None,
                           phonemize: Callable[[str, str], str]) -> tuple[str, tuple[LexiconHit, ...]]:
    """IPA for ``text`` with ``lexicon`` applied (see the module docstring), and the entries it used."""
    hits = tuple(lexicon.find(text, language)) if lexicon else ()
    if not hits:
        return phonemize(text, language), ()
    # Respellings become text; IPA entries cut the text into segments. Each segment remembers whether the
    # source had a space before it, so "Hello Müller, hi" joins as "həlˈoʊ mˈʏlɐ, hˈaɪ".
    segments: list[tuple[str, str, bool]] = []  # (kind "text"/"ipa", words or phonemes, space before)
    cursor = 0
    pending = ""

    def seam(at: int) -> bool:
        """Whether IPA words are to be kept apart at ``text[at]``: a space there, or two word characters
        touching (only in scripts without spaces: "你好世界")."""
        before, after = text[at - 1:at], text[at:at + 1]
        return before.isspace() or after.isspace() or (before + after).isalnum()

    pending_from = 0  # where the text segment being collected starts in ``text``
    for hit in hits:
        pending += text[cursor:hit.start]
        if hit.entry.kind == "say":
            pending += hit.entry.pronunciation
        else:
            segments.append(("text", pending, seam(pending_from)))
            segments.append(("ipa", hit.entry.pronunciation, seam(hit.start)))
            pending, pending_from = "", hit.end
        cursor = hit.end
    segments.append(("text", pending + text[cursor:], seam(pending_from)))
    out = ""
    for kind, value, space_before in segments:
        said = value if kind == "ipa" else (phonemize(value, language) if value.strip() else "")
        if said:
            out += (" " if out and space_before else "") + said
    return out, hits
