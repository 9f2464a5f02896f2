"""``valle-studio-cli batch`` end to end: a tiny model, the codec loaded from the model store's files,
saved voices; a real SIGKILL mid-run, then ``--resume``."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.batch.helpers import FAST_FLAGS, SR, done_rows, kill_when_done, make_studio_home, voice_clip
from valle_studio import cli
from valle_studio.batch.project import BatchProject
from valle_studio.batch.script import ScriptLine
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.voices import VoiceLibrary


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VALLE_STUDIO_HOME with the (random) codec installed, a tiny model and two saved voices."""
    return make_studio_home(tmp_path_factory.mktemp("home"))


@pytest.fixture
def use_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VALLE_STUDIO_HOME", str(home))
    return home


def batch_argv(home: Path, tokenizer: Path, script: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", str(script), "--out-dir", str(out), "--model", str(home / "tiny.sft"),
            "--tokenizer", str(tokenizer), *FAST_FLAGS, *extra]


def wavs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.wav"))


def test_batch_writes_a_wav_per_line_and_both_manifests(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "scene.txt"
    script.write_text("# scene 1\n[Alice] Who is there?\nIt is me.\n\nAlice: Come in, then.\n../../x\nCON\n"
                      "🎉 A party! 🎉\n", encoding="utf-8")
    out = tmp_path / "out"
    code = cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--voice", "Narrator", "--srt"))
    err = capsys.readouterr().err
    assert code == 0, err
    expected = ["001_Alice_who-is-there.wav", "002_Narrator_it-is-me.wav", "003_Alice_come-in-then.wav",
                "004_Narrator_x.wav", "005_Narrator_con.wav", "006_Narrator_a-party.wav"]
    assert wavs(out) == expected
    assert {"manifest.csv", "manifest.json", "combined.srt"} <= {p.name for p in out.iterdir()}
    assert not (tmp_path / "x.wav").exists()
    entries = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [e["file"] for e in entries] == [t["file"] for t in table] == expected
    assert [e["voice"] for e in entries] == ["Alice", "Narrator", "Alice", "Narrator", "Narrator", "Narrator"]
    assert entries[5]["text"] == "🎉 A party! 🎉" and table[2]["text"] == "Come in, then."
    for entry in entries:
        info = sf.info(out / entry["file"])
        assert info.samplerate == SR and info.subtype == "PCM_16"
        assert entry["duration_s"] == pytest.approx(info.frames / SR, abs=1e-3)
        assert entry["settings"]["max_steps"] == 4 and entry["settings"]["seed"] == entry["seed"]
    assert "[6/6] line 6" in err and "done: 6 of 6 lines" in err


def test_a_failed_line_exits_non_zero_and_the_fixed_script_goes_on(use_home: Path, tiny_tokenizer: Path,
                                                                    tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    library = VoiceLibrary()
    broken = library.save("Broken", [(voice_clip(), SR)], replace=True)
    broken.clips[0].path.unlink()  # the saved voice lost its clip
    script = tmp_path / "lines.csv"
    script.write_text("text,voice,filename\nFirst.,,first\nSecond.,Broken,second\nThird.,Alice,third\n")
    out = tmp_path / "out"
    try:
        # A voice that cannot be read is refused before the batch exists, so the same command can run again.
        assert cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--voice", "Narrator")) == cli.EXIT_ERROR
        assert "does not exist" in capsys.readouterr().err.strip().splitlines()[-1]
        assert not out.exists()
    finally:
        library.delete("Broken")

    # A line that fails while the batch runs costs that line only, with its reason on one line.
    script.write_text("text,voice,filename\nFirst.,,first\n?! …,Alice,second\nThird.,Alice,third\n")
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--voice", "Narrator")) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "line 2 FAILED: there is nothing to say" in err and "1 line(s) failed" in err and "--sync-script" in err
    assert "Traceback" not in err
    assert wavs(out) == ["first.wav", "third.wav"]
    assert [e["file"] for e in json.loads((out / "manifest.json").read_text())["files"]] == \
        ["first.wav", "third.wav"]
    before = {name: (out / name).stat().st_mtime_ns for name in wavs(out)}

    script.write_text("text,voice,filename\nFirst.,,first\nSecond.,Alice,second\nThird.,Alice,third\n")  # fixed
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--resume")) == cli.EXIT_ERROR
    assert "add --sync-script" in capsys.readouterr().err
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--sync-script")) == 0
    err = capsys.readouterr().err
    assert "keeps 2 finished line(s)" in err and "1 line(s) to generate" in err
    assert wavs(out) == ["first.wav", "second.wav", "third.wav"]
    assert {name: (out / name).stat().st_mtime_ns for name in before} == before  # not rewritten


def test_prompt_files_voice_untagged_lines(use_home: Path, tiny_tokenizer: Path, tmp_path: Path) -> None:
    clip = tmp_path / "reader.wav"
    sf.write(clip, voice_clip(2.0), SR)
    script = tmp_path / "lines.tsv"
    script.write_text("text\tvoice\tseed\nPlain line.\t\t5\nTagged line.\tAlice\t\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = batch_argv(use_home, tiny_tokenizer, script, out, "--prompt", str(clip),
                      "--template", "{lang}-{voice}-{index}", "--wav-format", "float")
    assert cli.main(argv) == 0
    assert wavs(out) == ["en-Alice-2.wav", "en-reader-1.wav"]
    entries = json.loads((out / "manifest.json").read_text())["files"]
    assert [(e["voice"], e["seed"]) for e in entries] == [("reader", 5), ("Alice", entries[1]["seed"])]
    assert sf.info(out / "en-reader-1.wav").subtype == "FLOAT"


@pytest.mark.parametrize(("script_text", "extra", "needle"), [
    ("Untagged line.\n", [], "line(s) 1 of s.txt have no speaker tag: give --voice NAME or --prompt FILE"),
    ("[Ghost] Boo.\n", [], "no saved voice called 'Ghost'"),
    ("Hi.\n", ["--voice", "Narrator", "--template", "{text}"], "unknown field {text}"),
    ("Hi.\n", ["--prompt", "missing.wav"], "--prompt missing.wav: prompt file not found"),
    ("Hi.\n", ["--voice", "Narrator", "--top-p", "3"], "--top-p 3 is out of range: must be above 0 and at most 1"),
])
def test_bad_invocations_are_one_line_errors(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str], script_text: str,
                                             extra: list[str], needle: str) -> None:
    script = tmp_path / "s.txt"
    script.write_text(script_text)
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, tmp_path / "out", *extra)) == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("valle-studio-cli: error:") and needle in err, err


