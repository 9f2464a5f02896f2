"""What every command shares: the sampler flags, the exit codes, :class:`CliError` and progress on stderr.

The sampler flags are built from the settings' one declaration (``engine.settings.SPECS``): one flag per
field, with the spec's flag name, type, choices, help, range and default, so ``--help``, the parsing and
the validation cannot disagree. :func:`settings_from_args` turns the parsed flags back into validated
:class:`~valle_studio.engine.settings.GenerationSettings` and words a refused value with its flag.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from valle_studio.engine.progress import Progress, ProgressThrottle
from valle_studio.engine.setting_spec import FieldSpec
from valle_studio.engine.settings import SPECS, GenerationSettings, SettingsError

if TYPE_CHECKING:
    from valle_studio.errors import FileFlags

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_GOOD_TAKE = 3  # --strict: the quality check found no good take
EXIT_CANCELLED = 130

#: argparse destination -> the option that names a file there (for messages about that file). The
#: batch SCRIPT and ``models import PATH`` are positional: their messages say "script"/"model" already.
FILE_OPTIONS: dict[str, str] = {"model": "--model", "tokenizer": "--tokenizer", "prompt": "--prompt",
                                "clip": "--clip", "source": "--source", "out": "--out", "out_codes": "--out-codes",
                                "out_dir": "--out-dir", "lexicon": "--lexicon"}

#: The CLI metavar of each unit a spec may name.
_METAVARS = {"seconds": "SECONDS", "frames": "FRAMES"}

#: argparse destination -> the spec of the sampler flag that fills it (fields the CLI words itself, like the
#: LoRA, have no entry: see add_lora_flag).
SPEC_OF_DEST: dict[str, FieldSpec] = {spec.cli_dest: spec for spec in SPECS.values() if spec.cli}
LORA_FLAG = "--lora"


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


class ArgumentContainer(Protocol):
    """An argparse parser or argument group: whatever flags can be added to."""

    def add_argument(self, *args: Any, **kwargs: Any) -> Any: ...


def flag_help(spec: FieldSpec) -> str:
    """The ``--help`` text of a sampler flag: the spec's help, then its range and default."""
    if spec.kind == "flag":
        return spec.help
    if spec.kind == "choice":
        return f"{spec.help} (default: {spec.default})"
    if spec.kind == "tokens":
        return f"{spec.help}; {spec.rule_words()}"
    allowed = spec.rule_words()
    if spec.off_text and not spec.optional:
        assert spec.range is not None
        allowed += f", {spec.range.low:g} = {spec.off_text}"
    default = spec.off_text if spec.default is None else f"{spec.default:g}"
    return f"{spec.help} ({allowed}; default: {default})"


