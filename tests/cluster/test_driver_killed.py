"""A ``batch --ray`` driver killed with SIGKILL mid-run (a real subprocess) loses no finished line, and
``--resume`` (again on Ray) finishes the batch without redoing any."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.batch.helpers import done_rows, kill_when_done
from tests.cluster.conftest import batch_argv, subprocess_env, write_script
from valle_studio.batch.project import BatchProject

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_killed_ray_driver_resumes_without_redoing_finished_lines(ray_address: str, cluster_home: Path,
                                                                  tiny_tokenizer: Path, tmp_path: Path) -> None:
    count = 10
    script = write_script(tmp_path, count)
    out = tmp_path / "out"
    project_file = out / ".valle-batch" / "project.json"
    argv = [sys.executable, "-m", "valle_studio.cli",
            *batch_argv(cluster_home, tiny_tokenizer, script, out, "--voice", "Narrator", "--ray", ray_address)]
    env = subprocess_env(cluster_home)
    returncode = kill_when_done(argv, env, project_file, tmp_path / "first.log")  # SIGKILL at 2 lines done
    log_text = (tmp_path / "first.log").read_text()
    assert returncode == -9, log_text
    done = done_rows(project_file)
    assert 2 <= len(done) < count, f"killed too late or too early: {len(done)} rows done\n{log_text}"
    names = json.loads(project_file.read_text())["exports"][0]["files"]
    files = {row_id: out / names[row_id]["name"] for row_id in done}
    stats = {row_id: (p.stat().st_mtime_ns, p.read_bytes()) for row_id, p in files.items()}

    resumed = subprocess.run([*argv, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {len(done)} of {count} lines already done" in resumed.stderr
    assert f"{count - len(done)} line(s) to generate" in resumed.stderr
    with BatchProject.open(out / ".valle-batch") as project:
        assert project.counts()["done"] == count
        for row in project.rows:
            if row.id in done:  # the very same take, never regenerated
                assert [t.id for t in row.takes] == [done[row.id]]
        assert len(list((project.folder / "takes").iterdir())) == count  # no leftovers of the killed lines
    for row_id, path in files.items():
        assert (path.stat().st_mtime_ns, path.read_bytes()) == stats[row_id]
    assert len(list(out.glob("*.wav"))) == count
