"""Whether Ray is installed, and how to add it, without importing it (importing Ray takes a while)."""

from __future__ import annotations

import importlib.util

#: What the CLI flag and the Batch tab's option say when Ray is missing.
INSTALL_HINT = "Ray is not installed: add it with pip install 'valle-studio[cluster]' (or pip install 'ray[default]')"


class ClusterUnavailable(RuntimeError):
    """Ray is not installed (the message says how to add it)."""


def ray_available() -> bool:
    """True when ``import ray`` would find the package."""
    return importlib.util.find_spec("ray") is not None


def require_ray() -> None:
    """Raise :class:`ClusterUnavailable` with :data:`INSTALL_HINT` when Ray is missing."""
    if not ray_available():
        raise ClusterUnavailable(INSTALL_HINT)


__all__ = ["INSTALL_HINT", "ClusterUnavailable", "ray_available", "require_ray"]
