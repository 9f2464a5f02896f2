"""Setting up ``batch``: everything checked before a project exists, and resuming one safely.

A new batch is checked whole before its project folder is made (:func:`check_new_batch`): the script
(a regular text file, not binary), the naming template, the speaker tags and saved voices (each voice's
clips read and checked as prompts; a blended voice's members each), every ``--prompt`` (read and checked:
an ``.npy`` of the wrong shape is refused here, as ``synth`` refuses it), the LoRAs of ``--lora`` and of
the script's ``lora`` column (installed, or a file), and the output folder. The model and its codec are loaded
next, by the caller, and only then is the project created; a run that still fails before any line was
done takes the project away again (:func:`discard_new_project`), so the same command can simply be run
again.

Resuming (:func:`open_existing`) sweeps the temporary files that a killed run left in the output
folder, and with ``--sync-script`` continues a batch whose script was edited (``batch.resync``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valle_studio.batch.project import BatchProject
from valle_studio.batch.script import Script, read_script
from valle_studio.cli.options import LORA_FLAG, CliError, given_sampler_flags, lexicon_files
from valle_studio.core.files import NotARegularFileError, require_regular_file
from valle_studio.engine.settings import GenerationSettings

PROJECT_DIR = ".valle-batch"


def say(args: argparse.Namespace, text: str, *, always: bool = False) -> None:
    if always or not args.quiet:
        print(text, file=sys.stderr, flush=True)


def script_record(path: Path, script: Script) -> dict[str, Any]:
    """What a project remembers of its script: where it is, its SHA-256, how it was read."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise CliError(f"cannot read the script {path}: {exc.strerror or exc}") from exc
    return {"path": str(path.resolve()), "sha256": digest, "format": script.format, "encoding": script.encoding}


@dataclass
class NewBatch:
    """A batch that passed every check and is ready to become a project (:meth:`create`)."""

    script_path: Path
    script: Script
    library: Any  # the VoiceLibrary
    prompts: list[Path]
    model: str
    lexicon: Any = None  # the --lexicon files merged (engine.text.lexicon.Lexicon), the project's own lexicon

    def create(self, args: argparse.Namespace, settings: GenerationSettings, out_dir: Path) -> BatchProject:
        out_dir.mkdir(parents=True, exist_ok=True)
        model = self.model
        project = BatchProject.create(
            out_dir / PROJECT_DIR, self.script.lines, name=self.script_path.stem, settings=settings,
            language=args.lang or "en", default_voice=args.voice or "",
            prompt_files=[str(p.resolve()) for p in self.prompts],
            model=str(Path(model).resolve()) if Path(model).is_file() else model,
            script=script_record(self.script_path, self.script))
        if self.lexicon is not None:
            try:
                project.set_lexicon(self.lexicon)  # over the global and voice lexicons, for every row
            except BaseException:
                project.close()
                raise
        return project


def _check_prompt_sources(sources: list[Any], settings: GenerationSettings) -> None:
    """The checks a single take runs on its prompts (silence, length, code shape), run now."""
    from valle_studio.engine.prompts import check_prompts

    check_prompts(sources, settings.prompt_length_frames())


def check_loras(script: Script, settings: GenerationSettings) -> None:
    """The LoRA of ``--lora`` and of every script line's ``lora`` column is a file or an installed LoRA
    (whether it fits the model is known once the model is loaded; a line whose LoRA does not fit fails
    alone). Raises :class:`CliError` naming the flag or the line."""
    from valle_studio.engine.lora_choice import LoraError, resolve_lora
    from valle_studio.engine.store import ModelStore

    wanted: list[tuple[str, str]] = []
    if settings.lora and settings.lora_strength != 0.0:
        wanted.append((settings.lora, f"{LORA_FLAG} {settings.lora}"))
    for line in script.lines:
        own = line.settings()
        if own.get("lora") and own.get("lora_strength") != 0.0:
            wanted.append((str(own["lora"]), f"line {line.line}, column 'lora'"))
    if not wanted:
        return
    store, found = ModelStore(), set()
    for name, where in wanted:
        if name in found:
            continue
        try:
            resolve_lora(name, store)
        except LoraError as exc:
            raise CliError(f"{where}: {exc}") from exc
        found.add(name)


