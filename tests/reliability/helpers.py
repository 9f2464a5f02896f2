"""What the reliability tests share: running the CLI in-process, driving the main window, and checking
that a failure left nothing behind.

A *clear* message here means: it names the problem with the words a user would recognise (each case
lists them), names the file involved where there is one, is a single line for the CLI, and carries
no traceback.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from valle_studio import cli
from valle_studio.engine.settings import PRESETS

# Tiny, quick runs: at most half a second of speech, three demasking steps, a fixed seed.
FAST_FLAGS = ["--max-duration", "0.5", "--steps", "3", "--seed", "1"]
FAST = PRESETS["default"].replace(max_steps=3, max_duration=0.5, seed=1234, split="none")


# -- files --------------------------------------------------------------------------------------------
def files_under(folder: Path) -> set[str]:
    """Every file below ``folder`` (relative, '/'-separated); an absent folder has none."""
    if not folder.exists():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def assert_no_new_files(folder: Path, before: set[str], *, allowed: Iterable[str] = ()) -> None:
    """Nothing appeared below ``folder`` since ``before`` (except ``allowed`` names), temp files included.

    The app's cache folder (``cache/``: re-creatable files such as the per-voice copy of the espeak
    library that the first phonemizing of a voice makes) holds no output and is not counted.
    """
    new = {name for name in files_under(folder) - before - set(allowed) if not name.startswith("cache/")}
    assert not new, f"a failed run left files behind: {sorted(new)}"


def assert_no_temp_files(folder: Path) -> None:
    leftovers = [name for name in files_under(folder) if name.endswith((".tmp", ".part"))
                 and "/.partial/" not in f"/{name}"]
    assert not leftovers, f"temporary files left behind: {leftovers}"


# -- simulated OS faults -------------------------------------------------------------------------------
def make_read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 555; root ignores that, so for root the refusal the OS would give is simulated too.
    Callers restore the mode (``folder.chmod(0o755)``) so pytest can clean up."""
    from valle_studio.core import atomic

    folder.chmod(0o555)
    if os.name == "posix" and os.geteuid() == 0:
        real_open = atomic.os.open

        def refuse(path: Any, flags: int, *args: Any) -> int:
            if Path(path).parent == folder and flags & os.O_CREAT:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, flags, *args)

        monkeypatch.setattr(atomic.os, "open", refuse)


def disk_fills_up(monkeypatch: pytest.MonkeyPatch, when: str = "") -> None:
    """ENOSPC from ``fsync`` of files (where a full disk or quota shows up at the latest); with ``when``
    only for files whose path contains it (Linux: read from /proc)."""
    from valle_studio.core import atomic

    real = os.fsync

    def fsync(fd: int) -> None:
        is_file = not stat.S_ISDIR(os.fstat(fd).st_mode)
        if is_file and (not when or when in os.readlink(f"/proc/self/fd/{fd}")):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)


# -- the CLI ------------------------------------------------------------------------------------------
@dataclass
class CliOutcome:
    code: int
    stderr: str
    stdout: str

    @property
    def last(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""

    @property
    def notes(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("note: ")]


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> CliOutcome:
    capsys.readouterr()  # drop anything printed before
    code = cli.main(argv)
    captured = capsys.readouterr()
    return CliOutcome(code, captured.err, captured.out)


def assert_cli_error(outcome: CliOutcome, *words: str) -> str:
    """Exit code 1 and one final line ``valle-studio-cli: error: ...`` that contains every word."""
    assert outcome.code == cli.EXIT_ERROR, outcome.stderr
    assert "Traceback" not in outcome.stderr, outcome.stderr
    line = outcome.last
    assert line.startswith("valle-studio-cli: error: "), outcome.stderr
    assert "\x1b" not in line and "weights_only=False" not in line  # no terminal codes, no unsafe advice
    for word in words:
        assert word.lower() in line.lower(), f"{word!r} missing from: {line}"
    return line


# -- message boxes ------------------------------------------------------------------------------------
@dataclass
class Boxes:
    """Message boxes the window showed, as ``(title, text)``; patched so they never block."""

    shown: list[tuple[str, str]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Boxes:
        from PySide6.QtWidgets import QMessageBox

        def record(answer: Any) -> Callable[..., Any]:
            def show(_parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> Any:
                self.shown.append((title, text))
                return answer

            return show

        for name in ("warning", "critical", "information"):
            monkeypatch.setattr(QMessageBox, name, staticmethod(record(QMessageBox.StandardButton.Ok)))
        monkeypatch.setattr(QMessageBox, "question", staticmethod(record(QMessageBox.StandardButton.Yes)))
        from valle_studio.app.widgets.error_dialog import ErrorDialog, InlineError

        def present(dialog: ErrorDialog) -> None:  # the app's error dialogs: the sentence and its details
            self.shown.append((dialog.windowTitle(), f"{dialog.summary}\n\n{dialog.details_text}"))

        monkeypatch.setattr(ErrorDialog, "present", present)
        inline_show = InlineError.show_error

        def inline(strip: InlineError, summary: str, details: str) -> None:  # the model manager's error line
            self.shown.append((strip.window().windowTitle(), f"{summary}\n\n{details}"))
            inline_show(strip, summary, details)

        monkeypatch.setattr(InlineError, "show_error", inline)
        return self

    def only(self) -> tuple[str, str]:
        assert len(self.shown) == 1, self.shown
        return self.shown[0]

    def assert_says(self, title: str, *words: str) -> str:
        shown_title, text = self.only()
        assert shown_title == title, self.shown
        for word in words:
            assert word.lower() in text.lower(), f"{word!r} missing from: {text}"
        assert "Traceback" not in text and "\x1b" not in text and "weights_only=False" not in text
        return text


def home() -> Path:
    """The user folders of this test (tests/conftest.py points VALLE_STUDIO_HOME at a fresh one)."""
    return Path(os.environ["VALLE_STUDIO_HOME"])
