"""Each code check of the quality guard fires on constructed codes that show its fault, and stays quiet
on codes that do not (intelligibility, duration, no stop, loops, held sounds, prompt leak)."""

from __future__ import annotations

import numpy as np
import pytest

from valle_studio.engine.quality import code_checks as cc
from valle_studio.engine.quality import thresholds as t
from valle_studio.engine.quality.verdict import BAD, GOOD, SUSPECT

FPS = 75
RNG = np.random.default_rng(0)


def speech_like(seconds: float, seed: int = 1) -> np.ndarray:
    """Level-0 codes with the texture of speech: random codes, each held for 1-3 frames (steady vowels)."""
    rng = np.random.default_rng(seed)
    out: list[int] = []
    while len(out) < round(seconds * FPS):
        out += [int(rng.integers(0, 1024))] * int(rng.integers(1, 4))
    return np.asarray(out[: round(seconds * FPS)], dtype=np.int64)


# -- intelligibility ------------------------------------------------------------------------------------------
def test_edit_distance_and_phoneme_error_rate() -> None:
    assert cc.edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert cc.edit_distance([1, 2, 3], [1, 3]) == 1  # a deletion
    assert cc.edit_distance([1, 2, 3], [1, 9, 3, 4]) == 2  # a substitution and an insertion
    assert cc.edit_distance([], [5, 6]) == 2
    assert cc.phoneme_error_rate([1, 2, 3, 4], [1, 2, 3, 4]) == 0.0
    assert cc.phoneme_error_rate([1, 2, 3, 4], [1, 2, 9, 4]) == 0.25
    assert cc.phoneme_error_rate([1, 2], list(range(10, 30))) == 1.0  # capped
    assert cc.phoneme_error_rate([], []) == 0.0 and cc.phoneme_error_rate([], [7]) == 1.0


def test_intelligibility_fires_on_wrong_phonemes_and_not_on_right_ones() -> None:
    asked = list(range(10, 40))
    good = cc.check_intelligibility(asked, [*asked[:29], 99])  # one substitution in 30
    assert good.level == GOOD and good.value == pytest.approx(1 / 30) and not good.reason
    half = cc.check_intelligibility(asked, asked[:15] + list(range(100, 115)))
    assert half.level == SUSPECT and "hard to understand" in half.reason and "50%" in half.reason
    wrong = cc.check_intelligibility(asked, list(range(200, 230)))
    assert wrong.level == BAD and wrong.value == 1.0 and wrong.goodness == 0.0
    assert "not the asked words" in wrong.reason
    assert cc.check_intelligibility(asked, []).level == BAD  # heard nothing at all


def test_without_an_stt_head_intelligibility_is_skipped_and_says_so() -> None:
    finding = cc.check_intelligibility([1, 2, 3], None)
    assert finding.value is None and not finding.measured
    assert "no speech-to-text head" in finding.reason and finding.reason.startswith("not checked:")


def test_the_stt_pass_may_hear_a_little_more_than_was_asked() -> None:
    assert cc.stt_token_cap(0) == t.STT_TOKEN_MARGIN
    assert cc.stt_token_cap(40) == int(40 * t.STT_TOKEN_FACTOR) + t.STT_TOKEN_MARGIN
    assert cc.stt_token_cap(40) < 40 * 2  # far below upstream's 20 a second of audio


# -- duration -------------------------------------------------------------------------------------------------
def test_phonemes_are_the_letters_of_the_ipa() -> None:
    assert cc.count_phonemes("həlˈoʊ wˈɜːld.") == 9  # stress, length, space and full stop do not count
    assert cc.count_phonemes("niˉχˈɑuˉ") == 5  # tone letters do not count
    assert cc.count_phonemes("?!, ") == 0


def test_duration_fires_when_a_take_stopped_early_or_ran_on() -> None:
    stopped = cc.check_duration(0.1, 48, "en")  # the 14 words in 0.1 s
    assert stopped.level == BAD and "too short" in stopped.reason and "stopped early" in stopped.reason
    hurried = cc.check_duration(48 * 0.035, 48, "en")
    assert hurried.level == SUSPECT and "too short" in hurried.reason
    ran_on = cc.check_duration(12.0, 10, "en")
    assert ran_on.level == BAD and "too long" in ran_on.reason and "ran on" in ran_on.reason
    drawn = cc.check_duration(1.0 + 20 * 0.25, 20, "en")
    assert drawn.level == SUSPECT and "too long" in drawn.reason


def test_duration_does_not_fire_on_normal_speech_or_short_lines() -> None:
    for seconds, phonemes in ((3.5, 45), (2.0, 30), (6.5, 50)):  # 0.078, 0.067, 0.13 s a phoneme
        finding = cc.check_duration(seconds, phonemes, "en")
        assert finding.level == GOOD and finding.goodness == 1.0 and not finding.reason, (seconds, phonemes)
    # "Yes." in NAR-len's one-second floor (plus padding) is not drawn out
    assert cc.check_duration(1.05, 3, "en").level == GOOD
    assert cc.check_duration(1.0, 0, "en").value is None  # nothing to judge


