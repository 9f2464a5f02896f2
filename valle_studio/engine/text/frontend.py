"""Text front end: one line of text and a language in, the model's text ids and lang id out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from valle_studio.engine.text.clean import clean_text
from valle_studio.engine.text.languages import resolve_language
from valle_studio.engine.text.lexicon import Lexicon, LexiconHit, phonemize_with_lexicon
from valle_studio.engine.text.phonemize import phonemize
from valle_studio.engine.text.tokenizer import PhonemeTokenizer, TextTokenizer

__all__ = ["PHONEME_TOKENIZER_FILE", "TEXT_TOKENIZER_FILE", "TextFrontend", "TokenizedLine"]

PHONEME_TOKENIZER_FILE = "tokenizer.json"
TEXT_TOKENIZER_FILE = "text_tokenizer.json"

Phonemizer = Callable[[str, str], str]


@dataclass(frozen=True)
class TokenizedLine:
    """The text inputs of one generation.

    ``ids``: ``[N]`` token ids ``[1, …, 2]`` — phoneme ids for ``text_emb`` (0-255), or raw-text ids
    for ``raw_text_emb`` (0-8574) when made with ``no_phonemize=True``.
    """

    phonemes: str  # IPA given to the tokenizer; the raw text itself in no-phonemize mode
    ids: list[int]
    language_id: int  # langs_emb row: en 0, ja 1, de 2, fr 3, zh 4, ko 5
    raw_text: bool = False  # True when ids are raw-text ids (no-phonemize mode)
    lexicon_hits: tuple[LexiconHit, ...] = ()  # where lexicon entries replaced espeak (phoneme mode)


class TextFrontend:
    """Phonemizer + tokenizers, as upstream's TTS front end uses them.

    Args:
        tokenizer: a :class:`PhonemeTokenizer` or the path of upstream's ``tokenizer.json``.
        text_tokenizer: a :class:`TextTokenizer` or the path of ``text_tokenizer.json``; only needed
            for the no-phonemize mode.
        phonemizer: ``(text, language) -> IPA``; espeak via :func:`phonemize` unless replaced.
    """

    def __init__(
        self,
        tokenizer: PhonemeTokenizer | str | Path,
        text_tokenizer: TextTokenizer | str | Path | None = None,
        *,
        phonemizer: Phonemizer = phonemize,
    ) -> None:
        self.tokenizer = tokenizer if isinstance(tokenizer, PhonemeTokenizer) else PhonemeTokenizer(tokenizer)
        if text_tokenizer is not None and not isinstance(text_tokenizer, TextTokenizer):
            text_tokenizer = TextTokenizer(text_tokenizer)
        self.text_tokenizer: TextTokenizer | None = text_tokenizer
        self._phonemize = phonemizer

    @classmethod
    def from_dir(cls, folder: str | Path, *, phonemizer: Phonemizer = phonemize) -> TextFrontend:
        """Load ``tokenizer.json`` (required) and ``text_tokenizer.json`` (if present) from ``folder``."""
        folder = Path(folder)
        text_path = folder / TEXT_TOKENIZER_FILE
        return cls(
            folder / PHONEME_TOKENIZER_FILE,
            text_path if text_path.is_file() else None,
            phonemizer=phonemizer,
        )

    @property
    def supports_raw_text(self) -> bool:
        """Whether the no-phonemize mode is available (a text tokenizer was given)."""
        return self.text_tokenizer is not None

    @staticmethod
    def language_id(language: str) -> int:
        """Model language id for ``language`` (raises ``ValueError`` naming the supported ones)."""
        return resolve_language(language).id

    def decode_phonemes(self, ids: Iterable[int]) -> str:
        """IPA text for phoneme ids (e.g. an stt output); special ids 0-3 are dropped."""
        return self.tokenizer.decode(ids)

    def ids_for_phonemes(self, ipa: str) -> list[int]:
        """Phoneme ids ``[N]`` of an IPA string, wrapped as ``[1, …, 2]``."""
        return self.tokenizer.encode(ipa)

    def phonemes_for(self, text: str, language: str, lexicon: Lexicon | None = None
                     ) -> tuple[str, tuple[LexiconHit, ...]]:
        """IPA for ``text`` with ``lexicon``'s entries said as they say (before espeak runs), and the hits."""
        code = resolve_language(language).code
        return phonemize_with_lexicon(text, code, lexicon, self._phonemize)

    def tokens_for(self, text: str, language: str, *, no_phonemize: bool = False,
                   lexicon: Lexicon | None = None) -> TokenizedLine:
        """Text ids and language id for one line of ``text``; ``lexicon`` applies in phoneme mode only.

        Raises:
            ValueError: unsupported ``language``, or ``no_phonemize`` without a text tokenizer.
            PhonemizerUnavailableError: espeak-ng cannot be loaded (phoneme mode only).
        """
        lang = resolve_language(language)
        if no_phonemize:
            if self.text_tokenizer is None:
                raise ValueError(
                    f"no-phonemize mode needs {TEXT_TOKENIZER_FILE}, but no text tokenizer was loaded"
                )
            text = clean_text(text)  # a lone surrogate would break the tokenizer's UTF-8 encoding
            return TokenizedLine(text, self.text_tokenizer.encode(text), lang.id, raw_text=True)
        ipa, hits = phonemize_with_lexicon(text, lang.code, lexicon, self._phonemize)
        return TokenizedLine(ipa, self.tokenizer.encode(ipa), lang.id, lexicon_hits=hits)
