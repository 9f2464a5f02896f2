"""The settings' one declaration (engine/setting_spec.py, engine/settings.py) on its own: every field is
declared, validation follows the declared range at both ends, messages name the field, and every value
the declaration allows makes a valid SamplerConfig (the sampler keeps no second set of ranges)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from valle_studio.engine import pipeline
from valle_studio.engine.setting_spec import FieldSpec, Range, SettingsError, bind_specs, setting
from valle_studio.engine.settings import (
    FRAMES_PER_SECOND,
    MODALITIES,
    PRESET_LIST,
    PRESETS,
    SPECS,
    SPLIT_MODES,
    GenerationSettings,
    gui_message,
)

NUMBERS = [s for s in SPECS.values() if s.kind == "number"]


def _nudge(spec: FieldSpec) -> float:
    """A distance small enough to stay next to a bound, large enough to cross it."""
    return 1 if spec.integer else 1e-6


def ends(spec: FieldSpec) -> list[Any]:
    """The valid values closest to both bounds (an open bound is not itself valid)."""
    assert spec.range is not None
    low = spec.range.low + _nudge(spec) if spec.range.low_open else spec.range.low
    if spec.name == "max_duration":
        low = 1 / FRAMES_PER_SECOND  # the one rule across units: at least one frame
    high = spec.range.high - _nudge(spec) if spec.range.high_open else spec.range.high
    return [low, high]


def beyond(spec: FieldSpec) -> list[Any]:
    """The invalid values closest to both bounds."""
    assert spec.range is not None
    low = spec.range.low if spec.range.low_open else spec.range.low - _nudge(spec)
    high = spec.range.high if spec.range.high_open else spec.range.high + _nudge(spec)
    return [low, high]


def test_every_field_is_declared_once_in_field_order() -> None:
    assert list(SPECS) == [f.name for f in dataclasses.fields(GenerationSettings)]
    for name, spec in SPECS.items():
        assert spec.name == name and spec.label and spec.tip and spec.help, name
        assert spec.default == GenerationSettings.__dataclass_fields__[name].default
    built = [s for s in SPECS.values() if s.cli]
    assert len({s.cli_flag for s in built}) == len(built)  # no two flags built from the specs are the same
    # The LoRA's two fields are set by one flag in its own syntax (--lora NAME[:STRENGTH]): messages about
    # either name that flag, and no other field uses it.
    assert {s.name for s in SPECS.values() if not s.cli} == {"lora", "lora_strength"}
    assert {s.cli_flag for s in SPECS.values() if not s.cli} == {"--lora"}
    assert "--lora" not in {s.cli_flag for s in built}
    assert MODALITIES == ("auto", "ar+nar", "nar-len") and SPLIT_MODES == ("sentences", "lines", "none")


def test_kinds_follow_the_annotations() -> None:
    kinds = {name: (s.kind, s.integer, s.optional) for name, s in SPECS.items()}
    assert kinds["max_steps"] == ("number", True, False)
    assert kinds["duration_frames"] == ("number", True, True)
    assert kinds["min_temperature"] == ("number", False, True)
    assert kinds["remask"] == ("flag", False, False)
    assert kinds["modality"] == ("choice", False, False)
    assert SPECS["max_steps"].cli_flag == "--steps" and SPECS["duration_frames"].cli_flag == "--duration"
    assert SPECS["top_no"].cli_flag == "--top-no" and SPECS["top_no"].cli_dest == "top_no"


@pytest.mark.parametrize("spec", NUMBERS, ids=lambda s: s.name)
def test_validation_follows_the_declared_range(spec: FieldSpec) -> None:
    for value in ends(spec):
        assert getattr(GenerationSettings(**{spec.name: value}), spec.name) == value
    for value in beyond(spec):
        with pytest.raises(SettingsError, match=rf"^{spec.name}: must be {spec.rule_words()}$") as caught:
            GenerationSettings(**{spec.name: value})
        assert caught.value.field == spec.name
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(SettingsError, match=spec.name):
            GenerationSettings(**{spec.name: value})
    with pytest.raises(SettingsError, match=rf"{spec.name}: must be a (whole )?number"):
        GenerationSettings(**{spec.name: True})  # a bool is not a number here
    if spec.integer:
        with pytest.raises(SettingsError, match=rf"{spec.name}: must be a whole number, not 2.5"):
            GenerationSettings(**{spec.name: 2.5})
    if spec.optional:
        assert getattr(GenerationSettings(**{spec.name: None}), spec.name) is None


@pytest.mark.parametrize("spec", [s for s in SPECS.values() if s.kind in ("flag", "choice")], ids=lambda s: s.name)
def test_flags_and_choices_accept_only_their_values(spec: FieldSpec) -> None:
    good = [True, False] if spec.kind == "flag" else list(spec.values)
    for value in good:
        GenerationSettings(**{spec.name: value})
    for value in (None, 1, "maybe"):
        with pytest.raises(SettingsError, match=f"^{spec.name}: must be "):
            GenerationSettings(**{spec.name: value})


@pytest.mark.parametrize("spec", [s for s in SPECS.values() if s.kind == "tokens"], ids=lambda s: s.name)
def test_token_lists_accept_ids_in_range_and_parse_what_is_typed(spec: FieldSpec) -> None:
    assert spec.range is not None
    low, high = int(spec.range.low), int(spec.range.high)
    full = tuple(range(low, low + spec.max_items))
    for value in ((), (low,), (high,), full):
        assert getattr(GenerationSettings(**{spec.name: value}), spec.name) == value
    for value in ((low - 1,), (high + 1,), (*full, high), [low], (True,), (1.5,), "1,2"):
        with pytest.raises(SettingsError, match=rf"^{spec.name}: must be {spec.rule_words()}$"):
            GenerationSettings(**{spec.name: value})
    assert spec.parse(" 3, 17  20 ") == (3, 17, 20) and spec.parse("") == ()
    assert spec.shown((3, 17)) == "3, 17" and spec.parse(spec.shown(full)) == full
    for typed in ("3;4", "x", f"{high + 1}"):
        with pytest.raises(SettingsError, match=spec.name):
            spec.parse(typed)
    stored = GenerationSettings(**{spec.name: (5, 6)}).to_dict()
    stored[spec.name] = list(stored[spec.name])  # as JSON gives it back
    assert getattr(GenerationSettings.from_dict(stored), spec.name) == (5, 6)


def test_the_lora_fields_are_text_and_a_strength() -> None:
    assert (SPECS["lora"].kind, SPECS["lora"].panel, SPECS["lora"].cli) == ("text", "lora", False)
    assert GenerationSettings(lora="glados", lora_strength=1.5).lora == "glados"
    for value in (1, None, "a\nb", "x" * 1001):
        with pytest.raises(SettingsError, match=r"^lora: must be text of at most 1000 characters$"):
            GenerationSettings(lora=value)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=r"lora_strength: must be between 0 and 1\.5"):
        GenerationSettings(lora_strength=1.6)


def test_messages_read_as_before() -> None:
    """The range words are the ones the validation has always used."""
    assert SPECS["ar_temperature"].rule_words() == "between 0 and 10"
    assert SPECS["top_p"].rule_words() == "above 0 and at most 1"
    assert SPECS["min_p"].rule_words() == "at least 0 and below 1"
    assert SPECS["max_duration"].rule_words() == "above 0 and at most 120 seconds"
    assert SPECS["seed"].rule_words() == "a non-negative 63-bit integer"
    assert SPECS["modality"].rule_words() == "one of auto, ar+nar, nar-len"
    with pytest.raises(SettingsError, match=r"max_duration: must be at least one frame \(1/75 s\)"):
        GenerationSettings(max_duration=0.01)  # inside the range, but less than one frame


def test_gui_wording_names_the_label() -> None:
    with pytest.raises(SettingsError) as caught:
        GenerationSettings(top_p=3)
    assert gui_message(caught.value) == "Top-p: must be above 0 and at most 1"
    with pytest.raises(SettingsError) as caught:
        GenerationSettings(seed=-1)
    assert gui_message(caught.value) == "Seed: must be a non-negative 63-bit integer"  # no mnemonic "&"


@pytest.mark.parametrize("spec", NUMBERS, ids=lambda s: s.name)
def test_every_allowed_value_makes_a_valid_sampler(spec: FieldSpec) -> None:
    """SamplerConfig checks only the maths; its domain must hold every value the settings allow."""
    for value in ends(spec):
        settings = GenerationSettings(**{spec.name: value})
        pipeline.ar_sampler(settings)
        pipeline.nar_sampler(settings)


def test_presets_are_declared_settings() -> None:
    assert [p.name for p in PRESET_LIST] == list(PRESETS) == ["default", "stable", "expressive", "steady-ar"]
    assert PRESETS["default"] == GenerationSettings()
    assert all(p.label and p.tip for p in PRESET_LIST)


def test_stored_settings_round_trip_and_ignore_unknown_keys() -> None:
    settings = PRESETS["stable"].replace(seed=5, duration_frames=100, split="lines")
    data = settings.to_dict()
    assert list(data) == list(SPECS)
    assert GenerationSettings.from_dict({**data, "from_a_newer_version": 1}) == settings
    with pytest.raises(SettingsError, match="top_p"):
        GenerationSettings.from_dict({"top_p": 7})


def test_a_declaration_that_does_not_fit_its_type_fails_at_import() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoRange:
        x: float = setting(1.0, label="X", tip="x", help="x", decimals=2)

    @dataclasses.dataclass(frozen=True)
    class DefaultOutside:
        x: int = setting(9, label="X", tip="x", help="x", range=Range(0, 4))

    @dataclasses.dataclass(frozen=True)
    class Undeclared:
        x: int = 0

    cases = ((NoRange, float, "need a range"), (DefaultOutside, int, "x: must be between 0 and 4"),
             (Undeclared, int, "has no FieldSpec"))
    for cls, hint, message in cases:
        with pytest.raises((TypeError, SettingsError), match=message):
            bind_specs(cls, {"x": hint})  # the resolved annotation, as typing.get_type_hints gives it
