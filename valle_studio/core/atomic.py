"""The project's one atomic-write function: a file is either fully replaced or left as it was.

Every file VALL-E Studio saves (audio, JSON settings, history, voices) goes through
:func:`atomic_write`: the content is written to a temporary file in the target's own folder,
flushed to disk with ``fsync``, then moved over the target with ``os.replace`` (atomic on the
same file system). A crash, an exception or Ctrl-C while writing leaves no partial target and no
temporary file behind.

Failures are raised as :class:`AtomicWriteError` subclasses whose message names the file and says
what is wrong in plain words (folder missing, folder read-only, disk full).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

Writer = Callable[[Path], None]

_READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}
_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NEARLY_FULL_BYTES = 1 << 20  # a writer that fails with less than this left free ran out of space


class AtomicWriteError(OSError):
    """Saving a file failed; ``path`` is the target and ``str(err)`` a message for the user."""

    def __init__(self, code: int, message: str, path: Path) -> None:
        super().__init__(code, message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return self.message


class FolderMissingError(AtomicWriteError, FileNotFoundError):
    """The folder that should hold the file does not exist."""


class ReadOnlyFolderError(AtomicWriteError, PermissionError):
    """The folder (or the existing file) cannot be written to."""


class DiskFullError(AtomicWriteError):
    """No space (or quota) left on the device while writing."""


def _translate(exc: OSError, path: Path) -> AtomicWriteError:
    """Map a low-level ``OSError`` onto the matching :class:`AtomicWriteError` with a clear message."""
    code = exc.errno or 0
    folder = path.parent
    if code in _DISK_FULL_ERRNOS:
        return _disk_full_error(path)
    if code in _READ_ONLY_ERRNOS:
        return ReadOnlyFolderError(code, f"Cannot save '{path}': the folder '{folder}' is read-only or "
                                         f"you lack permission to write there.", path)
    if code == errno.ENOENT and not folder.is_dir():
        return FolderMissingError(code, f"Cannot save '{path}': the folder '{folder}' does not exist.", path)
    reason = exc.strerror or str(exc)
    return AtomicWriteError(code, f"Cannot save '{path}': {reason}.", path)


def _disk_full_error(path: Path) -> DiskFullError:
    return DiskFullError(errno.ENOSPC, f"Cannot save '{path}': the disk is full (no space left on the device "
                                       f"holding '{path.parent}'). Free some space and try again.", path)


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def _check_target(path: Path) -> None:
    """Refuse a target whose folder is missing or not a folder, or that is itself a folder."""
    folder = path.parent
    if not folder.is_dir():
        if folder.exists():
            raise AtomicWriteError(errno.ENOTDIR, f"Cannot save '{path}': '{folder}' is not a folder.", path)
        raise FolderMissingError(errno.ENOENT, f"Cannot save '{path}': the folder '{folder}' does not exist.",
                                 path)
    if path.is_dir():
        raise AtomicWriteError(errno.EISDIR, f"Cannot save '{path}': a folder of that name exists.", path)


def _create_temp(path: Path) -> tuple[int, Path]:
    """Open a new, unique temporary file beside ``path``; the OS applies the umask to mode 0o666."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise AtomicWriteError(errno.EEXIST, f"Cannot save '{path}': could not create a temporary file.", path)


def _fsync_file(temp: Path) -> None:
    # "rb+" rather than read-only: Windows refuses to flush a handle opened without write access.
    with open(temp, "rb+") as handle:
        os.fsync(handle.fileno())


def fsync_folder(folder: Path) -> None:
    """Persist the rename itself (POSIX); best effort, not possible on Windows."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: Writer | bytes | str, *,
                 encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    ``data`` is the content (``bytes``, or ``str`` encoded with ``encoding``, newlines untouched)
    or a callable that writes the file whose path it is given (for example
    ``lambda p: soundfile.write(p, samples, sr, format="WAV")``); the temporary path has no
    meaningful extension, so such writers must name their format explicitly.

    The mode of an existing target is kept; a new file gets the usual umask-derived mode.

    Raises:
        FolderMissingError: the parent folder does not exist.
        ReadOnlyFolderError: the folder or file is not writable.
        DiskFullError: the device ran out of space.
        AtomicWriteError: any other OS failure while saving.
        An ``OSError`` raised by a writer callable is translated the same way; any other exception
        it raises (including ``KeyboardInterrupt``) passes through unchanged, after clean-up.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode(encoding)
    folder = path.parent
    _check_target(path)

    try:
        fd, temp = _create_temp(path)
    except AtomicWriteError:
        raise
    except OSError as exc:
        raise _translate(exc, path) from exc

    try:
        try:
            if isinstance(data, bytes):
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            else:
                os.close(fd)
                try:
                    data(temp)
                except OSError:
                    raise
                except Exception as exc:
                    # Libraries writing through C (libsndfile: "System error.") do not say the disk is
                    # full; the free space, checked while the temporary file still takes it, does.
                    if _nearly_full(folder):
                        raise _disk_full_error(path) from exc
                    raise
                _fsync_file(temp)
            with contextlib.suppress(OSError):
                os.chmod(temp, os.stat(path).st_mode & 0o7777)
            os.replace(temp, path)
        except OSError as exc:
            if isinstance(exc, AtomicWriteError):
                raise
            raise _translate(exc, path) from exc
    except BaseException:
        # Also on KeyboardInterrupt: never leave the temporary file behind.
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_folder(folder)
    return path


def ensure_writable(path: str | os.PathLike[str]) -> Path:
    """Check now that ``path`` could be saved: its folder exists and accepts a new file.

    Creates and removes an empty temporary file beside ``path`` (the target is not touched), so a
    read-only or missing folder is reported before minutes of work rather than after. Raises the same
    errors as :func:`atomic_write`; returns the path.
    """
    path = Path(path)
    _check_target(path)
    try:
        fd, temp = _create_temp(path)
    except AtomicWriteError:
        raise
    except OSError as exc:
        raise _translate(exc, path) from exc
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(temp)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Atomically write ``text`` (encoded with ``encoding``, newlines written as given)."""
    if not isinstance(text, str):
        raise TypeError(f"atomic_write_text({path!s}): text must be str, not {type(text).__name__}")
    return atomic_write(path, text, encoding=encoding)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2,
                      sort_keys: bool = False) -> Path:
    """Atomically write ``obj`` as UTF-8 JSON with a trailing newline.

    The object is serialised before anything touches the disk, so a value JSON cannot encode raises
    ``TypeError``/``ValueError`` and leaves the old file intact. NaN and infinity are refused
    because they are not valid JSON.
    """
    text = json.dumps(obj, indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False)
    return atomic_write(path, text + "\n", encoding="utf-8")
