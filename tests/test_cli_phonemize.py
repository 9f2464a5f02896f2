"""``valle-studio-cli phonemize``: the exact ``--json`` shape, ``<unk>`` marked and named, splitting,
the lexicon, and every bad input refused with one line; plus ``synth --lexicon``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from valle_studio import cli
from valle_studio.engine.text import PhonemeTokenizer, espeak_version, phonemize


@pytest.fixture(scope="module")
def tokenizer_path(parity_dir: Path) -> Path:
    return parity_dir / "tokenizer.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["phonemize", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_exactly_the_documented_object(capsys: pytest.CaptureFixture[str], tokenizer_path: Path) -> None:
    code, out, _ = run(capsys, "--tokenizer", str(tokenizer_path), "--json", "Hello world, this is a test. Bye.")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"espeak", "pieces"} and data["espeak"] == espeak_version()
    assert [set(p) for p in data["pieces"]] == [{"text", "ipa", "ids"}] * 2
    first = data["pieces"][0]
    assert first == {"text": "Hello world, this is a test.", "ipa": "həlˈoʊ wˈɜːld, ðɪs ɪz ɐ tˈɛst.",
                     "ids": [1, 22, 111, 100, 4, 37, 115, 169, 9, 4, 223, 4, 114, 4, 48, 4, 34, 83, 98, 11, 2]}
    tokenizer = PhonemeTokenizer(tokenizer_path)
    assert all(p["ids"] == tokenizer.encode(p["ipa"]) for p in data["pieces"])  # exactly the model's ids
    assert out.count("\n") == 1  # one object, one line


def test_plain_output_marks_unknown_symbols_and_names_the_word(capsys: pytest.CaptureFixture[str],
                                                               tokenizer_path: Path) -> None:
    code, out, err = run(capsys, "--tokenizer", str(tokenizer_path), "--lang", "zh", "你好，世界。")
    assert code == 0
    ipa = phonemize("你好，世界。", "zh")
    assert out == f"1. [{len(PhonemeTokenizer(tokenizer_path).encode(ipa))} tokens] {ipa.replace('χ', '<unk:χ>')}\n"
    assert "warning:" in err and "'好' (χ)" in err and "<unk>" in err


def test_split_modes_and_stdin(capsys: pytest.CaptureFixture[str], tokenizer_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("One line\nanother line\n\nthird."))
    code, out, _ = run(capsys, "--tokenizer", str(tokenizer_path), "--split", "lines", "--json", "-")
    assert code == 0
    assert [p["text"] for p in json.loads(out)["pieces"]] == ["One line", "another line", "third."]
    code, out, _ = run(capsys, "--tokenizer", str(tokenizer_path), "--split", "none", "--json", "A. B.\n\nC.")
    assert [p["text"] for p in json.loads(out)["pieces"]] == ["A. B.  C."]


def test_lexicon_file_applies_and_bad_entries_are_named(capsys: pytest.CaptureFixture[str], tokenizer_path: Path,
                                                        tmp_path: Path) -> None:
    good = tmp_path / "names.tsv"
    good.write_text("Müller\t/mˈylɐ/\nZork\t/zˈɔʏk/\n", encoding="utf-8")
    code, out, err = run(capsys, "--tokenizer", str(tokenizer_path), "--lexicon", str(good), "Ask Müller and Zork.")
    assert code == 0
    assert "mˈylɐ" in out and "zˈɔ<unk:ʏ>k" in out
    assert "lexicon: 'Müller' → /mˈylɐ/" in err
    assert "warning: lexicon: line 2 of names.tsv: 'Zork' → /zˈɔʏk/: 'ʏ' is not in the tokenizer" in err
    bad = tmp_path / "bad.tsv"
    bad.write_text("Müller\n", encoding="utf-8")
    code, out, err = run(capsys, "--tokenizer", str(tokenizer_path), "--lexicon", str(bad), "Hi.")
    assert code == cli.EXIT_ERROR and not out
    assert err.strip() == (f"valle-studio-cli: error: --lexicon {bad}: line 1 of bad.tsv: expected "
                           "word<TAB>pronunciation[<TAB>language], got 1 column(s): 'Müller'")


@pytest.mark.parametrize(("argv", "message"), [
    (["--lang", "xx", "Hi."], "--lang xx: unsupported language 'xx'"),
    (["--tokenizer", "nowhere.json", "Hi."], "--tokenizer nowhere.json: file not found"),
    (["Hi."], "no tokenizer is installed yet"),  # the test home has none
    (["--lexicon", "missing.tsv", "Hi."], "lexicon file not found: missing.tsv"),
])
def test_bad_input_is_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == cli.EXIT_ERROR and not out
    assert message in err and err.count("\n") == 1


def test_nothing_to_say(capsys: pytest.CaptureFixture[str], tokenizer_path: Path) -> None:
    code, _, err = run(capsys, "--tokenizer", str(tokenizer_path), "...")
    assert code == cli.EXIT_ERROR and "nothing to say" in err
    with pytest.raises(SystemExit):
        cli.main(["phonemize", "--split", "words", "Hi."])
    assert "--split" in capsys.readouterr().err


def test_synth_lexicon_reaches_the_model_and_unknown_words_are_warned(capsys: pytest.CaptureFixture[str],
                                                                     tmp_path: Path, tokenizer_path: Path) -> None:
    from valle_studio.engine.debug import write_tiny_checkpoint

    model = write_tiny_checkpoint(tmp_path / "tiny.sft")
    lexicon = tmp_path / "l.json"
    lexicon.write_text(json.dumps({"entries": [{"word": "Zork", "ipa": "zˈɔʏk"}]}), encoding="utf-8")
    out = tmp_path / "o.npy"
    base = ["synth", "--model", str(model), "--tokenizer", str(tokenizer_path), "--text", "Hello Zork.",
            "--out-codes", str(out), "--max-duration", "0.2", "--steps", "2", "--device", "cpu", "--quiet"]
    assert cli.main([*base, "--lexicon", str(lexicon)]) == 0
    assert "warning: the model's tokenizer has no symbol for part of 'Zork' (ʏ)" in capsys.readouterr().err
    out.unlink()
    assert cli.main([*base, "--lexicon", str(tmp_path / "none.tsv")]) == cli.EXIT_ERROR
    assert "lexicon file not found" in capsys.readouterr().err and not out.exists()  # refused before loading
