"""How long a line takes, before it runs: from the saved benchmark of this machine, or a conservative guess.

A line of ``S`` seconds of speech is ``75 S`` codec frames; its text is about 14 phoneme tokens a
second (the ratio the benchmarks use) and the reference prompt adds its own frames. Each stage is
timed from the measured rates in :class:`~valle_studio.engine.bench.record.Timings`:

- AR+NAR: one prefill pass, then ``75 S`` AR steps whose time grows linearly with the context (fitted
  to the steps measured at two contexts; a CFG pair costs the measured pair factor), then 7 NAR level
  passes over the whole sequence;
- NAR-len: the duration (a short causal pass and three steps), ``steps`` demasking steps of a
  conditional and a null pass, then the same 7 NAR level passes;
- the codec decodes ``S`` seconds of audio and encodes the prompt;
- a checked take (the quality check, :mod:`valle_studio.engine.quality`) adds the speech-to-text pass
  of each piece: one causal pass over its frames, then one step per phoneme heard. That is the typical
  case, a take that says its text (the STT head stops after the phonemes asked); one that runs on costs
  up to 1.5x + 8 steps more. Best-of ``N`` makes ``N`` takes, each checked, and encodes the reference
  once (:mod:`.timeline` lays a request out in takes, pieces and stages).

Full passes are timed as their FLOPs (:func:`~valle_studio.engine.bench.shape.pass_flops`) over the
GFLOP/s measured at the nearest lengths (interpolated on a log scale), so lengths in between come out
right. Without a benchmark :func:`conservative_timings` assumes a slow machine, so the guess errs long.
Nothing here imports torch.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from valle_studio.core.codec_format import FRAMES_PER_SECOND
from valle_studio.engine.bench.record import BenchRecord, Timings
from valle_studio.engine.bench.shape import V1_SHAPE, ModelShape, ar_step_bytes, pass_flops
from valle_studio.engine.bench.timeline import STAGES, Estimate, RunEta
from valle_studio.engine.quality.options import QualityOptions

TOKENS_PER_SECOND = 14.0  # phoneme tokens per second of speech
CHARS_PER_SECOND = 15.0  # characters of text per second of speech (used before the phonemes are known)
NAR_LEVELS = 7
DEFAULT_PROMPT_SECONDS = 3.0
EXTRA_TOKENS = 3  # language, task and separator positions besides text, prompt and response
NULL_TEXT_TOKENS = 2  # the CFG null input's text: <bos></eos>
LENGTH_STEPS = 3  # duration digits the length head decodes for a typical line


def conservative_timings(device: str, precision: str, shape: ModelShape = V1_SHAPE) -> Timings:
    """Rates of a slow machine (an old 2-core laptop, a small GPU), so an estimate without a benchmark errs long.

    CPU: 4 GB/s mat-vec bandwidth, 30 GFLOP/s in float32 (60 in int8 and native bfloat16), 0.3 s to
    decode a second of audio; the benchmarked 2-core Xeon and EPYC VMs run 3-8x faster than this.
    """
    gpu = device != "cpu"
    bandwidth = 150e9 if gpu else 4e9
    gflops = 5000.0 if gpu else (30.0 if precision == "float32" else 60.0)
    overhead = 0.015 if gpu else 0.008  # launching ~250 small ops per step
    steps = {c: ar_step_bytes(shape, precision, context=c) / bandwidth + overhead for c in (300, 1200)}
    rates = {256: gflops, 2048: gflops}
    return Timings(ar_step_s=steps, pass_gflops=rates, nar_len_gflops=dict(rates),
                   decode_s_per_s=0.02 if gpu else 0.3, encode_s_per_s=0.05 if gpu else 0.5, ar_pair_factor=2.0)


def _rate(rates: dict[int, float], tokens: int) -> float:
    """GFLOP/s at ``tokens``: interpolated between the measured lengths on a log scale, clamped at the ends."""
    lengths = sorted(rates)
    if tokens <= lengths[0]:
        return rates[lengths[0]]
    if tokens >= lengths[-1]:
        return rates[lengths[-1]]
    i = bisect.bisect_left(lengths, tokens)
    lo, hi = lengths[i - 1], lengths[i]
    share = (math.log(tokens) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return rates[lo] + share * (rates[hi] - rates[lo])


def _ar_line(steps: dict[int, float]) -> tuple[float, float]:
    """``(a, b)`` of ``step(context) = a + b * context`` through the two outermost measured contexts."""
    contexts = sorted(steps)
    if len(contexts) == 1:
        return steps[contexts[0]], 0.0
    lo, hi = contexts[0], contexts[-1]
    slope = max(0.0, (steps[hi] - steps[lo]) / (hi - lo))
    return steps[lo] - slope * lo, slope


class LineModel:
    """Times of the stages of one line from one :class:`Timings` (see the module docstring)."""

    def __init__(self, timings: Timings, shape: ModelShape = V1_SHAPE) -> None:
        self.timings = timings
        self.shape = shape
        self._a, self._b = _ar_line(timings.ar_step_s)

    def pass_s(self, tokens: int, head_rows: int, *, demasking: bool = False) -> float:
        rates = self.timings.nar_len_gflops if demasking else self.timings.pass_gflops
        return pass_flops(self.shape, tokens, head_rows=head_rows) / (_rate(rates, tokens) * 1e9)

    def ar_steps_s(self, start: int, count: int) -> float:
        """``count`` AR steps at contexts ``start, start + 1, ...``."""
        return count * self._a + self._b * (count * start + count * (count - 1) / 2)

    def stages(self, speech_s: float, *, modality: str, steps: int, cfg_strength: float,
               prompt_s: float = DEFAULT_PROMPT_SECONDS, text_tokens: int | None = None,
               encode_prompt: bool = False, checked: bool = False) -> dict[str, float]:
        """Seconds per stage of one line of ``speech_s`` seconds (``modality`` "ar+nar" or "nar-len");
        ``checked`` adds the quality check's speech-to-text pass (``"checking"``)."""
        frames = max(1, round(speech_s * FRAMES_PER_SECOND))
        tokens = text_tokens if text_tokens is not None else round(speech_s * TOKENS_PER_SECOND) + 2
        prompt = round(prompt_s * FRAMES_PER_SECOND)
        context = tokens + prompt + EXTRA_TOKENS
        full = context + frames
        null = NULL_TEXT_TOKENS + EXTRA_TOKENS + frames
        guided = cfg_strength != 1.0  # strength 1 skips the null pass (engine.pipeline.effective_cfg)
        out: dict[str, float] = {}
        if encode_prompt and prompt_s > 0:
            out["encoding prompt"] = self.timings.encode_s_per_s * prompt_s
        if modality == "nar-len":
            out["predicting length"] = self.pass_s(tokens + EXTRA_TOKENS, 1) + self.ar_steps_s(tokens, LENGTH_STEPS)
            pair = pass_flops(self.shape, full, head_rows=frames) + pass_flops(self.shape, null, head_rows=frames)
            out["demasking"] = steps * pair / (_rate(self.timings.nar_len_gflops, full) * 1e9)
        else:
            factor = (self.timings.ar_pair_factor or 2.0) if guided else 1.0
            out["generating"] = self.pass_s(context, 1) + factor * self.ar_steps_s(context, frames)
        refine = self.pass_s(full, frames) + (self.pass_s(null, frames) if guided else 0.0)
        out["refining"] = NAR_LEVELS * refine
        out["decoding"] = self.timings.decode_s_per_s * speech_s
        if checked:
            heard = max(1, tokens - 2)  # the phonemes asked, without <bos> and </eos>
            out["checking"] = self.pass_s(frames + EXTRA_TOKENS, 1) + self.ar_steps_s(frames + EXTRA_TOKENS, heard + 1)
        return out


