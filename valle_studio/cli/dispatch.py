"""``valle-studio-cli``: the parser of every command, and the dispatch that turns failures into one line.

:func:`main` is the console script's function (re-exported as ``valle_studio.cli.main``, the target the
installed scripts and the frozen bundle's launcher call).

Each command lives in its own module (:mod:`.synth`, :mod:`.batch`, :mod:`.models`, :mod:`.phonemize`) with an
``add_parser(sub)`` that registers its flags and its handler; what they share (the sampler flags built
from the settings' declaration, the exit codes, :class:`~.options.CliError`) is in :mod:`.options`.
Progress goes to stderr; any bad flag or input ends with a one-line error and a non-zero exit code.
torch is imported only when a command actually runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from valle_studio.cli import batch, models, phonemize, synth
from valle_studio.cli.options import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_USAGE
from valle_studio.engine.about import VersionAction

PROG = "valle-studio-cli"


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: ``--version`` and the ``synth``, ``models``, ``batch`` and ``phonemize`` commands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="VALL-E Studio from the command line: clone a voice and speak text with it.",
    )
    parser.add_argument("--version", action=VersionAction, help="show the version and the espeak-ng in use, and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (synth, models, batch, phonemize):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (:data:`EXIT_OK`, :data:`EXIT_ERROR`, ...)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # one line for the user; tracebacks are for the log
        from valle_studio.errors import describe

        print(f"{PROG}: error: {describe(exc)}", file=sys.stderr)
        return EXIT_ERROR


# The exit codes are part of main()'s contract, so they are exported with it.
__all__ = ["EXIT_CANCELLED", "EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "PROG", "build_parser", "main"]
