"""Streaming: time to first audio and total time, streamed vs not, both modalities, full-size model.

The utterance is about 5 s of speech in two sentences (2.5 s each, a 3 s prompt), so both kinds of
streaming show: the AR+NAR sentences stream in chunks (:mod:`valle_studio.engine.streaming`), NAR-len
sentences one after the other. The non-streamed run is ``pipeline.generate_lines`` then one decode per
sentence, as ``Synthesizer.synthesize`` does; its first audio is its last. The streamed run is
``streaming.iter_code_chunks`` into ``streaming.SynthesisStream``, as ``Synthesizer.stream`` does
(the text front end is left out of both: it takes milliseconds).

Besides the two times, each streamed run reports how playback would go if it started with the first
chunk and ran in real time: how long it would wait for audio in between (stalls) and when the last
sample would have been heard, against the non-streamed take played after it is done. The model has
random weights and bidirectional NAR attention (as the published ``ar+nar-len`` checkpoints), so the
streamed AR+NAR take is not the non-streamed one: the share of equal codes per level and the
signal-to-difference ratio of the audio are printed (they say how far random weights drift, not how
a trained model sounds).

    .venv/bin/python -m benchmarks.bench_streaming            # both modalities, ~10-15 min on 2 cores
    .venv/bin/python -m benchmarks.bench_streaming --only ar+nar --demask-steps 4
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch

from benchmarks._common import Report, busy_cores_of_others, choose_threads, load_average, machine_line
from benchmarks.bench_ar import FPS, conditioning
from valle_studio.engine import pipeline, streaming
from valle_studio.engine.model import VallEModel
from valle_studio.engine.settings import GenerationSettings

SR = 24_000
HOP = 320


@dataclass
class Run:
    first_audio_s: float
    total_s: float
    codes: list[np.ndarray]  # [T, 8] per sentence
    audio: np.ndarray  # [S]
    arrivals: list[tuple[float, int, int]]  # (seconds since start, first sample, end sample) per chunk


def utterance(seconds: float, sentences: int) -> tuple[list[pipeline.LineInput], torch.Tensor]:
    """``sentences`` lines of phoneme ids worth ``seconds / sentences`` of speech each, one 3 s prompt."""
    lines, prompt = [], None
    for i in range(sentences):
        text, p = conditioning(seconds / sentences, seed=i)
        prompt = p if prompt is None else prompt
        lines.append(pipeline.LineInput(text, 0))
    assert prompt is not None
    return lines, prompt


def settings_for(modality: str, seconds_each: float, steps: int) -> GenerationSettings:
    frames = int(seconds_each * FPS)
    return GenerationSettings(modality=modality, max_duration=seconds_each, seed=0, max_steps=steps,
                              duration_frames=frames if modality == "nar-len" else None)


@torch.inference_mode()
def whole(model: VallEModel, codec, lines, prompt, settings: GenerationSettings) -> Run:
    """The non-streamed path: every sentence generated, then decoded; audio exists only at the end."""
    start = time.perf_counter()
    codes = pipeline.generate_lines(model, lines, prompt, settings, modality=settings.modality,
                                    generator=torch.Generator().manual_seed(0))
    gap = np.zeros(round(settings.gap * SR), np.float32)
    pieces: list[np.ndarray] = []
    for i, c in enumerate(codes):
        pieces += ([gap] if i and gap.size else []) + [codec.decode(c)]
    audio = np.concatenate(pieces)
    total = time.perf_counter() - start
    return Run(total, total, [c.cpu().numpy() for c in codes], audio, [(total, 0, len(audio))])


def streamed(model: VallEModel, codec, lines, prompt, settings: GenerationSettings,
             options: streaming.StreamOptions) -> Run:
    start = time.perf_counter()
    chunks = streaming.iter_code_chunks(model, lines, prompt, settings, modality=settings.modality,
                                        generator=torch.Generator().manual_seed(0), options=options)
    stream = streaming.SynthesisStream(chunks, codec, texts=[""] * len(lines), phonemes=[""] * len(lines),
                                       seed=0, modality=settings.modality, gap_s=settings.gap,
                                       overlap_frames=options.overlap_frames, started=start, exact=False)
    arrivals = [(time.perf_counter() - start, c.sample_offset, c.end_offset) for c in stream]
    result = stream.result
    assert result is not None and result.audio is not None and stream.first_audio_s is not None
    return Run(stream.first_audio_s, result.elapsed_s, [s.codes for s in result.sentences], result.audio,
               arrivals)


def playback(run: Run) -> tuple[float, int, float]:
    """Real-time playback from the first audible chunk: (seconds spent waiting for audio, number of
    waits, seconds from the request until the last sample was heard)."""
    clock = None  # when the audio played so far has run out
    stalled, stalls = 0.0, 0
    for arrived, first, end in run.arrivals:
        if end == first:
            continue
        if clock is None:
            clock = arrived
        elif arrived > clock + 1e-3:
            stalled += arrived - clock
            stalls += 1
            clock = arrived
        clock += (end - first) / SR
    assert clock is not None
    return stalled, stalls, clock


def difference(a: Run, b: Run) -> str:
    """How far two takes of the same request are apart: equal codes per level, audio SDR."""
    ca, cb = np.concatenate(a.codes), np.concatenate(b.codes)
    if ca.shape != cb.shape:
        return f"different lengths {ca.shape} vs {cb.shape}"
    equal = (ca == cb).mean(axis=0)
    noise = float(np.sum((a.audio - b.audio) ** 2))
    sdr = float("inf") if noise == 0 else 10 * np.log10(float(np.sum(b.audio ** 2)) / noise)
    levels = " ".join(f"{100 * e:.0f}" for e in equal)
    return f"equal codes per level 0..7 (%): {levels}; audio SDR {sdr:.1f} dB"


def stream_vs_whole(model: VallEModel, codec, report: Report, *, modality: str, seconds: float = 5.0,
                    sentences: int = 2, steps: int = 4,
                    options: streaming.StreamOptions | None = None) -> None:
    """One modality: the non-streamed run, then the streamed one; prints and records the figures."""
    options = options or streaming.StreamOptions()
    lines, prompt = utterance(seconds, sentences)
    settings = settings_for(modality, seconds / sentences, steps)
    label = f"{modality} {seconds:g} s ({sentences} sentences" + (f", {steps} demasking steps)"
                                                                  if modality == "nar-len" else ")")
    report.say(f"   {label}; load average {load_average()}")
    base = whole(model, codec, lines, prompt, settings)
    report.say(f"     not streamed: first audio = total = {base.total_s:.1f} s; heard in full after "
               f"{base.total_s + len(base.audio) / SR:.1f} s")
    run = streamed(model, codec, lines, prompt, settings, options)
    stalled, stalls, heard = playback(run)
    report.say(f"     streamed:     first audio {run.first_audio_s:.1f} s, total {run.total_s:.1f} s "
               f"({len(run.arrivals)} chunks, first {(run.arrivals[0][2] - run.arrivals[0][1]) / SR:.2f} s long); "
               f"playing from the first chunk waits {stalled:.1f} s in {stalls} pauses, heard in full after "
               f"{heard:.1f} s")
    assert len(run.audio) == len(base.audio), "streamed and whole takes differ in length"
    report.say(f"     streamed vs not: {difference(run, base)}")
    key = f"{modality}/{seconds:g}"
    report.figures.update({f"stream_first_audio_s@{key}": run.first_audio_s, f"stream_total_s@{key}": run.total_s,
                           f"whole_total_s@{key}": base.total_s, f"stream_stall_s@{key}": stalled,
                           f"stream_heard_s@{key}": heard, f"whole_heard_s@{key}": base.total_s + len(base.audio) / SR})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_streaming", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default="auto", help="torch threads: a number, or auto")
    parser.add_argument("--only", default="ar+nar,nar-len", help="modalities, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="speech in the utterance (default 5)")
    parser.add_argument("--demask-steps", type=int, default=4, help="NAR-len demasking steps (default 4)")
    args = parser.parse_args(argv)
    threads, why = choose_threads(args.threads)
    torch.set_num_threads(threads)
    from benchmarks._model import build_full_model
    from benchmarks.bench_e2e import load_codec

    report = Report()
    report.say("Streaming: full-size model (random weights, bidirectional NAR), float32 CPU")
    report.say(f"   machine: {machine_line()}; torch {torch.__version__}, threads {why}")
    model = build_full_model()
    codec = load_codec()
    if codec is None:
        raise SystemExit("the codec packages (encodec, vocos) are not installed")
    report.section("time to first audio vs total time, streamed vs not")
    for modality in [m.strip() for m in args.only.split(",") if m.strip()]:
        stream_vs_whole(model, codec, report, modality=modality, seconds=args.seconds, steps=args.demask_steps)
    others = busy_cores_of_others(1.0)
    report.say(f"   load average at the end {load_average()}; other processes busy on "
               f"{'n/a' if others is None else f'{others:.1f}'} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
