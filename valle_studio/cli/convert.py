"""``valle-studio-cli convert``: a source clip's words in another voice (voice conversion, experimental).

The target voice is given as reference files (``--prompt``) or saved voices (``--voice``, blends too).
The source's transcript comes from the model's own speech-to-text head unless ``--text`` gives it. The
model must have NAR-len (``len`` among its capabilities): the demasking starts from the source's codes
and keeps its length (``engine/tasks.py``, upstream's ``vc`` layout).

Like ``synth``, everything cheap is checked before the model loads (the flags, the language, the source
and the voice's clips, the LoRA, the outputs), the outputs are written together through the output commit
(``cli/outputs.py``) and never over an input (the ``--source`` or a ``--prompt``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valle_studio.cli.options import EXIT_OK, CliError, add_sampler_flags, check_lora_installed, settings_from_args
from valle_studio.cli.outputs import plan_outputs, write_take
from valle_studio.cli.take_commands import add_take_flags, load_synthesizer, say_done
from valle_studio.cli.voice_flags import VOICE_FLAG, add_voice_flag, voice_request_fields

if TYPE_CHECKING:
    from valle_studio.engine.requests import BlendPart, PromptSource


def add_parser(sub: Any) -> None:
    """The ``convert`` command on ``sub`` (the main parser's subparsers)."""
    convert = sub.add_parser("convert", help="say a source clip's words in another voice (voice conversion)",
                             description="Voice conversion with the model's NAR-len demasking (experimental, as "
                                         "upstream marks it). Needs a model with NAR-len.")
    io = convert.add_argument_group("input and output")
    io.add_argument("--model", required=True, metavar="PATH|NAME", help="a checkpoint, or an installed model")
    io.add_argument("--tokenizer", metavar="PATH", help="tokenizer.json (default: beside the model)")
    io.add_argument("--source", required=True, metavar="FILE", help="the clip whose words are said (audio or .npy)")
    io.add_argument("--prompt", action="append", default=[], metavar="FILE",
                    help="reference audio of the target voice (or .npy codes); repeat to concatenate")
    add_voice_flag(io, what="convert into")
    io.add_argument("--text", help="what the source says (default: what the model's speech-to-text hears)")
    io.add_argument("--lang", default="en", help="language: en, ja, de, fr, zh, ko (default en)")
    add_take_flags(io, what="the converted audio")
    add_sampler_flags(convert)
    convert.set_defaults(handler=run)


def _target_voice(args: argparse.Namespace, length_frames: int
                  ) -> tuple[tuple[PromptSource, ...], tuple[BlendPart, ...]]:
    """The target voice as the request's ``(prompts, blend)``, every clip read and checked."""
    from valle_studio.audio.prompts import read_prompt_files
    from valle_studio.engine.prompts import check_prompts

    if bool(args.prompt) == bool(args.voice):
        raise CliError(f"give the target voice with --prompt FILE or {VOICE_FLAG} NAME (one of the two)")
    if args.prompt:
        prompts: tuple[PromptSource, ...] = tuple(read_prompt_files(args.prompt))
        blend: tuple[BlendPart, ...] = ()
    else:
        prompts, blend = voice_request_fields(args.voice)
    for sources in [prompts] if not blend else [part.prompts for part in blend]:
        check_prompts(sources, length_frames)
    return prompts, blend


def run(args: argparse.Namespace) -> int:
    """Check the flags and files, load, convert, write."""
    from valle_studio.audio.prompts import read_prompt_file
    from valle_studio.core.provenance import Provenance
    from valle_studio.engine.prompts import check_prompt
    from valle_studio.engine.requests import SynthesisRequest
    from valle_studio.engine.text.languages import resolve_language

    settings = settings_from_args(args)
    plan = plan_outputs(args)
    resolve_language(args.lang)
    prompts, blend = _target_voice(args, settings.prompt_length_frames())
    source = check_prompt(read_prompt_file(args.source), str(args.source))
    check_lora_installed(settings)
    synth, progress = load_synthesizer(args)
    request = SynthesisRequest(language=args.lang, prompts=prompts, blend=blend, settings=settings)
    result = synth.convert(source, request, text=args.text, progress=progress,
                           decode=plan.audio is not None or plan.stdout)
    voice = " + ".join(str(v) for v in args.voice or []) or ", ".join(Path(p).name for p in args.prompt)
    record = Provenance(text=args.text or result.sentences[0].phonemes, voice=voice, model=synth.info.name)
    write_take(plan, result, record, source="convert", watermark=not args.no_watermark,
               quiet=args.quiet)  # all files, or none
    say_done(result, "said")
    return EXIT_OK


__all__ = ["add_parser", "run"]
