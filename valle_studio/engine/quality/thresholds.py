"""Every number the quality check judges a take by, in one place, each with the reasoning behind it.

A check measures one thing (a phoneme error rate, seconds per phoneme, seconds of silence...) and
compares it with two limits: past ``suspect`` the take gets a second look, past ``bad`` it is broken.
The limits are deliberately wide. A false "bad" costs the user a retry and a wrong warning, a missed
"bad" costs a listen; the check exists to catch the takes that are plainly broken (stopped at once,
ran on, looped, silent, copied the reference) without crying wolf on merely unusual ones.

Nothing here imports torch or numpy: the GUI and the docs can read the limits without the engine.
The limits were set from the properties of speech and of the codec written next to each one, not
fitted to a model's output: the published weights were not available where this was written. The
phoneme error rate limits in particular depend on how good the model's own speech-to-text head is and
are the first to revisit once takes of the real model have been listened to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Two limits on a measure where more is worse: at ``suspect`` or above a take is suspect, at
    ``bad`` or above it is bad (``suspect < bad``)."""

    suspect: float
    bad: float

    def __post_init__(self) -> None:
        if not 0 <= self.suspect < self.bad:
            raise ValueError(f"limits must satisfy 0 <= suspect < bad, got {self.suspect}, {self.bad}")


@dataclass(frozen=True)
class SpeechRate:
    """Plausible seconds per phoneme of one language.

    ``fast``: below these seconds per phoneme the take is too short for its text (it stopped early or
    swallowed words); given as (suspect, bad) with bad < suspect. ``slow``: above ``slow`` seconds per
    phoneme, after :data:`LEAD_ALLOWANCE_S`, the take is too long (ran on, drawled, or trails noise).
    """

    fast_suspect: float
    fast_bad: float
    slow_suspect: float
    slow_bad: float


# -- intelligibility: phoneme error rate of what the STT head heard against what was asked ------------------
# Edit distance over phoneme token ids divided by the number of ids asked (capped at 1). A clean take
# still scores above 0: the STT head is a small auxiliary head of the TTS model, espeak's stress marks
# and spaces are tokens it has to get right too, and several IPA symbols share one id. Speech where two
# in five tokens come out wrong is hard to follow; at three in four the words are not there any more
# (mumbling, another language, noise).
PHONEME_ERROR_RATE = Limits(suspect=0.4, bad=0.75)
#: The STT pass may hear more phonemes than were asked (a take that runs on); past this many, counted as
#: ``asked * STT_TOKEN_FACTOR + STT_TOKEN_MARGIN``, the error rate is already 1 and listening further
#: would only cost time. (Upstream's own cap, 20 phonemes per second of audio, is far higher.)
STT_TOKEN_FACTOR = 1.5
STT_TOKEN_MARGIN = 8

# -- duration plausibility ---------------------------------------------------------------------------------
# Phonemes are counted as the IPA letters the text becomes (stress and length marks, tone letters,
# punctuation and spaces are not phonemes). Read speech runs at 10-15 phonemes a second (0.065-0.1 s
# each) and fast conversation reaches about 20 (0.05 s); nobody speaks 40 a second (0.025 s), so a
# take that short stopped early: the 14 words in 0.1 s are 0.002 s a phoneme. Slow, careful
# reading is 6-8 a second (0.13-0.17 s); a take needing over 0.2 s per phoneme is slower than any
# narrator, and over 0.35 s (under 3 a second) it is mostly not speech.
#
# Japanese is mora-timed with short vowels that espeak writes as single letters, and its phoneme
# rate runs about a fifth faster than English, so its "too fast" limits are lower. Mandarin and Korean
# carry tone and syllable structure that espeak writes with few letters per syllable, while syllables
# last longer: about a fifth more time per letter, so their "too slow" limits are higher.
DEFAULT_RATE = SpeechRate(fast_suspect=0.045, fast_bad=0.025, slow_suspect=0.20, slow_bad=0.35)
SPEECH_RATES: dict[str, SpeechRate] = {
    "en": DEFAULT_RATE,
    "de": DEFAULT_RATE,
    "fr": DEFAULT_RATE,
    "ja": SpeechRate(fast_suspect=0.037, fast_bad=0.02, slow_suspect=0.20, slow_bad=0.35),
    "zh": SpeechRate(fast_suspect=0.045, fast_bad=0.025, slow_suspect=0.24, slow_bad=0.42),
    "ko": SpeechRate(fast_suspect=0.045, fast_bad=0.025, slow_suspect=0.24, slow_bad=0.42),
}
#: Seconds a take may run beyond its phonemes before "too long" is judged: NAR-len never makes a line
#: shorter than one second (upstream's floor, then 5 % padding), and a take starts and ends with a
#: breath of silence. Without it every one-word line ("Yes.") would count as drawn out.
LEAD_ALLOWANCE_S = 1.0

# -- no stop --------------------------------------------------------------------------------------------------
# A line whose length equals the duration cap did not end by itself. For AR that means the model never
# chose its stop token: the take is cut mid-word or babbles on (bad). For NAR-len it means the predicted
# length was larger than the cap and was clamped: the speech is squeezed or cut (suspect). Both are
# booleans, so they need no limits.

