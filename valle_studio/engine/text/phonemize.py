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

Which espeak-ng library and data are used is decided once by
:func:`~valle_studio.engine.text.espeak_setup.choose_espeak`: espeak-ng 1.51, the version the models
were trained on, wherever it can be had (``PHONEMIZER_ESPEAK_LIBRARY`` still overrides it). Each
language may read its own data folder, and output of a library other than 1.51 is normalised where
the differences are known (:mod:`~valle_studio.engine.text.espeak_compat`).
Everything is set up lazily on first use; importing this module loads nothing.

phonemizer and espeak-ng are not thread-safe: every call goes through one process-wide lock.

phonemizer loads a private copy of the espeak-ng library for each voice, made in a new temporary
folder; those copies are made in the app's cache folder (``user_cache_dir()/espeak``) rather than the
system's temporary folder, so the app writes nowhere else (and leftovers of a crash stay contained).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from valle_studio.engine.text.clean import clean_text
from valle_studio.engine.text.espeak_compat import normalise
from valle_studio.engine.text.espeak_setup import EspeakSetup, EspeakUnavailable, choose_espeak
from valle_studio.engine.text.languages import LANGUAGES, Language, language_id, resolve_language

if TYPE_CHECKING:
    import pykakasi
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

__all__ = [
    "LANGUAGES",
    "Language",
    "PhonemizerUnavailableError",
    "espeak_description",
    "espeak_setup",
    "espeak_version",
    "language_id",
    "phonemize",
    "resolve_language",
    "to_hiragana",
    "use_espeak",
]

log = logging.getLogger(__name__)
# phonemizer reports e.g. "words count mismatch" through this logger instead of the root logger.
_phonemizer_log = logging.getLogger(__name__ + ".phonemizer")
# Its notes (Mandarin "words count mismatch", language switches) go to the app's log, never to a bare stderr.
_phonemizer_log.addHandler(logging.NullHandler())

_ZH_TONES = str.maketrans("12345", "ˇˉˊˋ_")

_lock = threading.RLock()
_setup: EspeakSetup | None = None
_backends: dict[str, EspeakBackend] = {}  # language code -> its backend
_kakasi: pykakasi.kakasi | None = None


class PhonemizerUnavailableError(RuntimeError):
    """phonemizer, espeak-ng or (for Japanese) pykakasi cannot be loaded."""


def espeak_setup() -> EspeakSetup:
    """The espeak-ng library and data in use (chosen on first call, see :mod:`.espeak_setup`)."""
    global _setup
    with _lock:
        if _setup is None:
            try:
                _setup = choose_espeak()
            except EspeakUnavailable as exc:
                raise PhonemizerUnavailableError(str(exc)) from exc
            log.info("phonemizing with %s", _setup.describe())
        return _setup


def use_espeak(setup: EspeakSetup | None) -> None:
    """Phonemize with ``setup`` from now on (None: choose again on next use); drops cached voices.

    For measurements and tests that compare espeak-ng builds; the app never calls it.
    """
    global _setup
    with _lock:
        _setup = setup
        _backends.clear()


def _wrapper_class() -> type[EspeakWrapper]:
    try:
        from phonemizer.backend.espeak.wrapper import EspeakWrapper
    except ImportError as exc:
        raise PhonemizerUnavailableError(
            "the 'phonemizer' package is not installed; it is needed to turn text into phonemes "
            "(pip install phonemizer), or use the no-phonemize text mode"
        ) from exc
    return EspeakWrapper


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


def _backend(lang: Language) -> EspeakBackend:
    """Cached espeak backend for ``lang``'s voice, on the setup's library and that language's data.

    Caller holds ``_lock``. phonemizer reads the library and data path when a backend is made, and
    each backend loads its own copy of the library, so languages may use different data folders.
    """
    backend = _backends.get(lang.code)
    if backend is None:
        setup = espeak_setup()
        wrapper = _wrapper_class()
        from phonemizer.backend import EspeakBackend

        wrapper.set_library(setup.library)
        # phonemizer annotates the path as str, but None restores the library's own data (its docstring)
        wrapper.set_data_path(setup.data_for(lang.code))  # type: ignore[arg-type]
        try:
            with _library_copies_in_app_cache():
                backend = EspeakBackend(
                    lang.voice, preserve_punctuation=True, with_stress=True, logger=_phonemizer_log
                )
        except RuntimeError as exc:
            raise PhonemizerUnavailableError(
                f"cannot start espeak-ng with voice {lang.voice!r}: {exc} ({setup.describe()})"
            ) from exc
        _use_decimal_safe_punctuation(backend)
        _backends[lang.code] = backend
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
    """Version of the espeak-ng library in use, e.g. ``"1.51"`` (chooses the library if needed)."""
    return espeak_setup().version


def espeak_description() -> str:
    """The espeak-ng in use in one line, for ``--version`` and the About box."""
    return espeak_setup().describe()


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
        chunks = _backend(lang).phonemize([text], strip=True)
        setup = espeak_setup()
    if not chunks:
        return ""
    if len(chunks) > 1:
        # Upstream keeps only the first chunk and so drops text; every chunk is spoken here.
        log.warning("phonemizer split %r into %d chunks; joining them (upstream would keep only the "
                    "first): %r", text, len(chunks), chunks)
    phonemes = " ".join(chunk.strip() for chunk in chunks if chunk.strip())
    if lang.code in setup.normalise:
        phonemes = normalise(phonemes, lang.code)
    if lang.code == "zh":
        phonemes = phonemes.translate(_ZH_TONES)
    return phonemes
