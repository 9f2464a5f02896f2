"""The languages the VALL-E models know: model language ids, display names and espeak voices.

The ids index the checkpoint's ``langs_emb`` table (6 rows), so they are fixed by the trained model.
This module imports nothing heavy: the GUI can read :data:`LANGUAGES` without loading espeak.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One supported language."""

    code: str  # short code used throughout the app ("en", "zh", ...)
    id: int  # row of the model's langs_emb (the "lang" input token)
    name: str  # display name for the GUI
    voice: str  # espeak-ng voice used by the phonemizer
    note: str = ""  # extra processing applied before espeak, for tooltips


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", 0, "English", "en-us"),
        Language("ja", 1, "Japanese", "ja", "converted to hiragana (pykakasi) before espeak"),
        Language("de", 2, "German", "de"),
        Language("fr", 3, "French", "fr-fr"),
        Language("zh", 4, "Chinese (Mandarin)", "cmn-latn-pinyin", "tone digits 1-5 become ˇ ˉ ˊ ˋ _"),
        Language("ko", 5, "Korean", "ko"),
    )
}

SUPPORTED_CODES: tuple[str, ...] = tuple(LANGUAGES)


def resolve_language(code: str) -> Language:
    """Return the :class:`Language` for ``code``.

    Matching ignores case and surrounding spaces; any ``zh*`` code (``zh-cn``, ``zh_TW``, ...) is
    Mandarin, as upstream maps every ``zh`` variant onto the pinyin voice.

    Raises:
        ValueError: ``code`` is not a supported language; the message lists the supported codes.
    """
    if not isinstance(code, str):
        raise ValueError(f"language must be a string code, got {type(code).__name__}")
    key = code.strip().lower().replace("_", "-")
    if key.startswith("zh"):
        key = "zh"
    lang = LANGUAGES.get(key)
    if lang is None:
        supported = ", ".join(f"{c} ({lang.name})" for c, lang in LANGUAGES.items())
        raise ValueError(f"unsupported language {code!r}; supported languages: {supported}")
    return lang


def language_id(code: str) -> int:
    """Model language id (``langs_emb`` row) for ``code``: en 0, ja 1, de 2, fr 3, zh 4, ko 5."""
    return resolve_language(code).id
