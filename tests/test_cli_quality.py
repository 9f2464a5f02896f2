"""The quality guard through ``valle-studio-cli``: best-of-N and retry end to end on tiny models, the
report's exact shape, ``--strict``, ``--no-check``, the verdict lines, ``transcribe --json``, the batch
report and manifest columns, and the bad inputs (nothing written, one clear line)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.batch.helpers import FAST_FLAGS, SR, install_random_codec, tiny_model, voice_clip
from tests.reliability.helpers import make_read_only
from valle_studio import cli
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.studio.voices import VoiceLibrary

LONG = ("This sentence has a great many words in it, far more than the tiny model ever says before it stops, "
        "so every take of it comes out far too short.")
TAKE_KEYS = {"seed", "frames", "verdict", "score", "reasons", "checks"}
CHECKS = {"phoneme_error_rate", "seconds_per_phoneme", "hit_duration_cap", "loop_seconds", "held_seconds",
          "prompt_leak", "leading_silence_s", "trailing_silence_s", "internal_silence_s", "level_vs_reference_db",
          "clipped_fraction"}


@pytest.fixture(scope="module")
def ar_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny AR+NAR model: its stop bias ends every take after a few dozen frames."""
    return write_tiny_checkpoint(tmp_path_factory.mktemp("ar") / "tiny-ar.sft", capabilities=("ar", "nar"),
                                 noncausal_masks=False, seed=3)


def synth_argv(model: Path, tokenizer: Path, *extra: str) -> list[str]:
    return ["synth", "--model", str(model), "--tokenizer", str(tokenizer), "--modality", "ar+nar",
            "--max-duration", "3", "--device", "cpu", "--dtype", "float32", "--quiet", *extra]


def verdict_lines(err: str) -> list[str]:
    return [line.strip() for line in err.splitlines() if line.strip().startswith("take")]


def check_take_shape(take: dict) -> None:
    assert set(take) >= TAKE_KEYS and set(take["checks"]) == CHECKS
    assert isinstance(take["seed"], int) and isinstance(take["frames"], int) and take["frames"] >= 0
    assert take["verdict"] in ("good", "suspect", "bad") and 0.0 <= take["score"] <= 1.0
    assert isinstance(take["reasons"], list) and all(isinstance(r, str) for r in take["reasons"])
    assert all(v is None or isinstance(v, (bool, int, float)) for v in take["checks"].values())


