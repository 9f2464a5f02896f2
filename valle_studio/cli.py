"""``valle-studio-cli``: the headless front end (synth now; batch joins it later).

Every sampler flag maps one-to-one onto a field of
:class:`~valle_studio.engine.settings.GenerationSettings`, so the CLI, the GUI and batch generate from
the same validated settings. Progress goes to stderr; any bad flag or input ends with a one-line error
and a non-zero exit code. torch is imported only when a command actually runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from valle_studio import __version__
from valle_studio.engine.settings import MODALITIES, SPLIT_MODES

#: ``--stream-mode`` choices (valle_studio.engine.streaming.STREAM_MODES; no torch import here).
STREAM_MODES = ("auto", "exact", "sentences")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def _sampler_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by every generating command; names follow GenerationSettings fields."""
    g = parser.add_argument_group("sampling (defaults: upstream's web UI)")
    g.add_argument("--modality", choices=MODALITIES, help="generation path (default: auto)")
    g.add_argument("--duration", type=int, metavar="FRAMES", help="fix the NAR-len length in frames (75/s)")
    g.add_argument("--steps", type=int, metavar="N", help="NAR-len demasking steps (default 50)")
    g.add_argument("--max-duration", type=float, metavar="SECONDS", help="cap per sentence (default 12)")
    g.add_argument("--ar-temperature", type=float, help="AR / NAR-len temperature (default 1.0; 0 = greedy)")
    g.add_argument("--nar-temperature", type=float, help="NAR levels 1-7 temperature (default 0 = greedy)")
    g.add_argument("--min-temperature", type=float, help="dynamic temperature floor (default off)")
    g.add_argument("--top-k", type=int, help="keep the k most likely tokens (0 = off)")
    g.add_argument("--top-p", type=float, help="nucleus sampling threshold (1 = off)")
    g.add_argument("--min-p", type=float, help="drop tokens below min-p x the best (0 = off)")
    g.add_argument("--top-no", type=float, help="top-nσ: keep logits within n std of the best (0 = off)")
    g.add_argument("--repetition-penalty", type=float, help="penalise repeated tokens (1 = off)")
    g.add_argument("--repetition-penalty-decay", type=float, help="fade the penalty with distance")
    g.add_argument("--length-penalty", type=float, help="AR: push the stop token later (+) or earlier (-)")
    g.add_argument("--cfg-strength", type=float, help="classifier-free guidance strength (default 1)")
    g.add_argument("--cfg-rescale", type=float, help="CFG rescale φ (default 0.75)")
    g.add_argument("--remask", action="store_true", default=None, help="NAR-len: upstream's remask option")
    g.add_argument("--scores-masked-only", action="store_true", default=None,
                   help="NAR-len: only re-score masked positions")
    g.add_argument("--prompt-length", type=float, metavar="SECONDS",
                   help="repeat/trim the reference to this length (0 = as is)")
    g.add_argument("--context-history", type=int, metavar="N", help="previous sentences fed as context (0-4)")
    g.add_argument("--split", choices=SPLIT_MODES, help="how text is cut into pieces (default: sentences)")
    g.add_argument("--gap", type=float, metavar="SECONDS", help="silence between sentences (default 0)")
    g.add_argument("--seed", type=int, help="random seed (default: a fresh one, printed)")
    g.add_argument("--no-phonemize", action="store_true", default=None,
                   help="feed raw text through the text tokenizer instead of phonemes")


#: CLI destination name -> GenerationSettings field name, where they differ.
_FIELD_OF = {"steps": "max_steps", "duration": "duration_frames"}


def settings_from_args(args: argparse.Namespace):  # -> GenerationSettings
    """Build validated settings from parsed flags; unset flags keep the defaults."""
    from valle_studio.engine.settings import GenerationSettings

    fields = GenerationSettings.__dataclass_fields__
    changes = {}
    for dest, value in vars(args).items():
        name = _FIELD_OF.get(dest, dest)
        if value is not None and name in fields:
            changes[name] = value
    return GenerationSettings(**changes)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="valle-studio-cli",
        description="VALL-E Studio from the command line: clone a voice and speak text with it.",
    )
    parser.add_argument("--version", action="version", version=f"VALL-E Studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    synth = sub.add_parser("synth", help="speak text (or phonemes) in the voice of reference clips",
                           description="Generate speech. Codes in (--prompt x.npy) and codes out "
                                       "(--out-codes) need no codec weights.")
    io = synth.add_argument_group("input and output")
    io.add_argument("--model", required=True, metavar="PATH|NAME",
                    help="a .sft/.pth checkpoint, or the name of an installed model")
    io.add_argument("--tokenizer", metavar="PATH",
                    help="tokenizer.json (default: beside the model, else the installed one)")
    text = io.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="text to speak")
    text.add_argument("--phonemes", metavar="IPA", help="IPA phonemes to speak (skips the text front end)")
    io.add_argument("--lang", default="en", help="language: en, ja, de, fr, zh, ko (default en)")
    io.add_argument("--prompt", action="append", default=[], metavar="FILE",
                    help="reference audio, or .npy int codes [T, 8]; repeat to concatenate")
    io.add_argument("--out", metavar="FILE.wav", help="write audio (wav/flac/ogg by extension); '-' writes a "
                                                      "16-bit WAV to stdout")
    io.add_argument("--out-codes", metavar="FILE.npy", help="write the generated codes, [T, 8] int")
    live = synth.add_argument_group("streaming: hear the start while the rest is generated")
    live.add_argument("--stream", action="store_true",
                      help="generate in chunks: with --out - the WAV on stdout grows chunk by chunk (pipe it "
                           "to a player); a file given to --out is still written whole, at the end")
    live.add_argument("--play", action="store_true",
                      help="play the audio on the default output device as it is generated (implies --stream)")
    live.add_argument("--stream-mode", choices=STREAM_MODES,
                      help="implies --stream. auto: AR+NAR sentences stream in chunks (on models with "
                           "bidirectional NAR attention the take then differs slightly from a non-streamed one); "
                           "exact: chunks only where the take stays identical, else whole sentences; "
                           "sentences: whole sentences only (default auto)")
    io.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    io.add_argument("--dtype", default="auto", help="auto, float32, float16 or bfloat16 (default auto)")
    io.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _sampler_flags(synth)
    synth.set_defaults(handler=_run_synth)

    from valle_studio.models_command import add_parser as add_models_parser

    add_models_parser(sub)
    from valle_studio.batch_command import add_parser as add_batch_parser

    add_batch_parser(sub)
    return parser


def _run_synth(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)  # validate flags before loading anything heavy
    from valle_studio.synth_command import run_synth

    return run_synth(args, settings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("valle-studio-cli: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # one line for the user; tracebacks are for the log
        from valle_studio.errors import describe

        print(f"valle-studio-cli: error: {describe(exc)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
