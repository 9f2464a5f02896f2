"""One cluster run from start to end: connect, start the workers, run the lines, let everything go."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from valle_studio.batch.project import BatchProject
from valle_studio.batch.runner import RunSummary
from valle_studio.cluster.options import ClusterOptions, ModelSpec
from valle_studio.cluster.pool import WorkerPool, connect
from valle_studio.cluster.runner import ClusterRunner
from valle_studio.engine.progress import CancelToken


def run_on_cluster(project: BatchProject, row_ids: Sequence[str], *, spec: ModelSpec, options: ClusterOptions,
                   cancel: CancelToken | None = None, pool_ready: Any = None, **runner: Any) -> RunSummary:
    """Generate ``row_ids`` of ``project`` on the workers of ``options`` (``runner``: the
    :class:`~valle_studio.cluster.runner.ClusterRunner` keywords). The workers are stopped at the end, and
    Ray too when this call started it. ``pool_ready(pool)`` is called once the workers have loaded the
    model. Raises :class:`~valle_studio.cluster.pool.ClusterError` when the cluster cannot run the batch."""
    cancel = cancel or CancelToken()
    pool = WorkerPool(spec, options, started_ray=connect(options))
    try:
        pool.start(cancel)
        if pool_ready is not None:
            pool_ready(pool)
        return ClusterRunner(project, pool, retries=options.retries, cancel=cancel, **runner).run(row_ids)
    finally:
        pool.close()


__all__ = ["run_on_cluster"]
