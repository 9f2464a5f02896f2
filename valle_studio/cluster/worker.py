"""One Ray worker: loads the model once, then generates one batch line at a time for the driver.

:class:`LineWorker` is a plain class; :mod:`valle_studio.cluster.pool` makes it a Ray actor with the
CPUs/GPUs it reserves and a second concurrent slot, so the driver can ask how far the current line is
(:meth:`LineWorker.progress`) or stop it (:meth:`LineWorker.cancel`) while :meth:`LineWorker.generate`
runs. A line runs exactly the loop of the in-process batch: the same request
(:func:`~valle_studio.batch.runner.line_request`), best-of-N with the quality check
(:func:`~valle_studio.engine.quality.best_of.run_best_of`) on the worker; the candidates go back whole
and the driver stores them. A model that fails to load is said by every call, as one sentence.

Torch uses as many threads as the worker has whole CPUs (``threads``): with the same thread count,
device and precision as an in-process run, a line comes out bit for bit the same.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from valle_studio.batch.runner import LineSnapshot, VoicePrompts, line_request, row_fraction
from valle_studio.cluster.options import ModelSpec
from valle_studio.engine.progress import CancelToken, Progress
from valle_studio.engine.quality.best_of import Candidates, run_best_of
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.requests import PromptSource
from valle_studio.errors import describe

if TYPE_CHECKING:
    from valle_studio.engine.text.lexicon import Lexicon


@dataclass(frozen=True)
class WorkerInfo:
    """Where a worker runs and what it loaded."""

    node: str  # the Ray node id (shortened)
    host: str
    pid: int
    model: str
    device: str


@dataclass(frozen=True)
class LineJob:
    """One line for a worker: the row's snapshot, its merged lexicon and the best-of options."""

    row_id: str
    line: LineSnapshot
    lexicon: Lexicon | None
    quality: QualityOptions


@dataclass(frozen=True)
class LineProgress:
    """How far a worker's current line is (``row_id`` "" when it is idle)."""

    row_id: str
    fraction: float
    text: str


class LineWorker:
    """See the module docstring. ``threads``: torch's thread count in this worker."""

    def __init__(self, spec: ModelSpec, threads: int) -> None:
        os.environ.update(spec.env)
        self._error = ""
        self._cancel = CancelToken()
        self._lock = threading.Lock()
        self._progress = LineProgress("", 0.0, "")
        try:
            import torch

            torch.set_num_threads(max(1, threads))
            from pathlib import Path

            from valle_studio.engine.synthesizer import Synthesizer

            self._synth = Synthesizer.load(spec.model, device=spec.device, dtype=spec.dtype,
                                           tokenizer=Path(spec.tokenizer) if spec.tokenizer else None,
                                           legacy_summing=spec.legacy_summing)
            self._synth.codec(required=True)
        except Exception as exc:  # said by every call: the driver reports it once, as one sentence
            self._error = f"a Ray worker could not load the model: {describe(exc)}"

    def _check(self) -> None:
        if self._error:
            raise RuntimeError(self._error)

    def hello(self) -> WorkerInfo:
        """Where this worker runs (raises when its model did not load)."""
        self._check()
        node = ""
        try:
            import ray

            node = ray.get_runtime_context().get_node_id()[:8]
        except Exception:  # outside Ray (a unit test): no node
            node = ""
        info = self._synth.info
        return WorkerInfo(node, socket.gethostname(), os.getpid(), str(info.name), str(info.device))

    def encode(self, sources: Sequence[PromptSource]) -> np.ndarray | None:
        """A voice's clips checked and encoded, as the in-process runner encodes them."""
        self._check()
        return self._synth.encode_prompts(sources) if sources else None

    def generate(self, job: LineJob, prompts: VoicePrompts) -> Candidates:
        """Every candidate of one line (best-of-N, each checked); raises what the line raised."""
        self._check()
        with self._lock:
            self._cancel = CancelToken()
            self._progress = LineProgress(job.row_id, 0.0, "")
        cancel = self._cancel

        def on_progress(event: Progress) -> None:
            with self._lock:
                shown = max(self._progress.fraction, row_fraction(event))
                self._progress = LineProgress(job.row_id, shown, event.text)

        try:
            return run_best_of(self._synth, line_request(job.line, prompts, job.lexicon), job.quality,
                               progress=on_progress, cancel=cancel)
        finally:
            with self._lock:
                self._progress = LineProgress("", 0.0, "")

    def progress(self) -> LineProgress:
        with self._lock:
            return self._progress

    def cancel(self) -> None:
        """Stop the current line at its next model step (it then raises ``Cancelled``)."""
        with self._lock:
            self._cancel.cancel()

    def pid(self) -> int:
        return os.getpid()


__all__ = ["LineJob", "LineProgress", "LineWorker", "WorkerInfo"]
