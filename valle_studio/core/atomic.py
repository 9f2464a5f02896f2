"""The project's one atomic-write function: a file is either fully replaced or left as it was.

Every file VALL-E Studio saves (audio, JSON settings, history, voices) goes through
:func:`atomic_write`: the content is written to a temporary file in the target's own folder,
flushed to disk with ``fsync``, then moved over the target with ``os.replace`` (atomic on the
same file system). A crash, an exception or Ctrl-C while writing leaves no partial target and no
temporary file behind.

Failures are raised as :class:`AtomicWriteError` subclasses whose message names the file and says
what is wrong in plain words (folder missing, folder read-only, disk full, not a regular file).

Temporary files are named ``.<target name>.<8 hex digits>.tmp``, with the target's name shortened
where needed so that the temporary name never exceeds the 255 bytes a file name may have: any name
that is legal for the target is legal for its temporary file. :func:`is_temp_name` recognises them,
so a run killed with SIGKILL (which no clean-up survives) can have its leftovers swept later
(:func:`sweep_temp_files`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from valle_studio.core.files import kind_of_mode

Writer = Callable[[Path], None]

_READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM}
_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NEARLY_FULL_BYTES = 1 << 20  # a writer that fails with less than this left free ran out of space
#: The most bytes one file name may have (ext4, APFS, NTFS in UTF-16 units; UTF-8 bytes are the stricter count).
NAME_MAX_BYTES = 255
_TEMP_TAIL = ".{token}.tmp"
_TEMP_NAME = re.compile(r"^\.(?P<stem>.+)\.[0-9a-f]{8}\.tmp$", re.DOTALL)


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


def translate_os_error(exc: OSError, path: Path) -> AtomicWriteError:
    """Map a low-level ``OSError`` onto the matching :class:`AtomicWriteError` with a clear message."""
    code = exc.errno or 0
    folder = path.parent
    if code in _DISK_FULL_ERRNOS:
        return _disk_full_error(path)
    if code == errno.EROFS:
        return ReadOnlyFolderError(code, f"Cannot save '{path}': the folder '{folder}' is on a read-only "
                                         "file system (a mounted image, a locked card, a read-only share).", path)
    if code in _READ_ONLY_ERRNOS:
        return ReadOnlyFolderError(code, f"Cannot save '{path}': the folder '{folder}' is read-only or "
                                         f"you lack permission to write there.", path)
    if code == errno.ENAMETOOLONG:
        size = len(path.name.encode("utf-8"))
        return AtomicWriteError(code, f"Cannot save '{path}': the file name is {size} bytes long; file "
                                      f"systems allow at most {NAME_MAX_BYTES}.", path)
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


class SpecialTargetError(AtomicWriteError):
    """The target exists and is a device, a named pipe or a socket: replacing it with a file would
    destroy it (as root, ``--out /dev/null`` would replace the device node), writing into it is not
    atomic."""


def _check_target(path: Path) -> None:
    """Refuse a target whose folder is missing or not a folder, that is itself a folder, or that
    exists as something other than a regular file (a device, a named pipe, a socket)."""
    folder = path.parent
    if not folder.is_dir():
        if folder.exists():
            raise AtomicWriteError(errno.ENOTDIR, f"Cannot save '{path}': '{folder}' is not a folder.", path)
        raise FolderMissingError(errno.ENOENT, f"Cannot save '{path}': the folder '{folder}' does not exist.",
                                 path)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # absent (or a dangling link): a new file is made
    except OSError as exc:  # a name too long, a loop of links, no permission to look
        raise translate_os_error(exc, path) from exc
    if stat.S_ISDIR(mode):
        raise AtomicWriteError(errno.EISDIR, f"Cannot save '{path}': a folder of that name exists.", path)
    if not stat.S_ISREG(mode):
        raise SpecialTargetError(errno.EINVAL, f"Cannot save '{path}': it is {kind_of_mode(mode)}, not a "
                                                "regular file, and is never replaced.", path)


def temp_name(name: str, token: str) -> str:
    """The temporary file name for target ``name``: ``.<name>.<token>.tmp``, the name cut (at a
    character boundary) so that the whole stays within :data:`NAME_MAX_BYTES` bytes of UTF-8."""
    tail = _TEMP_TAIL.format(token=token)
    room = NAME_MAX_BYTES - 1 - len(tail.encode("utf-8"))
    stem = name.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return f".{stem}{tail}"


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary file name of :func:`temp_name` (of this or an earlier run)."""
    return _TEMP_NAME.match(name) is not None


