"""Nonsense refused through ``synth``: symbols no tokenizer knows, the wrong kind of tokenizer file, flags
that the run's generation path would ignore, files that are not regular files (never blocking), and code
files whose header lies. And the opposite: an extreme but valid setting runs instead of crashing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.reliability.helpers import FAST_FLAGS, assert_cli_error, files_under, run_cli
from valle_studio.engine.debug import tiny_phoneme_tokenizer_json, write_tiny_checkpoint, write_tiny_tokenizers


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def synth(model: Path, tokenizer: Path, out: Path, *extra: str) -> list[str]:
    return ["synth", "--model", str(model), "--tokenizer", str(tokenizer), *FAST_FLAGS, "--out-codes",
            str(out / "codes.npy"), *extra]


@pytest.mark.parametrize("phonemes", ["<mask><unk><mask>", "ქართული ენა", "ⵜⴰⵎⴰⵣⵉⵖⵜ"],
                         ids=["special-tokens-typed", "georgian-letters", "tifinagh"])
def test_phonemes_the_tokenizer_does_not_know_are_refused(phonemes: str, out: Path, tiny_model: Path,
                                                          tokenizer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, synth(tiny_model, tokenizer, out, "--phonemes", phonemes))
    assert_cli_error(outcome, "nothing to say", "no symbol the tokenizer knows")
    assert files_under(out) == set()


def test_one_known_phoneme_is_enough(out: Path, tiny_model: Path, tokenizer: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, synth(tiny_model, tokenizer, out, "--phonemes", "ქა hə"))
    assert outcome.code == 0, outcome.stderr


def _oversized_phoneme_tokenizer(folder: Path) -> Path:
    """A phoneme vocabulary grown to 600 ids: its ids would index past the model's 256-row phoneme table."""
    content = tiny_phoneme_tokenizer_json()
    vocab = content["model"]["vocab"]
    for extra in range(600 - len(set(vocab.values()))):
        vocab[f"x{extra}"] = max(vocab.values()) + 1
    path = folder / "tokenizer.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


TOKENIZERS = [
    ("the-text-tokenizer", lambda f: write_tiny_tokenizers(f) / "text_tokenizer.json",
     ("--tokenizer", "not a phoneme tokenizer", "text_tokenizer.json")),
    ("a-vocabulary-too-big-for-the-model", _oversized_phoneme_tokenizer,
     ("--tokenizer", "600 phoneme tokenizer ids", "256 rows")),
]


