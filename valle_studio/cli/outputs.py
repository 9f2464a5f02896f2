"""What ``synth``, ``clean`` and ``convert`` write, checked before the model loads and committed together.

:func:`plan_outputs` reads ``--out``/``--out-codes`` (and ``--out -``) into an :class:`OutputPlan`: the
names are checked (extensions, folders that exist and accept files, no device or pipe in the way), and
no output may be one of the run's inputs (a ``--prompt``, ``clean``'s ``--clip``, ``convert``'s
``--source``, the ``--model`` or ``--tokenizer`` file) or the other output. :meth:`OutputPlan.commit`
writes every file through the one output-commit step (:func:`valle_studio.core.commit.commit`): all
appear, or none does and the old files stay. :class:`WavPipe` writes ``--out -``.

Provenance (issue 17): ``synth``'s audio file is watermarked (unless ``--no-watermark``), confirmed by
the detector on the encoded bytes, tagged and added to the audit log
(:mod:`valle_studio.studio.provenance_export`); :func:`synth_provenance` is its record.

Standard output (``--out -``) is checked for being open and not a terminal; a reader that goes away
(``| head -c 100``) is reported as a broken pipe with a non-zero exit, never as "done".
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import select
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from valle_studio.cli.options import CliError
from valle_studio.core.commit import Input, InputOverwriteError, Output, check_outputs, commit

if TYPE_CHECKING:
    from valle_studio.core.provenance import Provenance
    from valle_studio.engine.requests import SynthesisRequest, SynthesisResult
    from valle_studio.studio.provenance_export import EncodedExport

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}
STDOUT = "-"  # ``--out -``: a WAV on stdout
BROKEN_PIPE = ("--out -: the program reading standard output closed it before all of the audio was written "
               "(broken pipe)")


@dataclass
class OutputPlan:
    """The checked outputs of one ``synth`` (``clean``, ``convert``) run and the inputs they must not overwrite."""

    audio: Path | None = None
    codes: Path | None = None
    stdout: bool = False
    inputs: list[Input] = field(default_factory=list)
    report: Path | None = None  # ``--report FILE.json``, written with the other outputs

    def outputs(self, audio: bytes | None = None, codes: bytes | None = None,
                report: bytes | None = None) -> list[Output]:
        found = []
        if self.audio is not None:
            found.append(Output(self.audio, audio or b"", "--out"))
        if self.codes is not None:
            found.append(Output(self.codes, codes or b"", "--out-codes"))
        if self.report is not None:
            found.append(Output(self.report, report or b"", "--report"))
        return found

    def commit(self, audio: bytes | None, codes: bytes | None, report: bytes | None = None) -> None:
        """Write the encoded audio, codes and report together; a file without content is skipped."""
        outputs = [o for o in self.outputs(audio, codes, report) if o.data]
        try:
            commit(outputs, self.inputs)
        except InputOverwriteError as exc:  # checked up front already; an input may have appeared since
            raise CliError(str(exc)) from exc


def input_files(args: argparse.Namespace) -> list[Input]:
    """The files this run reads: every ``--prompt``, the ``--clip`` (clean) or ``--source`` (convert), the
    ``--model`` file and the ``--tokenizer``."""
    found = [Input(Path(p), "--prompt") for p in getattr(args, "prompt", None) or []]
    for dest, flag in (("clip", "--clip"), ("source", "--source")):
        if getattr(args, dest, None):
            found.append(Input(Path(getattr(args, dest)), flag))
    if args.model and Path(args.model).exists():
        found.append(Input(Path(args.model), "--model"))
    if args.tokenizer:
        found.append(Input(Path(args.tokenizer), "--tokenizer"))
    return found


def plan_outputs(args: argparse.Namespace) -> OutputPlan:
    """Check ``--out``/``--out-codes``/``--play`` before anything loads; see the module docstring."""
    from valle_studio.core.atomic import ensure_writable

    if not args.out and not args.out_codes and not getattr(args, "play", False):
        play = " and/or --play" if hasattr(args, "play") else ""
        raise CliError(f"nothing to write: give --out FILE.wav (or - for stdout), --out-codes FILE.npy{play}")
    plan = OutputPlan(stdout=args.out == STDOUT, inputs=input_files(args))
    if plan.stdout:
        stdout_stream()  # closed or a terminal: refused now
    plan.audio = Path(args.out) if args.out and not plan.stdout else None
    plan.codes = Path(args.out_codes) if args.out_codes else None
    if plan.audio is not None and plan.audio.suffix.lower() not in AUDIO_SUFFIXES:
        raise CliError(f"--out {plan.audio}: use a .wav, .flac or .ogg file name")
    if plan.codes is not None and plan.codes.suffix.lower() != ".npy":
        raise CliError(f"--out-codes {plan.codes}: use a .npy file name")
    try:
        check_outputs(plan.outputs(), plan.inputs)
    except InputOverwriteError as exc:
        raise CliError(str(exc)) from exc
    for path in (plan.audio, plan.codes):
        if path is None:
            continue
        if not path.parent.exists():
            raise CliError(f"output folder does not exist: {path.parent}")
        ensure_writable(path)  # a read-only folder, a device in the way: reported now, not after generating
    return plan


def stdout_stream() -> BinaryIO:
    """The binary stdout for ``--out -``; a clear error when it is closed or a terminal."""
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None or _closed(stream):
        raise CliError("--out -: standard output is closed; redirect it to a file or a player (| aplay)")
    if getattr(sys.stdout, "isatty", lambda: False)():
        raise CliError("--out -: stdout is a terminal; pipe it to a player (| aplay, | ffplay -) or redirect "
                       "it to a file")
    return stream


def _closed(stream: object) -> bool:
    """Closed, or a file descriptor that is not open (``>&-``); an in-memory stream counts as open."""
    if getattr(stream, "closed", False) is True:
        return True
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, io.UnsupportedOperation):
        return False
    except (OSError, ValueError):
        return True
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def reader_gone(stream: BinaryIO) -> bool:
    """Whether the reading end of a pipe on ``stream`` is closed already (POSIX ``poll`` reports an
    error condition then). A reader that left after taking part of the audio (``| head -c 100``) has
    lost the rest, even though every write went into the pipe's buffer."""
    if not hasattr(select, "poll"):
        return False
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _fd, events in poller.poll(0))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def is_broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE)


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
        pcm = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0
        self._write(np.round(pcm).astype("<i2").tobytes())

    def _write(self, data: bytes) -> None:
        try:
            self.stream.write(data)
            self.stream.flush()
        except OSError as exc:
            if is_broken_pipe(exc):
                raise CliError(BROKEN_PIPE) from exc
            raise

    def finish(self) -> None:
        """After the last chunk: a reader that already left lost part of the audio (see ``reader_gone``)."""
        if reader_gone(self.stream):
            raise CliError(BROKEN_PIPE)


