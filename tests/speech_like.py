"""A speech-like synthetic signal for watermark tests and benchmarks (no real speech is bundled).

A pure tone is no test of a speech watermark: PerthNet hides its mark under the harmonics of voiced
sound, and a sine gives it almost nothing to hide under (it is not detected there, which the export then
reports truthfully). This is a voiced source instead: a glottal-like harmonic series (30 harmonics, 1/k)
on a gliding pitch of 110-190 Hz with a little jitter, shaped by three formant-like resonances, cut into
syllables of 120-300 ms with short pauses, plus a faint noise floor.
"""

from __future__ import annotations

import numpy as np


def speech_like(seconds: float, sample_rate: int = 24_000, seed: int = 0) -> np.ndarray:
    """``[S]`` float32, peak about 0.5; deterministic for a given ``seed``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    pitch = 150 + 40 * np.sin(2 * np.pi * 0.4 * t + rng.uniform(0, 6)) + rng.normal(0, 1.5, n).cumsum() / 400
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    voiced = np.zeros(n)
    for k in range(1, 31):
        frequency = k * pitch
        gain = sum(np.exp(-((frequency - f) / bw) ** 2) for f, bw in ((600, 200), (1200, 300), (2500, 400)))
        voiced += (0.3 + gain) * np.sin(k * phase) / k * (frequency < sample_rate / 2)
    envelope = np.zeros(n)
    at = 0
    while at < n:
        length = int(rng.uniform(0.12, 0.30) * sample_rate)
        end = min(at + length, n)
        envelope[at:end] = np.hanning(end - at) if end - at > 1 else 0
        at = end + int(rng.uniform(0.02, 0.12) * sample_rate)
    signal = voiced * envelope + rng.normal(0, 0.003, n)
    return (0.5 * signal / max(np.max(np.abs(signal)), 1e-9)).astype(np.float32)
