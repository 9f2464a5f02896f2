"""The one error-translation layer: any exception becomes one sentence a person can act on.

The CLI (``cli/dispatch.py``, a failed batch line) and the GUI's dialogs call :func:`describe`. It turns

* our own errors (they already carry a clear sentence) into that sentence, on one line;
* settings errors into the words of the front end: the CLI flag or the GUI label, derived from the
  settings' one declaration (``engine/settings.py``), never a field name such as ``duration_frames``;
* OS errors (``[Errno 28] No space left on device: 'x'``) into what happened to which file, by errno;
* a few library messages that mean nothing to a user (numpy's "No data left in file", torch's
  "probability tensor contains either inf, nan or element < 0") into what they mean;
* running out of memory into advice naming the settings that help.

When the caller says which option named which file (:class:`FileFlags`), the sentence names the option
the user typed next to the file (``--prompt voice.npy is a named pipe ...``).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from valle_studio.engine.settings import SPECS, SettingsError, gui_message

_SPLIT, _DURATION, _STEPS = SPECS["split"], SPECS["max_duration"], SPECS["max_steps"]
#: What to try after running out of memory, in the words of each front end (flags and labels from the specs).
OOM_ADVICE_CLI = (f"try a shorter text (or {_SPLIT.cli_flag} sentences), a lower {_DURATION.cli_flag}, "
                  f"fewer {_STEPS.cli_flag}, or --dtype float16 on a GPU")
OOM_ADVICE_GUI = (f"try a shorter text (or split it into sentences), a lower {_DURATION.title}, "
                  f"fewer {_STEPS.title}, or half precision (float16) on a GPU in the model manager (Ctrl+M)")

#: errno -> what it means for the file it names ("{file}" is filled in), in plain words.
_OS_ERRORS: dict[int, str] = {
    errno.ENOSPC: "the disk is full (no space left on the device holding {file}); free some space and try again",
    getattr(errno, "EDQUOT", errno.ENOSPC): "the disk quota is used up while writing {file}; free some space",
    errno.EROFS: "{file} is on a read-only file system (a mounted image, a locked card, a read-only share)",
    errno.EACCES: "permission denied: {file}",
    errno.EPERM: "the operation is not permitted on {file}",
    errno.ENOENT: "file not found: {file}",
    errno.EISDIR: "{file} is a folder, not a file",
    errno.ENOTDIR: "a part of the path {file} is not a folder",
    errno.ENAMETOOLONG: "the file name {file} is too long (file systems allow at most 255 bytes per name)",
    errno.EMFILE: "too many files are open; close other programs and try again",
    errno.ENFILE: "too many files are open on this system; try again later",
    errno.EIO: "input/output error on {file} (a failing disk, or a drive or share that went away?)",
    errno.ENXIO: "{file} is a device that is not there",
    errno.ENODEV: "{file} is on a device that does not support this",
    errno.EEXIST: "{file} already exists",
    errno.ETXTBSY: "{file} is in use by a running program",
}
_BROKEN_PIPE = ("the program reading this output closed it before everything was written (broken pipe); "
                "nothing more was sent")
#: Library messages that name no cause a user could act on -> what they mean.
_LIBRARY_TEXTS = (
    ("no data left in file", "the file ends early: it is empty or truncated"),
    ("probability tensor contains either", "the sampler met invalid numbers (NaN or infinity): the model's "
                                           "weights are damaged or the settings are extreme"),
)


@dataclass(frozen=True)
class FileFlags:
    """Which command-line option named which file: ``(flag, path as typed)`` pairs, in command-line order.

    Lets :func:`describe` name the option next to the file an error is about.
    """

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, object]]) -> FileFlags:
        """From ``(flag, value)`` pairs; values that are not paths, empty or ``-`` (stdout) are left out."""
        kept = tuple((flag, os.fspath(value)) for flag, value in pairs
                     if isinstance(value, (str, os.PathLike)) and os.fspath(value) not in ("", "-"))
        return cls(kept)

    def flag_for(self, path: str | os.PathLike[str]) -> str | None:
        """The flag that named ``path`` (the same file by its path or its absolute path), or None."""
        wanted = os.path.abspath(os.fspath(path))
        return next((flag for flag, given in self.pairs if os.path.abspath(given) == wanted), None)

    def spellings(self) -> list[tuple[str, str]]:
        """``(flag, text)`` for every way a message may write a named file: as typed, normalised,
        absolute, and the bare file name when only one named file has it. Longest first."""
        names = [Path(given).name for _flag, given in self.pairs]
        found: list[tuple[str, str]] = []
        for flag, given in self.pairs:
            forms = {given, str(Path(given)), os.path.abspath(given)}
            name = Path(given).name
            if names.count(name) == 1:
                forms.add(name)
            # A spelling must look like a path (a folder part or an extension): a folder called "out"
            # must not be found in "is out of range".
            found += [(flag, form) for form in forms if form and ("." in form or os.sep in form or "/" in form)]
        return sorted(found, key=lambda pair: -len(pair[1]))


def is_out_of_memory(exc: BaseException) -> bool:
    """``MemoryError``, torch's ``OutOfMemoryError`` (CUDA, MPS) or an allocator failure saying so."""
    if isinstance(exc, MemoryError):
        return True
    kind = type(exc).__name__
    text = str(exc).lower()
    # torch's CPU allocator: "DefaultCPUAllocator: can't allocate memory: you tried to allocate ..."
    return kind == "OutOfMemoryError" or any(
        phrase in text for phrase in ("out of memory", "can't allocate memory", "cannot allocate memory"))


