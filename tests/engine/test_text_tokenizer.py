"""PhonemeTokenizer / TextTokenizer: loading errors, decoding, vocabulary size, properties.

The tiny tokenizers of ``engine.debug`` serve every test here; the two that state facts about
upstream's own files (their vocabulary sizes, their shared ids) also run on those files where
``../shared`` is laid out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valle_studio.engine.text import (
    BOS_ID,
    EOS_ID,
    PhonemeTokenizer,
    TextTokenizer,
    TokenizerFileError,
)

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def phonemes(tiny_tokenizers: Path) -> PhonemeTokenizer:
    return PhonemeTokenizer(tiny_tokenizers / "tokenizer.json")


@pytest.fixture(scope="module")
def raw_text(tiny_tokenizers: Path) -> TextTokenizer:
    return TextTokenizer(tiny_tokenizers / "text_tokenizer.json")


def test_upstream_vocab_sizes(parity_dir: Path) -> None:
    # 256 phoneme classes (text_emb rows) and 8575 raw-text classes (raw_text_emb rows), README §1.
    assert PhonemeTokenizer(parity_dir / "tokenizer.json").vocab_size == 256
    assert TextTokenizer(parity_dir / "text_tokenizer.json").vocab_size == 8575


def test_tiny_vocab_sizes_fit_the_tiny_model(phonemes: PhonemeTokenizer, raw_text: TextTokenizer) -> None:
    # Every id the tiny checkpoint's phoneme head (256 outputs) can emit must decode.
    assert phonemes.vocab_size == 256
    assert raw_text.vocab_size <= 8575


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TokenizerFileError, match=r"phoneme tokenizer file not found: .*nope\.json"):
        PhonemeTokenizer(tmp_path / "nope.json")
    with pytest.raises(TokenizerFileError, match="text tokenizer file not found"):
        TextTokenizer(tmp_path / "nope.json")


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe\x00garbage", b"[]", b'{"model": {}}'])
def test_corrupt_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_bytes(content)
    with pytest.raises(TokenizerFileError, match=r"tokenizer\.json is not a valid phoneme tokenizer file"):
        PhonemeTokenizer(path)


def test_file_without_bos_eos_wrapping_is_rejected(tiny_tokenizer: Path, tmp_path: Path) -> None:
    data = json.loads(tiny_tokenizer.read_text(encoding="utf-8"))
    data["post_processor"] = None
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match=r"<bos>=1 … </eos>=2"):
        PhonemeTokenizer(path)


def test_encode_rejects_non_strings(phonemes: PhonemeTokenizer) -> None:
    with pytest.raises(ValueError, match="must be a str"):
        phonemes.encode(["a"])  # type: ignore[arg-type]


def test_decode_round_trips_phonemes(phonemes: PhonemeTokenizer) -> None:
    ipa = "həlˈoʊ wˈɜːld, ðɪs ɪz ɐ tˈɛst."
    assert phonemes.decode(phonemes.encode(ipa)) == ipa  # every symbol here is its id's first spelling


@pytest.mark.parametrize("source", ["tiny", "upstream"])
def test_decode_is_deterministic_for_shared_ids(source: str, request: pytest.FixtureRequest) -> None:
    """Shared ids decode to the spelling listed first in the file, not to a hash-order pick."""
    folder = request.getfixturevalue("tiny_tokenizers" if source == "tiny" else "parity_dir")
    path = folder / "tokenizer.json"
    vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    spellings: dict[int, list[str]] = {}
    for token, idx in vocab.items():
        spellings.setdefault(idx, []).append(token)
    shared = {idx: names for idx, names in spellings.items() if len(names) > 1}
    assert len(shared) >= 3  # upstream: a/ä/ɒ = 16, u/ø/… = 35, w/ʍ = 37; the tiny file has three too
    tokenizer = PhonemeTokenizer(path)
    for idx, names in shared.items():
        assert tokenizer.decode([idx]) == names[0]


def test_decode_drops_special_ids_and_rejects_unknown_ids(phonemes: PhonemeTokenizer) -> None:
    assert phonemes.decode([1, 0, 3, 2]) == ""
    with pytest.raises(ValueError, match="id 256"):
        phonemes.decode([1, 256, 2])


def test_text_tokenizer_round_trip(raw_text: TextTokenizer) -> None:
    text = "Hello world, this is a test."
    assert raw_text.decode(raw_text.encode(text)) == text


@PROPERTY_SETTINGS
@given(text=st.text())
def test_phoneme_encode_never_raises(phonemes: PhonemeTokenizer, text: str) -> None:
    ids = phonemes.encode(text)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID
    assert all(0 <= i < phonemes.vocab_size for i in ids)


@PROPERTY_SETTINGS
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_text_encode_never_raises(raw_text: TextTokenizer, text: str) -> None:
    ids = raw_text.encode(text)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID
    assert all(0 <= i < raw_text.vocab_size for i in ids)


@PROPERTY_SETTINGS
@given(ids=st.lists(st.integers(min_value=0, max_value=255), max_size=64))
def test_decode_accepts_every_phoneme_id(phonemes: PhonemeTokenizer, ids: list[int]) -> None:
    decoded = phonemes.decode(ids)
    assert decoded == "".join(phonemes.decode([i]) for i in ids)
    assert len(decoded) >= sum(1 for i in ids if i > 3)  # every non-special id gives text


def test_tiny_tokenizers_are_reproducible_and_cover_phonemized_text(tmp_path: Path,
                                                                     phonemes: PhonemeTokenizer) -> None:
    """``engine.debug`` writes the same files every time, and espeak's IPA for the six languages
    meets few unknown symbols, so tests through the tiny tokenizer feed the model real ids."""
    from valle_studio.engine.debug import write_tiny_tokenizers
    from valle_studio.engine.text import phonemize

    first, second = write_tiny_tokenizers(tmp_path / "a"), write_tiny_tokenizers(tmp_path / "b")
    for name in ("tokenizer.json", "text_tokenizer.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert not write_tiny_tokenizers(tmp_path / "c", text_tokenizer=False).joinpath("text_tokenizer.json").exists()
    samples = {"en": "Hello world, this is a test.", "de": "Guten Tag, wie geht es dir?", "fr": "Bonjour, ça va?",
               "zh": "你好，世界。", "ja": "こんにちは", "ko": "안녕하세요"}
    for language, text in samples.items():
        ids = phonemes.encode(phonemize(text, language))
        assert ids.count(0) == 0, (language, phonemes.tokens(phonemize(text, language)))
