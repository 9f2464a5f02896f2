"""Run ``valle-studio-cli`` in a child process, held at one chosen moment so that a signal lands there.

Signals are only real in a separate process, and "SIGTERM while the output is being written" must hit
exactly then, every time. ``python -m tests.reliability.driver HOLD -- ARGS`` runs the CLI's own
``main(ARGS)`` after one hook is installed; when the run reaches the hold it creates the file named by
``$VALLE_TEST_MARKER`` and sleeps (so the test can send its signal), as a real slow disk or a long
model step would. Holds:

* ``write:NAME``: while flushing a file whose name contains NAME (the atomic writer's temporary file
  exists then, with its content written);
* ``stage:STAGE``: at the first progress event of a generation stage ("demasking", "generating");
* ``none``: no hold (a plain child process of the real CLI).

The CLI code is not changed: the hook wraps ``os.fsync`` or the progress printer, the calls the CLI
itself makes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

HOLD_SECONDS = 120.0


def _hold() -> None:
    marker = os.environ.get("VALLE_TEST_MARKER")
    if marker and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        time.sleep(HOLD_SECONDS)  # the signal arrives in here


def _hold_on_write(name: str) -> None:
    real = os.fsync

    def fsync(fd: int) -> None:
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            path = ""
        if name in os.path.basename(path):
            _hold()
        real(fd)

    os.fsync = fsync


def _hold_on_stage(stage: str) -> None:
    from valle_studio.cli import options

    real = options.StderrProgress.__call__

    def call(self: Any, event: Any) -> None:
        if event.stage == stage:
            _hold()
        real(self, event)

    options.StderrProgress.__call__ = call  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    hold, separator, *cli_args = argv
    assert separator == "--", "usage: driver HOLD -- CLI ARGS"
    kind, _, what = hold.partition(":")
    if kind == "write":
        _hold_on_write(what)
    elif kind == "stage":
        _hold_on_stage(what)
    from valle_studio import cli

    return cli.main(cli_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
