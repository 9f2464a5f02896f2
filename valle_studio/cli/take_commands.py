"""What ``clean`` and ``convert`` share: one clip in, one take out, written with its provenance.

Both take the same model and output flags (:func:`add_take_flags`), load the model the same way once
everything cheap is checked (:func:`load_synthesizer`), and end with the same line on stderr
(:func:`say_done`). Their own parts (the clip, the task, the target voice) stay in their modules.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valle_studio.cli.options import StderrProgress, add_device_flags, add_lora_flag
from valle_studio.cli.outputs import add_watermark_flag

if TYPE_CHECKING:
    from valle_studio.engine.requests import SynthesisResult
    from valle_studio.engine.synthesizer import Synthesizer


def add_take_flags(io: Any, *, what: str) -> None:
    """``--out``, ``--out-codes``, the device and LoRA flags, ``--quiet`` and ``--no-watermark`` on the
    argument group ``io``; ``what`` names the audio in ``--out``'s help ("the cleaned audio")."""
    io.add_argument("--out", metavar="FILE.wav", help=f"write {what} (wav/flac/ogg by extension); '-' "
                                                      "writes a 16-bit WAV to stdout")
    io.add_argument("--out-codes", metavar="FILE.npy", help="write the generated codes, [T, 8] int")
    add_device_flags(io)
    add_lora_flag(io)
    io.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_watermark_flag(io)


def load_synthesizer(args: argparse.Namespace) -> tuple[Synthesizer, StderrProgress | None]:
    """The model of ``--model`` (with ``--tokenizer``, ``--device``, ``--dtype``) and the progress printer
    (None with ``--quiet``), saying what is loading unless quiet."""
    from valle_studio.engine.synthesizer import Synthesizer

    progress = None if args.quiet else StderrProgress()
    if progress:
        print(f"loading {args.model}", file=sys.stderr, flush=True)
    synth = Synthesizer.load(args.model, device=args.device, dtype=args.dtype,
                             tokenizer=Path(args.tokenizer) if args.tokenizer else None)
    return synth, progress


def say_done(result: SynthesisResult, verb: str) -> None:
    """The last line on stderr: frames, seconds, modality, what the model ``verb`` (heard, said), seed."""
    print(f"done: {len(result.codes)} frames ({result.duration_s:.2f} s), {result.modality}, {verb} "
          f"{result.sentences[0].phonemes!r}, seed {result.seed}, {result.elapsed_s:.1f} s", file=sys.stderr,
          flush=True)


__all__ = ["add_take_flags", "load_synthesizer", "say_done"]
