"""The scorer over whole takes: findings combine into a verdict, a score whose bands never overlap, and
reasons in plain words; a take of several sentences names the sentence; the record round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.test_quality_audio import SR, voiced
from tests.engine.test_quality_checks import speech_like
from valle_studio.engine.quality import TakeInput, TakeQuality, score_take
from valle_studio.engine.quality.scorer import PieceInput
from valle_studio.engine.quality.verdict import BAD, GOOD, SUSPECT, Finding, best_index, combine

ASKED = tuple(range(10, 50))  # 40 phoneme ids


def piece(seconds: float, *, asked: tuple[int, ...] = ASKED, phonemes: int = 40, seed: int = 1) -> PieceInput:
    level0 = speech_like(seconds, seed=seed)
    codes = np.stack([level0] + [np.random.default_rng(seed + k).integers(0, 1024, len(level0))
                                 for k in range(1, 8)], axis=1)
    return PieceInput(asked, phonemes, codes)


def take(*pieces: PieceInput, audio: np.ndarray | None = None, **kw) -> TakeInput:
    return TakeInput(pieces=pieces, language="en", modality=kw.pop("modality", "nar-len"),
                     cap_frames=kw.pop("cap_frames", 900), audio=audio, sample_rate=SR, **kw)


def echo(codes: np.ndarray, max_phonemes: int) -> list[int]:
    """A hearer that hears exactly what was asked."""
    return list(ASKED)[:max_phonemes]


def test_a_clean_take_is_good_with_a_high_score() -> None:
    quality = score_take(take(piece(3.0), audio=voiced(3.0)), echo)
    assert quality.verdict == GOOD and quality.score > 0.95 and quality.reasons == ()
    assert quality.checks["phoneme_error_rate"] == 0.0 and quality.checks["hit_duration_cap"] is False
    assert set(quality.checks) == {"phoneme_error_rate", "seconds_per_phoneme", "hit_duration_cap", "loop_seconds",
                                   "held_seconds", "prompt_leak", "leading_silence_s", "trailing_silence_s",
                                   "internal_silence_s", "level_vs_reference_db", "clipped_fraction"}


def test_a_take_that_stopped_at_once_is_bad_with_a_duration_reason() -> None:
    quality = score_take(take(piece(0.1), audio=voiced(0.1)), echo)
    assert quality.verdict == BAD and quality.score < 1 / 3
    assert any("too short" in r for r in quality.reasons)


def test_the_hearer_is_capped_and_an_empty_piece_is_not_heard() -> None:
    asked_for: list[int] = []

    def hear(codes: np.ndarray, max_phonemes: int) -> list[int]:
        asked_for.append(max_phonemes)
        return []

    quality = score_take(take(piece(3.0), PieceInput(ASKED, 40, np.zeros((0, 8), np.int64))), hear)
    assert asked_for == [40 * 3 // 2 + 8]  # the empty second piece never reaches the STT head
    assert quality.verdict == BAD


def test_several_sentences_name_the_one_at_fault() -> None:
    quality = score_take(take(piece(3.0), piece(0.1, seed=2)), echo)
    assert quality.verdict == BAD
    assert any(r.startswith("sentence 2/2: too short") for r in quality.reasons)


def test_without_an_stt_head_the_other_checks_still_decide() -> None:
    quality = score_take(take(piece(3.0), audio=voiced(3.0)), None)
    assert quality.verdict == GOOD and quality.checks["phoneme_error_rate"] is None
    assert any("no speech-to-text head" in r for r in quality.reasons)
    assert score_take(take(piece(0.1)), None).verdict == BAD


def test_score_bands_never_overlap_and_reasons_put_problems_first() -> None:
    good = combine([Finding("a", 0.3, GOOD, 0.0), Finding("b", None, reason="not checked: b")])
    suspect = combine([Finding("a", 0.1, SUSPECT, 1.0), Finding("b", 1.0, GOOD, 1.0)])
    bad = combine([Finding("a", 1.0, BAD, 1.0, "broken"), Finding("b", 0.5, SUSPECT, 1.0, "odd"),
                   Finding("c", None, reason="not checked: c")])
    assert good.score >= 2 / 3 > suspect.score >= 1 / 3 > bad.score >= 0
    assert bad.reasons == ("broken", "odd", "not checked: c")
    assert bad.summary == "bad: broken" and good.summary == "good"
    assert best_index([suspect, good, bad]) == 1
    assert best_index([good, good]) == 0  # the earliest on a tie
    assert best_index([None, bad]) == 1  # an unchecked take ranks last
    with pytest.raises(ValueError):
        best_index([])


def test_the_quality_record_round_trips_and_refuses_damage() -> None:
    quality = score_take(take(piece(3.0), audio=voiced(3.0)), echo)
    back = TakeQuality.from_dict(quality.to_dict())
    assert back.verdict == quality.verdict and back.score == pytest.approx(quality.score, abs=1e-4)
    assert back.reasons == quality.reasons and set(back.checks) == set(quality.checks)
    for damaged in ({"verdict": "fine", "score": 0.5}, {"verdict": "good", "score": 2},
                    {"verdict": "good", "score": 0.9, "checks": {"x": "loud"}}, {"verdict": "good", "score": True}):
        with pytest.raises(ValueError):
            TakeQuality.from_dict(damaged)


def test_a_take_needs_a_piece() -> None:
    with pytest.raises(ValueError, match="at least one piece"):
        score_take(take(), echo)
