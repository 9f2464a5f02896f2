"""The CLI of issue 18: ``clean``, ``convert``, ``voices``, ``synth --voice A:0.6 --voice B:0.4``,
``--lora`` and the new sampler flags, and batch's per-line ``lora`` column, on tiny models; each with its
bad-input case (one line, non-zero exit, nothing written)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import cli_home
from tests.batch.helpers import FAST_FLAGS
from tests.cli_home import build_cli_home, last_error
from valle_studio import cli
from valle_studio.batch.project import BatchProject
from valle_studio.engine.debug import write_tiny_checkpoint


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_cli_home(tmp_path_factory.mktemp("home"))
    return root


use_home = cli_home.use_home  # the fixture, for this module's tests


def test_clean_writes_codes_of_the_clips_length(use_home: Path, tiny_tokenizer: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.npy"
    argv = ["clean", "--model", str(use_home / "tiny.sft"), "--tokenizer", str(tiny_tokenizer), "--clip",
            str(use_home / "clip.npy"), "--out-codes", str(out), "--quiet", *FAST_FLAGS]
    assert cli.main(argv) == 0
    assert np.load(out).shape == (40, 8)
    wav = tmp_path / "clean.wav"
    assert cli.main([*argv[:-len(FAST_FLAGS) - 3], "--out", str(wav), "--task", "sr", "--text", "hello",
                     *FAST_FLAGS]) == 0
    assert wav.stat().st_size > 1000


def test_clean_refuses_bad_input(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    base = ["clean", "--model", str(use_home / "tiny.sft"), "--tokenizer", str(tiny_tokenizer), "--quiet"]
    out = ["--out-codes", str(tmp_path / "o.npy")]
    runs = {
        "prompt file not found": [*base, "--clip", str(tmp_path / "missing.wav"), *out],
        "nothing to write": [*base, "--clip", str(use_home / "clip.npy")],
        "use a .npy file name": [*base, "--clip", str(use_home / "clip.npy"), "--out-codes", str(tmp_path / "o.txt")],
        "unsupported language": [*base, "--clip", str(use_home / "clip.npy"), "--lang", "xx", *out],
    }
    for needle, argv in runs.items():
        assert cli.main(argv) == cli.EXIT_ERROR, needle
        message = last_error(capsys)
        assert message.startswith("valle-studio-cli: error:") and needle in message.lower(), message
    assert not (tmp_path / "o.npy").exists()
    with pytest.raises(SystemExit):
        cli.main([*base, "--clip", str(use_home / "clip.npy"), "--task", "xx", *out])
    capsys.readouterr()


def test_convert_with_a_saved_voice_and_with_files(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "vc.npy"
    base = ["convert", "--model", str(use_home / "tiny.sft"), "--tokenizer", str(tiny_tokenizer), "--source",
            str(use_home / "clip.npy"), "--out-codes", str(out), "--quiet", *FAST_FLAGS]
    assert cli.main([*base, "--voice", "Alice", "--text", "hello"]) == 0
    assert np.load(out).shape == (40, 8)
    assert cli.main([*base, "--prompt", str(use_home / "clip.npy")]) == 0
    assert cli.main(base) == cli.EXIT_ERROR
    assert "give the target voice with --prompt FILE or --voice NAME" in last_error(capsys)
    assert cli.main([*base, "--voice", "Nobody"]) == cli.EXIT_ERROR
    assert "There is no voice called 'Nobody'" in last_error(capsys)
    arnar = write_tiny_checkpoint(tmp_path / "arnar.sft", capabilities=("ar", "nar"), noncausal_masks=False)
    assert cli.main([*base[:2], str(arnar), *base[3:], "--voice", "Alice"]) == cli.EXIT_ERROR
    assert "voice conversion needs NAR-len" in last_error(capsys)


def test_voices_blend_and_synth_with_blends(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["voices", "blend", "Mix", "Alice:0.6", "Bob:0.4"]) == 0
    assert cli.main(["voices", "list"]) == 0
    assert "blend of Alice 0.6, Bob 0.4 (experimental)" in capsys.readouterr().out
    synth = ["synth", "--model", str(use_home / "tiny.sft"), "--tokenizer", str(tiny_tokenizer), "--text",
             "Hello.", "--out-codes", str(tmp_path / "a.npy"), "--quiet", "--seed", "1", *FAST_FLAGS]
    assert cli.main([*synth, "--voice", "Mix"]) == 0  # the saved blend
    saved = np.load(tmp_path / "a.npy")
    assert cli.main([*synth, "--voice", "Alice:0.6", "--voice", "Bob:0.4"]) == 0  # the same blend, unsaved
    assert np.array_equal(np.load(tmp_path / "a.npy"), saved)
    bad = {
        "is named twice": ["--voice", "Alice", "--voice", "Alice:2"],
        "the weight must be a number above 0": ["--voice", "Alice:0", "--voice", "Bob"],
        "Mix is a blend itself": ["--voice", "Mix", "--voice", "Bob"],
        "not both": ["--voice", "Alice", "--prompt", str(use_home / "clip.npy")],
    }
    for needle, flags in bad.items():
        assert cli.main([*synth, *flags]) == cli.EXIT_ERROR, needle
        assert needle in last_error(capsys), needle
    assert cli.main(["voices", "blend", "Solo", "Alice"]) == cli.EXIT_ERROR
    assert "A blend needs 2 to 8 voices" in last_error(capsys)


def test_synth_with_a_lora_and_the_new_samplers(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.npy"
    synth = ["synth", "--model", str(use_home / "tiny.sft"), "--tokenizer", str(tiny_tokenizer), "--text",
             "Hello.", "--prompt", str(use_home / "clip.npy"), "--out-codes", str(out), "--quiet", "--seed", "2",
             *FAST_FLAGS]
    assert cli.main(synth) == 0
    plain = np.load(out)
    assert cli.main([*synth, "--lora", f"{use_home / 'glados.sft'}:1.2"]) == 0
    assert not np.array_equal(np.load(out), plain)
    ar = ["--modality", "ar+nar"]
    for flags in (["--beam-width", "2"], ["--mirostat-tau", "3"], ["--dry-multiplier", "0.8",
                                                                     "--dry-sequence-breakers", "1,2"],
                  ["--ras-window", "10", "--ras-threshold", "0.2"]):
        assert cli.main([*synth, *ar, *flags]) == 0, flags
    assert cli.main([*synth, "--lora", "nope"]) == cli.EXIT_ERROR
    assert "the LoRA 'nope' is not installed" in last_error(capsys)
    assert cli.main([*synth, "--dry-sequence-breakers", "1,x"]) == cli.EXIT_ERROR
    assert "--dry-sequence-breakers '1,x' is not usable" in last_error(capsys)


def test_models_import_recognises_a_lora(use_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "import", str(use_home / "glados.sft"), "--name", "glados"]) == 0
    assert "imported the LoRA as glados" in capsys.readouterr().err
    assert cli.main(["models", "list"]) == 0
    listed = capsys.readouterr().out
    assert "glados" in listed and "lora-shodan" in listed and "LoRAs (apply with --lora" in listed
    assert cli.main(["models", "remove", "glados"]) == 0
    assert cli.main(["models", "remove", "glados"]) == cli.EXIT_ERROR
    assert "is neither in the catalog nor installed" in last_error(capsys)


def test_batch_lines_can_name_their_own_lora(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "lines.csv"
    lora = use_home / "glados.sft"
    script.write_text(f"text,voice,lora\nHello there.,Alice,{lora}:0.5\nAnd you.,Bob,\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["batch", str(script), "--out-dir", str(out), "--model", str(use_home / "tiny.sft"), "--tokenizer",
            str(tiny_tokenizer), *FAST_FLAGS, "--quiet"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    with BatchProject.open(out / ".valle-batch", lock=False) as project:
        first, second = project.rows
        assert first.settings == {"lora": str(lora), "lora_strength": 0.5} and second.settings == {}
        assert project.settings_for(first).lora == str(lora) and first.approved_take is not None
        assert first.approved_take.settings.lora_strength == 0.5
    bad = tmp_path / "bad.csv"
    bad.write_text("text,lora\nHello.,glados:7\n", encoding="utf-8")
    assert cli.main(["batch", str(bad), "--out-dir", str(tmp_path / "o2"), "--voice", "Alice"]) == cli.EXIT_ERROR
    assert "line 2, column 'lora': must be between 0 and 1.5" in last_error(capsys)
    assert not (tmp_path / "o2").exists()