def test_best_of_end_to_end_reports_every_take_and_chooses_the_best(ar_model: Path, tiny_tokenizer: Path,
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    report, codes = tmp_path / "report.json", tmp_path / "take.npy"
    code = cli.main(synth_argv(ar_model, tiny_tokenizer, "--text", LONG, "--seed", "11", "--best-of", "3",
                               "--report", str(report), "--out-codes", str(codes)))
    err = capsys.readouterr().err
    assert code == cli.EXIT_OK, err  # no good take, but not --strict: a warning and status 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["version"] == 1 and len(data["takes"]) == 3
    for take in data["takes"]:
        check_take_shape(take)
        assert take["verdict"] in ("bad", "suspect")
    assert any(any("too short" in r for r in t["reasons"]) for t in data["takes"])  # a duration reason
    scores = [t["score"] for t in data["takes"]]
    assert data["chosen"] == scores.index(max(scores))
    assert data["takes"][0]["seed"] == 11 and len({t["seed"] for t in data["takes"]}) == 3
    assert len(np.load(codes)) == data["takes"][data["chosen"]]["frames"]  # the chosen take was written
    lines = verdict_lines(err)
    assert [line.split(" (")[0] for line in lines] == ["take 1/3", "take 2/3", "take 3/3"]
    assert all(": bad" in line or ": suspect" in line for line in lines)
    assert "warning: no good take" in err and f"take {data['chosen'] + 1} of 3" in err


def test_the_same_command_repeats_the_same_takes(ar_model: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for n in range(2):
        report = tmp_path / f"r{n}.json"
        assert cli.main(synth_argv(ar_model, tiny_tokenizer, "--text", "Short words.", "--seed", "4", "--best-of",
                                   "2", "--report", str(report), "--out-codes", str(tmp_path / f"{n}.npy"))) == 0
        runs.append(json.loads(report.read_text())["takes"])
    capsys.readouterr()
    assert [(t["seed"], t["frames"], t["score"]) for t in runs[0]] == [(t["seed"], t["frames"], t["score"])
                                                                      for t in runs[1]]


def test_retry_bad_tries_again_while_no_take_is_good(ar_model: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    code = cli.main(synth_argv(ar_model, tiny_tokenizer, "--text", LONG, "--seed", "2", "--retry-bad", "2",
                               "--report", str(report), "--out-codes", str(tmp_path / "o.npy")))
    err = capsys.readouterr().err
    assert code == 0, err
    takes = json.loads(report.read_text())["takes"]
    assert len(takes) == 3 and [t["retry"] for t in takes] == [False, True, True]  # never good: all retries ran
    assert len(verdict_lines(err)) == 3 and ", retry)" in verdict_lines(err)[1]


def test_strict_exits_3_when_no_take_is_good_and_still_writes(ar_model: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.npy"
    code = cli.main(synth_argv(ar_model, tiny_tokenizer, "--text", LONG, "--strict", "--out-codes", str(out)))
    err = capsys.readouterr().err
    assert code == 3 and cli.EXIT_NO_GOOD_TAKE == 3
    assert out.is_file() and "--strict: exit status 3" in err and len(verdict_lines(err)) == 1


def test_no_check_makes_one_unchecked_take(ar_model: Path, tiny_tokenizer: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.npy"
    assert cli.main(synth_argv(ar_model, tiny_tokenizer, "--text", LONG, "--no-check", "--out-codes", str(out))) == 0
    err = capsys.readouterr().err
    assert out.is_file() and verdict_lines(err) == [] and "warning" not in err


@pytest.mark.parametrize(("extra", "says"), [
    (["--best-of", "0"], "--best-of 0 is out of range"),
    (["--best-of", "99"], "--best-of 99 is out of range"),
    (["--retry-bad", "-1"], "--retry-bad -1 is out of range"),
    (["--no-check", "--best-of", "2"], "--best-of 2 needs the quality check"),
    (["--no-check", "--retry-bad", "1"], "--retry-bad 1 needs the quality check"),
    (["--no-check", "--report", "REPORT"], "--report needs the quality check"),
    (["--no-check", "--strict"], "--strict needs the quality check"),
    (["--report", "MISSING"], "does not exist"),
    (["--report", "NOT_JSON"], "use a .json file name"),
    (["--best-of", "2", "--stream"], "cannot be streamed"),
])
def test_bad_quality_flags_are_one_line_and_write_nothing(extra: list[str], says: str, ar_model: Path,
                                                          tiny_tokenizer: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    paths = {"REPORT": str(out / "r.json"), "MISSING": str(tmp_path / "nowhere" / "r.json"),
             "NOT_JSON": str(out / "r.txt")}
    argv = synth_argv(ar_model, tiny_tokenizer, "--text", "Hi.", "--out-codes", str(out / "o.npy"),
                      *[paths.get(a, a) for a in extra])
    assert cli.main(argv) == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("valle-studio-cli: error:") and says in err[-1], err
    assert list(out.iterdir()) == [] and not (tmp_path / "nowhere").exists()


def test_a_report_in_a_read_only_folder_is_refused_before_the_model_loads(
        ar_model: Path, tiny_tokenizer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    locked, out = tmp_path / "locked", tmp_path / "out"
    locked.mkdir()
    out.mkdir()
    make_read_only(locked, monkeypatch)
    try:
        code = cli.main(synth_argv(ar_model, tiny_tokenizer, "--text", "Hi.", "--report", str(locked / "r.json"),
                                   "--out-codes", str(out / "o.npy")))
    finally:
        locked.chmod(0o755)
    err = capsys.readouterr().err
    assert code == cli.EXIT_ERROR and "read-only" in err and "--report" in err and "loading" not in err
    assert list(locked.iterdir()) == [] and list(out.iterdir()) == []


# -- transcribe -------------------------------------------------------------------------------------------------
def test_transcribe_json_prints_the_ids_and_ipa(ar_model: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    codes = tmp_path / "codes.npy"
    np.save(codes, np.random.default_rng(0).integers(0, 1024, (60, 8)).astype(np.int64))
    base = ["transcribe", "--model", str(ar_model), "--tokenizer", str(tiny_tokenizer), "--quiet", "--device", "cpu"]
    assert cli.main([*base, "--json", str(codes)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) == {"ids", "ipa"} and isinstance(answer["ipa"], str)
    assert all(isinstance(i, int) and 0 <= i < 256 and i not in (1, 2) for i in answer["ids"])
    assert cli.main([*base, str(codes)]) == 0
    assert capsys.readouterr().out.strip() == answer["ipa"].strip()


def test_transcribe_bad_inputs_are_one_line(ar_model: Path, tiny_tokenizer: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    codes = tmp_path / "codes.npy"
    np.save(codes, np.zeros((30, 8), np.int64))
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((30, 3), np.int64))
    deaf = write_tiny_checkpoint(tmp_path / "deaf.sft", capabilities=("ar", "nar"), stt_head=False)
    base = ["transcribe", "--tokenizer", str(tiny_tokenizer), "--quiet"]
    for argv, says in (([*base, "--model", str(ar_model), str(tmp_path / "none.wav")], "not found"),
                       ([*base, "--model", str(ar_model), str(bad)], "[T, 8]"),
                       ([*base, "--model", str(ar_model), "--lang", "xx", str(codes)], "unsupported language"),
                       ([*base, "--model", str(deaf), str(codes)], "no speech-to-text head")):
        assert cli.main(argv) == cli.EXIT_ERROR, argv
        captured = capsys.readouterr()
        assert says in captured.err and captured.out == "", captured.err


# -- batch ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("home")
    install_random_codec(root)
    tiny_model(root)
    VoiceLibrary(root / "data" / "voices").save("Narrator", [(voice_clip(), SR)])
    return root


def batch_argv(home: Path, tokenizer: Path, script: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", str(script), "--out-dir", str(out), "--model", str(home / "tiny.sft"), "--voice", "Narrator",
            "--tokenizer", str(tokenizer), *FAST_FLAGS, *extra]


def test_batch_reports_each_line_and_the_manifests_carry_the_verdict(home: Path, tiny_tokenizer: Path,
                                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VALLE_STUDIO_HOME", str(home))
    script = tmp_path / "s.txt"
    script.write_text("First line.\nA second, longer line of the script.\n", encoding="utf-8")
    out, report = tmp_path / "out", tmp_path / "report.json"
    code = cli.main(batch_argv(home, tiny_tokenizer, script, out, "--best-of", "2", "--report", str(report),
                               "--seed", "9"))
    err = capsys.readouterr().err
    assert code == 0, err
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["version"] == 1 and [line["line"] for line in data["lines"]] == [1, 2]
    for line in data["lines"]:
        assert len(line["takes"]) == 2 and 0 <= line["chosen"] < 2
        for take in line["takes"]:
            check_take_shape(take)
        scores = [t["score"] for t in line["takes"]]
        assert line["chosen"] == scores.index(max(scores))
    assert sum(1 for text in err.splitlines() if text.strip().startswith("line ") and "take " in text) == 4
    entries = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    for entry, row, line in zip(entries, table, data["lines"], strict=True):
        chosen = line["takes"][line["chosen"]]
        assert entry["verdict"] == row["verdict"] == chosen["verdict"]
        assert entry["score"] == chosen["score"] and float(row["score"]) == chosen["score"]
        assert entry["reasons"] == chosen["reasons"] and row["reasons"] == "; ".join(chosen["reasons"])
    strict = cli.main(batch_argv(home, tiny_tokenizer, script, tmp_path / "strict", "--strict"))
    err = capsys.readouterr().err
    verdicts = [line["takes"][line["chosen"]]["verdict"] for line in data["lines"]]
    if all(v == "good" for v in verdicts):  # a random model is rarely this lucky; then strict has nothing to say
        pytest.skip("every line came out good")
    assert strict == cli.EXIT_NO_GOOD_TAKE and "have no good take" in err


def test_batch_bad_quality_flags_create_nothing(home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VALLE_STUDIO_HOME", str(home))
    script = tmp_path / "s.txt"
    script.write_text("One line.\n", encoding="utf-8")
    for extra, says in ((["--best-of", "0"], "--best-of 0 is out of range"),
                        (["--retry-bad", "-2"], "--retry-bad -2 is out of range"),
                        (["--report", str(tmp_path / "gone" / "r.json")], "does not exist")):
        out = tmp_path / "out"
        assert cli.main(batch_argv(home, tiny_tokenizer, script, out, *extra)) == cli.EXIT_ERROR
        assert says in capsys.readouterr().err
        assert not out.exists()  # not even the output folder or its project
    locked = tmp_path / "locked"
    locked.mkdir()
    make_read_only(locked, monkeypatch)
    try:
        code = cli.main(batch_argv(home, tiny_tokenizer, script, tmp_path / "out", "--report", str(locked / "r.json")))
    finally:
        locked.chmod(0o755)
    assert code == cli.EXIT_ERROR and "read-only" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and list(locked.iterdir()) == []
