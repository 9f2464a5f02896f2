"""How a batch runs on Ray: where the cluster is, how many workers with what each, and the model they load.

Plain data, no Ray import: the CLI and the Batch tab build these before anything heavy loads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: Environment variables a worker gets from the driver when they are set there: the app's own folder
#: (where the model store finds the codec and installed models) and the espeak-ng data it uses.
FORWARDED_ENV = ("VALLE_STUDIO_HOME", "ESPEAK_DATA_PATH", "PHONEMIZER_ESPEAK_LIBRARY")
LOCAL = ""  # the address of "a local Ray instance started for this batch"
AUTO = "auto"  # the cluster this machine belongs to (``ray start`` ran here)


class ClusterOptionsError(ValueError):
    """A cluster option out of range (the message names it)."""


@dataclass(frozen=True)
class ClusterOptions:
    """``address``: "" for a local instance, ``auto``, or a head's address (``host:6379``, ``ray://host:10001``).
    ``workers`` actors each reserve ``cpus`` CPUs and ``gpus`` GPUs; a dead worker's line is retried up to
    ``retries`` times on another worker before it is marked failed. ``start_timeout_s``: how long the workers
    may take to start and load the model."""

    address: str = LOCAL
    workers: int = 2
    cpus: float = 1.0
    gpus: float = 0.0
    retries: int = 1
    start_timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= 1024:
            raise ClusterOptionsError("the number of Ray workers must be between 1 and 1024")
        if not 0 < self.cpus <= 512:
            raise ClusterOptionsError("CPUs per Ray worker must be above 0 (and at most 512)")
        if not 0 <= self.gpus <= 64:
            raise ClusterOptionsError("GPUs per Ray worker must be between 0 and 64")
        if not 0 <= self.retries <= 100:
            raise ClusterOptionsError("Ray retries must be between 0 and 100")

    @property
    def threads(self) -> int:
        """Torch threads of each worker: its whole CPUs (at least one)."""
        return max(1, int(self.cpus))

    def where(self) -> str:
        """The cluster in words, for messages."""
        if self.address == LOCAL:
            return "a local Ray instance"
        if self.address == AUTO:
            return "the Ray cluster of this machine"
        return f"the Ray cluster at {self.address}"


@dataclass(frozen=True)
class ModelSpec:
    """What each worker loads: the model (path or installed name), its tokenizer, device and precision,
    the embedding-sums rule, and the environment it needs (see :data:`FORWARDED_ENV`)."""

    model: str
    tokenizer: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    legacy_summing: bool | None = None
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def here(cls, model: str, *, tokenizer: str | None = None, device: str = "auto", dtype: str = "auto",
             legacy_summing: bool | None = None) -> ModelSpec:
        """A spec whose ``env`` carries this process's :data:`FORWARDED_ENV` variables."""
        env = {name: os.environ[name] for name in FORWARDED_ENV if os.environ.get(name)}
        return cls(model, tokenizer, device, dtype, legacy_summing, env)


__all__ = ["AUTO", "FORWARDED_ENV", "LOCAL", "ClusterOptions", "ClusterOptionsError", "ModelSpec"]