def settings_message(exc: SettingsError, *, gui: bool = False, given: object = None) -> str:
    """A refused setting in the front end's words: ``--duration 0 is out of range: must be between 1 and
    9000 frames`` (the value shown when ``given``), or the GUI label (``Fixed length: must be ...``)."""
    if gui:
        return gui_message(exc)
    spec = SPECS.get(exc.field)
    flag = spec.cli_flag if spec else exc.field
    if given is None:
        return f"{flag}: {exc.problem}"
    shown = f"{given:.15g}" if isinstance(given, float) else str(given)
    return f"{flag} {shown} is out of range: {exc.problem}"


def os_error_message(exc: OSError) -> str:
    """An ``OSError`` as what happened to which file; the OS's own words only for unknown errnos."""
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        return _BROKEN_PIPE
    filename = exc.filename if exc.filename is not None else exc.filename2
    file = os.fsdecode(filename) if isinstance(filename, (str, bytes, os.PathLike)) else "the file"
    template = _OS_ERRORS.get(exc.errno or 0)
    if template is not None:
        return template.format(file=file)
    reason = exc.strerror or type(exc).__name__
    return f"{reason}: {file}" if filename is not None else reason


def _raw_os_error(exc: BaseException) -> bool:
    """An ``OSError`` that still speaks in the OS's words (``[Errno 28] ...``): ours carry a sentence."""
    return isinstance(exc, OSError) and (str(exc).startswith("[Errno") or isinstance(exc, BrokenPipeError))


_BEFORE = " ('\"("
_AFTER = " '\":,;)"


def _mention(text: str, spelled: str) -> tuple[int, int] | None:
    """Where ``spelled`` stands in ``text`` as a whole path (quotes included), or None."""
    start = 0
    while (at := text.find(spelled, start)) >= 0:
        end = at + len(spelled)
        before_ok = at == 0 or text[at - 1] in _BEFORE
        after_ok = end == len(text) or text[end] in _AFTER or text[end:].startswith(". ")
        if before_ok and after_ok:
            if at > 0 and text[at - 1] in "'\"" and end < len(text) and text[end] == text[at - 1]:
                return at - 1, end + 1
            return at, end
        start = at + 1
    return None


def _name_flag(text: str, flags: FileFlags) -> str:
    """Put the option that named the file next to the file's first mention in ``text``."""
    if any(text.startswith(flag + " ") or f"({flag})" in text for flag, _given in flags.pairs):
        return text  # the message names its option itself
    for flag, spelled in flags.spellings():
        place = _mention(text, spelled)
        if place is None:
            continue
        start, end = place
        if start == 0:
            return f"{flag} {text}"
        return f"{text[:end]} ({flag}){text[end:]}"
    return text


def describe(exc: BaseException, *, gui: bool = False, flags: FileFlags | None = None) -> str:
    """A single-line human description of ``exc`` (see the module docstring).

    ``gui`` words settings and advice for the window instead of the CLI flags; ``flags`` says which
    option named which file, so that the sentence can name it.
    """
    if is_out_of_memory(exc):
        advice = OOM_ADVICE_GUI if gui else OOM_ADVICE_CLI
        return f"out of memory: {advice}"
    if isinstance(exc, SettingsError):
        text = settings_message(exc, gui=gui)
    elif _raw_os_error(exc):
        assert isinstance(exc, OSError)
        text = os_error_message(exc)
    elif isinstance(exc, UnicodeError):
        text = f"the text contains characters that cannot be used ({' '.join(str(exc).split())})"
    else:
        text = " ".join(str(exc).split()) or exc.__class__.__name__
        lowered = text.lower()
        for needle, meaning in _LIBRARY_TEXTS:
            if needle in lowered:
                text = meaning
                break
    if flags is not None and not gui:
        text = _name_flag(text, flags)
    return text


__all__ = ["OOM_ADVICE_CLI", "OOM_ADVICE_GUI", "FileFlags", "describe", "is_out_of_memory", "os_error_message",
           "settings_message"]
