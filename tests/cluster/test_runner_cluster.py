"""The cluster runner on a real local Ray instance: a worker killed mid-line (with and without retries),
a line that fails on a worker, cancel, a model the workers cannot load."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import make_project, worker_spec
from valle_studio.batch.rows import DONE, FAILED, PENDING
from valle_studio.batch.runner import ROW_FAILED, ROW_FINISHED, ROW_STARTED, BatchEvent
from valle_studio.cluster.options import ClusterOptions
from valle_studio.cluster.pool import ClusterError
from valle_studio.cluster.progress import ClusterProgress
from valle_studio.cluster.session import run_on_cluster
from valle_studio.engine.progress import CancelToken
from valle_studio.studio.voices import VoiceLibrary

pytestmark = pytest.mark.ray


def library(home: Path) -> VoiceLibrary:
    return VoiceLibrary(home / "data" / "voices")


class Killer:
    """Kills (SIGKILL) the worker that starts line ``victim``, up to ``times`` times."""

    def __init__(self, project: Any, victim: int, times: int = 1) -> None:
        self.project, self.victim, self.times = project, victim, times
        self.pool: Any = None
        self.killed: list[int] = []
        self.events: list[BatchEvent] = []

    def ready(self, pool: Any) -> None:
        self.pool = pool

    def __call__(self, event: BatchEvent) -> None:
        self.events.append(event)
        if event.kind != ROW_STARTED or event.index != self.victim or len(self.killed) >= self.times:
            return
        worker = next(w for w in self.pool.workers if w.row_id == event.row_id)
        os.kill(worker.info.pid, signal.SIGKILL)  # a real crash: no clean-up of ours runs
        self.killed.append(worker.info.pid)


@pytest.mark.parametrize("retries", [1, 0])
def test_a_worker_killed_mid_line(ray_address: str, cluster_home: Path, tiny_tokenizer: Path, tmp_path: Path,
                                  retries: int) -> None:
    project = make_project(tmp_path / "p", 5)
    killer = Killer(project, victim=1)
    progress: list[ClusterProgress] = []
    with project:
        summary = run_on_cluster(project, [r.id for r in project.rows], spec=worker_spec(cluster_home, tiny_tokenizer),
                                 options=ClusterOptions(workers=2, cpus=1, retries=retries), pool_ready=killer.ready,
                                 voices=library(cluster_home), on_event=killer, on_workers=progress.append)
        statuses = [project.status(r) for r in project.rows]
        victim = project.rows[1]
    assert len(killer.killed) == 1
    if retries:  # another worker did the line: every line is done, the victim with one take
        assert statuses == [DONE] * 5 and summary.ok
        assert len(victim.takes) == 1
    else:  # marked failed with the reason; the other lines are done
        assert statuses == [DONE, FAILED, DONE, DONE, DONE]
        assert "the Ray worker running this line died" in victim.error and victim.error == summary.failed[victim.id]
        assert [e.kind for e in killer.events if e.index == 1][-1] == ROW_FAILED
    # The dead worker was replaced, and the progress said so per worker.
    last = progress[-1]
    assert last.done == (5 if retries else 4) and last.failed == (0 if retries else 1) and last.left == 0
    assert [w.state for w in last.workers].count("dead") == 1 and len(last.workers) == 3
    assert sum(w.done for w in last.workers) == last.done
    assert last.lines_per_minute > 0
    assert len(list((tmp_path / "p" / "takes").iterdir())) == (5 if retries else 4)


def test_a_line_that_fails_on_a_worker_costs_that_line_only(ray_address: str, cluster_home: Path,
                                                             tiny_tokenizer: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 3)
    with project:
        project.update_row(project.rows[1].id, text="?! …")  # nothing to say: the worker's engine raises
        events: list[BatchEvent] = []
        summary = run_on_cluster(project, [r.id for r in project.rows], spec=worker_spec(cluster_home, tiny_tokenizer),
                                 options=ClusterOptions(workers=2, retries=3), voices=library(cluster_home),
                                 on_event=events.append)
        assert [project.status(r) for r in project.rows] == [DONE, FAILED, DONE]
        error = project.rows[1].error
    assert "there is nothing to say" in error and "Traceback" not in error  # the worker's own sentence
    assert summary.failed == {project.rows[1].id: error} and not summary.cancelled
    assert sum(e.kind == ROW_STARTED and e.index == 1 for e in events) == 1  # not retried: it is the line


def test_cancel_stops_the_cluster_work_and_leaves_lines_pending(ray_address: str, cluster_home: Path,
                                                                tiny_tokenizer: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 8)
    cancel = CancelToken()

    def on_event(event: BatchEvent) -> None:
        if event.kind == ROW_FINISHED:
            cancel.cancel()

    with project:
        summary = run_on_cluster(project, [r.id for r in project.rows], spec=worker_spec(cluster_home, tiny_tokenizer),
                                 options=ClusterOptions(workers=2), voices=library(cluster_home), cancel=cancel,
                                 on_event=on_event)
        statuses = [project.status(r) for r in project.rows]
        takes = sum(len(r.takes) for r in project.rows)
    assert summary.cancelled and 1 <= len(summary.finished) <= 3
    assert statuses.count(DONE) == len(summary.finished) == takes and statuses.count(PENDING) == 8 - takes
    assert len(list((tmp_path / "p" / "takes").iterdir())) == takes  # nothing half-written
    import ray

    assert ray.available_resources().get("CPU", 0) == pytest.approx(2, abs=0.01) or _released()  # workers gone


def _released() -> bool:
    import time

    import ray

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if ray.available_resources().get("CPU", 0) >= 2:
            return True
        time.sleep(0.1)
    return False


def test_a_model_the_workers_cannot_load_is_one_clear_error(ray_address: str, cluster_home: Path,
                                                            tiny_tokenizer: Path, tmp_path: Path) -> None:
    from valle_studio.cluster.options import ModelSpec

    project = make_project(tmp_path / "p", 2)
    spec = ModelSpec(str(tmp_path / "missing.sft"), str(tiny_tokenizer), "cpu", "float32")
    with project, pytest.raises(ClusterError, match="a Ray worker could not load the model"):
        run_on_cluster(project, [r.id for r in project.rows], spec=spec, options=ClusterOptions(workers=2))
    assert not any(r.takes or r.error for r in project.rows)


def test_too_many_workers_for_this_machine_is_refused(ray_address: str, cluster_home: Path, tiny_tokenizer: Path,
                                                      tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 1)
    with project, pytest.raises(ClusterError, match="too few resources"):
        run_on_cluster(project, [project.rows[0].id], spec=worker_spec(cluster_home, tiny_tokenizer),
                       options=ClusterOptions(workers=3, cpus=1))


def test_pause_holds_back_new_lines_until_resumed(ray_address: str, cluster_home: Path, tiny_tokenizer: Path,
                                                  tmp_path: Path) -> None:
    import threading
    import time

    from valle_studio.batch.runner import PAUSED, RESUMED, PauseGate

    project = make_project(tmp_path / "p", 3)
    gate = PauseGate()
    gate.pause()
    events: list[BatchEvent] = []
    ready = threading.Event()
    result: list[Any] = []
    with project:
        thread = threading.Thread(target=lambda: result.append(run_on_cluster(
            project, [r.id for r in project.rows], spec=worker_spec(cluster_home, tiny_tokenizer),
            options=ClusterOptions(workers=2), voices=library(cluster_home), gate=gate, on_event=events.append,
            pool_ready=lambda _pool: ready.set())))
        thread.start()
        assert ready.wait(120)
        time.sleep(1.0)  # the workers are ready, the run is paused: no line is handed out
        assert [e.kind for e in events] == [PAUSED]
        gate.resume()
        thread.join(120)
        assert result and result[0].ok and len(result[0].finished) == 3
        assert [e.kind for e in events][:2] == [PAUSED, RESUMED]
        assert all(project.status(r) == DONE for r in project.rows)
