"""``batch --ray`` end to end on a real local Ray instance: the same files and manifests as the in-process
batch for fixed seeds; a line that fails on a worker; flags without Ray."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.conftest import assert_same_outputs, batch_argv, write_script
from valle_studio import cli

pytestmark = pytest.mark.ray


def test_ray_batch_writes_the_same_files_and_manifest_as_in_process(ray_address: str, use_cluster_home: Path,
                                                                   tiny_tokenizer: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    script = write_script(tmp_path, 6)
    common = ("--voice", "Narrator", "--seed", "1234", "--best-of", "2")
    here, there = tmp_path / "here", tmp_path / "there"
    assert cli.main(batch_argv(use_cluster_home, tiny_tokenizer, script, here, *common)) == 0
    capsys.readouterr()
    assert cli.main(batch_argv(use_cluster_home, tiny_tokenizer, script, there, *common, "--ray",
                               "--ray-workers", "2", "--ray-cpus", "1")) == 0
    err = capsys.readouterr().err
    assert "starting 2 Ray worker(s) on a local Ray instance" in err and "done: 6 of 6 lines" in err
    shares = [line for line in err.splitlines() if line.startswith("worker ") and " done, " in line]
    assert len(shares) == 2 and sum(int(s.split(": ")[-1].split()[0]) for s in shares) == 6
    assert_same_outputs(here, there)
