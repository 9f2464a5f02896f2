"""What ``synth`` writes: every output or none, never one of its inputs, never a device or a pipe, names as
long as the file system allows; and standard output that is closed, or whose reader leaves early.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.reliability.cases import tone
from tests.reliability.children import Child
from tests.reliability.helpers import (
    FAST_FLAGS,
    assert_cli_error,
    assert_no_temp_files,
    disk_fills_up,
    files_under,
    run_cli,
)


def synth_args(model: Path, tokenizer: Path, *extra: str) -> list[str]:
    return ["synth", "--model", str(model), "--tokenizer", str(tokenizer), "--text", "Mind the files.", *FAST_FLAGS,
            *extra]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell files apart")
def test_existing_outputs_stay_when_one_of_them_cannot_be_written(tmp_path: Path, tiny_model: Path,
                                                                  tokenizer: Path, with_codec: Any,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Yesterday's take and codes are there; today the codes do not fit: both of yesterday's files stay."""
    take, codes = tmp_path / "scene.flac", tmp_path / "scene.npy"
    sf.write(take, tone(1.0), 24_000)
    np.save(codes, np.ones((5, 8), np.int64))
    before = take.read_bytes(), codes.read_bytes()
    disk_fills_up(monkeypatch, when="scene.npy")
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--out", str(take), "--out-codes", str(codes)))
    assert_cli_error(outcome, "disk is full", "scene.npy")
    assert (take.read_bytes(), codes.read_bytes()) == before
    assert files_under(tmp_path) == {"scene.flac", "scene.npy"}


def _clip(folder: Path) -> Path:
    sf.write(folder / "voice.wav", tone(2.0), 24_000)
    return folder / "voice.wav"


def _codes(folder: Path) -> Path:
    np.save(folder / "voice.npy", np.arange(80, dtype=np.int64).reshape(10, 8))
    return folder / "voice.npy"


# (id, flags given the made input, flag that names the output, words)
OVERWRITES = [
    ("out-is-the-reference-clip", lambda f, p: ["--prompt", str(p), "--out", str(p)], _clip, ("--out", "--prompt")),
    ("out-codes-is-the-code-prompt-spelled-otherwise",
     lambda f, p: ["--prompt", str(p), "--out-codes", str(f / "sub" / ".." / "voice.npy")], _codes,
     ("--out-codes", "--prompt")),
    ("out-codes-is-a-link-to-the-prompt",
     lambda f, p: ["--prompt", str(p), "--out-codes", str(f / "alias.npy")], _codes, ("--out-codes", "--prompt")),
]


@pytest.mark.parametrize(("case", "flags", "make", "says"), OVERWRITES, ids=[c[0] for c in OVERWRITES])
def test_an_output_never_overwrites_an_input(case: str, flags: Any, make: Any, says: tuple[str, ...],
                                             tmp_path: Path, tiny_model: Path, tokenizer: Path, with_codec: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    source = make(tmp_path)
    (tmp_path / "sub").mkdir()
    os.symlink(source, tmp_path / "alias.npy")
    before = source.read_bytes()
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, *flags(tmp_path, source)))
    assert_cli_error(outcome, *says, "destroy")
    assert "loading" not in outcome.stderr  # refused before the model was loaded
    assert source.read_bytes() == before


def test_the_model_file_is_never_an_output(tmp_path: Path, tiny_bytes: bytes, tokenizer: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A checkpoint saved under a .npy name (it is read by its content) and named as the codes output."""
    model = tmp_path / "weights.npy"
    model.write_bytes(tiny_bytes)
    outcome = run_cli(capsys, synth_args(model, tokenizer, "--out-codes", str(model)))
    assert_cli_error(outcome, "--out-codes", "--model")
    assert model.read_bytes() == tiny_bytes


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_in_place_of_an_output_is_refused_unopened(tmp_path: Path, tiny_model: Path, tokenizer: Path,
                                                                never_blocks: None,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    pipe = tmp_path / "take.npy"
    os.mkfifo(pipe)
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--out-codes", str(pipe)))
    assert_cli_error(outcome, "named pipe", "take.npy")
    assert "loading" not in outcome.stderr and not pipe.is_file() and pipe.exists()


@pytest.mark.parametrize("length", [250, 255])
def test_the_longest_legal_output_names_are_written(length: int, tmp_path: Path, tiny_model: Path, tokenizer: Path,
                                                    with_codec: Any, capsys: pytest.CaptureFixture[str]) -> None:
    audio = tmp_path / ("ß" * ((length - 4) // 2) + "x" * ((length - 4) % 2) + ".wav")  # 2-byte letters
    codes = tmp_path / ("n" * (length - 4) + ".npy")
    assert len(audio.name.encode("utf-8")) == length == len(codes.name.encode("utf-8"))
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--out", str(audio), "--out-codes", str(codes)))
    assert outcome.code == 0, outcome.stderr
    assert sf.info(audio).frames > 0 and np.load(codes).shape[1] == 8
    assert_no_temp_files(tmp_path)


def test_a_closed_stdout_is_reported(tiny_model: Path, tokenizer: Path, with_codec: Any,
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", None)  # what Python makes of `>&-`
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--out", "-"))
    assert_cli_error(outcome, "--out -", "standard output is closed")


def test_a_reader_that_is_gone_is_a_broken_pipe(tmp_path: Path, tiny_model: Path, tokenizer: Path, with_codec: Any,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the player quit before the audio came
    stream = io.TextIOWrapper(os.fdopen(write_end, "wb"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stream)
    codes = tmp_path / "c.npy"
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--out", "-", "--out-codes", str(codes)))
    line = assert_cli_error(outcome, "--out -", "broken pipe")
    assert "[Errno" not in line and "done" not in outcome.stderr and not codes.exists()


@pytest.mark.slow
def test_head_that_takes_100_bytes_is_not_done(tmp_path: Path, batch_home: Path, tiny_tokenizer: Path) -> None:
    """``synth --out - | head -c 100`` in real processes: five seconds of WAV (240 kB) do not fit the pipe, the
    reader leaves after 100 bytes, and the run ends with a broken pipe and exit 1, not "done"."""
    child = Child(tmp_path, "none", ["synth", "--model", str(batch_home / "tiny.sft"), "--tokenizer",
                                     str(tiny_tokenizer), "--text", "A long enough take.", *FAST_FLAGS,
                                     "--max-duration", "6", "--duration", "375", "--out", "-"], batch_home, text=False)
    assert child.process.stdout is not None
    head = child.process.stdout.read(100)
    child.process.stdout.close()
    code, err = child.run()
    text = err.decode("utf-8", "replace")
    assert head.startswith(b"RIFF") and code == 1, text
    assert text.strip().splitlines()[-1].startswith("valle-studio-cli: error: --out -: the program reading")
    assert "broken pipe" in text and "done:" not in text and "Traceback" not in text and "Exception ignored" not in text
