"""Walk every declared setting and prove that the GUI control, the CLI flag and the validation agree with
its one declaration (``engine.settings.SPECS``), so none of them can drift from the others.

For a number the sampler's spin box must reach exactly the values validation allows: each end of the box
is a valid setting and one shown step further is refused (an optional setting's extra "off" position
below its range stands for None). The CLI flag takes the same ends and refuses the same neighbours,
naming the flag and the field. Labels, tips and choices shown are the declared ones.
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from PySide6.QtGui import QValidator

from valle_studio.app.widgets.compact import short_label
from valle_studio.app.widgets.sampler_panel import MAX_SEED, SamplerPanel, SeedValidator
from valle_studio.app.widgets.text_panel import TextPanel
from valle_studio.cli import dispatch
from valle_studio.cli.options import CliError, settings_from_args
from valle_studio.engine.setting_spec import FieldSpec, SettingsError
from valle_studio.engine.settings import SPECS, GenerationSettings
from valle_studio.errors import describe

pytestmark = pytest.mark.gui

COMMANDS = ("synth", "batch")
REQUIRED = {"synth": ["--model", "m.sft", "--text", "Hi."], "batch": ["s.txt", "--out-dir", "out"]}


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return dispatch.build_parser()


@pytest.fixture()
def sampler(qtbot: Any) -> SamplerPanel:
    panel = SamplerPanel()
    qtbot.addWidget(panel)
    return panel


def _cli(parser: argparse.ArgumentParser, command: str, *flags: str) -> GenerationSettings:
    return settings_from_args(parser.parse_args([command, *REQUIRED[command], *flags]))


def _valid(spec: FieldSpec, value: Any) -> bool:
    try:
        GenerationSettings(**{spec.name: value})
    except SettingsError as exc:
        assert exc.field == spec.name
        return False
    return True


def _shown(value: float, spec: FieldSpec) -> str:
    return str(int(value)) if spec.integer else repr(float(value))


@pytest.mark.parametrize("spec", [s for s in SPECS.values()
                                  if s.kind == "number" and s.name != "seed" and s.panel == "sampler"],
                         ids=lambda s: s.name)
def test_number_box_flag_and_validation_agree(spec: FieldSpec, sampler: SamplerPanel,
                                              parser: argparse.ArgumentParser) -> None:
    assert spec.range is not None
    spin: Any = sampler.spins[spec.name]
    assert (spin.toolTip(), spin.accessibleName()) == (spec.tip, spec.title)
    assert spin.singleStep() == spec.step and (spin.decimals() if spec.decimals is not None else None) == spec.decimals
    unit = 1 if spec.integer else 10.0 ** -spec.decimals  # type: ignore[operator]
    low, high = spin.minimum(), spin.maximum()
    if spec.optional:  # the extra position below the range is "off", which is None
        assert low < spec.range.low and spin.specialValueText() == spec.off_text
        spin.setValue(low)
        assert getattr(sampler.settings(), spec.name) is None
        low = round(low + (1 if spec.integer else spec.step), 6)
        assert low == spec.range.low
    elif spec.off_text:
        assert spin.specialValueText() == spec.off_text and low == spec.default
    for end, outside in ((low, low - unit), (high, high + unit)):
        assert _valid(spec, end), f"the box reaches {end}, which validation refuses"
        assert not _valid(spec, round(outside, 6)), f"validation allows {outside}, which the box cannot reach"
        spin.setValue(end)
        assert getattr(sampler.settings(), spec.name) == pytest.approx(end)
        for command in COMMANDS:
            assert getattr(_cli(parser, command, spec.cli_flag, _shown(end, spec)), spec.name) == pytest.approx(end)
            with pytest.raises(CliError) as refused:
                _cli(parser, command, spec.cli_flag, _shown(round(outside, 6), spec))
            message = str(refused.value)
            assert message.startswith(f"{spec.cli_flag} ") and f"must be {spec.rule_words()}" in message
            assert f"{spec.name}:" not in message  # the flag the user typed, never the settings field
    with pytest.raises(SystemExit):  # argparse itself refuses what is not a number of the right kind
        parser.parse_args(["synth", *REQUIRED["synth"], spec.cli_flag, "1.5" if spec.integer else "x"])


@pytest.mark.parametrize("spec", [s for s in SPECS.values() if s.kind == "flag"], ids=lambda s: s.name)
def test_check_box_flag_and_validation_agree(spec: FieldSpec, sampler: SamplerPanel,
                                             parser: argparse.ArgumentParser) -> None:
    box = sampler.flags[spec.name]
    assert (box.text(), box.toolTip()) == (spec.label, spec.tip)
    assert getattr(sampler.settings(), spec.name) is spec.default is False
    box.setChecked(True)
    assert getattr(sampler.settings(), spec.name) is True
    for command in COMMANDS:
        assert getattr(_cli(parser, command), spec.name) is False
        assert getattr(_cli(parser, command, spec.cli_flag), spec.name) is True


@pytest.mark.parametrize("spec", [s for s in SPECS.values() if s.kind == "choice"], ids=lambda s: s.name)
def test_combo_flag_and_validation_agree(spec: FieldSpec, qtbot: Any, sampler: SamplerPanel,
                                         parser: argparse.ArgumentParser) -> None:
    if spec.panel == "text":
        text = TextPanel()
        qtbot.addWidget(text)
        combo = text.split
    else:
        combo = sampler.choices[spec.name]
    shown = [(combo.itemData(i), combo.itemText(i), combo.itemData(i, 3) or "") for i in range(combo.count())]
    # The combo shows each choice's name; its explanation in brackets and its tip are the item's tooltip.
    assert [(value, item) for value, item, _tip in shown] == [(c.value, short_label(c.label)) for c in spec.choices]
    for (_value, item, tip), choice in zip(shown, spec.choices, strict=True):
        assert choice.tip in tip and (item == choice.label or choice.label in tip)
    assert combo.toolTip() == spec.tip
    for value in spec.values:
        assert _valid(spec, value)
        for command in COMMANDS:
            assert getattr(_cli(parser, command, spec.cli_flag, value), spec.name) == value
    assert not _valid(spec, "something else")
    with pytest.raises(SystemExit):
        parser.parse_args(["synth", *REQUIRED["synth"], spec.cli_flag, "something-else"])


@pytest.mark.parametrize("spec", [s for s in SPECS.values() if s.kind == "tokens"], ids=lambda s: s.name)
def test_token_list_edit_flag_and_validation_agree(spec: FieldSpec, sampler: SamplerPanel,
                                                   parser: argparse.ArgumentParser) -> None:
    edit = sampler.tokens[spec.name]
    assert (edit.toolTip(), edit.accessibleName()) == (spec.tip, spec.title)
    validator = edit.validator()
    for typed, state in (("62, 424", QValidator.State.Acceptable), ("", QValidator.State.Acceptable),
                         ("62,", QValidator.State.Acceptable), ("1024", QValidator.State.Intermediate),
                         ("62;1", QValidator.State.Invalid), ("a", QValidator.State.Invalid)):
        result = validator.validate(typed, 0)
        assert (result[0] if isinstance(result, tuple) else result) == state, typed
    edit.setText("62, 424")
    assert getattr(sampler.settings(), spec.name) == (62, 424)
    edit.setText("62, 1024")  # half typed / out of range: the last valid list stays
    assert getattr(sampler.settings(), spec.name) == (62, 424)
    sampler.set_settings(GenerationSettings(**{spec.name: (7,)}))
    assert edit.text() == "7" and getattr(sampler.settings(), spec.name) == (7,)
    for command in COMMANDS:
        assert getattr(_cli(parser, command, spec.cli_flag, "62,424"), spec.name) == (62, 424)
        with pytest.raises(CliError, match=rf"^{spec.cli_flag} '1024' is not usable: must be {spec.rule_words()}$"):
            _cli(parser, command, spec.cli_flag, "1024")


def test_lora_flag_fills_both_fields(parser: argparse.ArgumentParser) -> None:
    for command in COMMANDS:
        assert (_cli(parser, command).lora, _cli(parser, command).lora_strength) == ("", 1.0)
        got = _cli(parser, command, "--lora", "glados:0.8")
        assert (got.lora, got.lora_strength) == ("glados", 0.8)
        got = _cli(parser, command, "--lora", "C:\\loras\\x.sft")
        assert (got.lora, got.lora_strength) == ("C:\\loras\\x.sft", 1.0)
        assert _cli(parser, command, "--lora", "C:\\x.sft:1.5").lora == "C:\\x.sft"
        with pytest.raises(CliError, match=r"^--lora glados:2 is out of range: must be between 0 and 1.5$"):
            _cli(parser, command, "--lora", "glados:2")
        with pytest.raises(CliError, match=r"^--lora ':0.5': give an installed LoRA"):
            _cli(parser, command, "--lora", ":0.5")


def test_seed_box_flag_and_validation_agree(sampler: SamplerPanel, parser: argparse.ArgumentParser) -> None:
    spec = SPECS["seed"]
    assert (sampler.seed.placeholderText(), sampler.seed.toolTip()) == (spec.off_text, spec.tip)
    validator = SeedValidator()
    for seed, ok in ((0, True), (MAX_SEED, True), (MAX_SEED + 1, False), (-1, False)):
        assert _valid(spec, seed) is ok
        state = validator.validate(str(seed), 0)
        assert ((state[0] if isinstance(state, tuple) else state) == QValidator.State.Acceptable) is ok
        for command in COMMANDS:
            if ok:
                assert _cli(parser, command, "--seed", str(seed)).seed == seed
            else:
                refused = r"^--seed -?\d+ is out of range: must be a non-negative 63-bit integer$"
                with pytest.raises(CliError, match=refused):
                    _cli(parser, command, "--seed", str(seed))


def test_help_shows_each_flag_with_its_range(parser: argparse.ArgumentParser,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    for command in COMMANDS:
        with pytest.raises(SystemExit):
            parser.parse_args([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        for spec in SPECS.values():
            if not spec.cli:
                continue  # the LoRA: one flag of its own for both fields (below)
            assert spec.cli_flag in text
            if spec.kind in ("number", "tokens"):
                assert spec.rule_words() in text, (command, spec.name)
        assert "--lora NAME|PATH[:STRENGTH]" in text


def test_gui_errors_name_the_label_cli_errors_the_flag() -> None:
    with pytest.raises(SettingsError) as caught:
        GenerationSettings.from_dict({"duration_frames": 0})  # e.g. a hand-edited project file
    assert describe(caught.value, gui=True) == "Fixed length: must be between 1 and 9000 frames"
    # The CLI names the flag even when the value did not come from one: never the field's name.
    assert describe(caught.value) == "--duration: must be between 1 and 9000 frames"
    with pytest.raises(CliError, match=r"^--duration 0 is out of range: must be between 1 and 9000 frames$"):
        _cli(dispatch.build_parser(), "synth", "--duration", "0")
