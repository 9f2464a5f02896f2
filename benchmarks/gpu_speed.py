"""``gpu_check`` items (b)-(e): AR steps per second, NAR-len and AR+NAR real-time factors, first audio.

- **(b)** The model is prefilled into a static KV cache at context 200 / 600 / 1200 (text, 3 s
  prompt, response), then decodes one token at a time, batch 1; steps/s = steps / time, the clock
  stopped when the device is done. Its bound: the bytes a step must read (every weight, the cached
  keys and values, in the run's precision) over the device's measured read rate.
- **(c), (d)** What the app runs after the text front end, for ``seconds`` of speech with a 3 s
  prompt and the web UI's defaults: NAR-len (length prediction, demasking with CFG, NAR levels 1-7)
  and AR+NAR, then the codec decodes the codes (EnCodec + Vocos, random weights). RTF = wall time /
  audio time. Where ``measured_steps`` is given (the CPU: a full-size 50-step run takes minutes),
  only that many demasking steps run and the 25- and 50-step totals are projected from the measured
  time per step (every step has the same shapes); the note says so.
- **(e)** Streaming as ``Synthesizer.stream`` does (two sentences): seconds from the request until
  the first audible chunk; the stream is closed then, which stops the generation.
"""

from __future__ import annotations

import time

import torch

from benchmarks._device import timed
from benchmarks._figures import Goal, Results
from benchmarks.bench_ar import FPS
from benchmarks.bench_e2e import StageClock
from benchmarks.bench_streaming import settings_for, utterance
from benchmarks.bounds import ar_step_bytes
from valle_studio.engine import pipeline, streaming
from valle_studio.engine.bench.inputs import ar_input, conditioning  # the inputs the bench command times too
from valle_studio.engine.generation import predict_length
from valle_studio.engine.model import KVCache, VallEModel
from valle_studio.engine.progress import Progress
from valle_studio.engine.settings import GenerationSettings, Modality

AR_GOAL = 500.0  # steps/s at batch 1 (issue 20, H200-class GPU)
NAR_LEN_RTF_GOAL = 0.05  # 10 s at 50 steps
FIRST_AUDIO_GOAL = 0.3  # seconds
MODALITIES: tuple[Modality, ...] = ("ar+nar", "nar-len")
GRAPHS_NOTE = "not implemented: CUDA graphs for the one-token steps are item 2 of issue 20"


def speed_goal(op: str, threshold: float, text: str, device: torch.device) -> Goal:
    """The issue's speed goals hold for an H200-class GPU; elsewhere they are printed, not judged."""
    return Goal(op, threshold, text, applies=device.type == "cuda",
                why_not=f"the goal is set for an H200-class GPU; this run is on the {device.type.upper()}")


@torch.inference_mode()
def ar_steps(results: Results, model: VallEModel, *, contexts: tuple[int, ...], steps: int,
             read_gbps: float) -> None:
    """(b) decode steps/s at batch 1 per context, with the read bound; the CUDA-graph column."""
    device = model.device
    goal = speed_goal(">=", AR_GOAL, f">= {AR_GOAL:g} steps/s (H200)", device)
    token = torch.full((1,), 7, dtype=torch.long, device=device)
    scale = model.dtype.itemsize / 4  # ar_step_bytes counts float32
    for context in contexts:
        cache = model.new_cache(1, context + steps + 4)
        model.prefill([ar_input(model, context)], cache)
        for _ in range(3):  # warm-up: first launches, allocator
            model.decode(cache, token, "ar")

        def run(cache: KVCache = cache) -> None:
            for _ in range(steps):
                model.decode(cache, token, "ar")

        _, seconds = timed(run, device)
        rate = steps / seconds
        nbytes = ar_step_bytes(model.config, context=context + 3 + steps // 2) * scale
        bound = read_gbps * 1e9 / nbytes
        results.add("b", f"AR steps/s, batch 1, context {context}, no CUDA graphs", rate, "steps/s", goal=goal,
                    note=f"{1e3 / rate:.2f} ms/step over {steps} steps ({model.dtype}); read bound {bound:.0f} "
                         f"steps/s ({nbytes / 1e6:.0f} MB/step at {read_gbps:.0f} GB/s): a step takes "
                         f"{bound / rate:.1f}x the bound's time")
        results.add("b", f"AR steps/s, batch 1, context {context}, with CUDA graphs", None, "steps/s",
                    note=GRAPHS_NOTE)


def _settings(modality: Modality, seconds: float, steps: int) -> GenerationSettings:
    """The web UI's defaults (NAR-len demasking CFG 2.5: upstream never turns it off), length fixed."""
    frames = int(seconds * FPS)
    return GenerationSettings(modality=modality, max_duration=seconds, seed=0, max_steps=steps,
                              duration_frames=frames if modality == "nar-len" else None)


@torch.inference_mode()
def synthesize(model: VallEModel, codec, *, modality: Modality, seconds: float, steps: int) -> tuple[float, StageClock]:
    """One end-to-end run (length prediction for NAR-len, generation, decoding); (seconds, stage times)."""
    text, prompt = conditioning(seconds)
    prompt = prompt.to(model.device)
    settings = _settings(modality, seconds, steps)
    clock = StageClock()
    gen = torch.Generator(device=model.device).manual_seed(0)

    def run() -> None:
        if modality == "nar-len":  # timed as the app runs it; the fixed length keeps the runs comparable
            t0 = time.perf_counter()
            predict_length(model, text=text, prompt=prompt)
            clock.seconds["predicting length"] += time.perf_counter() - t0
        codes = pipeline.generate_lines(model, [pipeline.LineInput(text, 0)], prompt, settings, modality=modality,
                                        generator=gen, progress=clock)[0]
        clock(Progress("decoding", 0, 1))
        codec.decode(codes.to("cpu"))  # as the Synthesizer hands them over
        clock(Progress("done", 0, 0))

    _, total = timed(run, model.device)
    return total, clock


def warm_up(model: VallEModel, codec) -> float:
    """Short runs of both modalities, so first-launch costs (cuBLAS handles, kernel loads) are not timed."""
    start = time.perf_counter()
    for modality in MODALITIES:
        synthesize(model, codec, modality=modality, seconds=0.4, steps=2)
    return time.perf_counter() - start


def _stages(clock: StageClock) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in clock.seconds.items())