def write_take(plan: OutputPlan, result: SynthesisResult, record: Provenance, *, source: str,
               watermark: bool = True, quiet: bool = False) -> None:
    """One take's audio (to ``--out``, a file or ``-``) and codes (``--out-codes``) through the output
    commit: what ``clean`` and ``convert`` write (``synth`` adds its report and streaming). The audio file
    is watermarked unless ``watermark`` is False (``--no-watermark``), tagged with ``record`` and added to
    the audit log as ``source`` (the command), as ``synth``'s is."""
    from valle_studio.studio.provenance_export import encode_with_provenance, log_audit

    if plan.stdout and result.audio is not None:
        from valle_studio.engine.watermark import apply_watermark

        pipe = WavPipe(stdout_stream(), result.sample_rate)
        pipe.write(apply_watermark(result.audio, result.sample_rate) if watermark else result.audio)
        pipe.finish()
    encoded = None if plan.audio is None or result.audio is None else encode_with_provenance(
        plan.audio, result.audio, result.sample_rate, record, watermark=watermark)
    plan.commit(encoded.data if encoded else None, npy_bytes(result.codes) if plan.codes is not None else None)
    if encoded is not None and plan.audio is not None:
        log_audit(None, encoded.record, plan.audio, source)
        if not quiet:
            print(watermark_note(encoded), file=sys.stderr, flush=True)


def add_watermark_flag(parser: Any) -> None:
    """``--no-watermark``: leave the imperceptible watermark out of the written audio (on by default)."""
    parser.add_argument("--no-watermark", action="store_true",
                        help="do not embed the imperceptible watermark (resemble-perth) that marks the audio "
                             "as synthetic speech; the tags and the audit log still say it is")


def synth_provenance(args: argparse.Namespace, request: SynthesisRequest, model: str) -> Provenance:
    """The record of a ``synth`` output: its text (or phonemes), the voice (``--voice`` names, else the
    ``--prompt`` file names) and the model."""
    from valle_studio.core.provenance import Provenance

    voices = [str(v) for v in getattr(args, "voice", None) or []]
    voice = " + ".join(voices) or ", ".join(Path(p).name for p in getattr(args, "prompt", None) or [])
    return Provenance(text=request.text or request.phonemes or "", voice=voice, model=model)


def watermark_note(encoded: EncodedExport) -> str:
    """The stderr line that says whether the written file carries the watermark."""
    if encoded.confidence is None:
        return "note: no watermark (--no-watermark); the file is tagged as synthetic speech"
    if encoded.record.watermark:
        return f"watermark: embedded and detected in the file (confidence {encoded.confidence:.2f})"
    return (f"warning: the watermark was embedded but the detector does not find it in the file "
            f"(confidence {encoded.confidence:.2f}); it is not called watermarked")


def npy_bytes(codes: np.ndarray) -> bytes:
    """``codes`` as the bytes of an int64 ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, codes.astype(np.int64))
    return buffer.getvalue()


__all__ = ["AUDIO_SUFFIXES", "BROKEN_PIPE", "STDOUT", "OutputPlan", "WavPipe", "add_watermark_flag", "input_files",
           "is_broken_pipe", "npy_bytes", "plan_outputs", "reader_gone", "stdout_stream", "synth_provenance",
           "watermark_note", "write_take"]
