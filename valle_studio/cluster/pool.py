"""The workers of one cluster run: connecting to Ray, starting actors, replacing dead ones, letting go.

:func:`connect` joins the cluster the options name (or starts a local instance, or reuses the connection
this process already has) and says whether this run started Ray, so :meth:`WorkerPool.close` knows what
to shut down. :meth:`WorkerPool.start` creates the actors and waits until each has loaded the model: a
model that cannot load is one clear error before any line runs. A worker that dies later is replaced by a
fresh one (in the background: its start-up is watched with the lines), at most ``workers`` times a run.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from valle_studio.cluster.availability import require_ray
from valle_studio.cluster.options import LOCAL, ClusterOptions, ModelSpec
from valle_studio.cluster.worker import LineWorker, WorkerInfo
from valle_studio.engine.progress import CancelToken

log = logging.getLogger(__name__)

IDLE, BUSY, STARTING, DEAD = "idle", "running", "starting", "dead"


class ClusterError(RuntimeError):
    """The cluster cannot run the batch (no connection, no resources, a model that does not load)."""


@dataclass
class Worker:
    """One actor of the pool and what it did this run."""

    name: str
    actor: Any
    info: WorkerInfo | None = None
    state: str = STARTING
    done: int = 0
    failed: int = 0
    row_id: str = ""  # the line it runs now
    fraction: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def where(self) -> str:
        if self.info is None:
            return self.name
        return f"{self.name} ({self.info.host}, node {self.info.node}, pid {self.info.pid})"


def connect(options: ClusterOptions) -> bool:
    """Join the cluster of ``options`` (see the module docstring); True when this call started Ray."""
    require_ray()
    import ray

    if ray.is_initialized():
        return False
    try:
        if options.address == LOCAL:
            ray.init(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(address=options.address, logging_level=logging.WARNING, log_to_driver=False)
    except Exception as exc:
        raise ClusterError(f"cannot reach {options.where()}: {' '.join(str(exc).split())[:300]}") from exc
    return True


def error_text(exc: BaseException) -> str:
    """The sentence inside a Ray error: the worker's own exception when there is one."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return str(cause) or type(cause).__name__
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


class WorkerPool:
    """See the module docstring. ``started_ray``: :func:`connect`'s answer (``close`` then shuts Ray down)."""

    def __init__(self, spec: ModelSpec, options: ClusterOptions, *, started_ray: bool = False) -> None:
        import ray

        self.spec = spec
        self.options = options
        self.started_ray = started_ray
        self.workers: list[Worker] = []
        self.replacements = 0
        self._first_error = ""  # why the first worker that did not start did not
        self._numbers = itertools.count(1)
        self._remote = ray.remote(LineWorker).options(num_cpus=options.cpus, num_gpus=options.gpus,
                                                      max_concurrency=2, max_restarts=0)

    def _new(self) -> tuple[Worker, Any]:
        worker = Worker(f"worker {next(self._numbers)}", self._remote.remote(self.spec, self.options.threads))
        self.workers.append(worker)
        return worker, worker.actor.hello.remote()

    def start(self, cancel: CancelToken | None = None) -> None:
        """Create the workers and wait until every one has loaded the model (see the module docstring);
        raises ``Cancelled`` when ``cancel`` fires meanwhile."""
        import ray

        self._check_resources()
        pending = dict(self._new()[::-1] for _ in range(self.options.workers))
        deadline = time.monotonic() + self.options.start_timeout_s
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=1.0)
            for ref in ready:
                self.welcome(pending.pop(ref), ref)
            if cancel is not None:
                cancel.check()
            if not ready and time.monotonic() > deadline:
                raise ClusterError(f"the Ray workers did not start within {self.options.start_timeout_s:.0f} s "
                                   f"(does {self.options.where()} have {self._wanted()} free?)")
        if not self.alive():
            raise ClusterError(self._first_error or "no Ray worker started")

    def welcome(self, worker: Worker, hello: Any) -> bool:
        """Take a started worker's greeting; False (the worker is dead) when its model did not load."""
        import ray

        try:
            worker.info = ray.get(hello)
        except Exception as exc:
            worker.state = DEAD
            self._first_error = self._first_error or error_text(exc)
            log.warning("%s did not start: %s", worker.name, error_text(exc))
            return False
        worker.state = IDLE
        return True

    def replace(self, dead: Worker) -> tuple[Worker, Any] | None:
        """A fresh worker for a dead one (None once ``workers`` replacements were made this run)."""
        dead.state = DEAD
        if self.replacements >= self.options.workers:
            return None
        self.replacements += 1
        return self._new()

    def alive(self) -> list[Worker]:
        return [w for w in self.workers if w.state != DEAD]

    def idle(self) -> list[Worker]:
        return [w for w in self.workers if w.state == IDLE]

    def _wanted(self) -> str:
        o = self.options
        gpus = f" and {o.workers * o.gpus:g} GPU(s)" if o.gpus else ""
        return f"{o.workers * o.cpus:g} CPU(s){gpus}"

    def _check_resources(self) -> None:
        """A local instance that can never fit the workers is refused now, not after a long wait."""
        import ray

        have = ray.cluster_resources()
        short = [f"{name} {have.get(name, 0):g} of {need:g}" for name, need in
                 (("CPU", self.options.workers * self.options.cpus), ("GPU", self.options.workers * self.options.gpus))
                 if need and have.get(name, 0) < need]
        if short and self.options.address == LOCAL:
            raise ClusterError(f"this machine has too few resources for {self.options.workers} Ray worker(s): "
                               f"{', '.join(short)} (use fewer --ray-workers or less per worker)")
        if short:
            log.warning("the cluster has %s now; the workers wait until nodes join", ", ".join(short))

    def close(self) -> None:
        """Stop every worker (and Ray itself when this run started it)."""
        import ray

        for worker in self.workers:
            if worker.state != DEAD:
                try:
                    ray.kill(worker.actor)
                except Exception:  # already gone
                    log.debug("%s was already gone", worker.name)
            worker.state = DEAD
        if self.started_ray:
            ray.shutdown()


__all__ = ["BUSY", "DEAD", "IDLE", "STARTING", "ClusterError", "Worker", "WorkerPool", "connect", "error_text"]
