"""``valle-studio-cli synth``: one request through the Synthesizer, results written atomically.

Everything that can be checked cheaply is checked before the model loads: the flags, the language, every
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
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valle_studio.cli.applicable import check_flags_apply
from valle_studio.cli.options import (
    CliError,
    StderrProgress,
    add_device_flags,
    add_embedding_sums_flag,
    add_lexicon_flag,
    add_lora_flag,
    add_sampler_flags,
    check_lora_installed,
    embedding_sums_choice,
    request_lexicon,
    settings_from_args,
    warn_unknown_symbols,
)
from valle_studio.cli.outputs import (
    STDOUT,
    WavPipe,
    add_watermark_flag,
    npy_bytes,
    plan_outputs,
    stdout_stream,
    synth_provenance,
    watermark_note,
)
from valle_studio.cli.quality import add_quality_flags, check_report_path, quality_from_args
from valle_studio.cli.voice_flags import VOICE_FLAG, add_voice_flag, voice_request_fields
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.settings import GenerationSettings

if TYPE_CHECKING:
    from valle_studio.core.clip import Prompt
    from valle_studio.engine.requests import BlendPart

#: ``--stream-mode`` choices: a copy of valle_studio.engine.streaming.STREAM_MODES, so that ``--help``
#: needs no torch (tests/engine/test_streaming.py checks that the two agree).
STREAM_MODES = ("auto", "exact", "sentences")


def add_parser(sub: Any) -> None:
    """The ``synth`` command on ``sub`` (the main parser's subparsers)."""
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
    add_voice_flag(io)
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
    add_lexicon_flag(io)
    add_embedding_sums_flag(io)
    add_device_flags(io)
    add_lora_flag(io)
    io.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_watermark_flag(io)
    add_sampler_flags(synth)
    add_quality_flags(synth)
    synth.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The command's handler: the flags become settings before anything heavy loads."""
    return run_synth(args, settings_from_args(args), quality_from_args(args))


def _check_inputs(args: argparse.Namespace, settings: GenerationSettings, quiet: bool
                  ) -> tuple[tuple[Prompt, ...], tuple[BlendPart, ...]]:
    """Language and reference prompts (``--prompt`` files, or the saved voices of ``--voice``: one voice,
    or a blend), before the model loads (seconds) or anything generates.

    Returns the request's ``(prompts, blend)`` as read (clips or codes): every file is read once.
    """
    from valle_studio.audio.prompts import read_prompt_files
    from valle_studio.core.clip import Clip
    from valle_studio.engine.prompts import check_prompts
    from valle_studio.engine.text.languages import resolve_language

    resolve_language(args.lang)
    if args.voice:
        prompts, blend = voice_request_fields(args.voice)
    else:
        prompts, blend = tuple(read_prompt_files(args.prompt)), ()
    for sources in [prompts] if not blend else [part.prompts for part in blend]:
        for part in check_prompts(sources, settings.prompt_length_frames()):
            if isinstance(part, Clip) and not quiet:
                for note in part.notes:
                    print(f"note: {part.name}: {note}", file=sys.stderr, flush=True)
    return prompts, blend


def _check_play(args: argparse.Namespace):  # -> Player | None
    """The player for ``--play``, opened on nothing yet; a one-line error when there is no device."""
    if not args.play:
        return None
    from valle_studio.audio.playback import Player

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
    pipe = WavPipe(stdout_stream(), stream.sample_rate) if args.out == STDOUT else None
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
    if pipe is not None:
        pipe.finish()
    assert stream.result is not None
    return stream.result


def run_synth(args: argparse.Namespace, settings: GenerationSettings, quality: QualityOptions | None = None) -> int:
    """Check, load, generate (best of ``quality.best_of``, each take checked) and write the chosen take;
    ``settings`` and ``quality`` are already validated."""
    from valle_studio.cli import quality as checked_takes
    from valle_studio.engine.requests import SynthesisRequest
    from valle_studio.engine.synthesizer import Synthesizer
    from valle_studio.engine.watermark import apply_watermark
    from valle_studio.studio.provenance_export import encode_with_provenance, log_audit

    quality = quality or QualityOptions()
    streaming = bool(args.stream or args.stream_mode or getattr(args, "play", False))
    if streaming and not quality.single:
        raise CliError("--best-of and --retry-bad choose among whole takes, which cannot be streamed: leave out "
                       "--stream, --stream-mode and --play")
    if args.voice and args.prompt:
        raise CliError(f"give --prompt FILE or {VOICE_FLAG} NAME, not both")
    plan = plan_outputs(args)
    plan.report = check_report_path(args)
    out = plan.audio
    prompts, blend = _check_inputs(args, settings, args.quiet)
    check_lora_installed(settings)
    lexicon = request_lexicon(args)
    player = _check_play(args)
    progress = None if args.quiet else StderrProgress()
    if progress:
        print(f"loading {args.model}", file=sys.stderr, flush=True)
    synth = Synthesizer.load(args.model, device=args.device, dtype=args.dtype,
                             tokenizer=Path(args.tokenizer) if args.tokenizer else None,
                             legacy_summing=embedding_sums_choice(args))
    for note in check_flags_apply(args, settings, synth.model.can_nar_len, synth.info.name):
        if not args.quiet:
            print(f"note: {note}", file=sys.stderr, flush=True)
    request = SynthesisRequest(text=args.text or "", phonemes=args.phonemes, language=args.lang,
                               prompts=prompts, blend=blend, settings=settings, lexicon=lexicon)
    if request.phonemes is None:
        warn_unknown_symbols(synth, request)
    if streaming and args.out == STDOUT and not args.no_watermark and not args.quiet:
        print("note: audio streamed to stdout leaves in chunks and is not watermarked; without --stream it is",
              file=sys.stderr, flush=True)
    try:
        if streaming:
            streamed = _stream_synth(synth, request, args, progress, player)
            takes = checked_takes.check_streamed(synth, request, streamed, quality, progress)
        else:
            takes = checked_takes.best_of(synth, request, quality, progress,
                                          decode=out is not None or args.out == STDOUT)
        result = takes.best.result
        if not streaming and args.out == STDOUT and result.audio is not None:
            pipe = WavPipe(stdout_stream(), result.sample_rate)
            pipe.write(result.audio if args.no_watermark else apply_watermark(result.audio, result.sample_rate))
            pipe.finish()
    except BaseException:
        if player is not None:
            player.close()  # Ctrl+C or a failure stops the sound at once
        raise

    record = synth_provenance(args, request, synth.info.name)
    encoded = None if out is None or result.audio is None else encode_with_provenance(
        out, result.audio, result.sample_rate, record, watermark=not args.no_watermark)
    report = checked_takes.report_bytes(takes) if plan.report is not None else None
    plan.commit(encoded.data if encoded else None, npy_bytes(result.codes) if plan.codes is not None else None,
                report)  # all files, or none
    if encoded is not None and out is not None:
        log_audit(None, encoded.record, out, "synth")
        if not args.quiet:
            print(watermark_note(encoded), file=sys.stderr, flush=True)
    print(f"done: {len(result.codes)} frames ({result.duration_s:.2f} s), modality {result.modality}, "
          f"seed {result.seed}, {result.elapsed_s:.1f} s (RTF {result.real_time_factor:.2f})"
          + checked_takes.chosen_words(takes), file=sys.stderr, flush=True)
    if player is not None:
        try:
            player.wait()  # the rest of the audio, then the device is released
        finally:
            player.close()
    return checked_takes.exit_status(args, takes)
