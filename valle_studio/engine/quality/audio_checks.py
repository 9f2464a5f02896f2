"""The checks that read the decoded audio: silence (leading, trailing, inside), level, clipping.

Audio is mono float32 ``[S]`` at any rate, judged in 20 ms frames (``thresholds.FRAME_S``). A frame is
silent relative to the take's own speech level, so a quietly recorded voice is not "silent"; the level
check then compares that speech level with the reference clip's. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from valle_studio.engine.quality import thresholds as t
from valle_studio.engine.quality.verdict import BAD, GOOD, NOT_CHECKED, Finding, goodness_of, level_of

LEADING = "leading_silence_s"
TRAILING = "trailing_silence_s"
INTERNAL = "internal_silence_s"
LEVEL = "level_vs_reference_db"
CLIPPED = "clipped_fraction"


def frame_levels(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``[F]`` dBFS of each 20 ms frame (a last partial frame included); ``[0]`` for empty audio."""
    audio = np.asarray(samples, dtype=np.float64).reshape(-1)
    size = max(1, round(t.FRAME_S * sample_rate))
    frames = -(-len(audio) // size)
    if frames == 0:
        return np.zeros(0)
    padded = np.zeros(frames * size)
    padded[: len(audio)] = audio
    power = (padded.reshape(frames, size) ** 2).sum(axis=1)
    counts = np.full(frames, size, dtype=np.float64)
    counts[-1] = len(audio) - (frames - 1) * size
    levels: np.ndarray = 10.0 * np.log10(power / counts + 1e-20)
    return levels


def speech_level(samples: np.ndarray, sample_rate: int) -> float | None:
    """The level of the loud parts (dBFS, 95th percentile of the frames); None for empty audio."""
    levels = frame_levels(samples, sample_rate)
    return float(np.percentile(levels, t.SPEECH_PERCENTILE)) if len(levels) else None


@dataclass(frozen=True)
class Silences:
    """Seconds of silence at the start, at the end and the longest stretch inside; ``silent``: no frame
    reaches the level of speech at all."""

    leading: float
    trailing: float
    internal: float
    silent: bool


def silences(samples: np.ndarray, sample_rate: int) -> Silences:
    """Where the take is silent (see the module docstring)."""
    levels = frame_levels(samples, sample_rate)
    frame_s = max(1, round(t.FRAME_S * sample_rate)) / sample_rate
    loud = float(np.percentile(levels, t.SPEECH_PERCENTILE)) if len(levels) else -200.0
    if loud < t.SILENT_TAKE_DBFS:
        length = len(levels) * frame_s
        return Silences(length, length, 0.0, True)
    quiet = levels < max(t.SILENCE_FLOOR_DBFS, loud - t.SILENCE_BELOW_SPEECH_DB)
    sound = np.flatnonzero(~quiet)
    first, last = int(sound[0]), int(sound[-1])
    inside = quiet[first: last + 1]
    edges = np.diff(np.concatenate(([0], inside.astype(np.int8), [0])))
    runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    longest = int(runs.max()) if len(runs) else 0
    return Silences(first * frame_s, (len(levels) - 1 - last) * frame_s, longest * frame_s, False)


def check_silences(samples: np.ndarray, sample_rate: int, gap_s: float = 0.0) -> list[Finding]:
    """Leading, trailing and inner silence; ``gap_s``: the pause asked for between pieces, which the inner
    silence may reach without counting against the take."""
    found = silences(samples, sample_rate)
    if found.silent:
        reason = "silent: no part of it is loud enough to be speech"
        return [Finding(LEADING, found.leading, BAD, 0.0, reason), Finding(TRAILING, found.trailing, BAD, 0.0),
                Finding(INTERNAL, 0.0)]
    out = []
    for name, value, limits, words in (
            (LEADING, found.leading, t.LEADING_SILENCE_S, "starts with {:.1f} s of silence"),
            (TRAILING, found.trailing, t.TRAILING_SILENCE_S, "ends with {:.1f} s of silence"),
            (INTERNAL, found.internal, t.INTERNAL_SILENCE_S, "falls silent for {:.1f} s in the middle")):
        judged = max(0.0, value - gap_s) if name == INTERNAL else value
        level = level_of(judged, limits)
        out.append(Finding(name, value, level, goodness_of(judged, limits),
                           "" if level == GOOD else words.format(value)))
    return out


def check_level(samples: np.ndarray, sample_rate: int, reference_db: float | None) -> Finding:
    """How much quieter the take's speech is than the reference clip's (None: no reference audio)."""
    level = speech_level(samples, sample_rate)
    if reference_db is None or level is None:
        return Finding(LEVEL, None)
    difference = level - reference_db
    drop = max(0.0, -difference)
    judged = level_of(drop, t.LEVEL_DROP_DB)
    return Finding(LEVEL, difference, judged, goodness_of(drop, t.LEVEL_DROP_DB),
                   "" if judged == GOOD else f"{drop:.0f} dB quieter than the reference clip")


def check_clipping(samples: np.ndarray) -> Finding:
    """The share of samples at full scale."""
    audio = np.asarray(samples, dtype=np.float32).reshape(-1)
    share = float(np.mean(np.abs(audio) >= t.CLIP_LEVEL)) if len(audio) else 0.0
    level = level_of(share, t.CLIPPED_FRACTION)
    return Finding(CLIPPED, share, level, goodness_of(share, t.CLIPPED_FRACTION),
                   "" if level == GOOD else f"clips: {share:.1%} of its samples are at full scale")


def check_audio(samples: np.ndarray | None, sample_rate: int, *, reference_db: float | None,
                gap_s: float = 0.0) -> list[Finding]:
    """Every audio check of a take; ``samples`` None (no codec: codes only) gives unmeasured findings."""
    if samples is None:
        skipped = f"{NOT_CHECKED} the take was not decoded to audio, so silence, level and clipping were skipped"
        return [Finding(name, None, reason=skipped) for name in (LEADING, TRAILING, INTERNAL, LEVEL, CLIPPED)]
    return [*check_silences(samples, sample_rate, gap_s), check_level(samples, sample_rate, reference_db),
            check_clipping(samples)]


__all__ = ["CLIPPED", "INTERNAL", "LEADING", "LEVEL", "TRAILING", "Silences", "check_audio", "check_clipping",
           "check_level", "check_silences", "frame_levels", "silences", "speech_level"]
