"""The one output-commit step: every output of a run appears together, or none does, and no input is hit.

A run that writes several files (``synth --out take.wav --out-codes take.npy``) must not leave half of
them: with the first file replaced and the second refused (a full disk), the user's old ``take.wav``
would be gone for nothing. :func:`commit` therefore works in three steps:

1. **Check** every target before anything is written: two outputs may not name one file, no output may
   be one of the run's inputs (a reference clip, a script, a model: :class:`InputOverwriteError`), and
   each target must be something a file can replace (its folder exists, it is not a device or a pipe).
2. **Stage** every output into its own temporary file beside its target (the atomic writer's first
   half, :func:`~valle_studio.core.atomic.write_temp`). If one fails, every temporary file is removed and
   no target has been touched.
3. **Replace** the targets, one ``os.replace`` each. An existing target is first hard-linked to a
   backup name, so that if a later rename fails the earlier ones are rolled back to the old content
   (where the file system has no hard links, the rename alone is the guarantee, as for one file).

Interrupting (Ctrl+C, or SIGTERM turned into an exception by the CLI) at any point leaves either the
old files or the new ones, and no temporary file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from valle_studio.core.atomic import fsync_folder, temp_name, translate_os_error, write_temp

Writer = Callable[[Path], None]


class InputOverwriteError(ValueError):
    """An output names a file the run reads (or another output); nothing was written.

    ``path`` is the output, ``flag`` the option that named it, ``other`` the input's description.
    """

    def __init__(self, path: Path, flag: str, other: str) -> None:
        who = f"{flag} {path}" if flag else str(path)
        super().__init__(f"{who} is {other}; writing it would destroy that file. Choose another output name")
        self.path = path
        self.flag = flag
        self.other = other


@dataclass(frozen=True)
class Output:
    """One file to write: the target, its content (bytes, or a writer of the temporary path), and the
    option that named it (for messages)."""

    path: Path
    data: bytes | Writer
    flag: str = ""


@dataclass(frozen=True)
class Input:
    """A file the run reads and must never overwrite, with the option that named it."""

    path: Path
    flag: str = ""


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode when both exist (links, ``./x`` and ``x``), else
    the same absolute path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_outputs(outputs: Sequence[Output], inputs: Iterable[Input] = ()) -> None:
    """Step 1 of :func:`commit` on its own, so that a run can refuse before its work starts.

    Raises:
        InputOverwriteError: an output is an input, or two outputs are one file.
    """
    inputs = list(inputs)
    for index, output in enumerate(outputs):
        for source in inputs:
            if same_file(output.path, source.path):
                named = f"the file given to {source.flag}" if source.flag else "one of the files this run reads"
                raise InputOverwriteError(output.path, output.flag, named)
        for earlier in outputs[:index]:
            if same_file(output.path, earlier.path):
                named = f"also the output of {earlier.flag}" if earlier.flag else "another output of this run"
                raise InputOverwriteError(output.path, output.flag, named)


def commit(outputs: Sequence[Output], inputs: Iterable[Input] = ()) -> list[Path]:
    """Write every output atomically and together (see the module docstring); returns the paths.

    Raises:
        InputOverwriteError: an output is an input or another output (nothing written).
        AtomicWriteError: an output could not be written (its subclasses say why; nothing replaced).
    """
    check_outputs(outputs, inputs)
    staged: list[tuple[Output, Path]] = []
    try:
        for output in outputs:
            staged.append((output, write_temp(output.path, output.data)))
        _replace_all(staged)
    except BaseException:
        for _output, temp in staged:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise
    for folder in dict.fromkeys(output.path.parent for output in outputs):
        fsync_folder(folder)
    return [output.path for output in outputs]


def _backup(path: Path) -> Path | None:
    """A hard link to the existing ``path`` under a temporary name; None when absent or impossible."""
    if not path.exists():
        return None
    backup = path.with_name(temp_name(path.name, secrets.token_hex(4)))
    try:
        os.link(path, backup)
    except OSError:
        return None  # no hard links here (FAT, some network shares): no roll-back for this file
    return backup


def _replace_all(staged: Sequence[tuple[Output, Path]]) -> None:
    """Step 3: move every temporary file over its target, rolling earlier ones back if one fails."""
    done: list[tuple[Path, Path | None, bool]] = []  # (target, backup, existed)
    backups: list[Path] = []
    try:
        for output, temp in staged:
            existed = output.path.exists()
            backup = _backup(output.path)
            if backup is not None:
                backups.append(backup)
            try:
                os.replace(temp, output.path)
            except OSError as exc:
                raise translate_os_error(exc, output.path) from exc
            done.append((output.path, backup, existed))
    except BaseException:
        for target, backup, existed in reversed(done):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                elif not existed:
                    os.unlink(target)
        raise
    finally:
        for backup in backups:
            with contextlib.suppress(OSError):
                os.unlink(backup)


__all__ = ["Input", "InputOverwriteError", "Output", "check_outputs", "commit", "same_file"]
