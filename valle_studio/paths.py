"""Where VALL-E Studio keeps its files: one place to ask, so tests and portable installs can redirect it.

Set ``VALLE_STUDIO_HOME`` to put every folder under one root (tests do this); otherwise the
platform's user folders from platformdirs are used. Each function creates its folder on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "VALL-E Studio"
APP_AUTHOR = "valle-studio"


def _folder(sub: str, platform_function: str) -> Path:
    """``$VALLE_STUDIO_HOME/<sub>`` when set, else ``platformdirs.<platform_function>(...)``; created."""
    root = os.environ.get("VALLE_STUDIO_HOME")
    if root:
        path = Path(root) / sub
    else:
        import platformdirs

        path = Path(getattr(platformdirs, platform_function)(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_data_dir() -> Path:
    """Models, voices, history."""
    return _folder("data", "user_data_dir")


def user_cache_dir() -> Path:
    """Re-creatable files such as partial downloads."""
    return _folder("cache", "user_cache_dir")


def user_log_dir() -> Path:
    """The rotating log file."""
    return _folder("logs", "user_log_dir")


def user_config_dir() -> Path:
    """The settings INI file."""
    return _folder("config", "user_config_dir")
