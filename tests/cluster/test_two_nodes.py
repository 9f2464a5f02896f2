"""The multi-node path for real: a Ray cluster of two raylets on this machine
(``ray.cluster_utils.Cluster``), one CPU each, so the two workers land on different nodes; the batch
driver is a separate process that joins it by address, as on a real cluster."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.conftest import batch_argv, subprocess_env, write_script

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_a_batch_on_two_nodes(cluster_home: Path, tiny_tokenizer: Path, tmp_path: Path) -> None:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, connect=False, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        address = cluster.address
        script = write_script(tmp_path, 4)
        out = tmp_path / "out"
        argv = [sys.executable, "-m", "valle_studio.cli",
                *batch_argv(cluster_home, tiny_tokenizer, script, out, "--voice", "Narrator", "--seed", "5",
                            "--ray", address, "--ray-workers", "2", "--ray-cpus", "1")]
        run = subprocess.run(argv, env=subprocess_env(cluster_home), capture_output=True, text=True, timeout=300)
    finally:
        cluster.shutdown()
    assert run.returncode == 0, run.stderr
    assert f"the Ray cluster at {address}" in run.stderr and "done: 4 of 4 lines" in run.stderr
    nodes = set(re.findall(r"node (\w+), pid \d+\): \d+ done", run.stderr))
    assert len(nodes) == 2, run.stderr  # one worker per raylet
    assert len(list(out.glob("*.wav"))) == 4
