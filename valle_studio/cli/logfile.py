"""The CLI's log file: details (tracebacks, library warnings) go there, one line per problem to stderr.

Without a handler of its own, Python's logging prints WARNING records (with their tracebacks) straight
to stderr, and so do ``warnings.warn`` calls of the libraries (phonemizer's "words count mismatch",
torch's notices): a failed batch line would print a whole traceback, even with ``--quiet``. While a
command runs, :func:`cli_log` sends every record and warning to ``cli.log`` in the user's log folder
instead (opened only when something is logged), and the CLI tells the user where it is.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

LOG_NAME = "cli.log"
LOG_BYTES = 2 * 1024 * 1024
LOG_BACKUPS = 2


def log_path() -> Path | None:
    """Where the CLI logs, or None when the user's log folder cannot be made (read-only home)."""
    try:
        from valle_studio.paths import user_log_dir

        return user_log_dir() / LOG_NAME
    except OSError:
        return None


@contextlib.contextmanager
def cli_log() -> Iterator[Path | None]:
    """Route logging and warnings to the log file while inside; yields its path (None: no log file,
    and then the records are dropped rather than printed)."""
    path = log_path()
    handler: logging.Handler
    if path is not None:
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                                       encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    else:
        handler = logging.NullHandler()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        yield path
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


__all__ = ["LOG_NAME", "cli_log", "log_path"]
