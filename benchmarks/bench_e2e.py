"""End-to-end synthesis of 5 s and 10 s of speech in both modalities, with the real-time factor.

What runs is what the app runs after the text front end: :func:`pipeline.generate_lines` with the
web-UI default settings (AR+NAR: level 0 then NAR levels 1..7; NAR-len: demasking then NAR levels
1..7), then the codec decodes the codes to audio (full-size Vocos with random weights). NAR-len also
predicts the duration first (timed, its random-weight result replaced by the target length).

NAR-len runs ``steps`` demasking steps (default 25, upstream's internal default; the web UI uses
50). Every demasking step has the same shapes, so the total for another step count is projected
from the measured mean step time, and printed as a projection.
"""

from __future__ import annotations

import time
from collections import defaultdict

import torch

from benchmarks._common import Report, peak_rss_mb
from benchmarks.bench_ar import FPS, conditioning
from valle_studio.engine import pipeline
from valle_studio.engine.generation import predict_length
from valle_studio.engine.model import VallEModel
from valle_studio.engine.progress import Progress
from valle_studio.engine.settings import GenerationSettings


class StageClock:
    """A progress callback that adds up the wall time spent in each stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stage: str | None = None
        self._since = time.perf_counter()

    def __call__(self, event: Progress) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.seconds[self._stage] += now - self._since
        self._stage, self._since = event.stage, now


def load_codec():
    """The full-size EnCodec + Vocos decoder with random weights (None if the packages are missing)."""
    try:
        from valle_studio.engine.codec.encodec_vocos import EncodecVocosCodec
    except ImportError:
        return None
    return EncodecVocosCodec.random(0)


@torch.inference_mode()
def synthesize(model: VallEModel, codec, report: Report, *, seconds: float, modality: str, steps: int) -> float:
    """One end-to-end run; returns the real-time factor (wall time / audio duration)."""
    frames = int(seconds * FPS)
    text, prompt = conditioning(seconds)
    settings = GenerationSettings(max_duration=seconds, seed=0, max_steps=steps,
                                  duration_frames=frames if modality == "nar-len" else None)
    line = pipeline.LineInput(text, 0)
    clock = StageClock()
    start = time.perf_counter()
    if modality == "nar-len":
        t0 = time.perf_counter()
        predict_length(model, text=text, prompt=prompt)
        clock.seconds["predicting length"] += time.perf_counter() - t0
    gen = torch.Generator().manual_seed(0)
    codes = pipeline.generate_lines(model, [line], prompt, settings, modality=modality, generator=gen,
                                    progress=clock)[0]
    clock(Progress("done", 0, 0))
    if codec is not None:
        t0 = time.perf_counter()
        audio = codec.decode(codes)
        clock.seconds["decoding"] += time.perf_counter() - t0
        assert audio.shape[0] == frames * 320
    total = time.perf_counter() - start
    assert codes.shape == (frames, 8), codes.shape
    rtf = total / seconds
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in clock.seconds.items())
    label = f"{modality} {seconds:g} s"
    report.say(f"   {label}: {total:.1f} s, RTF {rtf:.2f} ({stages}); peak RSS so far {peak_rss_mb():.0f} MiB")
    report.figures[f"e2e_s@{modality}/{seconds:g}"] = total
    report.figures[f"rtf@{modality}/{seconds:g}"] = rtf
    if modality == "nar-len":
        per_step = clock.seconds["demasking"] / steps
        for target in (25, 50):
            if target != steps:
                projected = total + (target - steps) * per_step
                report.say(f"     projected with {target} demasking steps ({per_step:.2f} s each): "
                           f"{projected:.0f} s, RTF {projected / seconds:.1f}")
                report.figures[f"rtf_projected@{modality}/{seconds:g}/{target}"] = projected / seconds
    return rtf