def temp_target_prefix(name: str) -> str | None:
    """The (maybe shortened) target name a temporary file name stands for; None for other names."""
    match = _TEMP_NAME.match(name)
    return match.group("stem") if match else None


def sweep_temp_files(folder: str | os.PathLike[str], targets: Iterable[str] | None = None) -> list[str]:
    """Delete leftover temporary files of :func:`atomic_write` in ``folder``; returns their names.

    A run killed by SIGKILL (or a power cut) cannot clean up, so whoever owns the folder next sweeps it:
    with ``targets``, only the temporary files of those target names (the only files of the folder the
    caller is sure to own); without, every temporary file of this writer's pattern. Nothing but regular
    files of that exact pattern is ever removed.
    """
    wanted = None if targets is None else list(targets)
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        stem = temp_target_prefix(entry.name)
        if stem is None or not entry.is_file(follow_symlinks=False):
            continue
        if wanted is not None and not any(_stands_for(entry.name, stem, target) for target in wanted):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(entry.name)
    return removed


def _stands_for(temp: str, stem: str, target: str) -> bool:
    """Whether temporary file ``temp`` (whose target part is ``stem``) was made for ``target``: the same
    name, or a name :func:`temp_name` had to shorten to ``stem`` (only then is the name at its limit)."""
    if stem == target:
        return True
    shortened = len(temp.encode("utf-8")) > NAME_MAX_BYTES - 4  # cut at a character boundary: up to 3 short
    return shortened and target.encode("utf-8").startswith(stem.encode("utf-8"))


def _create_temp(path: Path) -> tuple[int, Path]:
    """Open a new, unique temporary file beside ``path``; the OS applies the umask to mode 0o666."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = path.with_name(temp_name(path.name, secrets.token_hex(4)))
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

    The mode of an existing target is kept; a new file gets the usual umask-derived mode. Several
    files that must appear together (or not at all) go through :func:`valle_studio.core.commit.commit`.

    Raises:
        FolderMissingError: the parent folder does not exist.
        ReadOnlyFolderError: the folder or file is not writable.
        DiskFullError: the device ran out of space.
        SpecialTargetError: the target is a device, a named pipe or a socket.
        AtomicWriteError: any other OS failure while saving.
        An ``OSError`` raised by a writer callable is translated the same way; any other exception
        it raises (including ``KeyboardInterrupt``) passes through unchanged, after clean-up.
    """
    path = Path(path)
    temp = write_temp(path, data, encoding=encoding)
    try:
        try:
            os.replace(temp, path)
        except OSError as exc:
            raise translate_os_error(exc, path) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_folder(path.parent)
    return path


def write_temp(path: str | os.PathLike[str], data: Writer | bytes | str, *, encoding: str = "utf-8") -> Path:
    """The first half of :func:`atomic_write`: ``data`` written and flushed to a new temporary file
    beside ``path`` (which is checked but not touched); returns the temporary file's path.

    The caller moves it over ``path`` with ``os.replace`` or deletes it. On any failure (also
    ``KeyboardInterrupt`` or a signal turned into an exception) the temporary file is already gone.
    Raises what :func:`atomic_write` raises.
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
        raise translate_os_error(exc, path) from exc

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
        except OSError as exc:
            if isinstance(exc, AtomicWriteError):
                raise
            raise translate_os_error(exc, path) from exc
    except BaseException:
        # Also on KeyboardInterrupt: never leave the temporary file behind.
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


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
        raise translate_os_error(exc, path) from exc
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
