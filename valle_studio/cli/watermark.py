"""``valle-studio-cli check-watermark FILE...``: does an audio file carry the VALL-E Studio watermark?

For each file: the verdict, the detector's confidence (0-100 %) and what its provenance tags claim (tags
are easy to strip; the watermark survives re-encoding and resampling, see benchmarks/bench_watermark.py).
Exit code 0 when every file carries the watermark, :data:`EXIT_NOT_WATERMARKED` (4) when one does not,
1 when a file cannot be read. ``--json`` prints one JSON object per file instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from valle_studio.cli.options import EXIT_OK

EXIT_NOT_WATERMARKED = 4


def add_parser(sub: Any) -> None:
    """The ``check-watermark`` command on ``sub`` (the main parser's subparsers)."""
    check = sub.add_parser("check-watermark", help="tell whether audio files carry the VALL-E Studio watermark",
                           description="Run the watermark detector (resemble-perth) on audio files and show "
                                       "their provenance tags. Exit 0: all watermarked; 4: one is not.")
    check.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV, FLAC, OGG, MP3, ...)")
    check.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from valle_studio.studio.provenance_export import check_file

    status = EXIT_OK
    for name in args.files:
        result = check_file(name)  # an unreadable file ends the command with a one-line error (exit 1)
        if args.json:
            tagged = result.tagged.to_dict() if result.tagged is not None else None
            print(json.dumps({"file": str(result.path), "watermarked": result.watermarked,
                              "confidence": round(result.confidence, 4), "tags": tagged}, ensure_ascii=False))
        else:
            print(result.sentence())
        sys.stdout.flush()
        if not result.watermarked:
            status = EXIT_NOT_WATERMARKED
    return status


__all__ = ["EXIT_NOT_WATERMARKED", "add_parser", "run"]
