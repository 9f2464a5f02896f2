"""``valle-studio-cli transcribe``: what the model's own speech-to-text head hears in a clip.

``transcribe --model M [--lang L] [--json] CLIP|CODES.npy`` prints the IPA the STT head hears on
stdout; ``--json`` prints ``{"ids": [int, ...], "ipa": str}`` instead (the generated phoneme ids,
without ``<bos>``/``</eos>``). An audio clip needs the codec (to turn it into codes); a ``.npy`` of
codes ``[T, 8]`` does not. The file and the language are checked before the model loads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from valle_studio.cli.options import EXIT_OK, StderrProgress, add_device_flags


def add_parser(sub: Any) -> None:
    """The ``transcribe`` command on ``sub`` (the main parser's subparsers)."""
    command = sub.add_parser(
        "transcribe", help="print the phonemes the model's speech-to-text head hears in a clip",
        description="Transcribe a clip (audio, or .npy codes [T, 8]) into IPA phonemes with the model's own "
                    "speech-to-text head (classifiers.proj.9).")
    command.add_argument("clip", metavar="CLIP|CODES.npy", help="an audio file (wav/flac/ogg/mp3) or .npy codes")
    command.add_argument("--model", required=True, metavar="PATH|NAME",
                         help="a .sft/.pth checkpoint, or the name of an installed model")
    command.add_argument("--tokenizer", metavar="PATH",
                         help="tokenizer.json (default: beside the model, else the installed one)")
    command.add_argument("--lang", default="en", help="language of the clip: en, ja, de, fr, zh, ko (default en)")
    command.add_argument("--json", action="store_true",
                         help='print {"ids": [...], "ipa": "..."}: the phoneme ids heard and their IPA')
    add_device_flags(command)
    command.add_argument("--quiet", action="store_true", help="no progress on stderr")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read and check the clip and the language, load the model, transcribe, print."""
    from valle_studio.audio.prompts import read_prompt_file
    from valle_studio.engine.synthesizer import Synthesizer
    from valle_studio.engine.text.languages import resolve_language

    resolve_language(args.lang)
    clip = read_prompt_file(args.clip)
    progress = None if args.quiet else StderrProgress()
    if progress:
        print(f"loading {args.model}", file=sys.stderr, flush=True)
    synth = Synthesizer.load(args.model, device=args.device, dtype=args.dtype,
                             tokenizer=Path(args.tokenizer) if args.tokenizer else None)
    transcript = synth.transcript(clip, args.lang, progress=progress)
    if args.json:
        print(json.dumps(transcript.to_json(), ensure_ascii=False))
    else:
        print(transcript.ipa)
    return EXIT_OK


__all__ = ["add_parser", "run"]
