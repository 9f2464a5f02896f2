"""The sampler panel's numeric fields: ranges, steps and plain-words tooltips, declared once.

Ranges match :func:`valle_studio.engine.settings._validate`, so any value a spin box can hold makes a
valid :class:`~valle_studio.engine.settings.GenerationSettings`. Where validation excludes an end
point (``top_p > 0``, ``min_p < 1``, ``repetition_penalty > 0``) the box stops one step short of it.
A ``special`` text is shown at the minimum and means "off" (stored as None where the setting is
optional, as the value itself otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NumberField:
    """One numeric :class:`GenerationSettings` field as a spin box."""

    name: str  # GenerationSettings field
    label: str
    minimum: float
    maximum: float
    step: float
    decimals: int | None  # None: integer spin box
    tooltip: str
    special: str = ""  # text shown at ``minimum``
    none_at_minimum: bool = False  # the minimum stands for None (an optional setting)
    suffix: str = ""
    basic: bool = False  # shown without opening "Advanced"


MODALITY_LABELS = {
    "auto": "Auto (what the model supports best)",
    "ar+nar": "AR + NAR (one frame at a time)",
    "nar-len": "NAR-len (all frames at once, faster)",
}
MODALITY_TIP = (
    "How the speech is generated. NAR-len predicts the length and fills in all frames in a few passes "
    "(fast). AR + NAR writes one frame after another (slower, can be more natural). Auto uses NAR-len "
    "when the model can."
)

FIELDS: tuple[NumberField, ...] = (
    NumberField("ar_temperature", "Temperature", 0.0, 10.0, 0.05, 2,
                "How adventurous the main pass is. 0 always picks the most likely sound (flat, repeatable); "
                "about 1 sounds natural; higher gets wilder and can break down. In NAR-len it starts here "
                "and cools down step by step.", basic=True),
    NumberField("nar_temperature", "Refinement temperature", 0.0, 10.0, 0.05, 2,
                "Randomness of the seven passes that add detail to the sound. 0 picks the most likely "
                "detail every time, which is what the original web UI does and usually sounds best.",
                basic=True),
    NumberField("max_steps", "Steps", 1, 500, 1, None,
                "NAR-len only: how many passes fill in the speech. More steps is slower and usually "
                "cleaner; 25–50 is typical.", basic=True),
    NumberField("max_duration", "Max duration", 0.1, 120.0, 0.5, 1,
                "The longest one piece of text may become. Generation stops here even if the sentence "
                "is not finished.", suffix=" s", basic=True),
    NumberField("cfg_strength", "Guidance (CFG)", 0.0, 20.0, 0.25, 2,
                "How closely the speech follows the text and the reference voice. 1 leaves the model "
                "as it is, higher follows more strictly but can sound strained, 0 skips the extra pass "
                "(faster). NAR-len always uses at least 2.5.", basic=True),
    NumberField("top_k", "Top-k", 0, 8575, 1, None,
                "Only consider the k most likely sounds at each step. Lower is safer and flatter.",
                special="off"),
    NumberField("top_p", "Top-p", 0.01, 1.0, 0.01, 2,
                "Only consider the most likely sounds whose chances add up to p. 1 = off; 0.9 or so "
                "cuts rare glitches."),
    NumberField("min_p", "Min-p", 0.0, 0.99, 0.01, 2,
                "Ignore sounds less likely than this share of the most likely one. 0.05–0.1 trims rare "
                "glitches.", special="off"),
    NumberField("top_no", "Top-nσ", 0.0, 10.0, 0.1, 2,
                "Keep only sounds that score within n standard deviations of the best one. 1 is the "
                "original's setting; smaller is stricter.", special="off"),
    NumberField("repetition_penalty", "Repetition penalty", 0.01, 10.0, 0.05, 2,
                "Make sounds that were just produced less likely to come again. 1 = off; 1.1–1.5 "
                "reduces stutters and loops."),
    NumberField("repetition_penalty_decay", "Penalty decay", -4.0, 4.0, 0.1, 2,
                "How quickly the repetition penalty fades for sounds further back. 0 = it does not fade."),
    NumberField("length_penalty", "Length penalty", -4.0, 4.0, 0.1, 2,
                "AR only: positive values make the voice keep talking longer, negative values make it "
                "stop sooner. 0 = off."),
    NumberField("cfg_rescale", "Guidance rescale", 0.0, 1.0, 0.05, 2,
                "Pulls strongly guided speech back toward the model's natural range so it does not "
                "sound harsh. 0 = off, 1 = full."),
    NumberField("context_history", "Rolling context", 0, 4, 1, None,
                "Feed the last N generated pieces back in as context, so consecutive sentences keep the "
                "same voice and pace.", special="off"),
    NumberField("min_temperature", "Dynamic temperature floor", -0.05, 10.0, 0.05, 2,
                "Lower the temperature toward this value whenever the model is confident. Off keeps "
                "the temperature fixed.", special="off", none_at_minimum=True),
    NumberField("prompt_length", "Reference length", 0.0, 60.0, 0.5, 1,
                "Repeat or trim the reference voice to this many seconds before use.",
                special="as recorded", suffix=" s"),
    NumberField("gap", "Pause between pieces", 0.0, 10.0, 0.05, 2,
                "Silence inserted between generated pieces of text.", suffix=" s"),
    NumberField("duration_frames", "Fixed length", 0, 9000, 5, None,
                "NAR-len: make every piece exactly this many frames long (75 per second) instead of "
                "letting the model decide.", special="model decides", none_at_minimum=True,
                suffix=" frames"),
)

#: Checkbox fields: (name, label, tooltip).
FLAGS: tuple[tuple[str, str, str], ...] = (
    ("remask", "Remask", "NAR-len: re-mask a little more at every pass. Can clean up mumbling."),
    ("scores_masked_only", "Score masked frames only",
     "NAR-len: only re-judge the frames still being filled in; finished frames stay as they are."),
    ("no_phonemize", "Raw text (no phonemes)",
     "Give the model the text itself instead of its IPA pronunciation. Only for models trained on text."),
)

FIELDS_BY_NAME = {f.name: f for f in FIELDS}
