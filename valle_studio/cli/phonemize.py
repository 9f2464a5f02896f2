"""``valle-studio-cli phonemize``: exactly what the model receives for a text, without loading a model.

Plain output, one line per piece the model gets: its number, the token count (``<bos>`` and ``</eos>``
included) and the IPA, with every symbol the tokenizer lacks shown as ``<unk:SYMBOL>``; lexicon entries
used and the words that would reach the model as ``<unk>`` follow on stderr. ``--json`` prints one object
instead::

    {"espeak": "1.51", "pieces": [{"text": "Hello.", "ipa": "həlˈoʊ.", "ids": [1, 22, 111, 100, 11, 2]}]}

where ``ids`` are exactly the model's text ids. Exit code 0 even when a piece has ``<unk>`` (it is a
warning: the model can still be run), 1 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from valle_studio.cli.options import EXIT_OK, CliError, add_lexicon_flag, request_lexicon
from valle_studio.engine.settings import SPECS

#: The split modes, from the settings' one declaration.
SPLIT_MODES = tuple(choice.value for choice in SPECS["split"].choices)


def add_parser(sub: Any) -> None:
    """The ``phonemize`` command on ``sub`` (the main parser's subparsers)."""
    cmd = sub.add_parser("phonemize", help="show the IPA phonemes and token ids the model receives for a text",
                         description="Show exactly what the model receives: text pieces, espeak-ng IPA and the "
                                     "model's text ids (<bos> and </eos> included). Needs no model, only the "
                                     "tokenizer.")
    cmd.add_argument("text", metavar="TEXT", help="the text; '-' reads it from standard input")
    cmd.add_argument("--lang", default="en", help="language: en, ja, de, fr, zh, ko (default en)")
    cmd.add_argument("--split", choices=SPLIT_MODES, default=SPECS["split"].default,
                     help=f"how the text is cut into pieces (default {SPECS['split'].default})")
    cmd.add_argument("--tokenizer", metavar="PATH",
                     help="tokenizer.json (default: the one the model manager installed)")
    add_lexicon_flag(cmd)
    cmd.add_argument("--json", action="store_true",
                     help='print {"espeak": VERSION, "pieces": [{"text", "ipa", "ids"}, ...]}')
    cmd.set_defaults(handler=run)


def _tokenizer_path(args: argparse.Namespace) -> Path:
    if args.tokenizer:
        path = Path(args.tokenizer)
        if not path.is_file():
            raise CliError(f"--tokenizer {path}: file not found")
        return path
    from valle_studio.engine.store import ModelStore

    installed = Path(ModelStore().tokenizer_paths()[0])
    if not installed.is_file():
        raise CliError("no tokenizer is installed yet: download a model (valle-studio-cli models download "
                       "ar+nar-len-llama-8) or give --tokenizer PATH/TO/tokenizer.json")
    return installed


def run(args: argparse.Namespace) -> int:
    from valle_studio.engine.text import TextFrontend, TokenizerFileError, espeak_version
    from valle_studio.engine.text.analysis import analyze_text, unknown_warning
    from valle_studio.engine.text.languages import resolve_language

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        resolve_language(args.lang)
    except ValueError as exc:
        raise CliError(f"--lang {args.lang}: {exc}") from exc
    lexicon = request_lexicon(args)
    try:
        frontend = TextFrontend(_tokenizer_path(args))
    except TokenizerFileError as exc:
        raise CliError(str(exc)) from exc
    if lexicon is not None:
        for problem in lexicon.problems(frontend.tokenizer.unknown_symbols):
            print(f"warning: lexicon: {problem}", file=sys.stderr)
    pieces = [p for p in analyze_text(frontend, text, args.lang, args.split, lexicon=lexicon) if p.speakable]
    if not pieces:
        raise CliError("there is nothing to say: the text has no words")
    if args.json:
        print(json.dumps({"espeak": espeak_version(),
                          "pieces": [{"text": p.text, "ipa": p.ipa, "ids": list(p.ids)} for p in pieces]},
                         ensure_ascii=False))
    else:
        width = len(str(len(pieces)))
        for number, piece in enumerate(pieces, 1):
            print(f"{number:>{width}}. [{len(piece.ids)} tokens] {piece.marked()}")
            for entry in piece.lexicon:
                print(f"{' ' * width}  lexicon: {entry}", file=sys.stderr)
    warning = unknown_warning(pieces)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK
