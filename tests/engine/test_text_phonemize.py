"""Languages table, language mapping, espeak phonemizing (offline, thread-safe, lazy)."""

from __future__ import annotations

import contextlib
import importlib
import re
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from valle_studio.engine.text import LANGUAGES, language_id, phonemize, resolve_language
from valle_studio.engine.text.phonemize import PhonemizerUnavailableError, espeak_version, to_hiragana

# The package re-exports the function phonemize, which hides the submodule of the same name.
phonemize_module = importlib.import_module("valle_studio.engine.text.phonemize")

CJK_IDEOGRAPH = re.compile(r"[\u4e00-\u9fff]")
KATAKANA = re.compile(r"[\u30a1-\u30fa]")


def test_language_table_matches_the_model() -> None:
    # ids are the rows of the checkpoint's langs_emb (fixture README §2); voices per upstream's g2p.
    assert {c: (lang.id, lang.voice) for c, lang in LANGUAGES.items()} == {
        "en": (0, "en-us"),
        "ja": (1, "ja"),
        "de": (2, "de"),
        "fr": (3, "fr-fr"),
        "zh": (4, "cmn-latn-pinyin"),
        "ko": (5, "ko"),
    }
    assert all(lang.name and lang.code == code for code, lang in LANGUAGES.items())


@pytest.mark.parametrize(("code", "expected"), [
    ("en", "en"), (" EN ", "en"), ("zh", "zh"), ("zh-cn", "zh"), ("zh_TW", "zh"), ("ZH-Hans", "zh"),
    ("ja", "ja"), ("de", "de"), ("fr", "fr"), ("ko", "ko"),
])
def test_resolve_language(code: str, expected: str) -> None:
    assert resolve_language(code).code == expected
    assert language_id(code) == LANGUAGES[expected].id


@pytest.mark.parametrize("code", ["es", "", "english", "auto", "en-gb"])
def test_unknown_language_names_the_supported_ones(code: str) -> None:
    with pytest.raises(ValueError, match="unsupported language") as info:
        phonemize("hello", code)
    for supported in LANGUAGES:
        assert supported in str(info.value)


def test_non_string_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="language must be a string"):
        resolve_language(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text must be a str"):
        phonemize(b"hello", "en")  # type: ignore[arg-type]


def test_espeak_version_is_reported() -> None:
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", espeak_version())


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_gives_empty_phonemes(text: str) -> None:
    assert phonemize(text, "en") == ""


def test_upstream_settings_stress_and_punctuation() -> None:
    out = phonemize("Hello world, this is a test.", "en")
    assert "ˈ" in out  # with_stress=True
    assert out.endswith(".") and "," in out  # preserve_punctuation=True
    assert out == out.strip()  # strip=True


def test_mandarin_tone_digits_become_marks() -> None:
    """Our output is espeak's raw cmn-latn-pinyin output with 1-5 → ˇ ˉ ˊ ˋ _ (upstream's table)."""
    from phonemizer.backend import EspeakBackend

    phonemize("x", "en")  # make sure the bundled espeak-ng is configured
    raw = EspeakBackend("cmn-latn-pinyin", preserve_punctuation=True, with_stress=True).phonemize(
        ["你好，世界。我们是朋友。"], strip=True
    )[0]
    assert re.search(r"[1-5]", raw), f"espeak gave no tone digits: {raw!r}"
    expected = raw.translate({ord("1"): "ˇ", ord("2"): "ˉ", ord("3"): "ˊ", ord("4"): "ˋ", ord("5"): "_"})
    got = phonemize("你好，世界。我们是朋友。", "zh-cn")
    assert got == expected
    assert not re.search(r"[1-5]", got)


def test_japanese_goes_through_hiragana() -> None:
    assert to_hiragana("カタカナ") == "かたかな"
    kana = to_hiragana("日本語を話します")
    assert not CJK_IDEOGRAPH.search(kana) and not KATAKANA.search(kana)
    out = phonemize("日本語を話します", "ja")
    assert out and out == phonemize(kana, "ja")
    assert not CJK_IDEOGRAPH.search(out)


def test_missing_pykakasi_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phonemize_module, "_kakasi", None)
    monkeypatch.setitem(sys.modules, "pykakasi", None)
    with pytest.raises(PhonemizerUnavailableError, match="pykakasi"):
        phonemize("日本語", "ja")


def test_phonemizing_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access during phonemizing")

    # Start from a cold state so library setup and backend creation are covered too.
    monkeypatch.setattr(phonemize_module, "_backends", {})
    monkeypatch.setattr(phonemize_module, "_setup", None)
    monkeypatch.setattr(phonemize_module, "_kakasi", None)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    samples = {"en": "Hello there.", "ja": "こんにちは", "de": "Guten Tag.", "fr": "Bonjour.", "zh": "你好",
               "ko": "안녕하세요"}
    for code, text in samples.items():
        assert phonemize(text, code), code


def test_backends_are_cached_per_voice() -> None:
    phonemize("one", "en")
    phonemize("eins", "de")
    backend = phonemize_module._backends["en"]
    phonemize("two", "en")
    assert phonemize_module._backends["en"] is backend
    assert "de" in phonemize_module._backends


def test_concurrent_calls_agree_with_sequential_ones() -> None:
    jobs = [("The quick brown fox.", "en"), ("Guten Morgen.", "de"), ("Bonjour à tous.", "fr"),
            ("你好", "zh"), ("안녕하세요", "ko")] * 4
    sequential = [phonemize(t, lang) for t, lang in jobs]
    barrier = threading.Barrier(4)

    def run(job: tuple[str, str]) -> str:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=0.2)
        return phonemize(*job)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(run, jobs)) == sequential


@pytest.mark.parametrize(("text", "language"), [
    ("Pi is 3.14 ok.", "en"), ("Version 1.2.3 is out.", "en"), ("I paid 4.50 dollars. Then 2.5 more.", "en"),
    ("Das kostet 19,99 Euro. Danke.", "de"), ("Il mesure 1,75 m, pas plus.", "fr"),
])
def test_decimals_do_not_cut_the_sentence(text: str, language: str, caplog: pytest.LogCaptureFixture) -> None:
    """Upstream speaks only up to the decimal point (README §5); we speak what espeak says for the whole
    sentence without punctuation handling, with the punctuation put back."""
    from phonemizer.backend import EspeakBackend

    with caplog.at_level("WARNING", logger=phonemize_module.__name__):
        out = phonemize(text, language)
    voice = resolve_language(language).voice
    plain = EspeakBackend(voice, with_stress=True).phonemize([text], strip=True)[0]
    # Same words, same phonemes: only the punctuation marks differ.
    assert re.sub(r"[.,!?;:]", "", out).split() == re.sub(r"[.,!?;:]", "", plain).split()
    assert out.endswith(text[-1])
    assert not [r for r in caplog.records if "joining" in r.getMessage()]  # one chunk: nothing to join


def test_several_chunks_are_joined_not_dropped(monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    class TwoChunks:
        def phonemize(self, text: list[str], strip: bool) -> list[str]:
            return ["fɜːst.", "sˈɛkənd"]

    monkeypatch.setitem(phonemize_module._backends, "en", TwoChunks())
    with caplog.at_level("WARNING", logger=phonemize_module.__name__):
        assert phonemize("anything", "en") == "fɜːst. sˈɛkənd"
    assert any("joining them" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("text", "expected"), [
    ("ab\x00cd efg.", "ab cd efg."), ("one\x07two\x1bthree.", "one two three."), ("a\u200bb\u00adc", "abc"),
    ("bad \udcff byte", "bad  byte"), ("tab\tnew\nline", "tab new line"),
])
def test_control_characters_never_cut_the_text(text: str, expected: str) -> None:
    """A NUL would end espeak's C string (everything after it was silently dropped)."""
    assert phonemize(text, "en") == phonemize(expected, "en")


def _run_python(code: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_import_loads_nothing_heavy() -> None:
    code = (
        "import sys, valle_studio.engine.text as t\n"
        "lazy = ('phonemizer', 'tokenizers', 'pykakasi', 'espeakng_loader')\n"
        "heavy = [m for m in lazy if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert t.LANGUAGES['zh'].id == 4\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr


def test_espeak_library_override_is_respected() -> None:
    code = (
        "from valle_studio.engine.text import phonemize, PhonemizerUnavailableError\n"
        "try:\n    phonemize('hi', 'en')\nexcept PhonemizerUnavailableError as e:\n    print('ERR', e)\n"
    )
    result = _run_python(code, {"PHONEMIZER_ESPEAK_LIBRARY": "/nonexistent/libespeak-ng.so"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ERR") and "/nonexistent/libespeak-ng.so" in result.stdout
