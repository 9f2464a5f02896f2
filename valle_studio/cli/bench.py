"""``valle-studio-cli bench``: measure this machine, print the table and the advice, save the result.

It runs :func:`~valle_studio.engine.bench.runner.run_benchmark` on the installed default model (or
``--model``; random weights of the published model's shapes when none is installed), per device and
precision, prints each item beside its hardware bound and the expected time of 3 s, 10 s and 30 s
lines, and saves the record atomically where the app and ``synth`` find it (precision ``auto`` on
the CPU and the kernels then follow it). ``--json`` prints everything as JSON on stdout instead.
The options are checked before anything is measured (the ``--model`` file is looked at with ``stat``
before anything opens it: a named pipe would block); a failed, cancelled (Ctrl-C) or stopped (SIGTERM)
run saves nothing and leaves an earlier result as it was. Errors reach the user through dispatch's one
error layer (:func:`valle_studio.errors.describe`), which names the flag of the file involved.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from valle_studio.cli.options import EXIT_OK, CliError, StderrProgress


def add_parser(sub: Any) -> None:
    """The ``bench`` command on ``sub`` (the main parser's subparsers)."""
    bench = sub.add_parser("bench", help="measure this machine: speed per device and precision, and advice",
                           description="Benchmark this machine on the installed model (random weights of its "
                                       "shapes when none is installed) and save the result for the app.")
    bench.add_argument("--quick", action="store_true", help="a shorter run (under 30 s on an idle 2-core CPU)")
    bench.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    bench.add_argument("--device", action="append", default=[], metavar="NAME",
                       help="auto (every device found), cpu, cuda, cuda:N or mps; repeat for several (default auto)")
    bench.add_argument("--precision", action="append", default=[], metavar="NAME",
                       help="auto (every precision the device offers), float32, bfloat16, float16 or int8; "
                            "repeat for several (default auto; float32 always runs as the reference)")
    bench.add_argument("--model", metavar="PATH|NAME", help="the checkpoint to measure (default: the installed "
                                                           "default model, else random weights)")
    bench.add_argument("--random-weights", action="store_true",
                       help="random weights of the model's shapes (same speed; the accuracy figures then "
                            "describe random weights)")
    bench.add_argument("--threads", default="auto", metavar="N|auto",
                       help="torch threads: a number, or auto: the physical cores minus those other processes "
                            "keep busy (default auto)")
    bench.add_argument("--no-save", action="store_true", help="do not save the result")
    bench.add_argument("--quiet", action="store_true", help="no progress on stderr")
    bench.set_defaults(handler=run)


def _threads(value: str) -> int | None:
    if value.strip().lower() == "auto":
        return None
    try:
        threads = int(value)
    except ValueError:
        raise CliError(f"--threads {value}: use a whole number of at least 1, or auto") from None
    if threads < 1:
        raise CliError(f"--threads {value}: use a whole number of at least 1, or auto")
    return threads


def _model_path(name: str | None, store: Any) -> Path | None:
    """The checkpoint to measure: ``name`` (a file or an installed model), else the installed default."""
    if name is None:
        installed = store.installed()
        chosen = store.default_model if store.default_model in installed else (installed[0] if installed else None)
        return None if chosen is None else Path(store.path_of(chosen))
    from valle_studio.core.files import require_regular_file

    path = Path(name)
    if path.suffix.lower() in {".sft", ".safetensors", ".pth", ".pt"} or path.exists():
        return require_regular_file(path, "a model file")  # missing, a folder, a pipe: one sentence naming it
    if not store.is_installed(name):
        raise CliError(f"--model {name}: not installed (installed: {', '.join(store.installed()) or 'none'})")
    return Path(store.path_of(name))


def run(args: argparse.Namespace) -> int:
    """The command's handler."""
    from valle_studio.engine.store import ModelStore

    threads = _threads(args.threads)
    store = ModelStore()
    model = _model_path(args.model, store)
    from valle_studio.engine.bench.record import save_record
    from valle_studio.engine.bench.report import text_lines, to_json
    from valle_studio.engine.bench.runner import BenchOptions, plan, run_benchmark
    from valle_studio.engine.resources import resolve_codec

    options = BenchOptions(quick=args.quick, devices=tuple(args.device) or ("auto",),
                           precisions=tuple(args.precision) or ("auto",), model=model,
                           random_weights=args.random_weights, threads=threads)
    plan(options)  # bad devices and precisions are refused before the model is read
    progress = None if args.quiet else StderrProgress()
    record = run_benchmark(options, codec_factory=lambda device: resolve_codec(store, device=device),
                           progress=progress)
    saved = None if args.no_save else save_record(record)
    if args.json:
        print(json.dumps(to_json(record, saved=None if saved is None else str(saved)), indent=2))
    else:
        print("\n".join(text_lines(record)))
        if saved is not None:
            print(f"\n  saved to {saved}; the app and 'synth --dtype auto' use it on this machine")
    return EXIT_OK


__all__ = ["add_parser", "run"]