@pytest.mark.parametrize(("case", "make", "says"), TOKENIZERS, ids=[t[0] for t in TOKENIZERS])
def test_the_wrong_kind_of_tokenizer_is_refused(case: str, make: Any, says: tuple[str, ...], tmp_path: Path,
                                                out: Path, tiny_model: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    wrong = make(tmp_path)
    outcome = run_cli(capsys, synth(tiny_model, wrong, out, "--text", "Hello there."))
    assert_cli_error(outcome, *says)
    assert files_under(out) == set()


@pytest.fixture(scope="module")
def ar_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model without the NAR-len head and embedding: AR+NAR only."""
    return write_tiny_checkpoint(tmp_path_factory.mktemp("ar") / "ar-only.sft", capabilities=("ar", "nar"), seed=4)


def test_a_fixed_length_on_a_path_without_one_is_refused(out: Path, tiny_model: Path, ar_model: Path,
                                                         tokenizer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, synth(ar_model, tokenizer, out, "--text", "Hi.", "--duration", "60"))
    assert_cli_error(outcome, "--duration", "ar-only has no NAR-len head", "leave out --duration")
    outcome = run_cli(capsys, synth(tiny_model, tokenizer, out, "--text", "Hi.", "--duration", "60",
                                    "--modality", "ar+nar"))
    assert_cli_error(outcome, "--duration", "--modality ar+nar", "--modality nar-len")
    assert "duration_frames" not in outcome.stderr
    assert files_under(out) == set()


def test_tuning_flags_the_path_ignores_get_a_note(out: Path, tiny_model: Path, tokenizer: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, synth(tiny_model, tokenizer, out, "--text", "Hi.", "--length-penalty", "1.5"))
    assert outcome.code == 0, outcome.stderr
    assert outcome.notes == ["note: --length-penalty has no effect: it only acts on AR+NAR generation, and the "
                             "model tiny runs NAR-len"]


def _fifo(folder: Path, name: str) -> Path:
    os.mkfifo(folder / name)
    return folder / name


# (id, flags for the hostile file, words)
NOT_FILES = [
    ("npy-prompt-is-a-named-pipe", lambda f: ["--prompt", str(_fifo(f, "codes.npy"))], ("--prompt", "named pipe")),
    ("audio-prompt-is-a-named-pipe", lambda f: ["--prompt", str(_fifo(f, "voice.flac"))],
     ("--prompt", "named pipe")),
    ("audio-prompt-is-a-device", lambda f: ["--prompt", "/dev/urandom"], ("--prompt", "character device")),
    ("model-is-a-named-pipe", lambda f: ["--model", str(_fifo(f, "model.sft"))], ("--model", "named pipe")),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/urandom").exists(), reason="POSIX files")
@pytest.mark.parametrize(("case", "flags", "says"), NOT_FILES, ids=[n[0] for n in NOT_FILES])
def test_pipes_and_devices_are_refused_without_blocking(case: str, flags: Any, says: tuple[str, ...],
                                                        tmp_path: Path, out: Path, tiny_model: Path,
                                                        tokenizer: Path, never_blocks: None,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*synth(tiny_model, tokenizer, out, "--text", "Hi."), *flags(tmp_path)]
    assert_cli_error(run_cli(capsys, argv), *says)
    assert files_under(out) == set()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_tokenizer_that_is_a_named_pipe(tmp_path: Path, out: Path, tiny_model: Path, never_blocks: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pipe = _fifo(tmp_path, "tokenizer.json")
    assert_cli_error(run_cli(capsys, synth(tiny_model, pipe, out, "--text", "Hi.")), "--tokenizer", "named pipe")


def _header(shape: str, dtype: str = "<i8") -> bytes:
    text = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


CODE_FILES = [
    ("header-claims-ten-billion-frames", _header("(10000000000, 8)") + bytes(640), ("header claims", "30 minutes")),
    ("data-shorter-than-the-header-says", _header("(100, 8)") + bytes(800), ("truncated",)),
    ("zero-bytes", b"", ("empty", "0 bytes")),
    ("floats-not-codes", _header("(10, 8)", "<f4") + bytes(320), ("integers",)),
]


@pytest.mark.parametrize(("case", "data", "says"), CODE_FILES, ids=[c[0] for c in CODE_FILES])
def test_code_files_whose_header_lies(case: str, data: bytes, says: tuple[str, ...], tmp_path: Path, out: Path,
                                      tiny_model: Path, tokenizer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompt = tmp_path / "voice.npy"
    prompt.write_bytes(data)
    line = assert_cli_error(run_cli(capsys, synth(tiny_model, tokenizer, out, "--text", "Hi.", "--prompt",
                                                  str(prompt))), "--prompt", *says)
    assert "out of memory" not in line and "No data left" not in line


def test_a_temperature_next_to_zero_is_the_greedy_limit(out: Path, tiny_model: Path, tokenizer: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """1e-300 is a valid temperature; dividing by it overflows, which must not reach torch.multinomial."""
    greedy = run_cli(capsys, synth(tiny_model, tokenizer, out, "--text", "Hi.", "--ar-temperature", "0",
                                   "--nar-temperature", "0"))
    assert greedy.code == 0, greedy.stderr
    expected = np.load(out / "codes.npy")
    tiny = run_cli(capsys, synth(tiny_model, tokenizer, out, "--text", "Hi.", "--ar-temperature", "1e-300",
                                 "--nar-temperature", "1e-300"))
    assert tiny.code == 0 and "probability tensor" not in tiny.stderr, tiny.stderr
    np.testing.assert_array_equal(np.load(out / "codes.npy"), expected)
