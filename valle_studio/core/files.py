"""Inputs that must be regular files: checked with ``stat`` before anything opens them.

Opening a named pipe (FIFO) for reading blocks until some other process writes to it, and a
character device such as ``/dev/zero`` or ``/dev/urandom`` never ends: handed to a reader that
expects a file, either one hangs the program or fills its memory. So every place that reads a file
the user named (a prompt, a script, a model, a tokenizer) first asks :func:`require_regular_file`,
which looks at the file's type without opening it and refuses anything but a regular file (symbolic
links are followed) in one sentence naming the file and what it is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: What each non-regular file type is called in messages.
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotARegularFileError(OSError):
    """``path`` exists but is a folder, a pipe, a device or a socket; ``str()`` is the user's sentence."""

    def __init__(self, path: Path, kind: str, what: str) -> None:
        super().__init__(errno.EINVAL, f"{path} is {kind}, not {what}", str(path))
        self.path = path
        self.kind = kind
        self.message = f"{path} is {kind}, not {what}"

    def __str__(self) -> str:
        return self.message


def kind_of_mode(mode: int) -> str:
    """``"a named pipe (FIFO)"``, ``"a character device"``, ... for an ``st_mode``; "a regular file" for one."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def require_regular_file(path: str | os.PathLike[str], what: str = "a regular file") -> Path:
    """Return ``path`` if it is a regular file (after following links); never opens it.

    ``what`` names the expected content for the message (``"an audio or .npy file"``).

    Raises:
        FileNotFoundError: nothing is there (``filename`` set, so messages can name it).
        NotARegularFileError: a folder, a named pipe, a device or a socket.
        OSError: the OS refused to look (permission on a parent folder, ...).
    """
    path = Path(path)
    mode = os.stat(path).st_mode  # FileNotFoundError / PermissionError carry the file name
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(path, kind_of_mode(mode), what)
    return path


__all__ = ["NotARegularFileError", "kind_of_mode", "require_regular_file"]
