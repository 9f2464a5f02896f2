"""Issue 18's CLI (``--voice`` blends, ``--lora``, ``clean``, ``convert``, the batch ``lora`` column, the AR
samplers) together with issue 14's quality guard (best-of, ``--report``) and issue 16's reliability rules
(the output plan and its commit, input never overwritten, up-front batch checks, flag-named one-line
errors, notes for flags the run ignores), on tiny models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests import cli_home
from tests.batch.helpers import FAST_FLAGS, SR, voice_clip
from tests.cli_home import build_cli_home, last_error
from valle_studio import cli
from valle_studio.audio.io import save_audio
from valle_studio.batch.project import BatchProject
from valle_studio.engine.quality import derive_seed
from valle_studio.engine.settings import SettingsError
from valle_studio.errors import describe
from valle_studio.studio.voices import VoiceLibrary


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_cli_home(tmp_path_factory.mktemp("home"))
    VoiceLibrary(root / "data" / "voices").save_blend("Mix", [("Alice", 0.6), ("Bob", 0.4)])
    save_audio(root / "clip.wav", voice_clip(1.0), SR)
    return root


use_home = cli_home.use_home  # the fixture, for this module's tests


def _model(home: Path, tokenizer: Path) -> list[str]:
    return ["--model", str(home / "tiny.sft"), "--tokenizer", str(tokenizer)]


def test_a_blend_goes_through_best_of_and_the_report(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    report, codes = tmp_path / "r.json", tmp_path / "take.npy"
    argv = ["synth", *_model(use_home, tiny_tokenizer), "--text", "Hello.", "--voice", "Alice:0.5", "--voice",
            "Bob:0.5", "--best-of", "2", "--report", str(report), "--out-codes", str(codes), "--seed", "5",
            "--quiet", *FAST_FLAGS]
    assert cli.main(argv) == cli.EXIT_OK, capsys.readouterr().err
    err = capsys.readouterr().err
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [t["seed"] for t in data["takes"]] == [5, derive_seed(5, 1)]
    assert len(np.load(codes)) == data["takes"][data["chosen"]]["frames"]  # the chosen take was written
    assert [line.strip().split(" (")[0] for line in err.splitlines() if line.strip().startswith("take")] == [
        "take 1/2", "take 2/2"]  # --quiet keeps each take's verdict line
    # The saved blend of the same voices (weights 0.6/0.4) with a LoRA: still two takes, checked, reported.
    assert cli.main([*argv[:7], "--voice", "Mix", *argv[11:], "--lora", f"{use_home / 'glados.sft'}:0.8"]) == 0
    assert len(json.loads(report.read_text(encoding="utf-8"))["takes"]) == 2


def test_a_blend_refused_by_best_of_streaming_writes_nothing(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.npy"
    argv = ["synth", *_model(use_home, tiny_tokenizer), "--text", "Hi.", "--voice", "Alice", "--voice", "Bob",
            "--best-of", "2", "--stream", "--out-codes", str(out), *FAST_FLAGS]
    assert cli.main(argv) == cli.EXIT_ERROR
    assert "cannot be streamed" in last_error(capsys) and not out.exists()


@pytest.mark.parametrize(("command", "reads", "writes"), [
    ("clean", "--clip", "--out"),
    ("convert", "--source", "--out"),
    ("convert", "--prompt", "--out-codes"),
])
def test_clean_and_convert_never_overwrite_their_input(command: str, reads: str, writes: str, use_home: Path,
                                                      tiny_tokenizer: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    wav, npy = tmp_path / "in.wav", tmp_path / "in.npy"
    wav.write_bytes((use_home / "clip.wav").read_bytes())
    npy.write_bytes((use_home / "clip.npy").read_bytes())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    victim = wav if writes == "--out" else npy
    inputs = {"clean": ["--clip", str(wav)],
              "convert": ["--source", str(wav), "--prompt", str(npy)] if reads != "--prompt"
              else ["--source", str(use_home / "clip.npy"), "--prompt", str(npy)]}[command]
    argv = [command, *_model(use_home, tiny_tokenizer), *inputs, writes, str(victim), "--quiet", *FAST_FLAGS]
    assert cli.main(argv) == cli.EXIT_ERROR
    message = last_error(capsys)
    assert message.startswith("valle-studio-cli: error: ")
    assert f"{writes} {victim} is the file given to {reads}" in message, message
    assert "Choose another output name" in message, message
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written, nothing left


def test_clean_and_convert_commit_their_outputs_together(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    wav, npy = tmp_path / "clean.wav", tmp_path / "clean.npy"
    assert cli.main(["clean", *_model(use_home, tiny_tokenizer), "--clip", str(use_home / "clip.wav"), "--text",
                     "hello", "--out", str(wav), "--out-codes", str(npy), "--quiet", *FAST_FLAGS]) == 0
    assert wav.stat().st_size > 1000 and np.load(npy).shape[1] == 8
    out = tmp_path / "vc.npy"
    assert cli.main(["convert", *_model(use_home, tiny_tokenizer), "--source", str(use_home / "clip.npy"),
                     "--voice", "Mix", "--text", "hello", "--out-codes", str(out), "--quiet", *FAST_FLAGS]) == 0
    assert np.load(out).shape == (40, 8)  # a saved blend as the target voice, the source's length kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.npy", "clean.wav", "vc.npy"]  # no temporary file
    capsys.readouterr()


@pytest.mark.parametrize("command", ["synth", "clean", "convert"])
def test_a_missing_lora_is_refused_by_its_flag_before_the_model_loads(command: str, use_home: Path,
                                                                      tiny_tokenizer: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.engine.synthesizer import Synthesizer

    def no_load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the model was loaded before the LoRA was checked")

    monkeypatch.setattr(Synthesizer, "load", no_load)
    inputs = {"synth": ["--text", "Hi.", "--prompt", str(use_home / "clip.npy")],
              "clean": ["--clip", str(use_home / "clip.npy")],
              "convert": ["--source", str(use_home / "clip.npy"), "--voice", "Alice"]}[command]
    out = tmp_path / "o.npy"
    argv = [command, *_model(use_home, tiny_tokenizer), *inputs, "--lora", "nope:0.5", "--out-codes", str(out),
            *FAST_FLAGS]
    assert cli.main(argv) == cli.EXIT_ERROR
    message = last_error(capsys)
    assert message.startswith("valle-studio-cli: error: --lora nope: the LoRA 'nope' is not installed"), message
    assert not out.exists()
    assert cli.main([*argv[:-len(FAST_FLAGS) - 4], "--lora", "glados:9", *argv[-len(FAST_FLAGS) - 2:]]) == 1
    assert last_error(capsys).endswith("--lora glados:9 is out of range: must be between 0 and 1.5")


def test_ar_samplers_on_a_nar_len_run_get_a_note(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["synth", *_model(use_home, tiny_tokenizer), "--text", "Hi.", "--prompt", str(use_home / "clip.npy"),
            "--out-codes", str(tmp_path / "o.npy"), "--mirostat-tau", "3", "--beam-width", "2", *FAST_FLAGS]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    for flag in ("--mirostat-tau", "--beam-width"):
        assert f"note: {flag} has no effect: it only acts on AR+NAR generation, and the model" in err, err
    assert cli.main([*argv, "--modality", "ar+nar", "--quiet"]) == 0
    assert "has no effect" not in capsys.readouterr().err


def test_a_lora_setting_refused_anywhere_names_the_flag() -> None:
    assert describe(SettingsError("lora_strength", "must be between 0 and 1.5")) == \
        "--lora: must be between 0 and 1.5"
    assert describe(SettingsError("lora_strength", "must be between 0 and 1.5"), gui=True) == \
        "LoRA strength: must be between 0 and 1.5"


def test_batch_checks_loras_and_blends_before_its_project_exists(use_home: Path, tiny_tokenizer: Path,
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--model", str(use_home / "tiny.sft"), "--tokenizer", str(tiny_tokenizer), *FAST_FLAGS, "--quiet"]
    script = tmp_path / "lines.csv"
    script.write_text("text,voice,lora\nHello there.,Alice,\nAnd you.,Bob,nope:0.5\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["batch", str(script), "--out-dir", str(out), *base]) == cli.EXIT_ERROR
    assert "line 3, column 'lora': the LoRA 'nope' is not installed" in last_error(capsys)
    assert not out.exists()
    plain = tmp_path / "plain.txt"
    plain.write_text("Hello there.\n", encoding="utf-8")
    assert cli.main(["batch", str(plain), "--out-dir", str(out), "--voice", "Alice", "--lora", "nope", *base]) == 1
    assert "--lora nope: the LoRA 'nope' is not installed" in last_error(capsys)
    assert not out.exists()
    # A saved blend as a line's voice passes the up-front voice checks and is generated, best of 2.
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("[Mix] Hello there.\n[Alice] And you.\n", encoding="utf-8")
    report = tmp_path / "lines.json"
    assert cli.main(["batch", str(mixed), "--out-dir", str(out), "--best-of", "2", "--report", str(report),
                     "--lora", f"{use_home / 'glados.sft'}:0.5", *base]) == 0, capsys.readouterr().err
    with BatchProject.open(out / ".valle-batch", lock=False) as project:
        assert [row.voice for row in project.rows] == ["Mix", "Alice"]
        assert all(len(row.takes) == 2 and row.approved_take is not None for row in project.rows)
        assert project.settings.lora_strength == 0.5
    assert len(json.loads(report.read_text(encoding="utf-8"))["lines"]) == 2
    # Resuming with another LoRA is refused by its flag: the batch keeps the settings it started with.
    assert cli.main(["batch", str(mixed), "--out-dir", str(out), "--resume", "--lora", "glados", *base]) == 1
    assert "cannot resume" in (message := last_error(capsys)) and "--lora" in message


def test_sync_script_regenerates_a_line_whose_lora_changed(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    lora = use_home / "glados.sft"
    script = tmp_path / "lines.csv"
    script.write_text(f"text,voice,lora\nHello there.,Alice,\nAnd you.,Bob,{lora}:0.5\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["batch", str(script), "--out-dir", str(out), "--model", str(use_home / "tiny.sft"), "--tokenizer",
            str(tiny_tokenizer), *FAST_FLAGS, "--quiet"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    with BatchProject.open(out / ".valle-batch", lock=False) as project:
        first_id, second_id = (row.id for row in project.rows)
    script.write_text(f"text,voice,lora\nHello there.,Alice,\nAnd you.,Bob,{lora}:0.9\n", encoding="utf-8")
    assert cli.main([*argv, "--sync-script"]) == 0, capsys.readouterr().err
    with BatchProject.open(out / ".valle-batch", lock=False) as project:
        first, second = project.rows
        assert first.id == first_id and second.id != second_id  # only the edited line is made again
        assert second.settings == {"lora": str(lora), "lora_strength": 0.9}
        assert second.approved_take is not None and second.approved_take.settings.lora_strength == 0.9
    script.write_text("text,voice,lora\nHello there.,Alice,\nAnd you.,Bob,nope\n", encoding="utf-8")
    assert cli.main([*argv, "--sync-script"]) == cli.EXIT_ERROR
    assert "line 3, column 'lora': the LoRA 'nope' is not installed" in last_error(capsys)
    with BatchProject.open(out / ".valle-batch", lock=False) as project:
        assert project.rows[1].settings["lora_strength"] == 0.9  # refused before any row changed
