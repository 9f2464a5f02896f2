"""The checks that read codes and phonemes: intelligibility, duration, no stop, loops, prompt leak.

Each ``check_*`` function measures one thing of one generated piece of text and returns a
:class:`~valle_studio.engine.quality.verdict.Finding`; the limits come from
:mod:`~valle_studio.engine.quality.thresholds`. Codes are EnCodec frames, 75 a second; only level 0
(``[T]`` int) is needed here. numpy only: the checks are cheap and testable on constructed codes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from valle_studio.core.codec_format import FRAMES_PER_SECOND
from valle_studio.engine.quality import thresholds as t
from valle_studio.engine.quality.verdict import BAD, GOOD, NOT_CHECKED, SUSPECT, Finding, goodness_of, level_of

FPS = FRAMES_PER_SECOND

INTELLIGIBILITY = "phoneme_error_rate"
DURATION = "seconds_per_phoneme"
NO_STOP = "hit_duration_cap"
LOOP = "loop_seconds"
HELD = "held_seconds"
LEAK = "prompt_leak"

NO_STT_HEAD = (f"{NOT_CHECKED} this model has no speech-to-text head (classifiers.proj.9), so whether the "
               "words can be understood was not checked")


# -- intelligibility ------------------------------------------------------------------------------------------
def edit_distance(a: Sequence[int], b: Sequence[int]) -> int:
    """Levenshtein distance between two id sequences (insertions, deletions, substitutions cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def phoneme_error_rate(asked: Sequence[int], heard: Sequence[int]) -> float:
    """Edit distance between ``heard`` and ``asked`` ids over the number asked, capped at 1."""
    if not asked:
        return 0.0 if not heard else 1.0
    return min(1.0, edit_distance(asked, heard) / len(asked))


def check_intelligibility(asked: Sequence[int], heard: Sequence[int] | None) -> Finding:
    """How much of what was asked the STT head heard (``heard`` None: the model has no STT head)."""
    if heard is None:
        return Finding(INTELLIGIBILITY, None, reason=NO_STT_HEAD)
    per = phoneme_error_rate(asked, heard)
    level = level_of(per, t.PHONEME_ERROR_RATE)
    reason = "" if level == GOOD else (
        f"hard to understand: the speech-to-text head got {per:.0%} of the phonemes wrong"
        if level == SUSPECT else f"not the asked words: the speech-to-text head got {per:.0%} of the phonemes wrong")
    return Finding(INTELLIGIBILITY, per, level, goodness_of(per, t.PHONEME_ERROR_RATE), reason)


def stt_token_cap(asked: int) -> int:
    """How many phonemes the STT pass may hear for ``asked`` ones (see ``thresholds.STT_TOKEN_FACTOR``)."""
    return max(1, int(asked * t.STT_TOKEN_FACTOR) + t.STT_TOKEN_MARGIN)


# -- duration -------------------------------------------------------------------------------------------------
def count_phonemes(ipa: str) -> int:
    """The phonemes of an IPA string: its letters. Stress and length marks and other modifier letters
    (ˈ ː ʰ), tone letters, combining diacritics, digits, punctuation and spaces do not count."""
    return sum(1 for ch in ipa if unicodedata.category(ch) in ("Ll", "Lu", "Lo"))


def check_duration(seconds: float, phonemes: int, language: str) -> Finding:
    """Seconds per phoneme against normal speech in ``language``: too short (stopped early) or too long
    (ran on). Nothing to judge without phonemes."""
    if phonemes <= 0:
        return Finding(DURATION, None)
    rate = t.speech_rate(language)
    per = seconds / phonemes
    slow = max(0.0, seconds - t.LEAD_ALLOWANCE_S) / phonemes
    if per < rate.fast_suspect:
        level = BAD if per < rate.fast_bad else SUSPECT
        return Finding(DURATION, per, level, min(1.0, per / rate.fast_suspect),
                       f"too short: {seconds:.1f} s of speech for {phonemes} phonemes (normal speech needs at "
                       f"least {phonemes * rate.fast_suspect:.1f} s); it probably stopped early")
    if slow > rate.slow_suspect:
        level = BAD if slow > rate.slow_bad else SUSPECT
        longest = t.LEAD_ALLOWANCE_S + phonemes * rate.slow_suspect
        return Finding(DURATION, per, level, min(1.0, rate.slow_suspect / slow),
                       f"too long: {seconds:.1f} s of speech for {phonemes} phonemes (normal speech takes at most "
                       f"{longest:.1f} s); it probably ran on")
    return Finding(DURATION, per)


# -- no stop --------------------------------------------------------------------------------------------------
def check_cap(frames: int, cap_frames: int | None, modality: str) -> Finding:
    """Whether a piece ran into the duration cap. ``cap_frames`` None: the user fixed the length, so the
    length says nothing about stopping."""
    if cap_frames is None:
        return Finding(NO_STOP, None)
    if frames < cap_frames:
        return Finding(NO_STOP, False)
    cap_s = f"{cap_frames / FPS:g} s"
    if modality == "ar+nar":
        return Finding(NO_STOP, True, BAD, 0.0, f"did not stop by itself: it ran into the {cap_s} duration cap "
                                                "(raise Max duration, or split the text)")
    return Finding(NO_STOP, True, SUSPECT, 0.5, f"its predicted length was cut to the {cap_s} duration cap, so "
                                                "the speech may be squeezed or cut off")


# -- loops and held sounds ------------------------------------------------------------------------------------
def _changes(codes: np.ndarray) -> np.ndarray:
    """``[T]`` bool: the frame differs from the one before it (the first frame counts as a change)."""
    changed = np.ones(len(codes), dtype=bool)
    changed[1:] = codes[1:] != codes[:-1]
    return changed


def _runs(mask: np.ndarray) -> int:
    """Length of the longest run of True in ``mask``."""
    starts, ends = _run_bounds(mask)
    return int((ends - starts).max()) if len(starts) else 0


def _run_bounds(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` of the runs of True in ``mask`` (ends exclusive)."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def loop_span(level0: np.ndarray) -> tuple[int, int]:
    """``(frames, lag)``: the longest stretch of ``level0`` (``[T]`` codes) that repeats itself every
    ``lag`` frames (see ``thresholds.LOOP_*``), the first period included; ``(0, 0)`` when none."""
    codes = np.asarray(level0, dtype=np.int64).reshape(-1)
    total = len(codes)
    window = max(2, round(t.LOOP_WINDOW_S * FPS))
    changed = _changes(codes)
    best = (0, 0)
    for lag in range(t.LOOP_MIN_LAG_FRAMES, min(round(t.LOOP_MAX_LAG_S * FPS), total - window) + 1):
        match = (codes[lag:] == codes[:-lag]) & changed[lag:]
        matched = np.concatenate(([0], np.cumsum(match)))
        moving = np.concatenate(([0], np.cumsum(changed[lag:])))
        hits = matched[window:] - matched[:-window]
        moves = moving[window:] - moving[:-window]
        # a window loops when enough of its changing frames repeat the frame `lag` earlier; windows that
        # barely change (a held sound, silence) belong to the held-sound check instead
        looping = (moves >= window // 4) & (hits >= t.LOOP_MATCH_RATE * moves)
        if not looping.any():
            continue
        covered = np.zeros(len(match) + 1, dtype=np.int64)
        starts = np.flatnonzero(looping)
        np.add.at(covered, starts, 1)
        np.add.at(covered, starts + window, -1)
        span = 0
        for start, end in zip(*_run_bounds(np.cumsum(covered)[:-1] > 0), strict=True):
            hit = np.flatnonzero(match[start:end])  # from the first repeat to the last, not the windows' edges
            span = max(span, int(hit[-1] - hit[0] + 1))
        frames = min(total, span + lag)
        if frames > best[0]:
            best = (frames, lag)
    return best


def held_frames(level0: np.ndarray) -> int:
    """The longest run of one unchanged level-0 code, in frames."""
    codes = np.asarray(level0, dtype=np.int64).reshape(-1)
    if len(codes) == 0:
        return 0
    same = np.concatenate(([False], codes[1:] == codes[:-1]))
    return _runs(same) + 1


def check_loops(level0: np.ndarray) -> tuple[Finding, Finding]:
    """(loop, held sound) findings of one piece's level-0 codes ``[T]``."""
    frames, lag = loop_span(level0)
    seconds = frames / FPS
    level = level_of(seconds, t.LOOP_SECONDS)
    loop = Finding(LOOP, seconds, level, goodness_of(seconds, t.LOOP_SECONDS),
                   "" if level == GOOD else f"repeats itself: {seconds:.1f} s loop over the same "
                                            f"{lag / FPS:.2f} s of sound")
    held_s = held_frames(level0) / FPS
    held_level = level_of(held_s, t.HELD_SECONDS)
    held = Finding(HELD, held_s, held_level, goodness_of(held_s, t.HELD_SECONDS),
                   "" if held_level == GOOD else f"holds one sound (or a pause) for {held_s:.1f} s")
    return loop, held


# -- prompt leak ----------------------------------------------------------------------------------------------
def prompt_leak(level0: np.ndarray, prompt0: np.ndarray) -> float | None:
    """The share of the take's opening that copies a stretch of the reference's level-0 codes (0..1), or
    None when the take or the reference is too short to tell (see ``thresholds.LEAK_*``)."""
    take = np.asarray(level0, dtype=np.int64).reshape(-1)
    prompt = np.asarray(prompt0, dtype=np.int64).reshape(-1)
    width = min(len(take), len(prompt), round(t.LEAK_WINDOW_S * FPS))
    if width < round(t.LEAK_MIN_WINDOW_S * FPS):
        return None
    opening = take[:width]
    changed = _changes(opening)
    moves = int(changed.sum())
    if moves < width // 4:  # an opening of silence or one held sound copies nothing worth the name
        return 0.0
    matches = ((sliding_window_view(prompt, width) == opening) & changed).sum(axis=1)
    return float(matches.max()) / moves


def check_prompt_leak(level0: np.ndarray, prompt0: np.ndarray | None) -> Finding:
    """Whether the take starts by reproducing the reference clip's codes (``prompt0`` None: no reference)."""
    share = None if prompt0 is None else prompt_leak(level0, prompt0)
    if share is None:
        return Finding(LEAK, None)
    level = level_of(share, t.PROMPT_LEAK)
    return Finding(LEAK, share, level, goodness_of(share, t.PROMPT_LEAK),
                   "" if level == GOOD else f"starts by copying the reference clip ({share:.0%} of its opening "
                                            "matches the reference)")


__all__ = ["DURATION", "HELD", "INTELLIGIBILITY", "LEAK", "LOOP", "NO_STOP", "NO_STT_HEAD", "check_cap",
           "check_duration", "check_intelligibility", "check_loops", "check_prompt_leak", "count_phonemes",
           "edit_distance", "held_frames", "loop_span", "phoneme_error_rate", "prompt_leak", "stt_token_cap"]
