"""Checks that the text inputs make sense for the model before anything is generated.

* :func:`check_tokenizers_fit`: the tokenizer files belong to the loaded model; a file whose ids go
  past the model's embedding table (upstream's ``text_tokenizer.json`` given as the phoneme tokenizer,
  8575 ids for a 256-row table) is refused when the model is loaded.
* :func:`require_known_symbols`: a piece of input in which the tokenizer knows no sounding symbol
  (letters it lacks, or ``<unk>``/``<mask>`` typed literally) is refused: the model would be asked to
  speak nothing but "unknown".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from valle_studio.engine.model.config import ModelConfig
    from valle_studio.engine.text.frontend import TextFrontend

#: Tokens that carry no sound: the tokenizers' special tokens (ids 0-3).
SPECIAL_TOKENS = frozenset({"<unk>", "<bos>", "</eos>", "<mask>"})


class UnknownSymbolsError(ValueError):
    """The input holds no symbol the tokenizer knows; the message quotes it and says what to write."""


def require_known_symbols(tokens: Sequence[str], shown: str, what: str) -> None:
    """Raise :class:`UnknownSymbolsError` unless one of ``tokens`` (the tokenizer's reading of ``shown``)
    is a known symbol that sounds: not a special token, and holding a letter or digit (spaces and
    punctuation alone say nothing). ``what`` names the input in the message ("the phoneme string")."""
    if not any(token not in SPECIAL_TOKENS and any(ch.isalnum() for ch in token) for token in tokens):
        raise UnknownSymbolsError(f"there is nothing to say: {what} {shown[:40]!r} holds no symbol the tokenizer "
                                  "knows (only unknown or special tokens); write IPA phonemes such as həlˈoʊ")


def check_tokenizers_fit(frontend: TextFrontend, config: ModelConfig) -> None:
    """The tokenizers must belong to the model: their ids must fit its embedding tables.

    Raises :class:`~valle_studio.engine.text.tokenizer.TokenizerFileError` naming the file."""
    frontend.tokenizer.check_fits(config.text_tokens, "phoneme table (text_emb)")
    if frontend.text_tokenizer is not None and config.raw_text_tokens:
        frontend.text_tokenizer.check_fits(config.raw_text_tokens, "raw-text table (raw_text_emb)")


__all__ = ["SPECIAL_TOKENS", "UnknownSymbolsError", "check_tokenizers_fit", "require_known_symbols"]
