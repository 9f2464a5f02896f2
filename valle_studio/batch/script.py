"""Reading batch scripts: plain text (one line per file), CSV or TSV, with speaker tags.

Plain text::

    # a comment line (write \\# to start a spoken line with "#")
    [Narrator] A tagged line: spoken by the saved voice "Narrator".
    [Alice]
    Untagged lines after a tag-only line are spoken by Alice...
    Bob: ...until another tag. "Name: text" is a tag when Name is a saved voice, or when the
    script uses that name as a prefix on at least two lines (a dialogue script).

CSV / TSV need a header row naming a ``text`` column; ``voice``, ``filename``, ``seed``, ``language`` and
``lora`` (``NAME[:STRENGTH]``: a LoRA voice adapter for that line) are optional (a few aliases such as
``speaker`` or ``file`` are understood). A file that
has a single column and no header is read as one text per row.

Blank lines and rows are skipped. The bytes are decoded from UTF-8 (with or without BOM), UTF-16/32
with a BOM, BOM-less UTF-16, and finally Windows-1252 / Latin-1, so scripts saved by Excel or
Notepad read correctly. Internal whitespace (tabs, line breaks inside a CSV cell) becomes one space.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from valle_studio.core.files import NotARegularFileError, require_regular_file
from valle_studio.engine.settings import SPECS, SettingsError
from valle_studio.engine.text.languages import resolve_language

FORMATS = ("text", "csv", "tsv")
MAX_SCRIPT_BYTES = 64 * 1024 * 1024  # a 10-hour audiobook is a few MB of text
MAX_VOICE_NAME = 60  # the voice library's limit

# column name -> field; the first name of each field is the canonical one shown in messages
COLUMN_ALIASES: dict[str, str] = {
    "text": "text", "line": "text", "dialogue": "text", "dialog": "text", "transcript": "text",
    "sentence": "text", "voice": "voice", "speaker": "voice", "character": "voice",
    "filename": "filename", "file": "filename", "file_name": "filename", "output": "filename",
    "seed": "seed", "language": "language", "lang": "language", "lora": "lora", "adapter": "lora",
}

_BRACKET_TAG = re.compile(r"^\[\s*([^\[\]]{1,60}?)\s*\]\s*(.*)$")
# "Name: text": a short name starting with a letter, at most four words, then ": " and the text.
_COLON_TAG = re.compile(r"^([^\W\d_][\w.'’\-]*(?: [\w.'’\-]+){0,3})\s*:\s+(\S.*)$")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


class ScriptError(ValueError):
    """The script cannot be used; the message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class ScriptLine:
    """One line to speak. Empty strings mean "use the project's default"."""

    text: str
    line: int  # 1-based line number in the source file (first line of a CSV record)
    voice: str = ""
    filename: str = ""  # a requested output name (sanitised later), instead of the naming template
    seed: int | None = None
    language: str = ""
    lora: str = ""  # "NAME[:STRENGTH]" for this line only ("" = the project's)

    def settings(self) -> dict[str, object]:
        """The line's own settings (a row's overrides of the project's): its LoRA, if it names one."""
        if not self.lora:
            return {}
        from valle_studio.engine.lora_choice import parse_lora_choice

        name, strength = parse_lora_choice(self.lora)
        return {"lora": name, "lora_strength": strength}


@dataclass(frozen=True)
class Script:
    """A parsed script: its lines in order, how it was read, and notes worth showing the user."""

    lines: tuple[ScriptLine, ...]
    format: str  # "text" | "csv" | "tsv"
    encoding: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def voices(self) -> list[str]:
        """Every voice named by a tag or a voice column, in first-use order."""
        return list(dict.fromkeys(line.voice for line in self.lines if line.voice))


# -- decoding ---------------------------------------------------------------------------------------

#: File signatures of things people pick by mistake instead of a text script (no text format starts so).
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (a Word, Excel or OpenDocument file?); save the script as .txt or .csv"),
    (b"%PDF", "a PDF document; copy its text into a .txt file"),
    (b"{\\rtf", "an RTF document; save it as plain text (.txt)"),
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
    (b"\xd0\xcf\x11\xe0", "an old Word or Excel document; save it as .txt or .csv"),
    (b"RIFF", "a RIFF file (WAV audio?), not text"),
    (b"fLaC", "FLAC audio, not text"),
    (b"OggS", "Ogg audio, not text"),
    (b"ID3", "MP3 audio, not text"),
    (b"\x89PNG", "a PNG image, not text"),
    (b"\xff\xd8\xff", "a JPEG image, not text"),
    (b"\x7fELF", "a program, not text"),
)
#: Control characters a text file may hold: tab, line feed, vertical tab, form feed, carriage return,
#: and DOS's end-of-file mark (everything else in C0, DEL and C1 is binary).
_TEXT_CONTROLS = frozenset("\t\n\x0b\x0c\r\x1a")
#: A text with more than this share of other control characters is binary data, whatever it decodes to
#: (random bytes hold about 11 % of them; real scripts none, or a stray one).
MAX_CONTROL_SHARE = 0.01


