"""What every command shares: the sampler flags, the exit codes, :class:`CliError` and progress on stderr.

The sampler flags are built from the settings' one declaration (``engine.settings.SPECS``): one flag per
field, with the spec's flag name, type, choices, help, range and default, so ``--help``, the parsing and
the validation cannot disagree. :func:`settings_from_args` turns the parsed flags back into validated
:class:`~valle_studio.engine.settings.GenerationSettings` and words a refused value with its flag.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any, Protocol, TextIO

from valle_studio.engine.progress import Progress, ProgressThrottle
from valle_studio.engine.setting_spec import FieldSpec
from valle_studio.engine.settings import SPECS, GenerationSettings, SettingsError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130

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
    raises :class:`CliError` naming the flag."""
    from valle_studio.engine.lora_choice import parse_lora_choice

    try:
        return parse_lora_choice(text)
    except SettingsError as exc:
        if exc.field == "lora_strength":
            raise CliError(f"{LORA_FLAG} {text} is out of range ({exc})") from exc
        raise CliError(f"{LORA_FLAG} {text!r}: give an installed LoRA's name or a lora.sft path") from exc


VOICE_FLAG = "--voice"


def add_voice_flag(parser: ArgumentContainer, *, what: str = "speak with") -> None:
    """``--voice NAME[:WEIGHT]``, repeatable: one saved voice (a blend too), or two or more blended."""
    parser.add_argument(VOICE_FLAG, action="append", default=[], metavar="NAME[:WEIGHT]",
                        help=f"a saved voice to {what}; repeat to blend saved voices with weights, e.g. "
                             "--voice Alice:0.6 --voice Bob:0.4 (experimental: the voices are mixed at the "
                             "model's prompt embedding)")


def parse_voice(text: str) -> tuple[str, float]:
    """``"Alice:0.6"`` -> ``("Alice", 0.6)``; a name alone has weight 1. Raises :class:`CliError`."""
    head, colon, tail = text.rpartition(":")
    name, weight = text, 1.0
    if colon and head:
        with contextlib.suppress(ValueError):  # else the colon is part of the name
            weight, name = float(tail), head
    name = name.strip()
    if not name:
        raise CliError(f"{VOICE_FLAG} {text!r}: give the name of a saved voice")
    if not weight > 0 or weight == float("inf"):
        raise CliError(f"{VOICE_FLAG} {text}: the weight must be a number above 0")
    return name, weight


def voice_request_fields(names: list[str], library: Any | None = None) -> dict[str, Any]:
    """The request's ``prompts`` or ``blend`` for ``--voice`` flags (saved voices of ``library``, default
    the user's). One name: that voice (a saved blend stays a blend); more: a blend of them."""
    from valle_studio.engine.requests import BlendPart
    from valle_studio.studio.voices import VoiceLibrary, VoiceNotFound

    library = library if library is not None else VoiceLibrary()
    parsed = [parse_voice(text) for text in names]
    try:
        voices = [(library.get(name), weight) for name, weight in parsed]
    except VoiceNotFound as exc:
        known = ", ".join(library.names()) or "none yet"
        raise CliError(f"{VOICE_FLAG}: {exc} (saved voices: {known})") from exc
    if len(voices) == 1:
        return voices[0][0].request_voice()
    if len({v.folder for v, _ in voices}) < len(voices):
        raise CliError(f"{VOICE_FLAG}: a voice is named twice in the blend")
    blends = [v.name for v, _ in voices if v.is_blend]
    if blends:
        raise CliError(f"{VOICE_FLAG} {blends[0]} is a blend itself; blend the voices it is made of")
    return {"blend": tuple(BlendPart(v.prompts(), weight, v.name) for v, weight in voices)}


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def check_output_files(out: str | None, out_codes: str | None) -> tuple[Path | None, Path | None]:
    """``--out FILE.wav`` and ``--out-codes FILE.npy`` checked before anything heavy runs: a known
    suffix, an existing folder that accepts files. At least one is needed."""
    from valle_studio.core.atomic import ensure_writable

    if not out and not out_codes:
        raise CliError("nothing to write: give --out FILE.wav and/or --out-codes FILE.npy")
    audio = Path(out) if out else None
    codes = Path(out_codes) if out_codes else None
    if audio is not None and audio.suffix.lower() not in AUDIO_SUFFIXES:
        raise CliError(f"--out {audio}: use a .wav, .flac or .ogg file name")
    if codes is not None and codes.suffix.lower() != ".npy":
        raise CliError(f"--out-codes {codes}: use a .npy file name")
    for path in (audio, codes):
        if path is not None and not path.parent.exists():
            raise CliError(f"output folder does not exist: {path.parent}")
        if path is not None:
            ensure_writable(path)
    return audio, codes


def write_result(result: Any, audio: Path | None, codes: Path | None) -> None:
    """Write a take's audio and/or codes atomically; nothing is left behind when one write fails."""
    import io

    import numpy as np

    from valle_studio.audio.io import save_audio
    from valle_studio.core.atomic import atomic_write

    written: list[Path] = []
    try:
        if audio is not None and result.audio is not None:
            existed = audio.exists()
            save_audio(audio, result.audio, result.sample_rate)
            written += [] if existed else [audio]
        if codes is not None:
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(result.codes, dtype=np.int64))
            atomic_write(codes, buffer.getvalue())
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


def given_sampler_flags(args: argparse.Namespace) -> list[str]:
    """The sampler flags given on the command line, in ``--help`` order."""
    flags = [SPEC_OF_DEST[dest].cli_flag for dest, value in vars(args).items()
             if value is not None and dest in SPEC_OF_DEST]
    return [*flags, LORA_FLAG] if getattr(args, "lora", None) else flags


def settings_from_args(args: argparse.Namespace) -> GenerationSettings:
    """Build validated settings from parsed flags; unset flags keep the defaults.

    A refused value names the flag and the value given, then the setting's rule
    (``--top-p 3 is out of range (top_p: must be above 0 and at most 1)``).
    """
    changes = {SPEC_OF_DEST[dest].name: value for dest, value in vars(args).items()
               if value is not None and dest in SPEC_OF_DEST}
    for name, value in list(changes.items()):
        spec = SPECS[name]
        if spec.kind == "tokens":
            try:
                changes[name] = spec.parse(value)
            except SettingsError as exc:
                raise CliError(f"{spec.cli_flag} {value!r} is not usable ({exc})") from exc
    shown = dict(changes)
    if getattr(args, "lora", None):
        changes["lora"], changes["lora_strength"] = parse_lora(args.lora)
        shown["lora"] = shown["lora_strength"] = args.lora
    try:
        return GenerationSettings(**changes)
    except SettingsError as exc:
        spec = SPECS[exc.field]
        if spec.name not in changes:  # a default never fails alone; say what was refused anyway
            raise CliError(str(exc)) from exc
        flag = LORA_FLAG if spec.name in ("lora", "lora_strength") else spec.cli_flag
        raise CliError(f"{flag} {_shown(shown[spec.name])} is out of range ({exc})") from exc


def _shown(value: object) -> str:
    """A flag's parsed value as the user would have typed it: ``3`` for 3.0, ``0.001``, ``nan``."""
    return f"{value:.15g}" if isinstance(value, float) else str(value)


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
    "EXIT_CANCELLED",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "LORA_FLAG",
    "SPEC_OF_DEST",
    "ArgumentContainer",
    "CliError",
    "StderrProgress",
    "add_device_flags",
    "add_lora_flag",
    "add_sampler_flags",
    "flag_help",
    "given_sampler_flags",
    "parse_lora",
    "settings_from_args",
]
