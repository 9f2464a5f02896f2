"""``valle-studio-cli synth``: one request through the Synthesizer, results written atomically."""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from valle_studio.engine.progress import Progress
from valle_studio.engine.settings import GenerationSettings

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}


class StderrProgress:
    """Progress on stderr: one line per stage change, at most ~4 updates a second within a stage."""

    def __init__(self, stream=sys.stderr, interval: float = 0.25) -> None:
        self.stream = stream
        self.interval = interval
        self._last_stage = ""
        self._last_time = 0.0

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        key = f"{event.stage}|{event.detail}"
        finished = event.total and event.done >= event.total
        if key == self._last_stage and not finished and now - self._last_time < self.interval:
            return
        self._last_stage, self._last_time = key, now
        print(f"  {event.text}", file=self.stream, flush=True)


def _check_outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    from valle_studio.cli import CliError

    if not args.out and not args.out_codes:
        raise CliError("nothing to write: give --out FILE.wav and/or --out-codes FILE.npy")
    out = Path(args.out) if args.out else None
    codes = Path(args.out_codes) if args.out_codes else None
    if out is not None and out.suffix.lower() not in AUDIO_SUFFIXES:
        raise CliError(f"--out {out}: use a .wav, .flac or .ogg file name")
    if codes is not None and codes.suffix.lower() != ".npy":
        raise CliError(f"--out-codes {codes}: use a .npy file name")
    for path in (out, codes):
        if path is not None and not path.parent.exists():
            raise CliError(f"output folder does not exist: {path.parent}")
    return out, codes


def run_synth(args: argparse.Namespace, settings: GenerationSettings) -> int:
    import numpy as np

    from valle_studio.audio.atomic import atomic_write
    from valle_studio.audio.io import save_audio
    from valle_studio.engine.requests import SynthesisRequest
    from valle_studio.engine.synthesizer import Synthesizer

    out, out_codes = _check_outputs(args)
    progress = None if args.quiet else StderrProgress()
    if progress:
        print(f"loading {args.model}", file=sys.stderr, flush=True)
    synth = Synthesizer.load(args.model, device=args.device, dtype=args.dtype,
                             tokenizer=Path(args.tokenizer) if args.tokenizer else None)
    request = SynthesisRequest(text=args.text or "", phonemes=args.phonemes, language=args.lang,
                               prompts=tuple(Path(p) for p in args.prompt), settings=settings)
    result = synth.synthesize(request, progress=progress, decode=out is not None)

    if out_codes is not None:
        buffer = io.BytesIO()
        np.save(buffer, result.codes.astype(np.int64))
        atomic_write(out_codes, buffer.getvalue())
    if out is not None and result.audio is not None:
        save_audio(out, result.audio, result.sample_rate)
    print(f"done: {len(result.codes)} frames ({result.duration_s:.2f} s), modality {result.modality}, "
          f"seed {result.seed}, {result.elapsed_s:.1f} s (RTF {result.real_time_factor:.2f})",
          file=sys.stderr, flush=True)
    return 0
