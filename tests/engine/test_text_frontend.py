"""TextFrontend: phoneme mode, no-phonemize mode, language ids and errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from valle_studio.engine.text import (
    LANGUAGES,
    PhonemeTokenizer,
    TextFrontend,
    TokenizedLine,
    TokenizerFileError,
    phonemize,
)


@pytest.fixture(scope="module")
def frontend(tiny_tokenizers: Path) -> TextFrontend:
    return TextFrontend.from_dir(tiny_tokenizers)


def test_tokens_for_phonemizes_then_tokenizes(frontend: TextFrontend) -> None:
    line = frontend.tokens_for("Hello world, this is a test.", "en")
    assert isinstance(line, TokenizedLine)
    assert line.phonemes == phonemize("Hello world, this is a test.", "en")
    assert line.ids == frontend.ids_for_phonemes(line.phonemes)
    assert line.ids[0] == 1 and line.ids[-1] == 2
    assert line.language_id == 0 and not line.raw_text


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_language_id_follows_the_requested_language(code: str, tiny_tokenizer: Path) -> None:
    seen: list[tuple[str, str]] = []

    def fake(text: str, language: str) -> str:
        seen.append((text, language))
        return "a"

    line = TextFrontend(tiny_tokenizer, phonemizer=fake).tokens_for("x", code.upper())
    assert seen == [("x", code)]  # the phonemizer gets the canonical code
    assert line.language_id == LANGUAGES[code].id
    a_id = json.loads(tiny_tokenizer.read_text(encoding="utf-8"))["model"]["vocab"]["a"]
    assert line.ids == [1, a_id, 2]


def test_zh_variants_map_to_mandarin(frontend: TextFrontend) -> None:
    line = frontend.tokens_for("你好", "zh-TW")
    assert line.language_id == 4
    assert line.phonemes == phonemize("你好", "zh")


def test_no_phonemize_uses_the_text_tokenizer(frontend: TextFrontend) -> None:
    assert frontend.supports_raw_text
    line = frontend.tokens_for("Hello world.", "de", no_phonemize=True)
    assert line.raw_text and line.phonemes == "Hello world." and line.language_id == 2
    assert frontend.text_tokenizer is not None
    assert line.ids == frontend.text_tokenizer.encode("Hello world.")
    assert line.ids != frontend.ids_for_phonemes("Hello world.")


def test_no_phonemize_without_text_tokenizer_is_a_clear_error(tiny_tokenizer: Path, tmp_path: Path) -> None:
    shutil.copy(tiny_tokenizer, tmp_path / "tokenizer.json")
    frontend = TextFrontend.from_dir(tmp_path)
    assert not frontend.supports_raw_text
    with pytest.raises(ValueError, match=r"no-phonemize mode needs text_tokenizer\.json"):
        frontend.tokens_for("Hi.", "en", no_phonemize=True)


def test_unknown_language_is_rejected_in_both_modes(frontend: TextFrontend) -> None:
    for no_phonemize in (False, True):
        with pytest.raises(ValueError, match="unsupported language 'xx'"):
            frontend.tokens_for("Hi.", "xx", no_phonemize=no_phonemize)


def test_missing_tokenizer_folder(tmp_path: Path) -> None:
    with pytest.raises(TokenizerFileError, match=r"tokenizer\.json"):
        TextFrontend.from_dir(tmp_path)


def test_accepts_loaded_tokenizers(tiny_tokenizer: Path) -> None:
    tok = PhonemeTokenizer(tiny_tokenizer)
    assert TextFrontend(tok).tokenizer is tok


def test_language_id_and_decode_helpers(frontend: TextFrontend) -> None:
    assert [frontend.language_id(c) for c in ("en", "ja", "de", "fr", "zh-cn", "ko")] == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="unsupported language"):
        frontend.language_id("es")
    ipa = "həlˈoʊ wˈɜːld."
    assert frontend.decode_phonemes(frontend.ids_for_phonemes(ipa)) == ipa