def test_duration_limits_follow_the_language() -> None:
    per = 0.04  # faster than English speech allows, normal for Japanese
    assert cc.check_duration(per * 50, 50, "en").level == SUSPECT
    assert cc.check_duration(per * 50, 50, "ja").level == GOOD
    slow = 1.0 + 0.22 * 30
    assert cc.check_duration(slow, 30, "en").level == SUSPECT
    assert cc.check_duration(slow, 30, "zh").level == GOOD
    assert t.speech_rate("xx") == t.DEFAULT_RATE and t.speech_rate("ZH-cn") == t.SPEECH_RATES["zh"]


# -- no stop --------------------------------------------------------------------------------------------------
def test_running_into_the_cap_fires_and_stopping_before_it_does_not() -> None:
    ar = cc.check_cap(900, 900, "ar+nar")
    assert ar.value is True and ar.level == BAD and "did not stop" in ar.reason and "12 s" in ar.reason
    nar_len = cc.check_cap(900, 900, "nar-len")
    assert nar_len.value is True and nar_len.level == SUSPECT and "cut to the 12 s" in nar_len.reason
    assert cc.check_cap(899, 900, "ar+nar").value is False and cc.check_cap(899, 900, "ar+nar").level == GOOD
    assert cc.check_cap(900, None, "nar-len").value is None  # a fixed length says nothing about stopping


# -- loops and held sounds ------------------------------------------------------------------------------------
def test_a_loop_of_repeated_codes_fires() -> None:
    phrase = speech_like(0.4, seed=5)
    looped = np.concatenate([speech_like(1.0, seed=2), np.tile(phrase, 6), speech_like(0.5, seed=3)])
    loop, held = cc.check_loops(looped)
    assert loop.level == BAD and loop.value == pytest.approx(6 * 0.4, abs=0.15)
    assert "repeats itself" in loop.reason and "0.40 s" in loop.reason
    assert held.level == GOOD
    short = np.concatenate([speech_like(1.0, seed=2), np.tile(phrase, 3), speech_like(1.0, seed=3)])
    assert cc.check_loops(short)[0].level == SUSPECT  # a word said three times over


def test_a_loop_that_varies_between_repeats_still_fires() -> None:
    phrase = speech_like(0.3, seed=7)
    repeats = []
    for i in range(8):
        copy = phrase.copy()
        noisy = np.random.default_rng(i).random(len(copy)) < 0.4  # 40 % of each repeat differs
        copy[noisy] = np.random.default_rng(100 + i).integers(0, 1024, int(noisy.sum()))
        repeats.append(copy)
    assert cc.check_loops(np.concatenate(repeats))[0].level == BAD


def test_speech_without_loops_and_a_short_stutter_do_not_fire() -> None:
    for seed in range(5):
        loop, held = cc.check_loops(speech_like(6.0, seed=seed))
        assert loop.level == GOOD and loop.value < 0.5 and held.level == GOOD, seed
    syllable = speech_like(0.15, seed=9)
    stutter = np.concatenate([speech_like(1.0, seed=1), syllable, syllable, speech_like(1.0, seed=4)])
    assert cc.check_loops(stutter)[0].level == GOOD
    assert cc.loop_span(np.zeros(0, np.int64)) == (0, 0) and cc.loop_span(np.arange(10)) == (0, 0)


def test_a_held_code_fires_as_a_held_sound_not_as_a_loop() -> None:
    drone = np.concatenate([speech_like(1.0), np.full(round(3.5 * FPS), 62), speech_like(1.0, seed=3)])
    loop, held = cc.check_loops(drone)
    assert loop.level == GOOD and held.level == BAD and held.value == pytest.approx(3.5, abs=0.05)
    assert "holds one sound" in held.reason
    pause = np.concatenate([speech_like(1.0), np.full(round(0.6 * FPS), 62), speech_like(1.0, seed=3)])
    assert cc.check_loops(pause)[1].level == GOOD  # a sentence's pause


# -- prompt leak ----------------------------------------------------------------------------------------------
def test_a_take_that_opens_with_the_reference_fires() -> None:
    prompt = speech_like(5.0, seed=11)
    copied = np.concatenate([prompt[40:190], speech_like(2.0, seed=12)])
    leak = cc.check_prompt_leak(copied, prompt)
    assert leak.level == BAD and leak.value == pytest.approx(1.0) and "copying the reference" in leak.reason
    partly = copied.copy()
    partly[::2] = speech_like(len(partly) / FPS, seed=13)[::2]  # half of the frames replaced
    assert cc.check_prompt_leak(partly, prompt).level == SUSPECT


def test_a_take_of_its_own_and_a_silent_opening_do_not_fire() -> None:
    prompt = speech_like(5.0, seed=11)
    own = cc.check_prompt_leak(speech_like(3.0, seed=21), prompt)
    assert own.level == GOOD and own.value < 0.05
    silent_prompt = np.concatenate([np.full(60, 62), prompt])
    silent_take = np.concatenate([np.full(120, 62), speech_like(2.0, seed=22)])
    assert cc.check_prompt_leak(silent_take, silent_prompt).level == GOOD  # both start with silence
    assert cc.check_prompt_leak(speech_like(0.3), prompt).value is None  # too short to tell
    assert cc.check_prompt_leak(speech_like(2.0), None).value is None  # no reference