def _refuse_binary(data: bytes, text: str, source: str) -> None:
    """Raise :class:`ScriptError` for a known non-text file signature or a text full of control codes."""
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise ScriptError(f"{source} is {what}")
    sample = text[:65536]
    controls = sum(1 for ch in sample if (ch < " " or "\x7f" <= ch <= "\x9f") and ch not in _TEXT_CONTROLS)
    if sample and controls > max(2, MAX_CONTROL_SHARE * len(sample)):
        raise ScriptError(f"{source} contains binary data ({controls} control characters in its first "
                          f"{len(sample):,}); is it really a text script?")


def decode_script_bytes(data: bytes, source: str = "script") -> tuple[str, str]:
    """Decode a script file's bytes; returns ``(text, encoding name)``. See the module docstring.

    Raises :class:`ScriptError` for binary data: NUL bytes outside UTF-16, a known signature of a
    non-text file (ZIP, PDF, audio, images, ...), or more than :data:`MAX_CONTROL_SHARE` control
    characters (a binary file that happens to hold no NUL byte decodes as Latin-1 otherwise).
    """
    text, encoding = _decode(data, source)
    _refuse_binary(data, text, source)
    return text, encoding


def _decode(data: bytes, source: str) -> tuple[str, str]:
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(name), name + " (BOM)"
            except UnicodeDecodeError as exc:
                raise ScriptError(f"{source}: starts with a {name} byte-order mark but is not valid "
                                  f"{name} text (byte {exc.start + len(bom)})") from exc
    if len(data) >= 4 and b"\x00" in data[:200]:
        # BOM-less UTF-16: ASCII characters leave every other byte zero.
        head = data[:400]
        even_zeros, odd_zeros = head[0::2].count(0), head[1::2].count(0)
        for zeros, name in ((odd_zeros, "utf-16-le"), (even_zeros, "utf-16-be")):
            if zeros > len(head) // 4:
                try:
                    return data.decode(name), name
                except UnicodeDecodeError:
                    break
        raise ScriptError(f"{source}: contains binary data (NUL bytes); is it really a text script?")
    for name in ("utf-8", "cp1252"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _clean(text: str) -> str:
    """NFC, no BOM or control characters, internal whitespace collapsed to single spaces."""
    text = unicodedata.normalize("NFC", text.replace("\ufeff", ""))
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(text.split())


# -- plain text -------------------------------------------------------------------------------------

def _colon_candidate(line: str) -> tuple[str, str] | None:
    match = _COLON_TAG.match(line)
    if match is None or len(match.group(1)) > MAX_VOICE_NAME:
        return None
    return match.group(1).strip(), match.group(2).strip()


def _parse_text(text: str, source: str, known: set[str] | None) -> tuple[list[ScriptLine], list[str]]:
    raw = [(number, _clean(line)) for number, line in enumerate(text.splitlines(), start=1)]
    spoken = [(n, line) for n, line in raw if line and not line.startswith("#")]
    candidates = Counter(c[0].casefold() for _, line in spoken if (c := _colon_candidate(line)))
    known_folded = {k.casefold() for k in known or ()}

    lines: list[ScriptLine] = []
    warnings: list[str] = []
    current = ""  # the speaker set by a tag-only line
    for number, line in spoken:
        if line.startswith("\\#"):
            lines.append(ScriptLine(line[1:], number, current))
            continue
        bracket = _BRACKET_TAG.match(line)
        if bracket is not None:
            name, rest = bracket.group(1).strip(), bracket.group(2).strip()
            if not rest:
                current = name
            else:
                lines.append(ScriptLine(rest, number, name))
            continue
        colon = _colon_candidate(line)
        if colon is not None:
            name, rest = colon
            if name.casefold() in known_folded or candidates[name.casefold()] >= 2:
                lines.append(ScriptLine(rest, number, name))
                continue
            warnings.append(f"{source} line {number}: \u201c{name}:\u201d is read as part of the text, not "
                            f"as a speaker (no saved voice has that name); write [{name}] to make it one.")
        lines.append(ScriptLine(line, number, current))
    return lines, warnings


# -- CSV / TSV --------------------------------------------------------------------------------------

def _delimiter(text: str, fmt: str) -> str:
    if fmt == "tsv":
        return "\t"
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel in many European locales saves "CSV" with semicolons.
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(cells: list[str]) -> dict[int, str] | None:
    names = [_clean(c).casefold().replace(" ", "_").replace("-", "_") for c in cells]
    if "text" not in {COLUMN_ALIASES.get(n) for n in names}:
        return None
    mapping: dict[int, str] = {}
    for index, name in enumerate(names):
        target = COLUMN_ALIASES.get(name)
        if target is not None and target not in mapping.values():
            mapping[index] = target
    return mapping


def _parse_seed(value: str, where: str) -> int | None:
    if not value:
        return None
    try:
        seed = int(value.replace("_", ""))
    except ValueError:
        raise ScriptError(f"{where}, column 'seed': {value!r} is not a whole number") from None
    if not SPECS["seed"].allows(seed):
        raise ScriptError(f"{where}, column 'seed': {seed} is out of range (0 to 2^63 - 1)")
    return seed


def _parse_table(text: str, source: str, fmt: str) -> tuple[list[ScriptLine], list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text, fmt))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ScriptError(f"{source} line {reader.line_num}: not valid {fmt.upper()} ({exc})") from exc
    rows = [(n, cells) for n, cells in rows if any(c.strip() for c in cells)]
    if not rows:
        return [], []
    warnings: list[str] = []
    header = _header(rows[0][1])
    if header is not None:
        ignored = [c for i, c in enumerate(rows[0][1]) if i not in header and c.strip()]
        if ignored:
            warnings.append(f"{source}: ignoring column(s) {', '.join(repr(c) for c in ignored)} "
                            f"(known: text, voice, filename, seed, language, lora)")
        rows = rows[1:]
    elif all(len(cells) == 1 for _, cells in rows):
        header = {0: "text"}
    else:
        raise ScriptError(f"{source}: the first row must name the columns, with at least a 'text' column "
                          f"(for example: text,voice,filename,seed)")

    lines: list[ScriptLine] = []
    for number, cells in rows:
        if cells and cells[0].lstrip().startswith("#"):
            continue
        values = {name: _clean(cells[i]) if i < len(cells) else "" for i, name in header.items()}
        where = f"{source} line {number}"
        if not values.get("text"):
            warnings.append(f"{where}: no text; row skipped")
            continue
        language = values.get("language", "")
        if language:
            try:
                language = resolve_language(language).code
            except ValueError as exc:
                raise ScriptError(f"{where}, column 'language': {exc}") from None
        voice = values.get("voice", "")
        if len(voice) > MAX_VOICE_NAME:
            raise ScriptError(f"{where}, column 'voice': the name is longer than {MAX_VOICE_NAME} characters")
        line = ScriptLine(values["text"], number, voice, values.get("filename", ""),
                          _parse_seed(values.get("seed", ""), where), language, values.get("lora", ""))
        try:
            line.settings()
        except SettingsError as exc:
            raise ScriptError(f"{where}, column 'lora': {exc.problem} (write NAME or NAME:STRENGTH, "
                              f"the strength {SPECS['lora_strength'].rule_words()})") from None
        lines.append(line)
    return lines, warnings


