"""Lexicon files: a tab-separated table (``.tsv``, ``.txt``) or JSON (``.json``), UTF-8.

TSV, one entry per line, ``#`` starts a comment line, blank lines are skipped, an optional header
line ``word<TAB>pronunciation[<TAB>language]`` is skipped::

    # word        pronunciation   language (optional: en, ja, de, fr, zh, ko; empty = all)
    Müller        /mˈʏlɐ/         de
    Nguyen        win
    SQL           sequel

A pronunciation between slashes is IPA, handed to the model as it is (every symbol must be in the
tokenizer); anything else is a respelling that espeak reads in the word's place.

JSON: ``{"entries": [{"word": "Müller", "ipa": "mˈʏlɐ", "language": "de"}, {"word": "Nguyen",
"say": "win"}]}`` (a bare list of entries is read too); each entry has exactly one of ``ipa`` and
``say``. Every problem is reported with the file, the line (TSV) or entry number (JSON) and the word.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from valle_studio.core.files import NotARegularFileError, require_regular_file
from valle_studio.engine.text.languages import resolve_language
from valle_studio.engine.text.lexicon import Kind, Lexicon, LexiconEntry, LexiconError

__all__ = ["LEXICON_SUFFIXES", "format_json", "format_tsv", "parse_json", "parse_tsv", "pronunciation_of",
           "read_lexicon", "split_pronunciation", "write_lexicon"]

LEXICON_SUFFIXES = (".tsv", ".txt", ".json")
_HEADER = ("word", "pronunciation")


def split_pronunciation(text: str) -> tuple[str, Kind]:
    """``"/mˈʏlɐ/"`` -> ``("mˈʏlɐ", "ipa")``; ``"win"`` -> ``("win", "say")`` (the table dialog's cells too)."""
    text = text.strip()
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        return text[1:-1].strip(), "ipa"
    return text, "say"


def pronunciation_of(entry: LexiconEntry) -> str:
    """How the entry's pronunciation is written in a TSV cell: IPA between slashes, a respelling bare."""
    return f"/{entry.pronunciation}/" if entry.kind == "ipa" else entry.pronunciation


def _language(code: str, where: str) -> str:
    if not code.strip():
        return ""
    try:
        return resolve_language(code).code
    except ValueError as exc:
        raise LexiconError(f"{where}: {exc}") from None


def parse_tsv(text: str, source: str = "lexicon") -> Lexicon:
    """A :class:`Lexicon` from TSV ``text`` (format in the module docstring); ``source`` names it in errors."""
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"line {number} of {source}"
        cells = [cell.strip() for cell in raw.rstrip("\r\n").split("\t")]
        if tuple(c.lower() for c in cells[:2]) == _HEADER:
            continue
        if len(cells) < 2 or len(cells) > 3:
            raise LexiconError(f"{where}: expected word<TAB>pronunciation[<TAB>language], got {len(cells)} "
                               f"column(s): {line[:60]!r}")
        pronunciation, kind = split_pronunciation(cells[1])
        entries.append(LexiconEntry(cells[0], pronunciation, kind,
                                    _language(cells[2] if len(cells) == 3 else "", where), where))
    return Lexicon(tuple(entries), source)


def parse_json(text: str, source: str = "lexicon") -> Lexicon:
    """A :class:`Lexicon` from JSON ``text`` (format in the module docstring)."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LexiconError(f"{source} is not valid JSON: {exc}") from None
    items = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise LexiconError(f'{source}: expected {{"entries": [...]}} or a list of entries')
    entries = []
    for number, item in enumerate(items, 1):
        where = f"entry {number} of {source}"
        if not isinstance(item, dict):
            raise LexiconError(f"{where}: expected an object with 'word' and 'ipa' or 'say'")
        unknown = sorted(set(item) - {"word", "ipa", "say", "language"})
        if unknown:
            raise LexiconError(f"{where}: unknown field(s) {', '.join(unknown)}")
        given = [key for key in ("ipa", "say") if key in item]
        if len(given) != 1:
            raise LexiconError(f"{where} ({item.get('word')!r}): give exactly one of 'ipa' and 'say'")
        values = [item.get("word", ""), item[given[0]], item.get("language", "")]
        if not all(isinstance(v, str) for v in values):
            raise LexiconError(f"{where}: 'word', '{given[0]}' and 'language' must be strings")
        kind: Kind = "ipa" if given[0] == "ipa" else "say"
        entries.append(LexiconEntry(values[0], values[1], kind, _language(values[2], where), where))
    return Lexicon(tuple(entries), source)


def read_lexicon(path: str | Path, source: str | None = None) -> Lexicon:
    """Read a ``.tsv``/``.txt`` or ``.json`` lexicon file; ``source`` names it in messages (default: its name).

    Raises:
        LexiconError: unreadable file, unknown suffix, or a bad entry (named with its line).
    """
    path = Path(path)
    if path.suffix.lower() not in LEXICON_SUFFIXES:
        raise LexiconError(f"{path}: a lexicon is a .tsv, .txt or .json file")
    try:
        require_regular_file(path, "a lexicon file")  # a named pipe would block the read, a device never end
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LexiconError(f"lexicon file not found: {path}") from None
    except NotARegularFileError as exc:
        raise LexiconError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"cannot read the lexicon {path}: {exc}") from None
    parse = parse_json if path.suffix.lower() == ".json" else parse_tsv
    return parse(text, source or path.name)


def format_tsv(lexicon: Lexicon) -> str:
    """``lexicon`` as TSV text that :func:`parse_tsv` reads back to the same entries."""
    lines = ["# VALL-E Studio pronunciation lexicon: word<TAB>pronunciation[<TAB>language]",
             "# /.../ is IPA given to the model as it is; anything else is a respelling espeak reads instead"]
    for entry in lexicon.entries:
        cells = [entry.word, pronunciation_of(entry)] + ([entry.language] if entry.language else [])
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def format_json(lexicon: Lexicon) -> str:
    """``lexicon`` as JSON text that :func:`parse_json` reads back to the same entries."""
    items = []
    for entry in lexicon.entries:
        item = {"word": entry.word, entry.kind: entry.pronunciation}
        if entry.language:
            item["language"] = entry.language
        items.append(item)
    return json.dumps({"entries": items}, ensure_ascii=False, indent=1) + "\n"


def write_lexicon(path: str | Path, lexicon: Lexicon) -> Path:
    """Write ``lexicon`` atomically as TSV, or as JSON for a ``.json`` path; returns the path."""
    from valle_studio.core.atomic import atomic_write_text

    path = Path(path)
    text = format_json(lexicon) if path.suffix.lower() == ".json" else format_tsv(lexicon)
    return atomic_write_text(path, text)
