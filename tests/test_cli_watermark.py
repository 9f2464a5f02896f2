"""Provenance from the command line (issue 17): ``synth`` writes tagged, watermarked files and logs them
(``--no-watermark`` opts out), ``clean`` and ``convert`` the same way, ``batch --no-watermark`` too, and
``check-watermark`` tells marked from unmarked files (exit 0 / 4), as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.batch.helpers import FAST_FLAGS, SR, install_random_codec, tiny_model
from tests.speech_like import speech_like
from valle_studio import cli
from valle_studio.audio.tags import read_tags
from valle_studio.cli.watermark import EXIT_NOT_WATERMARKED
from valle_studio.engine.watermark import apply_watermark
from valle_studio.studio.audit import AuditLog


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("home")
    install_random_codec(root)
    tiny_model(root)
    return root


@pytest.fixture
def use_home(home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("VALLE_STUDIO_HOME", str(home))
    monkeypatch.setenv("VALLE_AUDIT_DIR", str(tmp_path / "audit"))
    return home


def synth_argv(home: Path, tokenizer: Path, out: Path, *extra: str) -> list[str]:
    return ["synth", "--model", str(home / "tiny.sft"), "--tokenizer", str(tokenizer), "--text", "Tagged words.",
            "--out", str(out), "--quiet", *FAST_FLAGS, *extra]


@pytest.mark.parametrize("suffix", [".flac", ".wav"])
def test_synth_output_is_tagged_and_logged(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                           suffix: str) -> None:
    out = tmp_path / f"take{suffix}"
    assert cli.main(synth_argv(use_home, tiny_tokenizer, out)) == 0
    tags = read_tags(out)
    assert tags["VALLE_TEXT"] == "Tagged words." and tags["VALLE_MODEL"] and tags["VALLE_SYNTHETIC"]
    entries = AuditLog().entries()
    assert [Path(e.path) for e in entries] == [out.absolute()] and entries[0].source == "synth"
    # Called watermarked only when the detector confirmed it (a tiny random model's noise may not hold it).
    assert entries[0].watermark == (tags["VALLE_WATERMARK"] == "perth-implicit")


def test_synth_no_watermark(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plain.wav"
    argv = [a for a in synth_argv(use_home, tiny_tokenizer, out) if a != "--quiet"]
    assert cli.main([*argv, "--no-watermark"]) == 0
    assert read_tags(out)["VALLE_WATERMARK"] == "none"
    assert "no watermark (--no-watermark)" in capsys.readouterr().err
    assert AuditLog().entries()[0].watermark is False


def test_check_watermark_tells_marked_from_unmarked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = speech_like(3.0, SR)
    marked, plain = tmp_path / "marked.wav", tmp_path / "plain.wav"
    sf.write(marked, apply_watermark(clean, SR), SR, subtype="PCM_16")
    sf.write(plain, clean, SR, subtype="PCM_16")
    assert cli.main(["check-watermark", str(marked)]) == 0
    assert "marked.wav carries the VALL-E Studio watermark" in capsys.readouterr().out
    assert cli.main(["check-watermark", "--json", str(marked), str(plain)]) == EXIT_NOT_WATERMARKED
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["watermarked"] for r in lines] == [True, False] and lines[0]["confidence"] > 0.5
    assert lines[1]["tags"] is None


def test_check_watermark_unreadable_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio", encoding="utf-8")
    assert cli.main(["check-watermark", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notes.wav" in err[0] and "error" in err[0]


def test_batch_no_watermark(use_home: Path, tiny_tokenizer: Path, tmp_path: Path) -> None:
    script = tmp_path / "lines.txt"
    script.write_text("One line.\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["batch", str(script), "--out-dir", str(out), "--model", str(use_home / "tiny.sft"), "--tokenizer",
            str(tiny_tokenizer), "--prompt", str(_prompt(tmp_path)), "--no-watermark", "--srt", *FAST_FLAGS]
    assert cli.main(argv) == 0
    wav = next(p for p in out.glob("*.wav"))
    assert read_tags(wav)["VALLE_WATERMARK"] == "none" and (out / "combined.vtt").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"][0]["watermark"] is False and manifest["files"][0]["synthetic"] == "synthetic speech"


def _prompt(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.wav"
    sf.write(path, speech_like(1.5, SR).astype(np.float32), SR)
    return path


@pytest.mark.parametrize("watermark", [True, False])
def test_clean_output_is_tagged_and_logged_as_synth_is(use_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                                       watermark: bool) -> None:
    clip = tmp_path / "noisy.npy"
    np.save(clip, np.random.default_rng(0).integers(0, 1024, (40, 8)))
    out = tmp_path / "clean.flac"
    argv = ["clean", "--model", str(use_home / "tiny.sft"), "--tokenizer", str(tiny_tokenizer), "--clip", str(clip),
            "--text", "hello", "--out", str(out), "--quiet", *FAST_FLAGS]
    assert cli.main(argv if watermark else [*argv, "--no-watermark"]) == 0
    tags = read_tags(out)
    assert (tags["VALLE_TEXT"], tags["VALLE_VOICE"], tags["VALLE_SYNTHETIC"]) == ("hello", "noisy.npy",
                                                                                 "synthetic speech")
    (entry,) = AuditLog().entries()
    assert (Path(entry.path), entry.source, entry.voice) == (out.absolute(), "clean (ns)", "noisy.npy")
    assert entry.watermark == (tags["VALLE_WATERMARK"] == "perth-implicit")
    if not watermark:
        assert tags["VALLE_WATERMARK"] == "none" and entry.watermark is False
