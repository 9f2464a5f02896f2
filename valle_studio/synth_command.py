"""``valle-studio-cli synth``: one request through the Synthesizer, results written atomically.

Everything that can be checked cheaply is checked before the model loads: the language, every
reference prompt (read and decoded, with its advice printed as notes) and that the output folders
accept files. A run that fails leaves no output file behind.

Streaming (``--stream``, ``--play``): the audio is handed out in chunks as it is generated
(:meth:`Synthesizer.stream <valle_studio.engine.synthesizer.Synthesizer.stream>`). ``--play`` plays
the chunks gaplessly on the default output device. ``--out -`` writes a 16-bit WAV to stdout, chunk by
chunk when streaming, so ``... --stream --out - | aplay`` (or ``ffplay -``) starts speaking early; its
header gives no length, as with any WAV written to a pipe. A *file* named by ``--out`` is still written
whole and atomically at the end: a WAV file that grows in place would be half-written, and unusable,
for most of the run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import struct
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from valle_studio.engine.progress import Progress
from valle_studio.engine.settings import GenerationSettings

if TYPE_CHECKING:
    import numpy as np

    from valle_studio.core.clip import Prompt

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}
STDOUT = "-"  # ``--out -``: a WAV on stdout


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
    from valle_studio.cli import CliError
    from valle_studio.core.atomic import ensure_writable

    if not args.out and not args.out_codes and not getattr(args, "play", False):
        raise CliError("nothing to write: give --out FILE.wav (or - for stdout), --out-codes FILE.npy "
                       "and/or --play")
    if args.out == STDOUT and getattr(sys.stdout, "isatty", lambda: False)():
        raise CliError("--out -: stdout is a terminal; pipe it to a player (| aplay, | ffplay -) or redirect "
                       "it to a file")
    out = Path(args.out) if args.out and args.out != STDOUT else None
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


def _check_inputs(args: argparse.Namespace, settings: GenerationSettings, quiet: bool) -> tuple[Prompt, ...]:
    """Language and reference prompts, before the model loads (seconds) or anything generates.

    Returns the prompts as read (clips or codes), for the request: every file is read once.
    """
    from valle_studio.audio.prompts import read_prompt_files
    from valle_studio.core.clip import Clip
    from valle_studio.engine.prompts import check_prompts
    from valle_studio.engine.text.languages import resolve_language

    resolve_language(args.lang)
    prompts = read_prompt_files(args.prompt)
    for part in check_prompts(prompts, settings.prompt_length_frames()):
        if isinstance(part, Clip) and not quiet:
            for note in part.notes:
                print(f"note: {part.name}: {note}", file=sys.stderr, flush=True)
    return tuple(prompts)


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


class WavPipe:
    """A 16-bit mono WAV written to a pipe as the audio arrives; the header's sizes say "unknown"
    (0xFFFFFFFF), as ffmpeg and sox write them when they cannot seek back."""

    def __init__(self, stream: BinaryIO, sample_rate: int) -> None:
        self.stream = stream
        unknown = 0xFFFFFFFF
        header = b"RIFF" + struct.pack("<I", unknown) + b"WAVEfmt " + struct.pack(
            "<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16) + b"data" + struct.pack("<I", unknown)
        self._write(header)

    def write(self, samples: np.ndarray) -> None:
        """Append ``samples: [S]`` float (full scale 1.0, clipped) as 16-bit PCM."""
        import numpy as np

        pcm = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0
        self._write(np.round(pcm).astype("<i2").tobytes())

    def _write(self, data: bytes) -> None:
        self.stream.write(data)
        self.stream.flush()


def _check_play(args: argparse.Namespace):  # -> Player | None
    """The player for ``--play``, opened on nothing yet; a one-line error when there is no device."""
    if not args.play:
        return None
    from valle_studio.audio.playback import Player
    from valle_studio.cli import CliError

    player = Player()
    reason = player.unavailable_reason()
    if reason:
        raise CliError(f"--play: {reason}; write the audio with --out instead")
    return player


def _stream_synth(synth, request, args: argparse.Namespace, progress, player):  # -> SynthesisResult
    """Run ``request`` as a stream into the player and/or stdout; returns the finished result."""
    from valle_studio.engine.streaming import StreamOptions

    stream = synth.stream(request, options=StreamOptions(mode=args.stream_mode or "auto"), progress=progress)
    if stream.note and not args.quiet:
        print(f"note: streamed in chunks, so the take can differ from a non-streamed one: {stream.note} "
              "(--stream-mode exact avoids it)", file=sys.stderr, flush=True)
    pipe = WavPipe(sys.stdout.buffer, stream.sample_rate) if args.out == STDOUT else None
    heard = False
    for chunk in stream:
        if pipe is not None:
            pipe.write(chunk.samples)
        if player is not None:
            if player.sample_rate == 0:  # the first chunk opens the clip, the others grow it
                player.load(chunk.samples, chunk.sample_rate, complete=False)
                player.play()
            else:
                player.append(chunk.samples)
            if chunk.final:
                player.mark_complete()
        if not heard and len(chunk.samples) and not args.quiet:
            heard = True
            print(f"  first audio after {stream.first_audio_s:.1f} s", file=sys.stderr, flush=True)
    assert stream.result is not None
    return stream.result


def run_synth(args: argparse.Namespace, settings: GenerationSettings) -> int:
    import numpy as np

    from valle_studio.audio.io import save_audio
    from valle_studio.core.atomic import atomic_write
    from valle_studio.engine.requests import SynthesisRequest
    from valle_studio.engine.synthesizer import Synthesizer

    out, out_codes = _check_outputs(args)
    prompts = _check_inputs(args, settings, args.quiet)
    player = _check_play(args)
    progress = None if args.quiet else StderrProgress()
    if progress:
        print(f"loading {args.model}", file=sys.stderr, flush=True)
    synth = Synthesizer.load(args.model, device=args.device, dtype=args.dtype,
                             tokenizer=Path(args.tokenizer) if args.tokenizer else None)
    request = SynthesisRequest(text=args.text or "", phonemes=args.phonemes, language=args.lang,
                               prompts=prompts, settings=settings)
    try:
        if args.stream or args.stream_mode or player is not None:
            result = _stream_synth(synth, request, args, progress, player)
        else:
            result = synth.synthesize(request, progress=progress, decode=out is not None or args.out == STDOUT)
            if args.out == STDOUT and result.audio is not None:
                WavPipe(sys.stdout.buffer, result.sample_rate).write(result.audio)
    except BaseException:
        if player is not None:
            player.close()  # Ctrl+C or a failure stops the sound at once
        raise

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
    if player is not None:
        try:
            player.wait()  # the rest of the audio, then the device is released
        finally:
            player.close()
    return 0