def add_sampler_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per settings field, in declaration order. Every default is None, so that
    :func:`settings_from_args` (and a resumed batch) can tell the flags that were given."""
    group = parser.add_argument_group("sampling (defaults: upstream's web UI)")
    for spec in SPEC_OF_DEST.values():
        if spec.kind == "tokens":
            group.add_argument(spec.cli_flag, metavar=spec.metavar or "IDS", help=flag_help(spec))
        elif spec.kind == "flag":
            group.add_argument(spec.cli_flag, action="store_true", default=None, help=flag_help(spec))
        elif spec.kind == "choice":
            group.add_argument(spec.cli_flag, choices=spec.values, help=flag_help(spec))
        else:
            metavar = spec.metavar or _METAVARS.get(spec.unit)
            group.add_argument(spec.cli_flag, type=int if spec.integer else float, metavar=metavar,
                               help=flag_help(spec))


def add_lora_flag(parser: ArgumentContainer) -> None:
    """``--lora NAME|PATH[:STRENGTH]``: the two LoRA settings in one flag (default: none)."""
    strength = SPECS["lora_strength"]
    assert strength.range is not None
    parser.add_argument(LORA_FLAG, metavar="NAME|PATH[:STRENGTH]",
                        help=f"apply a LoRA voice adapter: an installed LoRA's name (valle-studio-cli models list) "
                             f"or a lora.sft file, optionally with a strength {strength.range.words()} "
                             f"(default {strength.default:g}: as trained), e.g. --lora glados:0.8")


def parse_lora(text: str) -> tuple[str, float]:
    """``"glados:0.8"`` -> ``("glados", 0.8)`` (see :func:`~valle_studio.engine.lora_choice.parse_lora_choice`);
    raises :class:`CliError` naming the flag (``--lora glados:2 is out of range: must be between 0 and 1.5``)."""
    from valle_studio.engine.lora_choice import parse_lora_choice

    try:
        return parse_lora_choice(text)
    except SettingsError as exc:
        if exc.field == "lora_strength":
            raise CliError(f"{LORA_FLAG} {text} is out of range: {exc.problem}") from exc
        raise CliError(f"{LORA_FLAG} {text!r}: give an installed LoRA's name or a lora.sft path") from exc


def check_lora_installed(settings: GenerationSettings) -> None:
    """The LoRA ``--lora`` names is a file or an installed LoRA, checked before the model loads (whether it
    fits the model is known only once it is loaded). Raises :class:`CliError` naming the flag."""
    from valle_studio.engine.lora_choice import LoraError, resolve_lora

    if not settings.lora or settings.lora_strength == 0.0:
        return
    from valle_studio.engine.store import ModelStore

    try:
        resolve_lora(settings.lora, ModelStore())
    except LoraError as exc:
        raise CliError(f"{LORA_FLAG} {settings.lora}: {exc}") from exc


def given_sampler_flags(args: argparse.Namespace) -> list[str]:
    """The sampler flags given on the command line, in ``--help`` order."""
    flags = [SPEC_OF_DEST[dest].cli_flag for dest, value in vars(args).items()
             if value is not None and dest in SPEC_OF_DEST]
    return [*flags, LORA_FLAG] if getattr(args, "lora", None) else flags


def settings_from_args(args: argparse.Namespace) -> GenerationSettings:
    """Build validated settings from parsed flags; unset flags keep the defaults.

    A refused value names the flag and the value given, then the setting's rule
    (``--top-p 3 is out of range: must be above 0 and at most 1``), in the words of
    :func:`valle_studio.errors.settings_message` (flags from the settings' declaration, never field names).
    """
    from valle_studio.errors import settings_message

    changes = {SPEC_OF_DEST[dest].name: value for dest, value in vars(args).items()
               if value is not None and dest in SPEC_OF_DEST}
    for name, value in list(changes.items()):
        spec = SPECS[name]
        if spec.kind == "tokens":
            try:
                changes[name] = spec.parse(value)
            except SettingsError as exc:
                raise CliError(f"{spec.cli_flag} {value!r} is not usable: {exc.problem}") from exc
    shown = dict(changes)
    if getattr(args, "lora", None):
        changes["lora"], changes["lora_strength"] = parse_lora(args.lora)
        shown["lora"] = shown["lora_strength"] = args.lora
    try:
        return GenerationSettings(**changes)
    except SettingsError as exc:
        # a default never fails alone; without a given value, the flag and the rule are still named
        raise CliError(settings_message(exc, given=shown.get(exc.field))) from exc


def file_flags(args: argparse.Namespace) -> FileFlags:
    """Which option named which file in this command line (see :data:`FILE_OPTIONS`)."""
    from valle_studio.errors import FileFlags

    pairs: list[tuple[str, object]] = []
    for dest, flag in FILE_OPTIONS.items():
        value = getattr(args, dest, None)
        for item in value if isinstance(value, list) else [value]:
            pairs.append((flag, item))
    return FileFlags.of(pairs)


def add_device_flags(parser: ArgumentContainer) -> None:
    """``--device`` and ``--dtype``, the same for every command that loads a model."""
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    parser.add_argument("--dtype", default="auto", help="auto, float32, float16 or bfloat16 (default auto)")


class StderrProgress:
    """Progress on stderr: one line per stage change, at most ~4 updates a second within a stage."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.25) -> None:
        self.stream = stream  # None: whatever sys.stderr is when a line is printed
        self._throttle = ProgressThrottle(self._print, interval, key=lambda event: (event.stage, event.detail))

    def __call__(self, event: Progress) -> None:
        self._throttle(event)

    def _print(self, event: Progress) -> None:
        print(f"  {event.text}", file=self.stream or sys.stderr, flush=True)


__all__ = [
    "EMBEDDING_SUMS", "EXIT_CANCELLED", "EXIT_ERROR", "EXIT_NO_GOOD_TAKE", "EXIT_OK", "EXIT_USAGE", "FILE_OPTIONS",
    "LORA_FLAG", "SPEC_OF_DEST", "ArgumentContainer", "CliError", "StderrProgress",
    "add_device_flags", "add_embedding_sums_flag", "add_lexicon_flag", "add_lora_flag", "add_sampler_flags",
    "check_lora_installed", "embedding_sums_choice", "file_flags", "flag_help", "given_sampler_flags",
    "lexicon_files", "parse_lora", "request_lexicon", "settings_from_args", "warn_unknown_symbols",
]


def add_lexicon_flag(parser: ArgumentContainer) -> None:
    """``--lexicon FILE`` (repeatable): pronunciations applied before espeak, on top of the global lexicon."""
    parser.add_argument("--lexicon", action="append", default=[], metavar="FILE",
                        help="pronunciation lexicon, .tsv (word<TAB>/IPA/ or respelling<TAB>[language]) or .json "
                             "(README: 'Pronunciation lexicon'); applied after the global lexicon, later files "
                             "win; repeat for several")


def lexicon_files(args: Any) -> list[Path]:
    """The ``--lexicon`` files, each read once now so that a bad one fails before anything loads.

    Raises:
        CliError: a file is missing or has a bad entry (named with its line and word).
    """
    from valle_studio.engine.text.lexicon import LexiconError
    from valle_studio.engine.text.lexicon_format import read_lexicon

    paths = [Path(p) for p in getattr(args, "lexicon", None) or []]
    for path in paths:
        try:
            read_lexicon(path)
        except LexiconError as exc:
            raise CliError(f"--lexicon {path}: {exc}") from exc
    return paths


def request_lexicon(args: Any, **scopes: Any) -> Any:
    """The global lexicon, the given ``scopes`` (``voice=``, ``project_folder=``) and ``--lexicon`` files,
    merged (:func:`valle_studio.studio.lexicons.combined`); None when all are empty."""
    from valle_studio.engine.text.lexicon import LexiconError
    from valle_studio.studio.lexicons import combined

    try:
        return combined(extra=lexicon_files(args), **scopes)
    except LexiconError as exc:
        raise CliError(str(exc)) from exc


#: ``--embedding-sums`` choices -> ``legacy_summing`` for the loader (None: decided by the file itself).
EMBEDDING_SUMS = {"auto": None, "legacy": True, "fixed": False}


def add_embedding_sums_flag(parser: ArgumentContainer) -> None:
    """``--embedding-sums legacy|fixed|auto``: how the model sums its audio embeddings."""
    parser.add_argument("--embedding-sums", choices=tuple(EMBEDDING_SUMS), default="auto",
                        help="auto (default): decided by the checkpoint itself (the published ar+nar-llama-8, "
                             "trained before upstream's 2025-03 fix, is recognised wherever it is loaded from); "
                             "legacy: the pre-fix sums; fixed: upstream's current sums")


def embedding_sums_choice(args: Any) -> bool | None:
    """The ``legacy_summing`` argument for ``Synthesizer.load`` from ``--embedding-sums``."""
    return EMBEDDING_SUMS[getattr(args, "embedding_sums", None) or "auto"]


def warn_unknown_symbols(synth: Any, request: Any) -> None:
    """Print, before anything is generated, every word whose phonemes would reach the model as ``<unk>``."""
    from valle_studio.engine.text.analysis import unknown_warning

    settings = request.settings
    pieces = synth.analyze(request.text, request.language, settings.split, lexicon=request.lexicon,
                           no_phonemize=settings.no_phonemize)
    warning = unknown_warning([p for p in pieces if p.speakable])
    if warning:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
