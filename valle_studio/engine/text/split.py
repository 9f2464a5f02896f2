"""Offline splitting of long text into the pieces that are generated one at a time.

Upstream splits with nltk's punkt model, downloaded at import time. This module needs no data and no
network: a small rule-based splitter that knows the cases that matter for speech.

Modes:
* ``"sentences"`` — sentence ends (see below); a blank line is always a break.
* ``"lines"`` — one piece per line; blank lines are dropped.
* ``"none"`` — the whole text as one piece.

Every mode only cuts at boundaries and strips whitespace from the ends of each piece: pieces are
verbatim, in-order slices of the input separated by whitespace only, so no character is lost.
Empty or whitespace-only pieces are dropped.

Sentence rules:
* ``. ! ? … ‼ ⁇ ⁈ ⁉`` (and runs such as ``?!`` or ``...``) end a sentence when followed by
  whitespace (or a CJK character directly after ``!``/``?``), together with any closing quotes or
  brackets right after them: ``He said "Stop." Then…`` splits after ``"``.
* No split when the next word starts with a lowercase letter (``Wait... what?``, ``etc. and``),
  so lowercase sentence starts are not split either.
* No split inside numbers or names (``3.14``, ``example.com``, ``U.S.A.``): no whitespace follows.
* A single ``.`` after a title (``Mr. Dr. Prof. St.`` …), an always-continuing abbreviation
  (``e.g. i.e. cf. vs. z.B. bzw.`` …) or a single-letter initial (``J. K. Rowling``) never splits;
  ``No. 5``, ``Fig. 3``, ``Jan. 5`` do not split before a number. Other abbreviations (``etc.``,
  ``Inc.``, ``U.S.``) split only when a capitalised word follows.
* ``。！？｡ ؟ ۔ । ॥ ። ။ ։`` always end a sentence, spaces or not (Chinese/Japanese need none), except
  ``。」と言った`` style: a closing quote directly followed by the quoting particle と/って (or a
  lowercase Latin letter) continues the sentence. Commas (``,``, ``，``, ``、``) never split.
* French ``« Non. » Puis`` keeps the spaced closing guillemet with its sentence.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["SPLIT_MODES", "SplitMode", "split_lines", "split_sentences", "split_text"]

SplitMode = Literal["sentences", "lines", "none"]
SPLIT_MODES: tuple[str, ...] = ("sentences", "lines", "none")

_LATIN_TERMINATORS = ".!?…‼⁇⁈⁉"
# Full stops/question marks of scripts written without spaces, or uncased: always a boundary.
_HARD_TERMINATORS = "。！？｡︒﹒﹖﹗؟۔।॥።፧။։"
# Directly after the stop: closing quotes/brackets (« and “ close German »…« and „…“ quotes there).
_CLOSERS = "\"'”’»›«‹“‘)]}」』）］｝〕】》〉〛〙〗〞＂＇"
_OPENERS = "\"'“‘«‹([{「『（［｛〔【《〈¿¡"

# French « Non. » puts a space before the closing guillemet; it closes only if a space or the end follows.
_RUN = re.compile(
    f"[{re.escape(_LATIN_TERMINATORS + _HARD_TERMINATORS)}]+"
    f"(?:[{re.escape(_CLOSERS)}]|[ \u00a0\u202f][»›](?=\\s|$))*"
)
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")

# Titles before names: never a sentence end (matched when written capitalised: "Dr.", "DR.").
_TITLES = frozenset({
    "mr", "mrs", "ms", "mx", "dr", "prof", "rev", "fr", "hon", "gen", "col", "capt", "lt", "sgt", "cmdr",
    "adm", "gov", "sen", "rep", "pres", "st", "mt", "ft", "messrs", "mme", "mlle", "hr", "hrn", "sra",
})
# Abbreviations that (almost) never end a sentence, any case. Dotted ones are matched whole.
_CONTINUING = frozenset({
    "e.g", "i.e", "cf", "vs", "viz", "approx", "ca", "al", "incl", "esp", "resp", "nr", "bzw", "vgl",
    "ggf", "evtl", "inkl", "bspw", "z.b", "d.h", "u.a", "o.ä", "u.ä", "s.o", "s.u", "z.t",
})
# Abbreviations that continue when a number follows: "No. 5", "Fig. 3", "Jan. 5".
_BEFORE_NUMBER = frozenset({
    "no", "nos", "p", "pp", "vol", "fig", "figs", "ch", "chap", "sec", "sect", "eq", "eqs", "op", "ref",
    "tel", "art", "abb", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec",
})


def _is_cjk(ch: str) -> bool:
    """Characters of scripts written without spaces between sentences (Han, kana, fullwidth)."""
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x3400 <= o <= 0x4DBF  # CJK extension A
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
        or 0xFF66 <= o <= 0xFF9D  # halfwidth katakana
        or 0x20000 <= o <= 0x2FA1F  # CJK extensions B+
    )


def _word_before(text: str, end: int) -> str:
    """The letters-and-dots word that ends at ``end`` (exclusive), e.g. ``"e.g"`` or ``"Dr"``."""
    start = end
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    return text[start:end].strip(".")


def _next_visible(text: str, pos: int) -> str:
    """First character at or after ``pos`` that is not whitespace or an opening quote/bracket ("" at end)."""
    n = len(text)
    while pos < n and (text[pos].isspace() or text[pos] in _OPENERS):
        pos += 1
    return text[pos] if pos < n else ""


def _period_continues(word: str, following: str) -> bool:
    """Whether a single ``.`` after ``word`` belongs to an abbreviation that does not end the sentence."""
    lower = word.lower()
    if len(word) == 1 and word.isalpha():
        return True  # initial: "J. K. Rowling", "M. Dupont"
    if lower in _CONTINUING:
        return True
    if word[:1].isupper() and lower in _TITLES:
        return True
    return following.isdigit() and lower in _BEFORE_NUMBER


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    """Decide whether the terminator run ``match`` (terminators + closers) ends a sentence."""
    end = match.end()
    if end >= len(text):
        return True
    run = match.group()
    closers = run.lstrip(_LATIN_TERMINATORS + _HARD_TERMINATORS)  # may include " »"
    terminators = run[: len(run) - len(closers)]
    after = text[end]
    if any(ch in _HARD_TERMINATORS for ch in terminators):
        # 「行こう。」と言った / って: a quote closed mid-sentence continues with the quoting particle.
        return not (closers and (after in "とっ" or "a" <= after <= "z"))
    if not after.isspace():
        # "3.14", "example.com", "U.S.A." stay whole; "你好!世界" splits after the "!".
        return _is_cjk(after) and terminators[-1] != "."
    following = _next_visible(text, end)
    if not following:
        return True
    if following.islower():
        return False
    if terminators == "." and not closers:
        return not _period_continues(_word_before(text, match.start()), following)
    return True


def _split_paragraph(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _RUN.finditer(text):
        if _is_boundary(text, match):
            pieces.append(text[start : match.end()])
            start = match.end()
    pieces.append(text[start:])
    return pieces


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (rules in the module docstring), stripped, empty ones dropped."""
    pieces: list[str] = []
    for paragraph in _BLANK_LINE.split(text):
        pieces.extend(_split_paragraph(paragraph))
    return [p.strip() for p in pieces if p.strip()]


def split_lines(text: str) -> list[str]:
    """Non-blank lines of ``text``, stripped (any line break: ``\\n``, ``\\r\\n``, ``\\r``, U+2028, …)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def split_text(text: str, mode: SplitMode = "sentences") -> list[str]:
    """Split ``text`` into pieces to generate one by one.

    Args:
        text: any text.
        mode: ``"sentences"``, ``"lines"`` or ``"none"``.

    Returns:
        Non-empty, stripped pieces in order; ``[]`` for empty or whitespace-only text.

    Raises:
        ValueError: unknown ``mode`` or non-str ``text``.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    if mode == "sentences":
        return split_sentences(text)
    if mode == "lines":
        return split_lines(text)
    if mode == "none":
        return [text.strip()] if text.strip() else []
    raise ValueError(f"unknown split mode {mode!r}; expected one of {', '.join(SPLIT_MODES)}")
