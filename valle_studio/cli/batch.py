"""``valle-studio-cli batch``: every line of a script spoken into its own WAV file, resumable.

The batch project lives in ``OUT_DIR/.valle-batch`` and is saved after every row; each row's WAV is
written into ``OUT_DIR`` as soon as it is generated. A killed or interrupted run is finished with
``--resume``, which skips every row already done. The manifests (and the combined file and SRT,
when asked for) are written when the queue is done. Exit code 1 when any row failed; the other rows
are still written.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

from valle_studio.batch.names import DEFAULT_TEMPLATE
from valle_studio.cli.options import (
    EXIT_ERROR,
    EXIT_OK,
    CliError,
    add_device_flags,
    add_embedding_sums_flag,
    add_lexicon_flag,
    add_sampler_flags,
    embedding_sums_choice,
    given_sampler_flags,
    lexicon_files,
    settings_from_args,
)

PROJECT_DIR = ".valle-batch"


def add_parser(sub: Any) -> None:
    """The ``batch`` command on ``sub`` (the main parser's subparsers)."""
    batch = sub.add_parser(
        "batch", help="speak every line of a script into its own WAV file (resumable)",
        description="Generate one WAV per script line. SCRIPT is plain text (one line per file; "
                    "[Name] or 'Name:' tags pick saved voices; # starts a comment), or CSV/TSV with a "
                    "header naming a 'text' column and optionally voice, filename, seed, language.")
    batch.add_argument("script", metavar="SCRIPT", help=".txt, .csv or .tsv script")
    voice = batch.add_mutually_exclusive_group()
    voice.add_argument("--voice", metavar="NAME", help="saved voice for lines without a speaker tag")
    voice.add_argument("--prompt", action="append", metavar="FILE",
                       help="reference audio (or .npy codes) for lines without a tag; repeat to concatenate")
    batch.add_argument("--out-dir", required=True, metavar="DIR", help="folder for the WAV files and manifests")
    batch.add_argument("--template", metavar="T",
                       help=f"file name template (default {DEFAULT_TEMPLATE}); fields: index, voice, slug, lang")
    batch.add_argument("--resume", action="store_true",
                       help="finish the batch already started in DIR, skipping the rows that are done")
    batch.add_argument("--combined", action="store_true", help="also write combined.wav (all lines in order)")
    batch.add_argument("--combined-gap", type=float, default=0.5, metavar="SECONDS",
                       help="silence between lines in combined.wav and the SRT (default 0.5)")
    batch.add_argument("--srt", action="store_true", help="also write combined.srt subtitles")
    batch.add_argument("--wav-format", choices=("pcm16", "pcm24", "float"), default="pcm16",
                       help="sample format of the WAV files (default pcm16)")
    batch.add_argument("--overwrite", action="store_true",
                       help="replace existing files in DIR (default: keep them and add -2, -3 to new names)")
    batch.add_argument("--model", metavar="PATH|NAME", help="checkpoint or installed model (default: the default)")
    batch.add_argument("--tokenizer", metavar="PATH", help="tokenizer.json (default: beside the model)")
    batch.add_argument("--lang", help="language of untagged lines: en, ja, de, fr, zh, ko (default en)")
    add_lexicon_flag(batch)
    add_embedding_sums_flag(batch)
    add_device_flags(batch)
    batch.add_argument("--quiet", action="store_true", help="only errors and the summary on stderr")
    add_sampler_flags(batch)
    batch.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The command's handler: the flags become settings before anything heavy loads."""
    return run_batch(args, settings_from_args(args))


def _say(args: argparse.Namespace, text: str, *, always: bool = False) -> None:
    if always or not args.quiet:
        print(text, file=sys.stderr, flush=True)


def _open_or_create(args: argparse.Namespace, settings, out_dir: Path):
    """The project to work on: the one in OUT_DIR when resuming, else a new one from SCRIPT."""
    from valle_studio.batch.project import BatchProject
    from valle_studio.batch.script import read_script
    from valle_studio.studio.voices import VoiceLibrary

    folder = out_dir / PROJECT_DIR
    script_path = Path(args.script)
    library = VoiceLibrary()
    if BatchProject.exists(folder):
        project = BatchProject.open(folder)
        counts = project.counts()
        if not args.resume:
            project.close()
            raise CliError(f"{out_dir} already holds a batch ({counts['done']} of {len(project.rows)} lines "
                           "done); add --resume to finish it, or choose another --out-dir")
        try:
            digest = hashlib.sha256(script_path.read_bytes()).hexdigest()
        except OSError as exc:
            project.close()
            raise CliError(f"cannot read the script {script_path}: {exc.strerror or exc}") from exc
        problems = []
        if digest != project.script.get("sha256"):
            problems.append(f"{script_path} changed since the batch started")
        flags = given_sampler_flags(args)
        if flags and settings.to_dict() != project.settings.to_dict():
            problems.append(f"the batch keeps the settings it started with (leave out {', '.join(flags)})")
        other_voice = bool(args.voice) and args.voice != project.default_voice
        other_prompts = bool(args.prompt) and [str(Path(p).resolve()) for p in args.prompt] != project.prompt_files
        if other_voice or other_prompts:
            problems.append("the batch keeps the voice it started with (leave out --voice/--prompt)")
        if args.lexicon:
            problems.append(f"the batch keeps the lexicon it started with ({project.lexicon_path}; leave out "
                            "--lexicon)")
        if problems:
            project.close()
            raise CliError("cannot resume: " + "; ".join(problems))
        _say(args, f"resuming: {counts['done']} of {len(project.rows)} lines already done")
        return project, library

    if args.resume:
        _say(args, f"nothing to resume in {out_dir}; starting a new batch")
    script = read_script(script_path, known_voices=library.names())
    for warning in script.warnings:
        _say(args, f"note: {warning}")
    untagged = [line.line for line in script.lines if not line.voice]
    if untagged and not args.voice and not args.prompt:
        shown = ", ".join(map(str, untagged[:8])) + ("..." if len(untagged) > 8 else "")
        raise CliError(f"line(s) {shown} of {script_path.name} have no speaker tag: give --voice NAME "
                       "or --prompt FILE for them")
    needed = list(dict.fromkeys([*script.voices, *([args.voice] if args.voice else [])]))
    missing = [name for name in needed if not library.exists(name)]
    if missing:
        known = ", ".join(library.names()) or "none yet"
        raise CliError(f"no saved voice called {', '.join(repr(m) for m in missing)} (saved voices: {known})")
    prompts = [Path(p) for p in args.prompt or []]
    for path in prompts:
        if not path.is_file():
            raise CliError(f"prompt file not found: {path}")
    from valle_studio.engine.text.lexicon import Lexicon
    from valle_studio.engine.text.lexicon_format import read_lexicon

    lexicon = Lexicon.merged(read_lexicon(path) for path in lexicon_files(args))
    model = args.model
    if not model:
        from valle_studio.engine.store import ModelStore

        model = ModelStore().default_model
    out_dir.mkdir(parents=True, exist_ok=True)
    project = BatchProject.create(
        folder, script.lines, name=script_path.stem, settings=settings, language=args.lang or "en",
        default_voice=args.voice or "", prompt_files=[str(p.resolve()) for p in prompts],
        model=str(Path(model).resolve()) if Path(model).is_file() else model,
        script={"path": str(script_path.resolve()), "sha256": hashlib.sha256(script_path.read_bytes()).hexdigest(),
                "format": script.format, "encoding": script.encoding})
    project.set_lexicon(lexicon)  # the project's own lexicon, over the global and voice lexicons
    return project, library


def _export_options(args: argparse.Namespace, project, out_dir: Path):
    from valle_studio.batch.export import ExportOptions

    record = project.export_record(out_dir)
    template = args.template or (record.template if record else DEFAULT_TEMPLATE)
    if record is not None and args.template and args.template != record.template:
        raise CliError(f"cannot resume: the batch names its files with {record.template!r}; leave out --template")
    return ExportOptions(out_dir, template=template, wav_format=args.wav_format, combined=args.combined,
                         combined_gap_s=args.combined_gap, srt=args.srt,
                         on_conflict="overwrite" if args.overwrite else "rename")


def run_batch(args: argparse.Namespace, settings) -> int:
    from valle_studio.batch.eta import format_eta
    from valle_studio.batch.export import export_project, export_row, plan_export
    from valle_studio.batch.runner import ROW_FAILED, ROW_FINISHED, BatchEvent, BatchRunner
    from valle_studio.engine.synthesizer import Synthesizer

    out_dir = Path(args.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out-dir {out_dir} is a file, not a folder")
    if not 0 <= args.combined_gap <= 60:
        raise CliError("--combined-gap must be between 0 and 60 seconds")
    project, library = _open_or_create(args, settings, out_dir)
    with project:
        options = _export_options(args, project, out_dir)
        plan = plan_export(project, options)
        project.save()
        for wanted, used in plan.renamed.items():
            _say(args, f"note: {wanted} already exists and is not from this batch; writing {used} instead")
        record = plan.record

        model = args.model or project.model
        _say(args, f"loading {model}")
        synth = Synthesizer.load(model, device=args.device, dtype=args.dtype,
                                 tokenizer=Path(args.tokenizer) if args.tokenizer else None,
                                 legacy_summing=embedding_sums_choice(args))
        synth.codec(required=True)  # a missing codec is one clear error, not a failure per line

        queue = project.ids_needing_work()
        _say(args, f"{len(queue)} line(s) to generate, {len(project.rows) - len(queue)} already done")

        def on_event(event: BatchEvent) -> None:
            if event.kind not in (ROW_FINISHED, ROW_FAILED):
                return
            row = project.rows[event.index] if event.index < len(project.rows) else None
            text = row.text if row else ""
            short = text if len(text) <= 40 else text[:39] + "…"
            eta = format_eta(event.eta_s)
            head = f"[{event.done}/{event.total}] line {event.index + 1}"
            if event.kind == ROW_FAILED:
                _say(args, f"{head} FAILED: {event.message}", always=True)
            else:
                take = row.approved_take if row else None
                seconds = f"{take.duration_s:.1f} s" if take else ""
                _say(args, f"{head} {seconds} {short!r}" + (f" (ETA {eta})" if eta else ""))

        runner = BatchRunner(project, synth, voices=library, on_event=on_event,
                             after_take=lambda row, _take: export_row(project, record, row, options.wav_format))
        try:
            summary = runner.run(queue)
        except KeyboardInterrupt:
            _say(args, f"interrupted: finished lines are saved; run again with --resume to finish {out_dir}",
                 always=True)
            raise
        result = export_project(project, options)
        counts = project.counts()
        failed = counts["failed"]
        outputs = ", ".join([*result.manifests, *filter(None, [result.combined, result.srt])])
        _say(args, f"done: {counts['done']} of {len(project.rows)} lines in {out_dir} ({outputs}); "
                   f"{summary.elapsed_s:.1f} s", always=True)
        if failed:
            _say(args, f"{failed} line(s) failed; fix them and run again with --resume to retry", always=True)
            return EXIT_ERROR
    return EXIT_OK
