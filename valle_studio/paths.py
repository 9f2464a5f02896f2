"""Where VALL-E Studio keeps its files: one place to ask, so tests and portable installs can redirect it.

Set ``VALLE_STUDIO_HOME`` to put every folder under one root (tests do this); otherwise the
platform's user folders from platformdirs are used.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "VALL-E Studio"
APP_AUTHOR = "valle-studio"


def _override(sub: str) -> Path | None:
    root = os.environ.get("VALLE_STUDIO_HOME")
    return Path(root) / sub if root else None


def user_data_dir() -> Path:
    """Models, voices, history (created on first use)."""
    import platformdirs

    path = _override("data") or Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_cache_dir() -> Path:
    """Re-creatable files such as partial downloads."""
    import platformdirs

    path = _override("cache") or Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_log_dir() -> Path:
    """The rotating log file."""
    import platformdirs

    path = _override("logs") or Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_config_dir() -> Path:
    """The settings INI file."""
    import platformdirs

    path = _override("config") or Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path
