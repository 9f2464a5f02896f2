"""Text front end: languages, espeak phonemes, tokenizers and offline sentence splitting.

* ``espeak_setup``/``espeak_compat``: which espeak-ng library and data are used (1.51, the version the
  models were trained on, wherever it can be had) and how other versions are normalised toward it;
* ``phonemize``: text to IPA with upstream's settings; ``lexicon``/``lexicon_format``: the user's
  pronunciations, applied before espeak, and their TSV/JSON files;
* ``analysis``: exactly what the model receives (pieces, IPA, ids) and the symbols it would get as
  ``<unk>``, named with their word; ``split``, ``clean``, ``tokenizer``, ``frontend``, ``languages``.

Importing this package is cheap: espeak-ng, phonemizer, pykakasi and tokenizers load on first use.
"""

from __future__ import annotations

from valle_studio.engine.text.frontend import TextFrontend, TokenizedLine
from valle_studio.engine.text.languages import LANGUAGES, Language, language_id, resolve_language
from valle_studio.engine.text.phonemize import (
    PhonemizerUnavailableError,
    espeak_description,
    espeak_version,
    phonemize,
)
from valle_studio.engine.text.split import SPLIT_MODES, SplitMode, split_text
from valle_studio.engine.text.tokenizer import (
    BOS_ID,
    EOS_ID,
    MASK_ID,
    UNK_ID,
    PhonemeTokenizer,
    TextTokenizer,
    TokenizerFileError,
)

__all__ = [
    "BOS_ID",
    "EOS_ID",
    "LANGUAGES",
    "MASK_ID",
    "SPLIT_MODES",
    "UNK_ID",
    "Language",
    "PhonemeTokenizer",
    "PhonemizerUnavailableError",
    "SplitMode",
    "TextFrontend",
    "TextTokenizer",
    "TokenizedLine",
    "TokenizerFileError",
    "espeak_description",
    "espeak_version",
    "language_id",
    "phonemize",
    "resolve_language",
    "split_text",
]
