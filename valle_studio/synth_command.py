"""``valle-studio-cli synth``: one request through the Synthesizer, results written atomically.

Everything that can be checked cheaply is checked before the model loads: the language, every
reference prompt (read and decoded, with its advice printed as notes) and that the output folders
accept files. A run that fails leaves no output file behind.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

from valle_studio.engine.progress import Progress
from valle_studio.engine.settings import GenerationSettings

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}


class StderrProgress:
    """Progress on stderr: one line per stage change, at most ~4 updates a second within a stage."""

    def __init__(self, stream=None, interval: float = 0.25) -> None:
        self.stream = stream  # None: whatever sys.stderr is when a line is printed
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
        print(f"  {event.text}", file=self.stream or sys.stderr, flush=True)


def _check_outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    from valle_studio.audio.atomic import ensure_writable
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
        if path is not None:
            ensure_writable(path)  # a read-only folder is reported now, not after the generation
    return out, codes


def _check_inputs(args: argparse.Namespace, settings: GenerationSettings, quiet: bool) -> None:
    """Language and reference prompts, before the model loads (seconds) or anything generates."""
    from valle_studio.engine.prompts import PromptAudio, read_prompts
    from valle_studio.engine.text.languages import resolve_language

    resolve_language(args.lang)
    for part in read_prompts([Path(p) for p in args.prompt], settings.prompt_length_frames()):
        if isinstance(part, PromptAudio) and not quiet:
            for note in part.notes:
                print(f"note: {part.name}: {note}", file=sys.stderr, flush=True)


def _write_all(writes: list[tuple[Path, object]]) -> None:
    """Run ``(path, write)`` pairs; if one fails, remove the files this run created before it."""
    created: list[Path] = []
    try:
        for path, write in writes:
            existed = path.exists()
            write()  # type: ignore[operator]
            if not existed:
                created.append(path)
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


def run_synth(args: argparse.Namespace, settings: GenerationSettings) -> int:
    import numpy as np

    from valle_studio.audio.atomic import atomic_write
    from valle_studio.audio.io import save_audio
    from valle_studio.engine.requests import SynthesisRequest
    from valle_studio.engine.synthesizer import Synthesizer

    out, out_codes = _check_outputs(args)
    _check_inputs(args, settings, args.quiet)
    progress = None if args.quiet else StderrProgress()
    if progress:
        print(f"loading {args.model}", file=sys.stderr, flush=True)
    synth = Synthesizer.load(args.model, device=args.device, dtype=args.dtype,
                             tokenizer=Path(args.tokenizer) if args.tokenizer else None)
    request = SynthesisRequest(text=args.text or "", phonemes=args.phonemes, language=args.lang,
                               prompts=tuple(Path(p) for p in args.prompt), settings=settings)
    result = synth.synthesize(request, progress=progress, decode=out is not None)

    writes: list[tuple[Path, object]] = []
    if out is not None and result.audio is not None:
        audio = result.audio
        writes.append((out, lambda: save_audio(out, audio, result.sample_rate)))
    if out_codes is not None:
        buffer = io.BytesIO()
        np.save(buffer, result.codes.astype(np.int64))
        writes.append((out_codes, lambda: atomic_write(out_codes, buffer.getvalue())))
    _write_all(writes)
    print(f"done: {len(result.codes)} frames ({result.duration_s:.2f} s), modality {result.modality}, "
          f"seed {result.seed}, {result.elapsed_s:.1f} s (RTF {result.real_time_factor:.2f})",
          file=sys.stderr, flush=True)
    return 0
