"""Scoring a take vs generating it: the quality check must cost at most 15 % of the generation.

    .venv/bin/python -m benchmarks.bench_quality                      # NAR-len (the default), 4 s, 50 steps
    .venv/bin/python -m benchmarks.bench_quality --modality nar-len,ar+nar --seconds 4

The full-size model with random weights (``benchmarks/_model.py``), float32 on the CPU, the web UI's
default settings (``GenerationSettings()``: modality auto, which is NAR-len for this model, 50 demasking
steps, guidance at NAR-len's floor of 2.5). Only the length is fixed (``duration_frames``), because random
weights predict an arbitrary one. Both sides are timed in this one run, back to back:

- **generating**: what ``Synthesizer.synthesize`` does after the text front end: ``pipeline.generate_lines``
  (duration prediction, demasking or AR, NAR levels 1-7) and decoding the codes with the full-size Vocos
  decoder (random weights);
- **scoring**: what ``Synthesizer.check`` runs on that take (``engine/quality/assess.py``): the reference's
  codes and level (its codes decoded once: the first take of a voice pays it, so it is counted here), the
  STT pass with the KV-cached loop, and every code and audio check. The STT head's stop token is pinned
  low, so the pass runs to its cap (1.5 x the phonemes asked + 8) as a take that runs on would: the worst
  case. A random-weight head would otherwise stop at an arbitrary step.

The printed ratio is scoring time / generating time. Beside it: a second, warm check (the reference
already known, as for every later take of the same voice and every candidate of a best-of run), and a
typical one, where the STT pass ends after the phonemes asked, as it does for a take that says its text
(the head stops at ``</eos>``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._common import Report, choose_threads, load_average, machine_line
from benchmarks.bench_ar import FPS, conditioning
from valle_studio.core.codec_format import SAMPLE_RATE
from valle_studio.engine import pipeline
from valle_studio.engine.model import VallEModel
from valle_studio.engine.quality.assess import TakeChecker
from valle_studio.engine.quality.code_checks import stt_token_cap
from valle_studio.engine.quality.scorer import PieceInput
from valle_studio.engine.requests import SentenceResult, SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings

TARGET = 0.15
_EOS = 2


class _Checked:
    """What ``TakeChecker`` reads of a synthesizer: the model, a text front end, the codec, prompt codes."""

    def __init__(self, model: VallEModel, codec: object, frontend: object) -> None:
        self.model, self._codec, self.frontend = model, codec, frontend

    def codec(self, *, required: bool) -> object:
        return self._codec

    def encode_prompts(self, sources, length_frames: int = 0):  # codes in, codes out (as the engine does)
        return np.concatenate([np.asarray(s, dtype=np.int64) for s in sources]) if sources else None


class _BenchChecker(TakeChecker):
    """The engine's checker, told the phoneme ids the take was generated from (there is no text here)."""

    def __init__(self, synth: _Checked, ids: torch.Tensor) -> None:
        super().__init__(synth)
        self.ids = tuple(int(i) for i in ids[1:-1])

    def asked(self, request: SynthesisRequest, result: SynthesisResult) -> tuple[PieceInput, ...]:
        return tuple(PieceInput(self.ids, len(self.ids), s.codes) for s in result.sentences)


def _frontend():
    from valle_studio.engine.debug import write_tiny_tokenizers
    from valle_studio.engine.text.frontend import TextFrontend

    folder = write_tiny_tokenizers(Path(tempfile.mkdtemp(prefix="bench-quality-")))  # 256 phoneme ids, as the model
    return TextFrontend(folder / "tokenizer.json")


