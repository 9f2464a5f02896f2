"""Make any user text safe for espeak-ng and the tokenizers without dropping anything speakable.

espeak-ng reads a C string, so a NUL character ends the text there and everything after it would
silently go unspoken; other control characters (bell, escape, form feed...) and invisible
formatting characters (zero-width spaces, bidi marks, soft hyphens) carry nothing to say. Lone
surrogates are not characters at all: Python produces them for bytes that are not valid UTF-8 (a
``--text`` argument in another encoding) and any later UTF-8 encoding of them fails.
"""

from __future__ import annotations

import unicodedata

__all__ = ["clean_text", "is_speakable"]


def clean_text(text: str) -> str:
    """``text`` with control characters turned into spaces and format characters/surrogates removed.

    Tabs and line breaks become plain spaces too (sentence splitting has already happened by the
    time text reaches espeak). Every other character, including emoji and any script, is kept.
    """
    if text.isprintable():  # the common case: nothing to do
        return text
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc" or category in ("Zl", "Zp"):
            out.append(" ")  # keeps words apart: "one\x07two" is two words
        elif category in ("Cf", "Cs"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def is_speakable(text: str) -> bool:
    """Whether ``text`` (IPA phonemes, or raw text in no-phonemize mode) holds anything to pronounce:
    at least one letter or digit, not only punctuation, symbols and spaces."""
    return any(ch.isalnum() for ch in text)
