"""Safe output file names built from script text, voice names and a naming template.

Everything a script can put into a name goes through :func:`sanitize_stem`: no folder separators or
``..`` (so no path traversal), none of the characters Windows forbids, no control characters, no
reserved device names (``CON``, ``NUL``, ``COM1``, ...), no leading dots or trailing dots/spaces,
NFC-normalised unicode, and a length bounded in UTF-8 *bytes* (file systems count bytes: 255 on
ext4/NTFS-via-UTF-16, and the atomic writer adds a temporary prefix). Duplicates are told apart
case-insensitively (Windows and macOS treat ``A.wav`` and ``a.wav`` as one file) with ``-2``, ``-3``...
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable

DEFAULT_TEMPLATE = "{index:03d}_{voice}_{slug}"
TEMPLATE_FIELDS = ("index", "voice", "slug", "lang")
MAX_STEM_BYTES = 120  # leaves room for "-999", ".wav" and the atomic writer's ".name.xxxxxxxx.tmp"
SLUG_BYTES = 48
FALLBACK_STEM = "line"
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")

_FORBIDDEN = set('<>:"/\\|?*')
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
             *(f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³"))}
_SEPARATORS = re.compile(r"[-_\s]+")


class TemplateError(ValueError):
    """A naming template is malformed or uses an unknown field; the message lists the known ones."""


def _truncate_bytes(text: str, max_bytes: int) -> str:
    """Cut ``text`` to at most ``max_bytes`` of UTF-8 without splitting a character or leaving a
    dangling combining mark."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    cut = data[:max_bytes].decode("utf-8", errors="ignore")
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    return cut


def slugify(text: str, max_bytes: int = SLUG_BYTES) -> str:
    """Lower-case words of ``text`` joined by ``-``: letters (any script) and digits survive,
    punctuation, symbols and emoji do not. ``"Hello, World! 👋"`` -> ``"hello-world"``; may be ""."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch if unicodedata.category(ch)[0] in "LNM" else " " for ch in text)
    words = kept.split()
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate.encode("utf-8")) > max_bytes:
            if not slug:  # one very long word: cut it
                slug = _truncate_bytes(word, max_bytes)
            break
        slug = candidate
    return unicodedata.normalize("NFC", slug)


def sanitize_stem(name: str, max_bytes: int = MAX_STEM_BYTES, fallback: str = FALLBACK_STEM) -> str:
    """A file name stem that is safe on Windows, macOS and Linux (see the module docstring)."""
    name = unicodedata.normalize("NFC", name)
    # Folder parts are dropped rather than flattened, so "../../x" becomes "x", not ".._.._x".
    parts = [p for p in re.split(r"[/\\]+", name) if p.strip() not in {"", ".", ".."}]
    name = "_".join(parts)
    # Line breaks and tabs become spaces; other invisible characters (bidi overrides, zero-width) go.
    name = "".join(" " if ch.isspace() else "_" if ch in _FORBIDDEN else
                   "" if unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cs", "Cn"} else ch for ch in name)
    name = " ".join(name.split())  # tabs, runs of spaces
    name = name.lstrip(". ").rstrip(". ")
    name = _truncate_bytes(name, max_bytes).rstrip(". ")
    if not name:
        name = fallback
    device = name.split(".")[0].rstrip(" ").upper()
    if device in _RESERVED:
        name = "_" + name
    return name


def clean_field(value: str, max_bytes: int = 40) -> str:
    """A template field value (voice, language): letters, digits and ``-``/``_`` only, case kept."""
    value = unicodedata.normalize("NFKC", value)
    kept = "".join(ch if unicodedata.category(ch)[0] in "LNM" or ch in "-_" else " " for ch in value)
    return _truncate_bytes("-".join(kept.split()), max_bytes).strip("-_")


def strip_audio_extension(name: str) -> str:
    """``"intro.WAV"`` -> ``"intro"``: a filename column may include the extension."""
    lower = name.lower()
    for ext in AUDIO_EXTENSIONS:
        if lower.endswith(ext):
            return name[: -len(ext)]
    return name


def check_template(template: str) -> str:
    """Validate a naming template; returns it. Only plain fields from :data:`TEMPLATE_FIELDS` with
    an optional format spec (``{index:03d}``) are allowed: no attribute or index access."""
    if not template.strip():
        raise TemplateError("the naming template is empty")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"naming template {template!r}: {exc} (write {{{{ or }}}} for a literal brace)") \
            from None
    used = []
    for _literal, field_name, _spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in TEMPLATE_FIELDS or conversion:
            raise TemplateError(f"naming template {template!r}: unknown field {{{field_name}}}; "
                                f"use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}")
        used.append(field_name)
    if not used:
        raise TemplateError(f"naming template {template!r} has no field, so every line would get the same "
                            "name; include {index} or {slug}")
    try:
        render_template(template, index=1, voice="v", slug="s", lang="en", check=False)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise TemplateError(f"naming template {template!r}: {exc!s}") from None
    return template


def render_template(template: str, *, index: int, voice: str, slug: str, lang: str,
                    check: bool = True) -> str:
    """Fill in ``template`` and sanitise the result into a stem (no extension).

    ``index`` is the 1-based row number; text fields are cleaned first (:func:`clean_field`)."""
    if check:
        check_template(template)
    values = {"index": index, "voice": clean_field(voice) or "voice", "slug": slug or FALLBACK_STEM,
              "lang": clean_field(lang) or "xx"}
    filled = template.format(**values)
    return sanitize_stem(filled.strip("_- ") or filled)


def unique_name(stem: str, suffix: str, taken: Iterable[str] | set[str]) -> str:
    """``stem + suffix``, or ``stem-2 + suffix``, ``stem-3``... whichever is not in ``taken``
    (compared case-insensitively; ``taken`` holds casefolded full names)."""
    taken_set = taken if isinstance(taken, set) else set(taken)
    candidate = stem + suffix
    number = 1
    while candidate.casefold() in taken_set:
        number += 1
        tail = f"-{number}"
        candidate = _truncate_bytes(stem, MAX_STEM_BYTES - len(tail)) + tail + suffix
    return candidate


__all__ = ["DEFAULT_TEMPLATE", "MAX_STEM_BYTES", "TEMPLATE_FIELDS", "TemplateError", "check_template",
           "clean_field", "render_template", "sanitize_stem", "slugify", "strip_audio_extension",
           "unique_name"]
