"""``valle-studio-cli batch``: every line of a script spoken into its own WAV file, resumable.

The batch project lives in ``OUT_DIR/.valle-batch`` and is saved after every row; each row's WAV is
written into ``OUT_DIR`` as soon as it is generated. A killed or interrupted run is finished with
``--resume``, which skips every row already done (and sweeps what a killed run left half-written).
After editing the script, ``--sync-script`` goes on with it: finished lines whose text is unchanged
are kept. The manifests (and the combined file and SRT, when asked for) are written when the queue is
done. Exit code 1 when any row failed; the other rows are still written, and each failure is one line
(its details go to the log file). Everything is checked before the project is created
(``cli/batch_setup.py``), and no output ever overwrites the script, a prompt or the model.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from valle_studio.batch.names import DEFAULT_TEMPLATE
from valle_studio.cli.applicable import check_flags_apply
from valle_studio.cli.batch_setup import (
    PROJECT_DIR,
    check_loras,
    check_new_batch,
    check_out_dir,
    discard_new_project,
    open_existing,
    say,
    script_record,
)
from valle_studio.cli.cluster import add_cluster_flags, cluster_options
from valle_studio.cli.options import (
    EXIT_ERROR,
    EXIT_OK,
    CliError,
    add_device_flags,
    add_embedding_sums_flag,
    add_lexicon_flag,
    add_lora_flag,
    add_sampler_flags,
    embedding_sums_choice,
    file_flags,
    settings_from_args,
)
from valle_studio.cli.outputs import add_watermark_flag
from valle_studio.cli.quality import add_quality_flags, check_report_path, quality_from_args


def add_parser(sub: Any) -> None:
    """The ``batch`` command on ``sub`` (the main parser's subparsers)."""
    batch = sub.add_parser(
        "batch", help="speak every line of a script into its own WAV file (resumable)",
        description="Generate one WAV per script line. SCRIPT is plain text (one line per file; "
                    "[Name] or 'Name:' tags pick saved voices; # starts a comment), or CSV/TSV with a "
                    "header naming a 'text' column and optionally voice, filename, seed, language, lora "
                    "(NAME[:STRENGTH], that line's LoRA).")
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
    batch.add_argument("--sync-script", action="store_true",
                       help="resume with an edited SCRIPT: finished lines whose text (and voice, file name, "
                            "seed, language) is unchanged are kept, new and edited lines are generated, removed "
                            "lines and their files are dropped (implies --resume)")
    batch.add_argument("--combined", action="store_true", help="also write combined.wav (all lines in order)")
    batch.add_argument("--combined-gap", type=float, default=0.5, metavar="SECONDS",
                       help="silence between lines in combined.wav and the SRT (default 0.5)")
    batch.add_argument("--srt", action="store_true", help="also write combined.srt and combined.vtt (WebVTT) subtitles")
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
    add_lora_flag(batch)
    batch.add_argument("--quiet", action="store_true", help="only errors and the summary on stderr")
    add_watermark_flag(batch)  # prov (issue 17)
    add_sampler_flags(batch)
    add_quality_flags(batch, batch=True)
    add_cluster_flags(batch)
    batch.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The command's handler: the flags become settings before anything heavy loads."""
    return run_batch(args, settings_from_args(args), quality_from_args(args))


def _export_options(args: argparse.Namespace, project: Any, out_dir: Path) -> Any:
    from valle_studio.batch.export import ExportOptions

    record = project.export_record(out_dir)
    template = args.template or (record.template if record else DEFAULT_TEMPLATE)
    if record is not None and args.template and args.template != record.template:
        raise CliError(f"cannot resume: the batch names its files with {record.template!r}; leave out --template")
    return ExportOptions(out_dir, template=template, wav_format=args.wav_format, combined=args.combined,
                         combined_gap_s=args.combined_gap, srt=args.srt,
                         on_conflict="overwrite" if args.overwrite else "rename", protect=_protected(args, project),
                         watermark=not getattr(args, "no_watermark", False))


def _resync(args: argparse.Namespace, project: Any) -> None:
    """``--sync-script``: line the edited script up with the project's rows (see ``batch.resync``)."""
    from valle_studio.batch.resync import sync_rows
    from valle_studio.batch.script import read_script
    from valle_studio.studio.voices import VoiceLibrary

    script_path = Path(args.script)
    script = read_script(script_path, known_voices=VoiceLibrary().names())
    check_loras(script, project.settings)  # the edited lines' LoRAs, before any row changes
    summary = sync_rows(project, script.lines, script_record(script_path, script))
    say(args, summary.describe())


def _load(args: argparse.Namespace, model: str) -> Any:
    """The synthesizer and its codec (a missing codec is one clear error, not a failure per line)."""
    from valle_studio.engine.synthesizer import Synthesizer

    say(args, f"loading {model}")
    synth = Synthesizer.load(model, device=args.device, dtype=args.dtype,
                             tokenizer=Path(args.tokenizer) if args.tokenizer else None,
                             legacy_summing=embedding_sums_choice(args))
    synth.codec(required=True)
    return synth


def _protected(args: argparse.Namespace, project: Any) -> tuple[Path, ...]:
    """The files this batch reads, which its outputs must never overwrite."""
    files = [Path(args.script), *(Path(p) for p in project.prompt_files),
             *(Path(p) for p in getattr(args, "lexicon", None) or [])]
    if project.model and Path(project.model).is_file():
        files.append(Path(project.model))
    return tuple(files)


def run_batch(args: argparse.Namespace, settings: Any, quality: Any = None) -> int:
    from valle_studio.batch.project import BatchProject

    report = check_report_path(args)  # before anything is created in --out-dir
    out_dir = Path(args.out_dir)
    if not 0 <= args.combined_gap <= 60:
        raise CliError("--combined-gap must be between 0 and 60 seconds")
    check_out_dir(out_dir)
    cluster = cluster_options(args)  # --ray: the workers load the model, this process does not
    synth = None
    if BatchProject.exists(out_dir / PROJECT_DIR):
        project, library = open_existing(args, settings, out_dir, lambda p: _resync(args, p))
        created = made_out_dir = False
    else:
        if args.resume or args.sync_script:
            say(args, f"nothing to resume in {out_dir}; starting a new batch")
        new = check_new_batch(args, settings, out_dir)  # every check that needs no model
        if cluster is None:
            synth = _load(args, args.model or new.model)
            for note in check_flags_apply(args, settings, synth.model.can_nar_len, synth.info.name):
                say(args, f"note: {note}")
        made_out_dir = not out_dir.exists()
        try:
            project, library, created = new.create(args, settings, out_dir), new.library, True
        except BaseException:
            if made_out_dir:
                with contextlib.suppress(OSError):
                    out_dir.rmdir()  # only when empty
            raise
    try:
        return _run(args, project, library, synth, out_dir, report, quality, cluster)
    except BaseException:
        if created and not any(row.takes or row.error for row in project.rows):
            discard_new_project(project, out_dir, made_out_dir)  # nothing done: as if never started
        raise


def _run(args: argparse.Namespace, project: Any, library: Any, synth: Any, out_dir: Path, report: Path | None,
         quality: Any, cluster: Any = None) -> int:
    from valle_studio.batch.eta import format_eta
    from valle_studio.batch.export import export_project, export_row, plan_export
    from valle_studio.batch.quality import lines_without_a_good_take, project_report
    from valle_studio.batch.runner import ROW_FAILED, ROW_FINISHED, TAKE_CHECKED, BatchEvent, BatchRunner
    from valle_studio.cli import quality as checks
    from valle_studio.cli.logfile import log_path
    from valle_studio.errors import describe

    with project:
        options = _export_options(args, project, out_dir)
        plan = plan_export(project, options)
        project.save()
        for wanted, used in plan.renamed.items():
            say(args, f"note: {wanted} already exists and is not from this batch; writing {used} instead")
        record = plan.record
        if synth is None and cluster is None:
            synth = _load(args, args.model or project.model)

        queue = project.ids_needing_work()
        say(args, f"{len(queue)} line(s) to generate, {len(project.rows) - len(queue)} already done")

        def on_event(event: BatchEvent) -> None:
            if event.kind == TAKE_CHECKED:  # every take's verdict line, quiet or not
                say(args, f"  line {event.index + 1}, {event.message}", always=True)
            if event.kind not in (ROW_FINISHED, ROW_FAILED):
                return
            row = project.rows[event.index] if event.index < len(project.rows) else None
            text = row.text if row else ""
            short = text if len(text) <= 40 else text[:39] + "…"
            eta = format_eta(event.eta_s)
            head = f"[{event.done}/{event.total}] line {event.index + 1}"
            if event.kind == ROW_FAILED:
                say(args, f"{head} FAILED: {event.message}", always=True)
            else:
                take = row.approved_take if row else None
                seconds = f"{take.duration_s:.1f} s" if take else ""
                say(args, f"{head} {seconds} {short!r}" + (f" (ETA {eta})" if eta else ""))

        flags = file_flags(args)
        common: dict[str, Any] = {
            "voices": library, "on_event": on_event, "quality": quality,
            "after_take": lambda row, _take: export_row(project, record, row, options.wav_format,
                                                        watermark=options.watermark),
            "describe_error": lambda exc: describe(exc, flags=flags)}
        try:
            if cluster is not None:
                from valle_studio.cli.cluster import run_on_cluster

                summary = run_on_cluster(args, cluster, args.model or project.model, project, queue, **common)
            else:
                summary = BatchRunner(project, synth, **common).run(queue)
        except KeyboardInterrupt:  # Ctrl+C, or SIGTERM/SIGHUP (cli.signals); dispatch prints the last line
            say(args, f"interrupted: finished lines are saved; run again with --resume to finish {out_dir}",
                always=True)
            raise
        result = export_project(project, options)
        counts = project.counts()
        failed = counts["failed"]
        outputs = ", ".join([*result.manifests, *filter(None, [result.combined, result.srt, result.vtt])])
        say(args, f"done: {counts['done']} of {len(project.rows)} lines in {out_dir} ({outputs}); "
                  f"{summary.elapsed_s:.1f} s", always=True)
        if report is not None:
            path, write = checks.report_writer(report, project_report(project))
            write()
            say(args, f"report: {path}")
        if failed:
            where = log_path()
            details = f" (details in {where})" if where is not None else ""
            say(args, f"{failed} line(s) failed{details}; run the same command with --resume to retry them, "
                      "or fix them in the script and add --sync-script (finished lines whose text is unchanged "
                      "are kept)", always=True)
            return EXIT_ERROR
        not_good = lines_without_a_good_take(project)
    if not not_good:
        return EXIT_OK
    shown = ", ".join(map(str, not_good[:12])) + ("..." if len(not_good) > 12 else "")
    return checks.verdict_exit(args, [f"{len(not_good)} line(s) have no good take: {shown} (their reasons are "
                                      "in the manifest's verdict and reasons columns)"])
