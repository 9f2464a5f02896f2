"""The watermark (issue 17): does detection survive low-bitrate Ogg/MP3 and resampling, how often does
unmarked audio look marked, and what does it add to an export per second of audio.

No real speech ships with the repository, so every clip is the speech-like synthetic signal of
``tests/speech_like.py`` (a voiced harmonic source on a gliding pitch, formant-shaped, cut into
syllables): the figures describe that signal, and real speech should be checked the same way when at
hand (``--wav FILE`` adds real recordings to both the marked and the unmarked sets).

Confidence is the detector's output (0..1, "watermarked" from 0.5). Each condition is applied to every
marked clip: 16-bit WAV (the export), Ogg Vorbis at libsndfile's lowest and a middle quality (bitrate
measured from the file size), MP3 at the lowest quality where libsndfile can write MP3, resampling
24 -> 16 -> 24 kHz and 24 -> 44.1 kHz (detected at 44.1 kHz). The false-positive rate counts unmarked
clips (other speech-like seeds, noise, tones, near-silence) scored at 0.5 or more. The added time per
exported second is the median of (export with watermark - export without) / clip seconds, both measured
back to back in the same rounds (``encode_with_provenance``: watermark, encode, decode and detect, tags).

    .venv/bin/python -m benchmarks.bench_watermark            # about 1-2 minutes on 2 cores
    .venv/bin/python -m benchmarks.bench_watermark --clips 4 --rounds 3
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import numpy as np
import soundfile as sf

from benchmarks._common import load_average
from tests.speech_like import speech_like
from valle_studio.core.provenance import Provenance
from valle_studio.core.resample import resample
from valle_studio.engine.watermark import DETECTION_THRESHOLD, apply_watermark, detect_watermark
from valle_studio.studio.provenance_export import encode_with_provenance

SR = 24_000
Condition = Callable[[np.ndarray], tuple[np.ndarray, int, str]]


def _encoded(samples: np.ndarray, fmt: str, subtype: str, level: float | None) -> tuple[np.ndarray, int, str]:
    buffer = io.BytesIO()
    kwargs = {} if level is None else {"compression_level": level}
    sf.write(buffer, samples, SR, format=fmt, subtype=subtype, **kwargs)
    kbps = len(buffer.getvalue()) * 8 / (len(samples) / SR) / 1000
    decoded, rate = sf.read(io.BytesIO(buffer.getvalue()), dtype="float32")
    return decoded, rate, f"{kbps:.0f} kbit/s"


def conditions() -> dict[str, Condition]:
    found: dict[str, Condition] = {
        "16-bit WAV (as exported)": lambda x: _encoded(x, "WAV", "PCM_16", None),
        "Ogg Vorbis, lowest quality": lambda x: _encoded(x, "OGG", "VORBIS", 1.0),
        "Ogg Vorbis, middle quality": lambda x: _encoded(x, "OGG", "VORBIS", 0.5),
        "resampled 24 -> 16 -> 24 kHz": lambda x: (resample(resample(x, SR, 16_000), 16_000, SR), SR, ""),
        "resampled 24 -> 44.1 kHz": lambda x: (resample(x, SR, 44_100), 44_100, ""),
    }
    try:
        _encoded(np.zeros(SR, np.float32), "MP3", "MPEG_LAYER_III", 1.0)
        found["MP3, lowest quality"] = lambda x: _encoded(x, "MP3", "MPEG_LAYER_III", 1.0)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError):
        pass
    return found


def unmarked_set(count: int, seconds: float, extra: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(99)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    white = [(0.1 * rng.standard_normal(n)).astype(np.float32) for _ in range(max(2, count // 4))]
    pink = [np.cumsum(0.02 * rng.standard_normal(n)).astype(np.float32) for _ in range(max(2, count // 4))]
    pink = [(p - p.mean()) / max(np.abs(p).max(), 1e-9) * 0.3 for p in pink]
    tones = [(0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32) for f in (110, 220, 440, 1000)]
    quiet = [(1e-4 * rng.standard_normal(n)).astype(np.float32)]
    speech = [speech_like(seconds, SR, seed=1000 + i) for i in range(count)]
    sets = {"speech-like (unmarked)": speech, "white noise": white, "pink-ish noise": pink, "tones": tones,
            "near-silence": quiet}
    if extra:
        sets["your recordings (unmarked)"] = extra
    return sets


def added_time(seconds: float, rounds: int) -> tuple[float, float, float]:
    """Median (s with watermark, s without, added s per exported second) for a ``seconds`` clip."""
    clip = speech_like(seconds, SR, seed=7)
    record = Provenance(text="bench", voice="bench", model="bench")
    with_mark, without, per_second = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        encode_with_provenance("x.flac", clip, SR, record, watermark=True)
        marked = time.perf_counter() - start
        start = time.perf_counter()
        encode_with_provenance("x.flac", clip, SR, record, watermark=False)
        plain = time.perf_counter() - start
        with_mark.append(marked)
        without.append(plain)
        per_second.append((marked - plain) / seconds)
    return statistics.median(with_mark), statistics.median(without), statistics.median(per_second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8, help="marked speech-like clips (default 8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each clip (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (default 5)")
    parser.add_argument("--wav", action="append", default=[], help="real speech to add (any rate; mono mix)")
    args = parser.parse_args()

    print(f"load before: {load_average()}")
    start = time.perf_counter()
    apply_watermark(np.zeros(SR, np.float32) + 1e-3, SR)  # loads PerthNet once
    print(f"PerthNet load (first use in a process): {time.perf_counter() - start:.2f} s")

    extra = []
    for name in args.wav:
        data, rate = sf.read(name, dtype="float32", always_2d=True)
        extra.append(resample(data.mean(axis=1), rate, SR))
    clean = [speech_like(args.seconds, SR, seed=i) for i in range(args.clips)] + extra
    marked = [apply_watermark(c, SR) for c in clean]
    snr = [10 * np.log10(np.sum(c ** 2) / max(np.sum((c - m) ** 2), 1e-12)) for c, m in zip(clean, marked, strict=True)]
    print(f"\n{len(clean)} marked clips of {args.seconds:g} s (speech-like synthetic signal"
          f"{' + your recordings' if extra else ''}); signal-to-watermark ratio median {statistics.median(snr):.1f} dB")
    print(f"{'condition':34} {'median':>7} {'min':>6} {'detected':>9}  note")
    for name, condition in conditions().items():
        scores, note = [], ""
        for audio in marked:
            out, rate, note = condition(audio)
            scores.append(detect_watermark(out, rate))
        hits = sum(s >= DETECTION_THRESHOLD for s in scores)
        print(f"{name:34} {statistics.median(scores):7.3f} {min(scores):6.3f} {hits:>4}/{len(scores):<4}  {note}")

    print("\nunmarked audio (false positives: confidence >= 0.5)")
    total, false = 0, 0
    for name, clips in unmarked_set(max(args.clips * 2, 8), args.seconds, extra).items():
        scores = [detect_watermark(c, SR) for c in clips]
        hits = sum(s >= DETECTION_THRESHOLD for s in scores)
        total, false = total + len(scores), false + hits
        print(f"{name:34} {statistics.median(scores):7.3f} max {max(scores):5.3f} {hits:>3}/{len(scores)}")
    print(f"false-positive rate: {false}/{total} = {false / total:.1%}")

    seconds = 10.0
    marked_s, plain_s, per_second = added_time(seconds, args.rounds)
    print(f"\nexport of a {seconds:g} s clip to FLAC, median of {args.rounds} rounds back to back: "
          f"{marked_s:.3f} s with the watermark, {plain_s:.3f} s without")
    print(f"added time per exported second: {per_second * 1000:.0f} ms "
          f"(watermark {per_second:.3f}x real time); load after: {load_average()}")


if __name__ == "__main__":
    main()
