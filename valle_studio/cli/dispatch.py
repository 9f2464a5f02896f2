"""``valle-studio-cli``: the parser of every command, and the dispatch that turns failures into one line.

:func:`main` is the console script's function (re-exported as ``valle_studio.cli.main``, the target the
installed scripts and the frozen bundle's launcher call).

Each command lives in its own module (:mod:`.synth`, :mod:`.batch`, :mod:`.models`, :mod:`.transcribe`,
:mod:`.phonemize`, :mod:`.clean`, :mod:`.convert`, :mod:`.voices`, :mod:`.bench`) with an ``add_parser(sub)``
that registers its flags and its handler; what they share (the sampler flags built from the settings'
declaration, the exit codes, :class:`~.options.CliError`) is in :mod:`.options`.
Progress goes to stderr; any bad flag or input ends with a one-line error and a non-zero exit code.
torch is imported only when a command actually runs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from valle_studio.cli import batch, bench, clean, convert, models, phonemize, synth, transcribe, voices
from valle_studio.cli import watermark as check_watermark  # prov: check-watermark
from valle_studio.cli.logfile import cli_log
from valle_studio.cli.options import EXIT_CANCELLED, EXIT_ERROR, EXIT_NO_GOOD_TAKE, EXIT_OK, EXIT_USAGE, file_flags
from valle_studio.cli.signals import Terminated, signals_as_interrupts
from valle_studio.engine.about import VersionAction

PROG = "valle-studio-cli"
log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: ``--version`` and the ``synth``, ``models``, ``batch``, ``transcribe``,
    ``phonemize``, ``clean``, ``convert`` and ``bench`` commands, and ``voices`` (saved voices and blends)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="VALL-E Studio from the command line: clone a voice and speak text with it.",
    )
    parser.add_argument("--version", action=VersionAction, help="show the version and the espeak-ng in use, and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (synth, models, batch, transcribe, phonemize, clean, convert, voices, bench, check_watermark):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (:data:`EXIT_OK`, :data:`EXIT_ERROR`, ...).

    Whatever goes wrong ends in one last line on stderr: ``valle-studio-cli: error: <sentence>``
    (:func:`valle_studio.errors.describe` words it and names the flag of the file involved), or
    ``cancelled`` / ``stopped by SIGTERM``. Details such as tracebacks go to the log file
    (:mod:`.logfile`); SIGTERM and SIGHUP unwind like Ctrl+C (:mod:`.signals`).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    with _usable_stderr(), cli_log() as log_file, signals_as_interrupts():
        try:
            return int(args.handler(args))
        except Terminated as exc:
            print(f"{PROG}: stopped by {exc.name}; {_interrupted_note(args)}", file=sys.stderr, flush=True)
            return exc.exit_code
        except KeyboardInterrupt:
            print(f"{PROG}: cancelled", file=sys.stderr, flush=True)
            return EXIT_CANCELLED
        except Exception as exc:  # one line for the user; the traceback goes to the log
            from valle_studio.errors import describe

            expected = _expected(exc)
            log.log(logging.INFO if expected else logging.ERROR, "%s failed", getattr(args, "command", PROG),
                    exc_info=True)
            if isinstance(exc, BrokenPipeError) or _is_broken_pipe(exc):
                _silence_stdout()
            hint = f" (details in {log_file})" if log_file is not None and not expected else ""
            print(f"{PROG}: error: {describe(exc, flags=file_flags(args))}{hint}", file=sys.stderr, flush=True)
            return EXIT_ERROR


def _expected(exc: BaseException) -> bool:
    """Errors that carry their whole story in their sentence (ours, the OS's, bad values, memory); for
    anything else (a library's internal error, a bug) the sentence points at the logged traceback."""
    from valle_studio.errors import is_out_of_memory

    return (type(exc).__module__.startswith("valle_studio") or isinstance(exc, (OSError, ValueError))
            or is_out_of_memory(exc))


def _interrupted_note(args: argparse.Namespace) -> str:
    if getattr(args, "command", "") == "batch":
        return "finished lines are saved; run the same command with --resume to finish the batch"
    return "no file was left half-written"


def _is_broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc.__cause__, BrokenPipeError) or isinstance(exc.__context__, BrokenPipeError)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at the null device: Python would otherwise fail again (and
    print a traceback) when it flushes stdout at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


@contextlib.contextmanager
def _usable_stderr() -> Iterator[None]:
    """A closed stderr (``2>&-``) makes ``sys.stderr`` None, and ``print(file=None)`` writes to *stdout*,
    which would mix messages into a WAV written there; messages then go nowhere instead."""
    if sys.stderr is not None:
        yield
        return
    with open(os.devnull, "w", encoding="utf-8") as sink:
        sys.stderr = sink
        try:
            yield
        finally:
            sys.stderr = None


# The exit codes are part of main()'s contract, so they are exported with it.
__all__ = ["EXIT_CANCELLED", "EXIT_ERROR", "EXIT_NO_GOOD_TAKE", "EXIT_OK", "EXIT_USAGE", "PROG", "build_parser",
           "main"]