def nar_len_rtf(results: Results, model: VallEModel, codec, *, seconds: float, measured_steps: int | None) -> None:
    """(c) NAR-len RTF at 25 and 50 steps with CFG; projected from ``measured_steps`` where given."""
    goal = speed_goal("<=", NAR_LEN_RTF_GOAL, f"<= {NAR_LEN_RTF_GOAL:g} at 50 steps, 10 s (H200)", model.device)
    runs = {s: synthesize(model, codec, modality="nar-len", seconds=seconds, steps=s) for s in
            ((measured_steps,) if measured_steps else (25, 50))}
    for target in (25, 50):
        if target in runs:
            total, clock = runs[target]
            how = f"measured: {total:.2f} s ({_stages(clock)})"
        else:
            steps, (measured, clock) = next(iter(runs.items()))
            per_step = clock.seconds["demasking"] / steps
            total = measured + (target - steps) * per_step
            how = (f"projected from {steps} measured demasking steps ({per_step:.3f} s each; that run "
                   f"{measured:.2f} s: {_stages(clock)})")
        applies = target == 50 and abs(seconds - 10) < 1e-9
        bound = "no goal at 25 steps" if target == 25 else "the goal is for 10 s of speech"
        results.add("c", f"NAR-len RTF, {seconds:g} s of speech, {target} steps, CFG 2.5", total / seconds,
                    goal=goal if applies else None, bound=bound, note=how)


def ar_nar_rtf(results: Results, model: VallEModel, codec, *, seconds: float) -> None:
    """(d) AR+NAR RTF (no goal in the issue)."""
    total, clock = synthesize(model, codec, modality="ar+nar", seconds=seconds, steps=1)
    frames = int(seconds * FPS)
    ar = clock.seconds.get("generating", 0.0)
    rate = f"; AR loop {frames / ar:.0f} frames/s with sampling" if ar else ""
    results.add("d", f"AR+NAR RTF, {seconds:g} s of speech", total / seconds, bound="no goal in the issue",
                note=f"{total:.2f} s: {_stages(clock)}{rate}")


@torch.inference_mode()
def first_audio_s(model: VallEModel, codec, *, modality: str, seconds: float, steps: int) -> tuple[float, int]:
    """Seconds from the request to the first audible chunk of a streamed two-sentence utterance, and
    the samples of that chunk; the stream is closed there, which stops the generation."""
    lines, prompt = utterance(seconds, 2)
    settings = settings_for(modality, seconds / 2, steps)
    start = time.perf_counter()
    chunks = streaming.iter_code_chunks(model, lines, prompt.to(model.device), settings, modality=modality,
                                        generator=torch.Generator(device=model.device).manual_seed(0))
    stream = streaming.SynthesisStream(chunks, codec, texts=[""] * 2, phonemes=[""] * 2, seed=0, modality=modality,
                                       gap_s=settings.gap, overlap_frames=streaming.StreamOptions().overlap_frames,
                                       started=start, exact=False)
    samples = 0
    iterator = iter(stream)
    for chunk in iterator:
        if len(chunk.samples):
            samples = len(chunk.samples)
            break
    iterator.close()  # type: ignore[attr-defined]
    assert stream.first_audio_s is not None, "the stream produced no audio"
    return stream.first_audio_s, samples


def first_audio(results: Results, model: VallEModel, codec, *, seconds: float, steps: int) -> None:
    """(e) time to first audio when streaming, both modalities."""
    goal = speed_goal("<=", FIRST_AUDIO_GOAL, f"<= {FIRST_AUDIO_GOAL:g} s (H200)", model.device)
    for modality in ("ar+nar", "nar-len"):
        first, samples = first_audio_s(model, codec, modality=modality, seconds=seconds, steps=steps)
        how = ("first chunk: the first AR frames, NAR levels 1-7 over them, decoded" if modality == "ar+nar"
               else f"NAR-len streams sentence by sentence: the whole first sentence ({steps} steps), decoded")
        label = f"first audio, streamed {modality}" + (f" ({steps} steps)" if modality == "nar-len" else "")
        results.add("e", f"{label}: 2 sentences of {seconds / 2:g} s", first, "s", goal=goal,
                    note=f"{how}; that chunk holds {samples / 24000:.2f} s of audio")
