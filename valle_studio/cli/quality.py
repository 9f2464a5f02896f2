"""The quality flags ``synth`` and ``batch`` share, and what they do with a checked take.

``--best-of N`` (default 1), ``--retry-bad K`` (default 0), ``--no-check``, ``--report FILE.json`` and
``--strict``. The check runs by default and prints one verdict line per take on stderr; when no take is
good the command warns (exit 0), or with ``--strict`` exits with :data:`EXIT_NO_GOOD_TAKE` (3), after
writing what it made. Every flag is checked before the model loads: a bad value, or a report path in a
missing or read-only folder, is one line and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from valle_studio.cli.options import EXIT_NO_GOOD_TAKE, EXIT_OK, ArgumentContainer, CliError
from valle_studio.engine.quality.options import MAX_BEST_OF, MAX_RETRY_BAD, QualityError, QualityOptions

#: The flag of each QualityOptions field, for messages.
FLAGS = {"best_of": "--best-of", "retry_bad": "--retry-bad"}


def add_quality_flags(parser: ArgumentContainer, *, batch: bool = False) -> None:
    """The quality group of ``synth`` or ``batch`` (``batch``: the help speaks of lines)."""
    add = getattr(parser, "add_argument_group", None)
    group = add("quality check (runs by default)") if add is not None else parser
    per = "each line's" if batch else "the"
    group.add_argument("--best-of", type=int, default=1, metavar="N",
                       help=f"generate N takes (seeds derived from the seed), check each, keep the best as {per} "
                            f"result (1-{MAX_BEST_OF}, default 1)")
    group.add_argument("--retry-bad", type=int, default=0, metavar="K",
                       help=f"then, while the best take is not good, try up to K more (0-{MAX_RETRY_BAD}, default 0)")
    group.add_argument("--report", metavar="FILE.json",
                       help="write every take's verdict, score, reasons and checks as JSON"
                            + (" (one object per line under \"lines\")" if batch else ""))
    group.add_argument("--strict", action="store_true",
                       help=f"exit with status {EXIT_NO_GOOD_TAKE} when {'a line has' if batch else 'there is'} no "
                            "good take (what was made is still written; default: exit 0 and a warning)")
    group.add_argument("--no-check", action="store_true",
                       help="do not check the takes (no verdict, no best-of, no retry)")


def quality_from_args(args: argparse.Namespace) -> QualityOptions:
    """The validated options; a refused value names its flag (``--best-of 0 is out of range (...)``)."""
    check = not args.no_check
    if not check:
        for flag, given in (("--report", args.report), ("--strict", args.strict)):
            if given:
                raise CliError(f"{flag} needs the quality check: leave out --no-check")
    try:
        return QualityOptions(best_of=args.best_of, retry_bad=args.retry_bad, check=check)
    except QualityError as exc:
        flag = FLAGS.get(exc.field, exc.field)
        value = getattr(args, exc.field)
        if not check and "check" in exc.problem:
            raise CliError(f"{flag} {value} needs the quality check: leave out --no-check") from exc
        raise CliError(f"{flag} {value} is out of range ({exc.problem})") from exc


def check_report_path(args: argparse.Namespace) -> Path | None:
    """The ``--report`` path, checked now: a ``.json`` name in a folder that exists and accepts files."""
    from valle_studio.core.atomic import AtomicWriteError, ensure_writable

    if not args.report:
        return None
    path = Path(args.report)
    if path.suffix.lower() != ".json":
        raise CliError(f"--report {path}: use a .json file name")
    if not path.parent.is_dir():
        raise CliError(f"--report {path}: the folder {path.parent} does not exist")
    try:
        ensure_writable(path)
    except AtomicWriteError as exc:
        raise CliError(f"--report {path}: {exc}") from exc
    return path


def report_writer(path: Path, report: dict[str, Any]) -> tuple[Path, Any]:
    """A ``(path, write)`` pair that writes ``report`` atomically (for the commands' list of writes)."""
    from valle_studio.core.atomic import atomic_write_text

    text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return path, lambda: atomic_write_text(path, text)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def verdict_exit(args: argparse.Namespace, problems: list[str]) -> int:
    """The exit status once everything is written: a warning per problem (no good take) and status 0,
    or status 3 with ``--strict``."""
    if not problems:
        return EXIT_OK
    for problem in problems:
        say(f"warning: {problem}")
    if args.strict:
        say(f"--strict: exit status {EXIT_NO_GOOD_TAKE}, since no good take was made")
        return EXIT_NO_GOOD_TAKE
    return EXIT_OK


# -- running and reporting checked takes (synth) -----------------------------------------------------------------
def best_of(synth: Any, request: Any, options: QualityOptions, progress: Any, *, decode: bool) -> Any:
    """The request's candidates through the engine's best-of loop, a verdict line printed for each take."""
    from valle_studio.engine.quality.best_of import Candidate, run_best_of
    from valle_studio.engine.quality.report import verdict_line

    def on_candidate(candidate: Candidate) -> None:
        if options.check:
            say(f"  {verdict_line(candidate, options.best_of)}")

    return run_best_of(synth, request, options, progress=progress, on_candidate=on_candidate, decode=decode)


def check_streamed(synth: Any, request: Any, result: Any, options: QualityOptions, progress: Any) -> Any:
    """A streamed take as the one candidate of its request, checked after the stream when asked to be."""
    from dataclasses import replace

    from valle_studio.engine.quality.best_of import Candidate, Candidates
    from valle_studio.engine.quality.report import verdict_line

    checked = replace(request, settings=request.settings.replace(seed=result.seed))
    quality = synth.check(checked, result, progress=progress) if options.check else None
    candidate = Candidate(0, result.seed, result, quality)
    if quality is not None:
        say(f"  {verdict_line(candidate, 1)}")
    return Candidates((candidate,), 0, result.seed)


def report_bytes(takes: Any) -> bytes:
    """The report of one request's takes as the bytes of its JSON file."""
    from valle_studio.engine.quality.report import report_of

    return (json.dumps(report_of(takes), indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def chosen_words(takes: Any) -> str:
    """``", take 2 of 3 (good)"`` for the done line when there was a choice; "" otherwise."""
    best = takes.best
    if len(takes.takes) < 2:
        return ""
    verdict = f" ({best.quality.verdict})" if best.quality is not None else ""
    return f", take {best.index + 1} of {len(takes.takes)}{verdict}"


def exit_status(args: argparse.Namespace, takes: Any) -> int:
    """Warn (or with ``--strict`` exit 3) when no take of the request is good."""
    best = takes.best.quality
    if best is None or best.good:
        return EXIT_OK
    made = len(takes.takes)
    which = "the only take" if made == 1 else f"the best of {made} takes"
    return verdict_exit(args, [f"no good take: {which} is {best.summary}"])


__all__ = ["FLAGS", "add_quality_flags", "best_of", "check_report_path", "check_streamed", "chosen_words",
           "exit_status", "quality_from_args", "report_bytes", "report_writer", "say", "verdict_exit"]
