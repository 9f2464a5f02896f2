"""Token ids for the model's text inputs, read from upstream's HF ``tokenizers`` JSON files.

* :class:`PhonemeTokenizer` — ``tokenizer.json``: IPA phonemes to ids 0-255 (``text_emb``).
* :class:`TextTokenizer` — ``text_tokenizer.json``: raw characters to ids 0-8574 (``raw_text_emb``),
  used by the "no phonemize" mode.

Both files are BPE models without normalizer or pre-tokenizer whose post-processor wraps every
sequence as ``<bos>``=1 … ``</eos>``=2; symbols outside the vocabulary become ``<unk>``=0. The
``tokenizers`` library reproduces upstream's ids bit for bit, so encoding is delegated to it.

Several symbols share one id (``a``/``ä``/``ɒ`` = 16, ``w``/``ʍ`` = 37, ...). Decoding therefore has
to pick one spelling per id: the one listed first in the file's vocabulary, so the result does not
depend on hash order. (The files' own ByteLevel decoder is not used: it garbles ``æ``, ``ð``, ``ç``.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from valle_studio.core.files import NotARegularFileError, require_regular_file

__all__ = ["BOS_ID", "EOS_ID", "MASK_ID", "UNK_ID", "PhonemeTokenizer", "TextTokenizer", "TokenizerFileError"]

UNK_ID = 0
BOS_ID = 1
EOS_ID = 2
MASK_ID = 3
_SPECIAL_IDS = frozenset({UNK_ID, BOS_ID, EOS_ID, MASK_ID})


class TokenizerFileError(ValueError):
    """A tokenizer file is missing, unreadable or not the expected kind."""


class _JsonTokenizer:
    """Shared loader/encoder/decoder for upstream's two tokenizer files."""

    kind = "tokenizer"
    #: Symbols every file of this kind holds (a file without them is another kind of tokenizer).
    required_symbols: tuple[str, ...] = ()
    what_lacks_them = ""
    other_kind_hint = ""

    def __init__(self, path: str | Path) -> None:
        from tokenizers import Tokenizer

        self.path = Path(path)
        try:
            require_regular_file(self.path, f"a {self.kind} file")  # a named pipe would block the read
        except FileNotFoundError:
            raise TokenizerFileError(f"{self.kind} file not found: {self.path}") from None
        except OSError as exc:
            raise TokenizerFileError(str(exc) if isinstance(exc, NotARegularFileError)
                                     else f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            text = self.path.read_text(encoding="utf-8")
            vocab = json.loads(text)["model"]["vocab"]
            self._tok = Tokenizer.from_str(text)
        except Exception as exc:  # OSError, bad UTF-8/JSON, missing keys, or tokenizers' bare Exception
            raise TokenizerFileError(f"{self.path} is not a valid {self.kind} file: {exc}") from exc
        if not isinstance(vocab, dict) or not vocab:
            raise TokenizerFileError(f"{self.path}: 'model.vocab' must be a non-empty object")
        # Check the wrapping the model was trained with, so a wrong file fails here, not in the model.
        empty = self._tok.encode("").ids
        if empty != [BOS_ID, EOS_ID]:
            raise TokenizerFileError(
                f"{self.path}: expected the post-processor to wrap text as <bos>=1 … </eos>=2, "
                f"but encoding '' gives {empty}"
            )
        missing = [symbol for symbol in self.required_symbols if symbol not in vocab]
        if missing:
            raise TokenizerFileError(
                f"{self.path} is not a {self.kind} file: it lacks {', '.join(map(repr, missing))}, "
                f"which {self.what_lacks_them}{self.other_kind_hint}"
            )
        # First spelling per id in file order (json keeps it), for a deterministic decode.
        self._id_to_text: dict[int, str] = {}
        for token, idx in vocab.items():
            self._id_to_text.setdefault(int(idx), token)
        self._vocab_size = max(self._id_to_text) + 1

    def check_fits(self, rows: int, table: str) -> None:
        """Refuse this file for a model whose embedding ``table`` has only ``rows`` rows: its ids would
        index past the table (a tokenizer of another kind or another model)."""
        if self._vocab_size > rows:
            raise TokenizerFileError(
                f"{self.path} has {self._vocab_size} {self.kind} ids but the model's {table} has {rows} rows: it is "
                f"not the {self.kind} of this model{self.other_kind_hint}"
            )

    @property
    def vocab_size(self) -> int:
        """Number of id classes (largest id + 1): 256 for phonemes, 8575 for raw text."""
        return self._vocab_size

    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` wrapped as ``[1, …, 2]``; unknown symbols become 0. Never raises for a str.

        Note: as upstream (plain ``Tokenizer.encode``), the literal strings ``<bos>``, ``</eos>``,
        ``<unk>`` and ``<mask>`` inside ``text`` are matched as their special tokens.
        """
        if not isinstance(text, str):
            raise ValueError(f"{self.kind}: text must be a str, got {type(text).__name__}")
        return list(self._tok.encode(text).ids)

    def unknown_spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` character spans of ``text`` that :meth:`encode` turns into ``<unk>`` = 0."""
        if not isinstance(text, str):
            raise ValueError(f"{self.kind}: text must be a str, got {type(text).__name__}")
        encoding = self._tok.encode(text)
        return [(start, end) for idx, (start, end) in zip(encoding.ids, encoding.offsets, strict=True)
                if idx == UNK_ID and end > start]

    def unknown_symbols(self, text: str) -> list[str]:
        """The distinct pieces of ``text`` that become ``<unk>``, in order (e.g. ``["ʏ"]`` for ``mˈʏlɐ``)."""
        return list(dict.fromkeys(text[start:end] for start, end in self.unknown_spans(text)))

    def tokens(self, text: str) -> list[str]:
        """The token strings of :meth:`encode` (diagnostics; shared ids may show another spelling)."""
        return list(self._tok.encode(text).tokens)

    def decode(self, ids: Iterable[int]) -> str:
        """Text for ``ids`` (e.g. an stt output), dropping the special ids 0-3 (unk, bos, eos, mask).

        Lossy where several symbols share an id: the spelling listed first in the file is used.

        Raises:
            ValueError: an id is outside ``0 .. vocab_size-1``.
        """
        out: list[str] = []
        for raw_id in ids:
            idx = int(raw_id)
            if idx in _SPECIAL_IDS:
                continue
            text = self._id_to_text.get(idx)
            if text is None:
                raise ValueError(
                    f"{self.kind}: id {idx} is not in {self.path.name} (0..{self._vocab_size - 1})"
                )
            out.append(text)
        return "".join(out)


class PhonemeTokenizer(_JsonTokenizer):
    """IPA phoneme tokenizer from upstream's ``tokenizer.json`` (ids 0-255, ``<bos>``=1, ``</eos>``=2).

    Example: ``encode("həlˈoʊ wˈɜːld.") == [1, 22, 111, 100, 4, 37, 115, 169, 11, 2]``.
    """

    kind = "phoneme tokenizer"
    # espeak-ng marks stress and writes schwas in every language the models speak.
    required_symbols = ("ˈ", "ə")
    what_lacks_them = "every IPA phoneme vocabulary has (the stress mark and the schwa)"
    other_kind_hint = " (the phoneme tokenizer is upstream's tokenizer.json, not text_tokenizer.json)"


class TextTokenizer(_JsonTokenizer):
    """Raw-text tokenizer from upstream's ``text_tokenizer.json`` (the "no phonemize" mode)."""

    kind = "text tokenizer"