# -- entry points -----------------------------------------------------------------------------------

def format_for(path: Path) -> str:
    """The format a file name implies: ``.csv`` -> csv, ``.tsv``/``.tab`` -> tsv, anything else text."""
    suffix = path.suffix.lower()
    return "csv" if suffix == ".csv" else "tsv" if suffix in {".tsv", ".tab"} else "text"


def parse_script(text: str, *, format: str = "text", known_voices: Iterable[str] | None = None,
                 source: str = "script", encoding: str = "str") -> Script:
    """Parse script ``text`` (already decoded) in ``format``; ``known_voices`` helps tell speaker
    tags from text (see the module docstring). Raises :class:`ScriptError`."""
    if format not in FORMATS:
        raise ScriptError(f"{source}: unknown script format {format!r} (use {', '.join(FORMATS)})")
    known = set(known_voices) if known_voices is not None else None
    if format == "text":
        lines, warnings = _parse_text(text, source, known)
    else:
        lines, warnings = _parse_table(text, source, format)
    return Script(tuple(lines), format, encoding, tuple(warnings))


def read_script(path: str | Path, *, format: str | None = None,
                known_voices: Iterable[str] | None = None) -> Script:
    """Read and parse a script file (format from the extension unless given). Raises
    :class:`ScriptError` for unreadable, binary, oversized or malformed files and for empty scripts."""
    path = Path(path)
    try:
        require_regular_file(path, "a script file")  # a pipe would block the read, /dev/zero never end
        size = path.stat().st_size
        if size > MAX_SCRIPT_BYTES:
            raise ScriptError(f"{path}: {size / 1e6:.0f} MB is too large for a script "
                              f"(at most {MAX_SCRIPT_BYTES // 2**20} MB)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScriptError(f"script not found: {path}") from None
    except IsADirectoryError:
        raise ScriptError(f"{path} is a folder, not a script file") from None
    except NotARegularFileError as exc:
        raise ScriptError(str(exc)) from None
    except OSError as exc:
        raise ScriptError(f"cannot read {path}: {exc.strerror or exc}") from exc
    text, encoding = decode_script_bytes(data, str(path))
    script = parse_script(text, format=format or format_for(path), known_voices=known_voices,
                          source=path.name, encoding=encoding)
    if not script.lines:
        raise ScriptError(f"{path}: there is nothing to say (no lines of text)")
    return script


__all__ = ["FORMATS", "Script", "ScriptError", "ScriptLine", "decode_script_bytes", "format_for",
           "parse_script", "read_script"]
