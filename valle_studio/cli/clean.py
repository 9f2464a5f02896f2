"""``valle-studio-cli clean``: one clip said again by the model without its noise (ns), or only its
non-speech part (sr), the tasks of ``engine/tasks.py`` in upstream's layout.

The clip's transcript comes from the model's own speech-to-text head unless ``--text`` gives it. The
output keeps the clip's length (NAR-len; a model without it runs the AR). Models whose metadata lacks the
task are refused with the reason.

Like ``synth``, everything cheap is checked before the model loads (the flags, the language, the clip,
the LoRA, the outputs), the outputs are written together through the output commit (``cli/outputs.py``)
and never over an input: ``--out`` may not be the ``--clip`` itself, so the original is always kept.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from valle_studio.cli.options import EXIT_OK, add_sampler_flags, check_lora_installed, settings_from_args
from valle_studio.cli.outputs import plan_outputs, write_take
from valle_studio.cli.take_commands import add_take_flags, load_synthesizer, say_done


def add_parser(sub: Any) -> None:
    """The ``clean`` command on ``sub`` (the main parser's subparsers)."""
    clean = sub.add_parser("clean", help="clean a clip with the model itself (noise suppression, speech removal)",
                           description="Say a clip again with the model's ns (noise suppression) or sr (speech "
                                       "removal) task. Needs a model whose metadata has the task. The clip is "
                                       "never overwritten: write the result to another file.")
    io = clean.add_argument_group("input and output")
    io.add_argument("--model", required=True, metavar="PATH|NAME", help="a checkpoint, or an installed model")
    io.add_argument("--tokenizer", metavar="PATH", help="tokenizer.json (default: beside the model)")
    io.add_argument("--clip", required=True, metavar="FILE", help="the audio (or .npy codes [T, 8]) to clean")
    io.add_argument("--task", choices=("ns", "sr"), default="ns",
                    help="ns: remove the noise, keep the speech; sr: remove the speech, keep the rest (default ns)")
    io.add_argument("--text", help="what the clip says (default: what the model's speech-to-text hears)")
    io.add_argument("--lang", default="en", help="language of the clip: en, ja, de, fr, zh, ko (default en)")
    add_take_flags(io, what="the cleaned audio")
    add_sampler_flags(clean)
    clean.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the flags and files, load, clean, write."""
    from valle_studio.audio.prompts import read_prompt_file
    from valle_studio.core.provenance import Provenance
    from valle_studio.engine.prompts import check_prompt
    from valle_studio.engine.text.languages import resolve_language

    settings = settings_from_args(args)
    plan = plan_outputs(args)
    resolve_language(args.lang)
    clip = check_prompt(read_prompt_file(args.clip), str(args.clip))
    check_lora_installed(settings)
    synth, progress = load_synthesizer(args)
    result = synth.clean(clip, task=args.task, text=args.text, language=args.lang, settings=settings,
                         progress=progress, decode=plan.audio is not None or plan.stdout)
    # The clip's own words, said again: the record names the clip as the voice.
    record = Provenance(text=args.text or result.sentences[0].phonemes, voice=Path(args.clip).name,
                        model=synth.info.name)
    write_take(plan, result, record, source=f"clean ({args.task})", watermark=not args.no_watermark,
               quiet=args.quiet)  # all files, or none
    say_done(result, "heard")
    return EXIT_OK


__all__ = ["add_parser", "run"]