def speech_seconds(piece: str, *, phonemes: bool, max_duration: float) -> float:
    """Expected seconds of speech of one piece of text (or of its IPA), capped at ``max_duration``."""
    count = len(piece.strip())
    per_second = TOKENS_PER_SECOND if phonemes else CHARS_PER_SECOND
    return min(max_duration, max(count / per_second, 1.0))


class Estimator:
    """Expected durations on one device and precision, from ``record`` when it measured that pair, else
    from :func:`conservative_timings`."""

    def __init__(self, record: BenchRecord | None, *, device: str, precision: str,
                 shape: ModelShape | None = None) -> None:
        variant = record.variant(device, precision) if record is not None else None
        self.device, self.precision = device, precision
        self.source = "benchmark" if variant is not None else "conservative"
        self.shape = shape or (record.shape if record is not None else V1_SHAPE)
        timings = variant.timings if variant is not None else conservative_timings(device, precision, self.shape)
        self.model = LineModel(timings, self.shape)

    def pieces(self, pieces: Sequence[str], *, modality: str, steps: int, cfg_strength: float, max_duration: float,
               prompt_s: float = DEFAULT_PROMPT_SECONDS, phonemes: bool = False,
               duration_s: float | None = None, quality: QualityOptions | None = None) -> Estimate:
        """The estimate of a request of ``pieces`` (text, or IPA when ``phonemes``) in a resolved ``modality``.

        ``duration_s``: a fixed NAR-len length per piece (the settings' ``duration_frames``), else the
        length follows the text. ``quality``: best-of N, retries and the check (None: one unchecked take)."""
        checked = quality is not None and quality.check
        out = []
        for index, piece in enumerate(pieces):
            seconds = speech_seconds(piece, phonemes=phonemes, max_duration=max_duration)
            if duration_s is not None and modality == "nar-len":
                seconds = min(duration_s, max_duration)
            tokens = len(piece.strip()) + 2 if phonemes else None
            out.append(self.model.stages(seconds, modality=modality, steps=steps, cfg_strength=cfg_strength,
                                         prompt_s=prompt_s, text_tokens=tokens, encode_prompt=index == 0,
                                         checked=checked))
        takes, retries = (quality.best_of, quality.retry_bad) if quality is not None else (1, 0)
        return Estimate(tuple(out), self.source, self.device, self.precision, takes, retries)

    def line(self, speech_s: float, *, modality: str, steps: int, cfg_strength: float = 1.0,
             prompt_s: float = DEFAULT_PROMPT_SECONDS) -> Estimate:
        """One line of ``speech_s`` seconds of speech."""
        stages = self.model.stages(speech_s, modality=modality, steps=steps, cfg_strength=cfg_strength,
                                   prompt_s=prompt_s)
        return Estimate((stages,), self.source, self.device, self.precision)


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"3 min 20 s"``, ``"1 h 05 min"``: how long something takes, rounded for reading."""
    if not math.isfinite(seconds):
        return "unknown"
    if seconds < 10:
        return f"{max(seconds, 0.0):.1f} s"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    if total < 3600:
        minutes, rest = divmod(total, 60)
        return f"{minutes} min {rest:02d} s" if minutes < 10 else f"{minutes + (rest >= 30)} min"
    hours, minutes = divmod(round(total / 60), 60)
    return f"{hours} h {minutes:02d} min"


# Estimate, RunEta and STAGES live in .timeline; they are re-exported here, where estimates are made.
__all__ = ["CHARS_PER_SECOND", "DEFAULT_PROMPT_SECONDS", "NAR_LEVELS", "STAGES", "TOKENS_PER_SECOND", "Estimate",
           "Estimator", "LineModel", "RunEta", "conservative_timings", "format_duration", "speech_seconds"]