def check_out_dir(out_dir: Path) -> None:
    """The output folder is a folder (or can become one) and accepts files."""
    from valle_studio.core.atomic import ensure_writable

    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out-dir {out_dir} is a file, not a folder")
    if out_dir.is_dir():
        ensure_writable(out_dir / "manifest.csv")  # read-only, full: said now, not after loading the model
        return
    parent = next((p for p in out_dir.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise CliError(f"--out-dir {out_dir}: {parent} is a file, not a folder")


def check_new_batch(args: argparse.Namespace, settings: GenerationSettings, out_dir: Path) -> NewBatch:
    """Every check of a new batch that needs no model (see the module docstring)."""
    from valle_studio.audio.prompts import read_prompt_files
    from valle_studio.batch.names import TemplateError, check_template
    from valle_studio.studio.voices import VoiceLibrary

    if args.template:
        try:
            check_template(args.template)
        except TemplateError as exc:
            raise CliError(f"--template: {exc}") from exc
    check_out_dir(out_dir)
    script_path = Path(args.script)
    library = VoiceLibrary()
    script = read_script(script_path, known_voices=library.names())
    for warning in script.warnings:
        say(args, f"note: {warning}")
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
    for name in needed:
        voice = library.get(name)
        for sources in [part.prompts for part in voice.blend_parts()] if voice.is_blend else [voice.prompts()]:
            _check_prompt_sources(list(sources), settings)
    prompts = [Path(p) for p in args.prompt or []]
    _check_prompt_sources(list(read_prompt_files(prompts)), settings)
    check_loras(script, settings)
    lexicon = _read_lexicons(args)
    model = args.model
    if not model:
        from valle_studio.engine.store import ModelStore

        model = ModelStore().default_model
    return NewBatch(script_path, script, library, prompts, model, lexicon)


def _read_lexicons(args: argparse.Namespace) -> Any:
    """The ``--lexicon`` files merged into the project's own lexicon (None without any); a bad entry is
    refused here, naming the file, its line and the word."""
    paths = lexicon_files(args)
    if not paths:
        return None
    from valle_studio.engine.text.lexicon import Lexicon
    from valle_studio.engine.text.lexicon_format import read_lexicon

    return Lexicon.merged(read_lexicon(path) for path in paths)


def discard_new_project(project: BatchProject, out_dir: Path, made_out_dir: bool) -> None:
    """Remove a project this run created and finished nothing in (and the output folder, when this run
    made it and nothing else is in it): the same command can then simply run again."""
    project.close()
    with contextlib.suppress(OSError):
        shutil.rmtree(project.folder)
    if made_out_dir:
        with contextlib.suppress(OSError):
            out_dir.rmdir()  # only when empty


def open_existing(args: argparse.Namespace, settings: GenerationSettings, out_dir: Path,
                  resync: Callable[[BatchProject], None]) -> tuple[BatchProject, Any]:
    """The project in OUT_DIR, checked against this command line, its leftovers swept.

    ``resync(project)`` is called when ``--sync-script`` was given (the caller re-reads the script).
    """
    from valle_studio.core.atomic import sweep_temp_files
    from valle_studio.studio.voices import VoiceLibrary

    project = BatchProject.open(out_dir / PROJECT_DIR)
    try:
        counts = project.counts()
        if not args.resume and not args.sync_script:
            raise CliError(f"{out_dir} already holds a batch ({counts['done']} of {len(project.rows)} lines "
                           "done); add --resume to finish it, or choose another --out-dir")
        problems = []
        flags = given_sampler_flags(args)
        if flags and settings.to_dict() != project.settings.to_dict():
            problems.append(f"the batch keeps the settings it started with (leave out {', '.join(flags)})")
        other_voice = bool(args.voice) and args.voice != project.default_voice
        other_prompts = bool(args.prompt) and [str(Path(p).resolve()) for p in args.prompt] != project.prompt_files
        if other_voice or other_prompts:
            problems.append("the batch keeps the voice it started with (leave out --voice/--prompt)")
        if getattr(args, "lexicon", None):
            problems.append(f"the batch keeps the lexicon it started with ({project.lexicon_path}; leave out "
                            "--lexicon)")
        script_path = Path(args.script)
        try:
            require_regular_file(script_path, "a script file")  # a named pipe would block the read
            digest = hashlib.sha256(script_path.read_bytes()).hexdigest()
        except NotARegularFileError as exc:
            raise CliError(str(exc)) from exc
        except OSError as exc:
            raise CliError(f"cannot read the script {script_path}: {exc.strerror or exc}") from exc
        changed = digest != project.script.get("sha256")
        if changed and not args.sync_script:
            problems.append(f"{script_path} changed since the batch started (add --sync-script to go on with the "
                            "edited script: finished lines whose text is unchanged are kept)")
        if problems:
            raise CliError("cannot resume: " + "; ".join(problems))
        record = project.export_record(out_dir)
        if record is not None:  # what a SIGKILL in the middle of writing a line left behind
            swept = sweep_temp_files(record.folder, [f.name for f in record.files.values()])
            if swept:
                say(args, f"removed {len(swept)} temporary file(s) an interrupted run left in {out_dir}")
        if changed:
            resync(project)
        counts = project.counts()
        say(args, f"resuming: {counts['done']} of {len(project.rows)} lines already done")
        return project, VoiceLibrary()
    except BaseException:
        project.close()
        raise


__all__ = ["PROJECT_DIR", "NewBatch", "check_loras", "check_new_batch", "check_out_dir", "discard_new_project",
           "open_existing", "say", "script_record"]