@torch.inference_mode()
def scoring_vs_generating(model: VallEModel, codec: object, report: Report, *, seconds: float, modality: str,
                          steps: int) -> float:
    """One take generated and checked; returns scoring time / generating time."""
    frames = round(seconds * FPS)
    text, prompt = conditioning(seconds)
    # NAR-len: the length fixed; AR+NAR: the cap at that length, since the AR never stops on random weights
    nar_len = modality == "nar-len"
    settings = GenerationSettings(modality=modality, max_steps=steps, seed=0,
                                  duration_frames=frames if nar_len else None,
                                  max_duration=GenerationSettings().max_duration if nar_len else frames / FPS)
    line = pipeline.LineInput(text, 0)
    start = time.perf_counter()
    codes = pipeline.generate_lines(model, [line], prompt, settings, modality=modality,
                                    generator=torch.Generator().manual_seed(0))[0]
    audio = np.asarray(codec.decode(codes), dtype=np.float32)
    generating = time.perf_counter() - start
    codes_np = codes.to(torch.int64).numpy()
    result = SynthesisResult(audio=audio, sample_rate=SAMPLE_RATE, codes=codes_np,
                             sentences=(SentenceResult("", "", codes_np),), seed=0, modality=modality,
                             elapsed_s=generating)
    request = SynthesisRequest(phonemes="-", prompts=(prompt.numpy(),), settings=settings)
    checker = _BenchChecker(_Checked(model, codec, _frontend()), text)
    start = time.perf_counter()
    quality = checker.check(request, result)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    checker.check(request, result)
    warm = time.perf_counter() - start
    typical = _typical_check(checker, request, result)
    ratio = cold / generating
    cap = stt_token_cap(len(checker.ids))
    report.say(f"   {modality}, {seconds:g} s ({len(codes_np)} frames, {len(checker.ids)} phonemes asked, STT "
               f"capped at {cap}): generating {generating:.1f} s, scoring {cold:.2f} s (warm {warm:.2f} s) -> "
               f"{100 * ratio:.1f} % (warm {100 * warm / generating:.1f} %, typical {100 * typical / generating:.1f} "
               f"%); verdict {quality.verdict}; load {load_average()}")
    report.figures[f"quality_ratio@{modality}/{seconds:g}"] = ratio
    report.figures[f"quality_ratio_warm@{modality}/{seconds:g}"] = warm / generating
    report.figures[f"quality_ratio_typical@{modality}/{seconds:g}"] = typical / generating
    return ratio


def _typical_check(checker: TakeChecker, request: SynthesisRequest, result: SynthesisResult) -> float:
    """Seconds of a warm check whose STT pass hears exactly as many phonemes as were asked."""
    from valle_studio.engine.quality import thresholds

    saved = thresholds.STT_TOKEN_FACTOR, thresholds.STT_TOKEN_MARGIN
    thresholds.STT_TOKEN_FACTOR, thresholds.STT_TOKEN_MARGIN = 1.0, 1  # the asked phonemes, then </eos>
    try:
        start = time.perf_counter()
        checker.check(request, result)
        return time.perf_counter() - start
    finally:
        thresholds.STT_TOKEN_FACTOR, thresholds.STT_TOKEN_MARGIN = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_quality", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the take (default 4)")
    parser.add_argument("--steps", type=int, default=GenerationSettings().max_steps,
                        help="NAR-len demasking steps (default: the web UI's, 50)")
    parser.add_argument("--modality", default="nar-len",
                        help="comma-separated: nar-len (the default modality of this model), ar+nar")
    parser.add_argument("--threads", default="auto", help="torch threads: a number, or auto")
    args = parser.parse_args(argv)
    threads, why = choose_threads(args.threads)
    torch.set_num_threads(threads)
    from benchmarks._model import build_full_model
    from benchmarks.bench_e2e import load_codec

    report = Report()
    report.say("Quality check vs generation: full-size model, random weights, float32 CPU")
    report.say(f"   machine: {machine_line()}; torch {torch.__version__}, threads {why}")
    model = build_full_model()
    with torch.no_grad():
        model.classifiers.proj["9"].bias[_EOS] = -1e4  # the STT pass runs to its cap: the worst case
    codec = load_codec()
    if codec is None:
        report.say("   the codec packages are missing: nothing to measure")
        return 1
    report.section("scoring a take vs generating it (default settings)")
    ratios = {m: scoring_vs_generating(model, codec, report, seconds=args.seconds, modality=m, steps=args.steps)
              for m in (x.strip() for x in args.modality.split(",") if x.strip())}
    if "nar-len" in ratios:
        report.check(f"scoring costs at most {TARGET:.0%} of generating (default settings: NAR-len, "
                     f"{args.steps} steps)", ratios["nar-len"] <= TARGET, f"{100 * ratios['nar-len']:.1f} %")
    report.summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
