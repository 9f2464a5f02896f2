"""Text to IPA phonemes through espeak-ng, with upstream's phonemizer settings.

Upstream feeds the model phonemes made by ``phonemizer``'s espeak backend with
``preserve_punctuation=True, with_stress=True`` and ``.phonemize([text], strip=True)`` (default
separator: phones joined, words separated by one space). The trained checkpoints expect exactly
that text, so this module reproduces it, with one deliberate exception:

* upstream loses the rest of a sentence after a decimal number ("Pi is 3.14 ok." speaks only
  "Pi is three."): phonemizer cuts the line at the decimal point and upstream keeps the first of the
  resulting chunks. Here lines are cut where the punctuation really is
  (:mod:`~valle_studio.engine.text.punctuation`), so espeak reads "three point one four ok" as it
  does without punctuation handling; should phonemizer still return several chunks, they are joined
  rather than dropped. Other oddities are kept:
* Mandarin uses the ``cmn-latn-pinyin`` voice and its tone digits 1-5 become ``ˇ ˉ ˊ ˋ _``;
* Japanese is converted to hiragana with ``pykakasi`` first.

Text is cleaned first (:func:`~valle_studio.engine.text.clean.clean_text`): a NUL would end espeak's
C string and silently drop the rest, so control characters become spaces.

espeak-ng comes from the ``espeakng-loader`` wheel (library and data), so users need no system
espeak. Set ``PHONEMIZER_ESPEAK_LIBRARY`` (and optionally ``PHONEMIZER_ESPEAK_DATA_PATH``) to use
another espeak-ng instead, e.g. a system 1.51 to match upstream's recorded outputs exactly.
Everything is set up lazily on first use; importing this module loads nothing.

phonemizer and espeak-ng are not thread-safe: every call goes through one process-wide lock.

phonemizer loads a private copy of the espeak-ng library for each voice, made in a new temporary
folder; those copies are made in the app's cache folder (``user_cache_dir()/espeak``) rather than the
system's temporary folder, so the app writes nowhere else (and leftovers of a crash stay contained).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from valle_studio.engine.text.clean import clean_text
from valle_studio.engine.text.languages import LANGUAGES, Language, language_id, resolve_language

if TYPE_CHECKING:
    import pykakasi
    from phonemizer.backend import EspeakBackend

__all__ = [
    "LANGUAGES",
    "Language",
    "PhonemizerUnavailableError",
    "espeak_version",
    "language_id",
    "phonemize",
    "resolve_language",
    "to_hiragana",
]

log = logging.getLogger(__name__)
# phonemizer reports e.g. "words count mismatch" through this logger instead of the root logger.
_phonemizer_log = logging.getLogger(__name__ + ".phonemizer")

_ZH_TONES = str.maketrans("12345", "ˇˉˊˋ_")

_lock = threading.RLock()
_configured = False
_backends: dict[str, EspeakBackend] = {}
_version: str | None = None
_kakasi: pykakasi.kakasi | None = None


class PhonemizerUnavailableError(RuntimeError):
    """phonemizer, espeak-ng or (for Japanese) pykakasi cannot be loaded."""


def _configure_espeak() -> None:
    """Point phonemizer at the bundled espeak-ng library and data once. Caller holds ``_lock``."""
    global _configured
    if _configured:
        return
    try:
        from phonemizer.backend.espeak.wrapper import EspeakWrapper
    except ImportError as exc:
        raise PhonemizerUnavailableError(
            "the 'phonemizer' package is not installed; it is needed to turn text into phonemes "
            "(pip install phonemizer), or use the no-phonemize text mode"
        ) from exc
    if "PHONEMIZER_ESPEAK_LIBRARY" not in os.environ:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise PhonemizerUnavailableError(
                "the 'espeakng-loader' package (bundled espeak-ng) is not installed; install it or set "
                "PHONEMIZER_ESPEAK_LIBRARY to an espeak-ng library"
            ) from exc
        try:
            EspeakWrapper.set_library(espeakng_loader.get_library_path())
            EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
        except (OSError, RuntimeError) as exc:
            raise PhonemizerUnavailableError(
                f"the bundled espeak-ng from espeakng-loader is unusable: {exc}"
            ) from exc
    _configured = True


@contextlib.contextmanager
def _library_copies_in_app_cache() -> Iterator[None]:
    """Make phonemizer's per-voice copy of libespeak-ng in the app's cache folder. Caller holds ``_lock``."""
    from valle_studio.paths import user_cache_dir

    folder = user_cache_dir() / "espeak"
    folder.mkdir(parents=True, exist_ok=True)
    previous = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = previous


def _library_hint() -> str:
    library = os.environ.get("PHONEMIZER_ESPEAK_LIBRARY")
    return f" (espeak-ng library from PHONEMIZER_ESPEAK_LIBRARY={library})" if library else ""


def _backend(voice: str) -> EspeakBackend:
    """Cached espeak backend for ``voice``. Caller holds ``_lock``."""
    backend = _backends.get(voice)
    if backend is None:
        _configure_espeak()
        from phonemizer.backend import EspeakBackend

        try:
            with _library_copies_in_app_cache():
                backend = EspeakBackend(
                    voice, preserve_punctuation=True, with_stress=True, logger=_phonemizer_log
                )
        except RuntimeError as exc:
            raise PhonemizerUnavailableError(
                f"cannot start espeak-ng with voice {voice!r}: {exc}{_library_hint()}"
            ) from exc
        _use_decimal_safe_punctuation(backend)
        _backends[voice] = backend
    return backend


def _use_decimal_safe_punctuation(backend: EspeakBackend) -> None:
    """Swap in the punctuation handling that keeps decimals whole (see the module docstring)."""
    try:
        from valle_studio.engine.text.punctuation import DecimalSafePunctuation

        punctuator = DecimalSafePunctuation()
    except (ImportError, AttributeError, TypeError) as exc:  # another phonemizer layout: keep its own
        log.warning("keeping phonemizer's punctuation handling (%s); decimals may split sentences", exc)
        return
    if hasattr(backend, "_punctuator"):
        backend._punctuator = punctuator


def espeak_version() -> str:
    """Version of the espeak-ng library in use, e.g. ``"1.52.0"`` (loads it if needed)."""
    global _version
    with _lock:
        if _version is None:
            _configure_espeak()
            from phonemizer.backend.espeak.wrapper import EspeakWrapper

            try:
                with _library_copies_in_app_cache():
                    parts = EspeakWrapper().version
            except RuntimeError as exc:
                raise PhonemizerUnavailableError(f"cannot load espeak-ng: {exc}{_library_hint()}") from exc
            _version = ".".join(str(p) for p in parts)
        return _version


def to_hiragana(text: str) -> str:
    """Japanese text (kanji, katakana, kana) rewritten in hiragana by ``pykakasi``, as upstream does
    before espeak. Characters pykakasi does not convert (Latin, punctuation) pass through."""
    global _kakasi
    with _lock:
        if _kakasi is None:
            try:
                import pykakasi
            except ImportError as exc:
                raise PhonemizerUnavailableError(
                    "Japanese needs the 'pykakasi' package to convert text to kana (pip install pykakasi)"
                ) from exc
            _kakasi = pykakasi.kakasi()
        return "".join(item["hira"] for item in _kakasi.convert(text))


def phonemize(text: str, language: str = "en") -> str:
    """IPA phonemes for ``text`` in ``language`` ("en", "ja", "de", "fr", "zh", "ko"), exactly as upstream.

    Returns "" for empty or whitespace-only text.

    Raises:
        ValueError: unsupported language (the message lists the supported ones) or non-str text.
        PhonemizerUnavailableError: espeak-ng, phonemizer or (for Japanese) pykakasi cannot be loaded.
    """
    lang = resolve_language(language)
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    text = clean_text(text)
    if lang.code == "ja":
        text = to_hiragana(text)
    if not text.strip():
        return ""
    with _lock:
        chunks = _backend(lang.voice).phonemize([text], strip=True)
    if not chunks:
        return ""
    if len(chunks) > 1:
        # Upstream keeps only the first chunk and so drops text; every chunk is spoken here.
        log.warning("phonemizer split %r into %d chunks; joining them (upstream would keep only the "
                    "first): %r", text, len(chunks), chunks)
    phonemes = " ".join(chunk.strip() for chunk in chunks if chunk.strip())
    if lang.code == "zh":
        phonemes = phonemes.translate(_ZH_TONES)
    return phonemes
