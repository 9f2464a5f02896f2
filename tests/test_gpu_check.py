"""``benchmarks/gpu_check.py`` (issue 20, item 1): the CPU run with the tiny model, the verdict logic, bad options.

The script is meant for a CUDA machine; here it runs on the CPU with the tiny model (shorter speech,
2 measured demasking steps), so CI covers every item's code. The JSON must hold every item (a)-(g),
and every figure a number or a reason.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks import gpu_check
from benchmarks._figures import FAIL, NA, PASS, Goal, Results
from benchmarks.gpu_correctness import compare, golden_logits

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--device", "cpu", "--model", "tiny", "--threads", "1", "--seconds", "1", "--check-seconds", "1",
         "--cli-seconds", "1", "--demask-steps", "2"]


@pytest.mark.slow
def test_cpu_tiny_run_reports_every_item(tmp_path: Path) -> None:
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", *QUICK, "--json", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["finished"] and report["device"] == "cpu" and report["model"] == "tiny"
    assert list(report["items"]) == list("abcdefg")
    figures = {}
    for key, item in report["items"].items():
        assert item["figures"], f"item {key} has no figure"
        for fig in item["figures"]:
            has_number = isinstance(fig["value"], (int, float)) and math.isfinite(fig["value"])
            assert has_number or fig["note"].strip(), f"({key}) {fig['name']}: neither a number nor a reason"
            assert fig["verdict"] in (PASS, FAIL, NA)
            figures[fig["name"]] = fig
    assert report["counts"]["FAIL"] == 0

    graphs = [f for f in figures.values() if "with CUDA graphs" in f["name"]]
    assert len(graphs) == 3 and all(f["value"] is None and "not implemented" in f["note"] for f in graphs)
    fp16 = figures["greedy codes float16 vs float32"]
    assert fp16["value"] is None and "CPU" in fp16["note"]
    assert any(n.startswith("greedy bfloat16 = float32, ar+nar") and f["value"] is not None
               for n, f in figures.items())
    speed = [f for f in figures.values() if f["goal"].endswith("(H200)")]
    assert speed and all(f["verdict"] == NA and "H200" in f["note"] for f in speed), "CPU: speed goals are N-A"
    golden = figures["golden logits, float32 on cpu vs upstream CPU"]
    if golden["value"] is None:
        assert golden["note"].startswith("skipped: golden vectors not found")
    else:
        assert golden["verdict"] == PASS
    assert figures["CLI synth --device cpu: wall time, spawn to exit"]["verdict"] == PASS
    assert "== summary" in proc.stdout and "PASS" in proc.stdout and "N-A" in proc.stdout


def test_golden_check_says_why_when_the_vectors_are_missing(tmp_path: Path) -> None:
    results = Results({}, None)
    results.start("a", "correctness")
    golden_logits(results, torch.device("cpu"), tmp_path / "nowhere")
    (fig,) = results.items["a"].figures
    assert fig.value is None and fig.verdict == NA
    assert fig.note.startswith(f"skipped: golden vectors not found at {tmp_path / 'nowhere'}")


def test_verdicts() -> None:
    results = Results({}, None)
    results.start("b", "speed")
    goal = Goal(">=", 500, ">= 500")
    assert results.add("b", "fast", 600, goal=goal).verdict == PASS
    assert results.add("b", "slow", 400, goal=goal).verdict == FAIL
    off = results.add("b", "cpu", 400, goal=Goal(">=", 500, ">= 500", applies=False, why_not="CPU run"))
    assert off.verdict == NA and off.note == "CPU run"
    assert results.add("b", "at most", 0.04, goal=Goal("<=", 0.05, "<= 0.05")).verdict == PASS
    assert results.add("b", "plain", 3.0, bound="no goal").verdict == NA
    broken = results.add("b", "nan", float("nan"), goal=goal)
    assert broken.value is None and broken.verdict == NA and "nan" in broken.note
    assert results.add("b", "checked", 1.0, passed=False, bound="exit 0").verdict == FAIL
    with pytest.raises(ValueError, match="must say why"):
        results.add("b", "silent", None)


def test_compare_finds_the_first_divergence() -> None:
    ref = np.arange(40).reshape(5, 8)
    assert compare(ref.copy(), ref) == (100.0, 100.0, "never")
    ours = ref.copy()
    ours[3, 5] += 1
    frames, level0, where = compare(ours, ref)
    assert frames == 80.0 and level0 == 100.0 and where == "frame 3 of 5 (level 5)"
    assert compare(ref[:4], ref)[2] == "lengths differ (4 vs 5)"


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "huge"], "invalid choice"),
    (["--only", "axz"], "--only 'axz'"),
    (["--seconds", "0"], "--seconds 0"),
    (["--demask-steps", "0"], "--demask-steps 0"),
    (["--threads", "none"], "--threads 'none'"),
    (["--device", "tpu"], "unknown device"),
    (["--device", "cpu", "--dtype", "float16"], "--device/--dtype"),
    (["--json", "missing-folder/out.json"], "does not exist"),
])
def test_bad_options_exit_2_and_write_nothing(argv: list[str], message: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        gpu_check.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_a_gpu_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        gpu_check.main(["--device", "cuda"])
    assert exc.value.code == 2 and "no NVIDIA GPU" in capsys.readouterr().err


def test_cli_falls_back_to_the_module_without_a_console_script(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """On a machine that runs the checkout through PYTHONPATH (the GPU machine) no script is installed."""
    from benchmarks.gpu_cli import cli_command

    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))
    assert cli_command() == [str(tmp_path / "python3"), "-m", "valle_studio.cli"]
    (tmp_path / "valle-studio-cli").write_text("#!/bin/sh\n")
    assert cli_command() == [str(tmp_path / "valle-studio-cli")]
