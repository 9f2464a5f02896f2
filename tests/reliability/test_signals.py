"""Signals through the real CLI in a child process: SIGTERM and SIGHUP end a run like Ctrl+C (clean-up,
a clear last line, exit 128 + the signal), and what SIGKILL leaves behind is swept by ``--resume``.

The child is :mod:`tests.reliability.driver`, the CLI's own ``main`` held at one moment (while a file is
being written, or during a generation stage) so that the signal lands exactly there.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.reliability.children import Child
from tests.reliability.helpers import FAST_FLAGS, files_under
from valle_studio.cli.signals import HANDLED, Terminated, signals_as_interrupts

pytestmark = pytest.mark.skipif(os.name != "posix" or not Path("/proc/self/fd").is_dir(),
                                reason="POSIX signals, and /proc to tell which file is being written")


def synth_args(home: Path, tokenizer: Path, *extra: str) -> list[str]:
    return ["synth", "--model", str(home / "tiny.sft"), "--tokenizer", str(tokenizer), "--text", "Hold on.",
            *FAST_FLAGS, *extra]


def last_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else ""


@pytest.mark.parametrize("signum", HANDLED, ids=lambda s: signal.Signals(s).name)
def test_handled_signals_unwind_like_ctrl_c(signum: int) -> None:
    """In this process: the handlers raise Terminated (a KeyboardInterrupt) and are restored afterwards;
    a signal the parent ignores (SIGHUP under ``nohup``) stays ignored."""
    outer = signal.signal(signum, signal.SIG_DFL)
    try:
        with pytest.raises(Terminated) as stopped, signals_as_interrupts():
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the handler runs at the next bytecode; never reached
        assert isinstance(stopped.value, KeyboardInterrupt) and stopped.value.exit_code == 128 + signum
        assert signal.getsignal(signum) == signal.SIG_DFL
        signal.signal(signum, signal.SIG_IGN)
        with signals_as_interrupts():
            os.kill(os.getpid(), signum)
            time.sleep(0.05)  # ignored: nothing is raised
        assert signal.getsignal(signum) == signal.SIG_IGN
    finally:
        signal.signal(signum, outer)


@pytest.mark.slow
def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path: Path, batch_home: Path,
                                                        tiny_tokenizer: Path) -> None:
    signum = signal.SIGTERM
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.npy").write_bytes(b"an older result the user kept")
    child = Child(tmp_path, "write:keep.npy", synth_args(batch_home, tiny_tokenizer, "--out-codes",
                                                         str(out / "keep.npy")), batch_home)
    child.wait_until_held()
    assert any(name.endswith(".tmp") for name in files_under(out))  # held with the temporary file written
    code, err = child.send(signum)
    name = signal.Signals(signum).name
    assert code == 128 + signum, err
    assert last_line(err) == f"valle-studio-cli: stopped by {name}; no file was left half-written"
    assert "Traceback" not in err
    assert files_under(out) == {"keep.npy"} and (out / "keep.npy").read_bytes() == b"an older result the user kept"


@pytest.mark.slow
def test_sigterm_during_generation_says_so(tmp_path: Path, batch_home: Path, tiny_tokenizer: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    child = Child(tmp_path, "stage:demasking", synth_args(batch_home, tiny_tokenizer, "--out", str(out / "a.wav"),
                                                          "--out-codes", str(out / "a.npy")), batch_home)
    child.wait_until_held()
    code, err = child.send(signal.SIGTERM)
    assert code == 143 and last_line(err).startswith("valle-studio-cli: stopped by SIGTERM"), err
    assert files_under(out) == set()


def batch_args(home: Path, tokenizer: Path, script: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", str(script), "--out-dir", str(out), "--voice", "Reader", "--model", str(home / "tiny.sft"),
            "--tokenizer", str(tokenizer), "--template", "{index:02d}-{slug}", *FAST_FLAGS, *extra]


@pytest.mark.slow
def test_sigkill_while_a_line_is_written_then_resume_sweeps_it(tmp_path: Path, batch_home: Path,
                                                               tiny_tokenizer: Path) -> None:
    script = tmp_path / "chapter.txt"
    script.write_text("The first sentence.\nThe second sentence.\nThe third sentence.\n", encoding="utf-8")
    out = tmp_path / "chapter"
    args = batch_args(batch_home, tiny_tokenizer, script, out)
    child = Child(tmp_path, "write:02-the-second-sentence.wav", args, batch_home)
    child.wait_until_held()
    child.process.kill()  # SIGKILL: no clean-up of ours can run
    child.process.communicate(timeout=60)
    leftovers = [name for name in files_under(out) if name.endswith(".tmp")]
    assert leftovers and all("02-the-second-sentence.wav" in name for name in leftovers)

    resumed = Child(tmp_path, "none", [*args, "--resume"], batch_home)
    _out, err = resumed.process.communicate(timeout=300)
    assert resumed.process.returncode == 0, err
    assert f"removed {len(leftovers)} temporary file(s)" in err
    names = files_under(out)
    assert not [name for name in names if name.endswith(".tmp")]
    assert {"01-the-first-sentence.wav", "02-the-second-sentence.wav", "03-the-third-sentence.wav",
            "manifest.csv", "manifest.json"} <= names


@pytest.mark.slow
def test_sigterm_in_a_batch_keeps_finished_lines_and_resume_finishes(tmp_path: Path, batch_home: Path,
                                                                     tiny_tokenizer: Path) -> None:
    script = tmp_path / "scene.txt"
    script.write_text("One line here.\nAnother line there.\n", encoding="utf-8")
    out = tmp_path / "scene"
    args = batch_args(batch_home, tiny_tokenizer, script, out)
    child = Child(tmp_path, "write:02-another-line-there.wav", args, batch_home)
    child.wait_until_held()
    code, err = child.send(signal.SIGTERM)
    assert code == 143, err
    assert last_line(err) == ("valle-studio-cli: stopped by SIGTERM; finished lines are saved; run the same "
                              "command with --resume to finish the batch")
    assert "Traceback" not in err
    names = files_under(out)
    assert "01-one-line-here.wav" in names and not [n for n in names if n.endswith(".tmp")]

    resumed = Child(tmp_path, "none", [*args, "--resume"], batch_home)
    _out, err = resumed.process.communicate(timeout=300)
    assert resumed.process.returncode == 0, err
    # The second line's take was saved before its WAV was being written: resume writes the WAV from it.
    assert "resuming: 2 of 2 lines already done" in err and "02-another-line-there.wav" in files_under(out)