def test_an_existing_batch_needs_resume_and_the_same_script(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "s.txt"
    script.write_text("Hi.\n")
    out = tmp_path / "out"
    BatchProject.create(out / ".valle-batch", [ScriptLine("Hi.", 1)], name="s", settings=GenerationSettings(),
                        script={"sha256": "0" * 64}).close()
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--voice", "Narrator")) == cli.EXIT_ERROR
    assert "already holds a batch (0 of 1 lines done); add --resume" in capsys.readouterr().err
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--resume", "--top-k", "5")) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "s.txt changed since the batch started" in err and "(leave out --steps, --max-duration, --top-k)" in err


_done_rows = done_rows


@pytest.mark.slow
def test_killed_batch_resumes_without_redoing_finished_rows(home: Path, tiny_tokenizer: Path, tmp_path: Path) -> None:
    lines = [f"Line number {n}, spoken once." for n in range(1, 9)]
    script = tmp_path / "book.txt"
    script.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    project_file = out / ".valle-batch" / "project.json"
    argv = [sys.executable, "-m", "valle_studio.cli", *batch_argv(home, tiny_tokenizer, script, out,
                                                                  "--voice", "Narrator")]
    env = {**os.environ, "VALLE_STUDIO_HOME": str(home)}
    returncode = kill_when_done(argv, env, project_file, tmp_path / "first.log")
    log_text = (tmp_path / "first.log").read_text()
    assert returncode == -9, log_text
    done = _done_rows(project_file)
    assert 2 <= len(done) < len(lines), f"killed too late or too early: {len(done)} rows done\n{log_text}"
    manifest = json.loads(project_file.read_text())
    names = manifest["exports"][0]["files"]
    finished_files = {row_id: out / names[row_id]["name"] for row_id in done}
    stats = {row_id: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for row_id, p in finished_files.items()}

    resumed = subprocess.run([*argv, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {len(done)} of 8 lines already done" in resumed.stderr
    assert f"{8 - len(done)} line(s) to generate" in resumed.stderr

    with BatchProject.open(out / ".valle-batch") as project:
        assert project.counts()["done"] == 8
        for row in project.rows:
            if row.id in done:  # the very same single take, never regenerated
                assert [t.id for t in row.takes] == [done[row.id]]
        assert len(list((project.folder / "takes").iterdir())) == 8  # no leftovers of the killed row
    for row_id, path in finished_files.items():
        stat = path.stat()
        assert (stat.st_ino, stat.st_mtime_ns, path.read_bytes()) == stats[row_id]  # never rewritten
    assert len(wavs(out)) == 8 and not any("-2.wav" in name for name in wavs(out))
    entries = json.loads((out / "manifest.json").read_text())["files"]
    assert [e["text"] for e in entries] == lines
    for name in wavs(out):
        samples, sr = sf.read(out / name)
        assert sr == SR and len(samples) > 0 and np.isfinite(samples).all()


def test_lexicon_becomes_the_projects_and_resume_keeps_it(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from valle_studio.studio.lexicons import load_lexicon

    script = tmp_path / "s.txt"
    script.write_text("Hello Zork.\n", encoding="utf-8")
    lexicon = tmp_path / "names.tsv"
    lexicon.write_text("Zork\tzorkie\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--voice", "Narrator",
                               "--lexicon", str(lexicon))) == 0
    saved = load_lexicon(out / ".valle-batch" / "lexicon.tsv")
    assert [(e.word, e.pronunciation, e.kind) for e in saved.entries] == [("Zork", "zorkie", "say")]
    capsys.readouterr()
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, out, "--resume", "--lexicon",
                               str(lexicon))) == cli.EXIT_ERROR
    assert "the batch keeps the lexicon it started with" in capsys.readouterr().err
    bad = tmp_path / "bad.tsv"
    bad.write_text("\t/x/\n", encoding="utf-8")
    assert cli.main(batch_argv(use_home, tiny_tokenizer, script, tmp_path / "out2", "--voice", "Narrator",
                               "--lexicon", str(bad))) == cli.EXIT_ERROR
    assert "line 1 of bad.tsv: an entry has an empty word" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()  # nothing written
