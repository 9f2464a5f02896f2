"""Fixtures of the Ray tests: one real local Ray instance for the whole session (2 CPUs, so 2 workers of
one CPU each), a VALLE_STUDIO_HOME with the random codec, a tiny model and saved voices, and the command
lines of an in-process and a Ray batch of the same script."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.batch.helpers import FAST_FLAGS, make_studio_home
from valle_studio.batch.export import TIMESTAMP_COLUMNS

#: Manifest columns that differ between any two runs (timestamps, timings, random take ids, provenance).
RUN_COLUMNS = {"take", "elapsed_s", "real_time_factor", "created", "generated_at", "exported_at", "provenance",
               "time", "timestamp", "duration_of_run_s", *TIMESTAMP_COLUMNS}


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """A local Ray instance shared by the session's tests; its GCS address (for subprocess drivers)."""
    ray = pytest.importorskip("ray", reason="the Ray tests need the cluster extra: pip install -e '.[test]'")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="session")
def cluster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VALLE_STUDIO_HOME with the (random) codec installed, a tiny model and two saved voices."""
    return make_studio_home(tmp_path_factory.mktemp("cluster-home"))


@pytest.fixture
def use_cluster_home(cluster_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VALLE_STUDIO_HOME", str(cluster_home))
    return cluster_home


def batch_argv(home: Path, tokenizer: Path, script: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", str(script), "--out-dir", str(out), "--model", str(home / "tiny.sft"),
            "--tokenizer", str(tokenizer), *FAST_FLAGS, *extra]


def write_script(folder: Path, count: int, *, extra: str = "") -> Path:
    script = folder / "book.txt"
    lines = [f"{'[Alice] ' if n % 3 == 0 else ''}Line number {n}, spoken once." for n in range(1, count + 1)]
    script.write_text("\n".join(lines) + ("\n" + extra if extra else "") + "\n", encoding="utf-8")
    return script


def stable_manifest(out: Path) -> list[dict[str, Any]]:
    """manifest.json's entries without the columns that change from run to run (see RUN_COLUMNS)."""
    entries = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    return [{k: v for k, v in entry.items() if k not in RUN_COLUMNS} for entry in entries]


def stable_csv(out: Path) -> list[dict[str, str]]:
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        return [{k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in csv.DictReader(handle)]


def audio_of(out: Path) -> dict[str, np.ndarray]:
    return {p.name: sf.read(p, dtype="int16")[0] for p in sorted(out.glob("*.wav"))}


def assert_same_outputs(a: Path, b: Path) -> None:
    """The same WAV names with the same samples, and the same manifests (run columns left out)."""
    left, right = audio_of(a), audio_of(b)
    assert list(left) == list(right)
    for name in left:
        assert np.array_equal(left[name], right[name]), f"{name} differs"
    assert stable_manifest(a) == stable_manifest(b)
    assert stable_csv(a) == stable_csv(b)


def subprocess_env(home: Path) -> dict[str, str]:
    return {**os.environ, "VALLE_STUDIO_HOME": str(home)}


def worker_spec(home: Path, tokenizer: Path) -> Any:
    """What the workers load in the runner-level tests: the home's tiny model on the CPU."""
    from valle_studio.cluster.options import ModelSpec

    return ModelSpec(str(home / "tiny.sft"), str(tokenizer), "cpu", "float32", env={"VALLE_STUDIO_HOME": str(home)})


def make_project(folder: Path, count: int, *, seed: int = 77) -> Any:
    """A project of ``count`` lines (the Narrator's voice, fixed seed, two demasking steps)."""
    from valle_studio.batch.project import BatchProject
    from valle_studio.batch.script import ScriptLine
    from valle_studio.engine.settings import GenerationSettings

    lines = [ScriptLine(f"Line {n} of the chapter.", n) for n in range(1, count + 1)]
    settings = GenerationSettings(max_steps=2, max_duration=0.5, seed=seed)
    return BatchProject.create(folder, lines, name="t", settings=settings, default_voice="Narrator")