# -- loops and held sounds (level-0 codes, 75 a second) ---------------------------------------------------------
#: A stretch "loops" when, frame after frame, the level-0 code equals the one a fixed lag earlier.
#: Natural speech almost never repeats a code at a fixed lag (1024 codes; coincidences stay at a few per
#: cent), while a model caught in a loop repeats its last syllable or word nearly exactly. Frames that
#: merely repeat the previous frame (a held sound, silence) are left out of the count, so a pause is not
#: a loop. The window is half a second (about two syllables); 30 % of its frames matching at one lag is
#: far above chance and low enough to catch loops that vary a little between repeats.
LOOP_WINDOW_S = 0.5
LOOP_MATCH_RATE = 0.3
#: Lags from two frames (a very short stutter) to 1.5 s (a repeated phrase).
LOOP_MIN_LAG_FRAMES = 2
LOOP_MAX_LAG_S = 1.5
#: Seconds of looping: one second is a word said three or four times over (suspect), two seconds is a
#: take stuck in a loop (bad).
LOOP_SECONDS = Limits(suspect=1.0, bad=2.0)
#: Seconds one level-0 code is held unchanged: a long pause or a drone. A comma's pause is 0.2-0.5 s
#: and a full stop's under a second; 1.5 s inside one piece of text is odd, 3 s is broken.
HELD_SECONDS = Limits(suspect=1.5, bad=3.0)

# -- prompt leak ------------------------------------------------------------------------------------------------
#: The opening of the take that is compared with every same-length stretch of the reference's level-0
#: codes: 1.5 s (a short phrase), or the whole take when shorter, but at least 0.5 s, below which too
#: few frames remain to tell a copy from chance.
LEAK_WINDOW_S = 1.5
LEAK_MIN_WINDOW_S = 0.5
#: Share of the opening's (changing) frames that equal the best-matching stretch of the reference. Two
#: independent stretches of speech agree on a few per cent of frames at most; a third is far above that
#: (suspect), more than half is a copy of the reference (bad).
PROMPT_LEAK = Limits(suspect=0.3, bad=0.6)

# -- silence and level (decoded audio, 24 kHz) ---------------------------------------------------------------
#: Audio is judged in 20 ms frames (the length of a short phone, long enough for a stable RMS).
FRAME_S = 0.02
#: The take's speech level is the 95th percentile of its frame levels (dBFS): its loud parts, without
#: letting a single click decide. A frame is silent when it is 35 dB below that (the dynamic range
#: between a vowel and a pause in clean speech) or below -60 dBFS (the codec's own noise floor).
SPEECH_PERCENTILE = 95.0
SILENCE_BELOW_SPEECH_DB = 35.0
SILENCE_FLOOR_DBFS = -60.0
#: A take whose loud parts stay below -50 dBFS holds no audible speech at all.
SILENT_TAKE_DBFS = -50.0
#: Seconds of silence before the speech starts. Half a second is a normal lead-in; a second is odd
#: (suspect), 2.5 s means the model "waited" before speaking (bad).
LEADING_SILENCE_S = Limits(suspect=1.0, bad=2.5)
#: Seconds of silence after the speech ends. NAR-len pads every predicted length by 5 % and the
#: length head errs long, so a trailing second is common: 1.5 s is odd, 3 s is a take that went quiet.
TRAILING_SILENCE_S = Limits(suspect=1.5, bad=3.0)
#: The longest silent stretch inside the speech, beyond the pause the user asked for between pieces
#: (``gap``): the same reasoning as the held code above, measured on the audio.
INTERNAL_SILENCE_S = Limits(suspect=1.5, bad=3.0)
#: How much quieter (dB) the take's speech is than the reference clip's. The model copies the reference's
#: loudness within a few dB; 15 dB quieter is a take that faded or mumbles (suspect), 25 dB is barely
#: audible next to its reference (bad).
LEVEL_DROP_DB = Limits(suspect=15.0, bad=25.0)
#: A sample at or above this magnitude counts as clipped (float audio at full scale).
CLIP_LEVEL = 0.999
#: Share of clipped samples: one in a thousand is audible crackle (suspect), one in a hundred is
#: distortion throughout (bad).
CLIPPED_FRACTION = Limits(suspect=0.001, bad=0.01)

# -- the verdict and the score ----------------------------------------------------------------------------------
# The worst check decides the verdict. The score places the verdict in a band of 0..1 (bad below 1/3,
# suspect below 2/3, good above) and the mean goodness of all checks places the take within its band, so
# a good take always outscores a suspect one and, between two good takes, the one with the cleaner
# measures (fewer phoneme errors, less silence) wins.
SCORE_BANDS: dict[str, float] = {"bad": 0.0, "suspect": 1.0 / 3.0, "good": 2.0 / 3.0}
SCORE_BAND_WIDTH = 1.0 / 3.0


def speech_rate(language: str) -> SpeechRate:
    """The :class:`SpeechRate` of ``language`` (a code such as ``"en"``; unknown codes get the default)."""
    key = language.strip().lower()[:2]
    return SPEECH_RATES.get(key, DEFAULT_RATE)


__all__ = [
    "CLIPPED_FRACTION", "CLIP_LEVEL", "DEFAULT_RATE", "FRAME_S", "HELD_SECONDS", "INTERNAL_SILENCE_S",
    "LEADING_SILENCE_S", "LEAD_ALLOWANCE_S", "LEAK_MIN_WINDOW_S", "LEAK_WINDOW_S", "LEVEL_DROP_DB",
    "LOOP_MATCH_RATE", "LOOP_MAX_LAG_S", "LOOP_MIN_LAG_FRAMES", "LOOP_SECONDS", "LOOP_WINDOW_S",
    "PHONEME_ERROR_RATE", "PROMPT_LEAK", "SCORE_BANDS", "SCORE_BAND_WIDTH", "SILENCE_BELOW_SPEECH_DB",
    "SILENCE_FLOOR_DBFS", "SILENT_TAKE_DBFS", "SPEECH_PERCENTILE", "SPEECH_RATES", "STT_TOKEN_FACTOR",
    "STT_TOKEN_MARGIN", "TRAILING_SILENCE_S", "Limits", "SpeechRate", "speech_rate",
]
