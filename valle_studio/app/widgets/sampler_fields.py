"""The sampler panel's controls, derived from the settings' one declaration (``engine.settings.SPECS``).

Nothing here declares a range, a label or a tip of its own: each :class:`NumberField` is the spin-box
geometry of one :class:`~valle_studio.engine.setting_spec.FieldSpec`, so any value a box can hold makes a
valid :class:`~valle_studio.engine.settings.GenerationSettings`. Two rules turn a range into a box:

- an open end (``top_p > 0``, ``min_p < 1``, ``repetition_penalty > 0``, ``max_duration > 0``) stops one
  shown decimal (or 1, for whole numbers) short of the bound, the closest value the box can show;
- an optional setting (None = off) gets one more position below its range, one step (or 1) down, that
  shows the spec's ``off_text`` and stands for None. A non-optional setting with an ``off_text`` shows it
  at its minimum, which is its "off" value.
"""

from __future__ import annotations

from dataclasses import dataclass

from valle_studio.engine.setting_spec import FieldSpec
from valle_studio.engine.settings import SPECS

#: The GUI suffix of each unit a spec may name.
SUFFIXES = {"": "", "seconds": " s", "frames": " frames"}


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


def number_field(spec: FieldSpec) -> NumberField:
    """The spin box of a numeric spec (see the module docstring for the two rules)."""
    assert spec.kind == "number" and spec.range is not None
    resolution = 1 if spec.decimals is None else 10.0 ** -spec.decimals
    low = spec.range.low + resolution if spec.range.low_open else spec.range.low
    high = spec.range.high - resolution if spec.range.high_open else spec.range.high
    if spec.optional:
        low = spec.range.low - (1 if spec.integer else spec.step)
    if spec.decimals is not None:  # 1 - 0.01 must be 0.99, not 0.9899999999999999
        low, high = round(low, spec.decimals), round(high, spec.decimals)
    return NumberField(spec.name, spec.label, low, high, spec.step, spec.decimals, spec.tip,
                       special=spec.off_text, none_at_minimum=spec.optional, suffix=SUFFIXES[spec.unit],
                       basic=spec.basic)


def _in_sampler(spec: FieldSpec) -> bool:
    return spec.panel == "sampler" and spec.name != "seed"  # the seed is a text field of its own


#: Spin boxes, in declaration order.
FIELDS: tuple[NumberField, ...] = tuple(number_field(s) for s in SPECS.values()
                                        if _in_sampler(s) and s.kind == "number")
#: Checkbox fields: (name, label, tooltip), in declaration order.
FLAGS: tuple[tuple[str, str, str], ...] = tuple((s.name, s.label, s.tip) for s in SPECS.values()
                                                if _in_sampler(s) and s.kind == "flag")
#: Combo boxes of the sampler panel (the modality).
CHOICES: tuple[FieldSpec, ...] = tuple(s for s in SPECS.values() if _in_sampler(s) and s.kind == "choice")
#: Line edits for lists of token ids (DRY's sequence breakers).
TOKENS: tuple[FieldSpec, ...] = tuple(s for s in SPECS.values() if _in_sampler(s) and s.kind == "tokens")

SEED: FieldSpec = SPECS["seed"]
assert SEED.range is not None and SEED.integer
#: The largest seed the seed box accepts: the top of the seed's range.
MAX_SEED = int(SEED.range.high) - (1 if SEED.range.high_open else 0)

FIELDS_BY_NAME = {f.name: f for f in FIELDS}
