"""Text, sampler, progress and history panels on their own (no model, no threads)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSpinBox, QMessageBox

from valle_studio.app.widgets.history_panel import HistoryModel, HistoryPanel, summary
from valle_studio.app.widgets.progress_panel import (
    ProgressPanel,
    format_seconds,
    overall_fraction,
    stage_text,
)
from valle_studio.app.widgets.sampler_fields import FIELDS, FLAGS
from valle_studio.app.widgets.sampler_panel import MAX_SEED, SamplerPanel, SeedValidator
from valle_studio.app.widgets.text_panel import TextPanel
from valle_studio.engine.progress import Progress
from valle_studio.engine.requests import SynthesisResult
from valle_studio.engine.settings import PRESETS, GenerationSettings, SettingsError
from valle_studio.engine.text.languages import LANGUAGES
from valle_studio.studio.history import History

pytestmark = pytest.mark.gui


# -- sampler ------------------------------------------------------------------------------------------
@pytest.fixture()
def sampler(qtbot: Any) -> SamplerPanel:
    panel = SamplerPanel()
    qtbot.addWidget(panel)
    return panel


def test_every_settings_field_has_a_control(sampler: SamplerPanel) -> None:
    controlled = {f.name for f in FIELDS} | {name for name, _, _ in FLAGS} | set(sampler.tokens)
    controlled |= {"modality", "seed", "split", "lora", "lora_strength"}  # text panel, LoRA panel
    assert controlled == {f.name for f in dataclasses.fields(GenerationSettings)}


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_round_trip(sampler: SamplerPanel, name: str) -> None:
    sampler.preset.setCurrentIndex(sampler.preset.findData(name))
    assert sampler.settings() == PRESETS[name]
    assert sampler.preset_name() == name


def test_default_preset_is_upstream_web_ui(sampler: SamplerPanel) -> None:
    assert sampler.settings() == GenerationSettings()
    assert sampler.preset_name() == "default"


def test_edit_makes_custom_and_preset_keeps_seed_and_split(sampler: SamplerPanel) -> None:
    sampler.set_settings(PRESETS["default"].replace(split="lines"))
    sampler.spins["top_k"].setValue(40)  # type: ignore[attr-defined]
    assert sampler.preset_name() == "custom"
    assert sampler.settings().top_k == 40
    sampler.seed.setText("99")
    sampler.preset.setCurrentIndex(sampler.preset.findData("expressive"))
    assert sampler.settings() == PRESETS["expressive"].replace(seed=99, split="lines")


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_spin_box_ends_are_valid_settings(sampler: SamplerPanel, field: Any) -> None:
    spin = sampler.spins[field.name]
    for end in (spin.minimum(), spin.maximum()):  # type: ignore[attr-defined]
        spin.setValue(end)  # type: ignore[attr-defined]
        sampler.settings()  # raises SettingsError if the range were too wide
    beyond = spin.maximum() + 1000  # type: ignore[attr-defined]
    spin.setValue(beyond)  # type: ignore[attr-defined]
    assert spin.value() == spin.maximum()  # type: ignore[attr-defined]
    assert spin.toolTip() and len(spin.toolTip()) > 20


@pytest.mark.parametrize("name,low,high", [
    ("ar_temperature", 0.0, 10.0), ("nar_temperature", 0.0, 10.0), ("max_steps", 1, 500),
    ("cfg_strength", 0.0, 20.0), ("top_k", 0, 8575), ("top_no", 0.0, 10.0), ("cfg_rescale", 0.0, 1.0),
    ("repetition_penalty_decay", -4.0, 4.0), ("length_penalty", -4.0, 4.0), ("context_history", 0, 4),
])
def test_inclusive_ranges_match_validation_exactly(sampler: SamplerPanel, name: str, low: float,
                                                   high: float) -> None:
    spin = sampler.spins[name]
    assert (spin.minimum(), spin.maximum()) == (low, high)  # type: ignore[attr-defined]
    step = 1 if isinstance(low, int) else 0.01
    for outside in (low - step, high + step):
        with pytest.raises(SettingsError, match=name):
            GenerationSettings(**{name: outside})


def test_optional_fields_map_off_to_none(sampler: SamplerPanel) -> None:
    assert sampler.settings().min_temperature is None and sampler.settings().duration_frames is None
    sampler.spins["min_temperature"].setValue(0.5)  # type: ignore[attr-defined]
    sampler.spins["duration_frames"].setValue(150)  # type: ignore[attr-defined]
    assert sampler.settings().min_temperature == pytest.approx(0.5)
    assert sampler.settings().duration_frames == 150
    sampler.spins["min_temperature"].setValue(-0.02)  # typed next to "off"
    assert sampler.settings().min_temperature is None
    assert sampler.spins["min_temperature"].specialValueText() == "off"


def test_typing_cannot_enter_invalid_values(qtbot: Any, sampler: SamplerPanel) -> None:
    spin = sampler.spins["ar_temperature"]
    spin.lineEdit().selectAll()  # type: ignore[attr-defined]
    QTest.keyClicks(spin, "-3")
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() >= 0  # type: ignore[attr-defined]
    sampler.seed.setFocus()
    QTest.keyClicks(sampler.seed, "12ab34")
    assert sampler.seed.text() == "1234"
    sampler.seed.clear()
    QTest.keyClicks(sampler.seed, "9" * 20)
    assert int(sampler.seed.text()) <= MAX_SEED
    sampler.settings()


def test_seed_validator_limit() -> None:
    validator = SeedValidator()
    ok = validator.validate(str(MAX_SEED), 0)
    bad = validator.validate(str(MAX_SEED + 1), 0)
    assert (ok[0] if isinstance(ok, tuple) else ok) == QValidator.State.Acceptable
    assert (bad[0] if isinstance(bad, tuple) else bad) == QValidator.State.Invalid


def test_random_button_clears_seed(sampler: SamplerPanel) -> None:
    sampler.seed.setText("42")
    assert sampler.settings().seed == 42
    sampler.random_seed.click()
    assert sampler.settings().seed is None


def test_advanced_section_hidden_until_opened(qtbot: Any, sampler: SamplerPanel) -> None:
    sampler.show()
    basic = [f.name for f in FIELDS if f.basic]
    advanced = [f.name for f in FIELDS if not f.basic]
    assert {"ar_temperature", "nar_temperature", "max_steps", "max_duration", "cfg_strength"} == set(basic)
    assert {"top_k", "top_p", "min_p", "top_no", "repetition_penalty", "repetition_penalty_decay",
            "length_penalty", "cfg_rescale", "context_history"} <= set(advanced)
    assert all(sampler.spins[n].isVisible() for n in basic) and sampler.seed.isVisible()
    assert not any(sampler.spins[n].isVisible() for n in advanced)
    sampler.advanced_button.click()
    assert sampler.advanced_visible() and all(sampler.spins[n].isVisible() for n in advanced)


def test_keyboard_tracking_off_for_spin_boxes(sampler: SamplerPanel) -> None:
    assert all(isinstance(s, QAbstractSpinBox) and not s.keyboardTracking() for s in sampler.spins.values())


# -- text ---------------------------------------------------------------------------------------------
def test_text_panel_values_and_phoneme_request(qtbot: Any) -> None:
    panel = TextPanel()
    qtbot.addWidget(panel)
    assert [panel.language.itemData(i) for i in range(panel.language.count())] == list(LANGUAGES)
    panel.set_text("Guten Tag.\nWie geht's?")
    panel.set_language_code("de")
    panel.set_split_mode("lines")
    values = (panel.text(), panel.language_code(), panel.split_mode())
    assert values == ("Guten Tag.\nWie geht's?", "de", "lines")
    with qtbot.waitSignal(panel.phonemes_requested) as blocker:
        panel.show_phonemes.setChecked(True)
    assert blocker.args == ["Guten Tag.\nWie geht's?", "de", "lines"]
    panel.set_phonemes(["ɡˈuːtən tˈaːk.", "viː ɡˈeːts?"])
    assert panel.phoneme_view.toPlainText() == "1. ɡˈuːtən tˈaːk.\n2. viː ɡˈeːts?"
    panel.set_phonemes("Load a voice model to see its phonemes.")
    assert panel.phoneme_view.placeholderText().startswith("Load a voice model")
    with qtbot.waitSignal(panel.phonemes_requested, timeout=2000):  # typing re-asks after a pause
        panel.editor.insertPlainText(" Gut.")


# -- progress -----------------------------------------------------------------------------------------
def test_stage_text_and_fraction() -> None:
    assert stage_text(Progress("demasking", 12, 25)) == "demasking 12/25"
    assert stage_text(Progress("refining", 3, 7)) == "refining level 3/7"
    assert stage_text(Progress("predicting length", 1, 10)) == "predicting length 1/10"
    assert stage_text(Progress("decoding", 0, 1)) == "decoding 0/1"
    order = [Progress("predicting length", 5, 10), Progress("demasking", 1, 25),
             Progress("demasking", 25, 25),
             Progress("refining", 7, 7), Progress("decoding", 1, 1), Progress("checking", 1, 1)]
    values = [overall_fraction(p) for p in order]
    assert values == sorted(values) and values[-1] == 1.0
    # the takes of a best-of run share the bar; "take 2/3" is not a sentence number
    takes = [overall_fraction(Progress("demasking", 5, 25, f"take {i}/3")) for i in (1, 2, 3)]
    assert takes == sorted(takes) and takes[0] < 1 / 3 < takes[1] < 2 / 3 < takes[2]
    assert overall_fraction(Progress("checking", 1, 1, "sentence 1/2 · take 3/3")) == 1.0
    two = [overall_fraction(Progress("demasking", 25, 25, "sentence 1/2")),
           overall_fraction(Progress("predicting length", 0, 10, "sentence 2/2")),
           overall_fraction(Progress("refining", 7, 7, "sentence 2/2"))]
    assert two == sorted(two) and two[-1] == pytest.approx(0.9)
    assert overall_fraction(Progress("something new", 1, 2)) is None
    assert format_seconds(75.34) == "1:15.3"


def test_progress_panel_states(qtbot: Any) -> None:
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.start()
    assert panel.running and panel.stop.isEnabled()
    panel.update_progress(Progress("demasking", 12, 25))
    assert panel.stage.text() == "demasking 12/25" and 0 < panel.bar.value() < 1000
    qtbot.waitUntil(lambda: panel.ticks >= 3, timeout=2000)  # the elapsed clock ticks on its own
    result = SynthesisResult(audio=np.zeros(48_000, np.float32), sample_rate=24_000,
                             codes=np.zeros((150, 8), np.int64), sentences=(), seed=1, modality="nar-len",
                             elapsed_s=1.0)
    panel.finish(result)
    assert not panel.running and not panel.stop.isEnabled()
    assert panel.rtf.text() == "RTF 0.50" and panel.elapsed.text() == "0:01.0"
    panel.start()
    panel.cancelled()
    assert panel.stage.text() == "Stopped"


# -- history ------------------------------------------------------------------------------------------
def _result(seed: int) -> SynthesisResult:
    return SynthesisResult(audio=np.full(2400, 0.1, np.float32), sample_rate=24_000,
                           codes=np.zeros((7, 8), np.int64), sentences=(), seed=seed, modality="ar+nar",
                           elapsed_s=0.05)


def test_history_panel_lists_newest_first_and_emits(qtbot: Any, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    history = History(tmp_path)
    first = history.add(_result(1), text="first", voice="Ann", language="en", model="m",
                        settings=PRESETS["stable"])
    model = HistoryModel(history)
    panel = HistoryPanel(model)
    qtbot.addWidget(panel)
    second = history.add(_result(2), text="second", voice="", language="en", model="m",
                         settings=PRESETS["default"])
    model.add(second)
    assert [model.take_at(i).id for i in range(model.rowCount())] == [second.id, first.id]
    assert model.data(model.index(1)) == "first"
    assert "seed 1" in summary(first) and "Ann" in summary(first) and "RTF 0.50" in summary(first)
    assert "Ann" in model.data(model.index(1), Qt.ItemDataRole.ToolTipRole)
    assert not panel.reuse.isEnabled()
    with qtbot.waitSignal(panel.audition_requested) as heard:
        panel.list.clicked.emit(model.index(1))
    assert heard.args[0] == first
    panel.select(first.id)
    with qtbot.waitSignal(panel.reuse_requested) as reuse:
        panel.reuse.click()
    assert reuse.args[0].settings == PRESETS["stable"].replace(seed=1)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)  # Delete asks
    panel.delete.click()
    assert model.rowCount() == 1 and [t.id for t in History(tmp_path)] == [second.id]
