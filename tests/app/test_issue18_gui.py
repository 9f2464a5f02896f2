"""The GUI of issue 18 with a tiny model on the real engine thread: the LoRA control, "Clean with the
model", the voice-conversion mode, blending voices, and LoRAs in the model manager."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QDialogButtonBox

from tests.app.test_generation import FAST, close_window, make_services, open_window
from valle_studio.app.model_manager import ModelManagerDialog, NameRole
from valle_studio.app.settings import AppSettings
from valle_studio.app.widgets.blend_dialog import BlendDialog
from valle_studio.app.widgets.lora_panel import NONE_LABEL, LoraPanel
from valle_studio.app.widgets.voice_panel_layout import MODEL_CLEAN_TEXT
from valle_studio.engine.debug import write_tiny_checkpoint, write_tiny_lora
from valle_studio.engine.settings import SPECS, GenerationSettings
from valle_studio.engine.store import ModelStore

pytestmark = pytest.mark.gui


def tone(seconds: float = 1.2, base: float = 200.0, rate: int = 24_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * (base + 50 * t) * t) * (0.6 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_lora_panel_lists_installed_loras_and_follows_the_settings(qtbot: Any, tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    store.import_lora(write_tiny_lora(tmp_path / "g.sft", name="glados"))
    panel = LoraPanel(store)
    qtbot.addWidget(panel)
    assert [panel.choice.itemText(i) for i in range(panel.choice.count())] == [NONE_LABEL, "glados"]
    assert panel.values() == {"lora": "", "lora_strength": 1.0} and not panel.slider.isEnabled()
    spec = SPECS["lora_strength"]
    assert (panel.strength.minimum(), panel.strength.maximum(), panel.strength.toolTip()) == (0.0, 1.5, spec.tip)
    panel.choice.setCurrentIndex(1)
    panel.slider.setValue(80)
    assert panel.values() == {"lora": "glados", "lora_strength": 0.8} and panel.slider.isEnabled()
    GenerationSettings(**panel.values())  # always valid
    panel.set_values(GenerationSettings(lora="shodan", lora_strength=1.5))
    assert panel.choice.currentText() == "shodan (not installed)" and panel.slider.value() == 150
    assert panel.note.text().startswith("Not installed: a take would fail")
    panel.set_values(GenerationSettings())
    assert panel.values() == {"lora": "", "lora_strength": 1.0}


def test_window_settings_carry_the_lora_and_presets_keep_it(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                             codec: Any) -> None:
    services = make_services(home, tiny_tokenizer, codec)
    services.store.import_lora(write_tiny_lora(home / "g.sft", name="glados"))  # type: ignore[attr-defined]
    window = open_window(qtbot, services)
    window.lora_panel.refresh()
    window.lora_panel.choice.setCurrentIndex(window.lora_panel.choice.findData("glados"))
    window.lora_panel.strength.setValue(0.5)
    assert (window.generation_settings().lora, window.generation_settings().lora_strength) == ("glados", 0.5)
    window.sampler_panel.apply_preset("stable")
    assert window.generation_settings().lora == "glados"  # a preset does not touch the LoRA
    window.apply_settings(GenerationSettings(lora="", seed=3))
    assert window.generation_settings().lora == ""
    close_window(window)


def test_clean_with_the_model_replaces_the_draft(qtbot: Any, home: Path, tiny_tokenizer: Path, codec: Any) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    panel = window.voice_panel
    window.sampler_panel.set_settings(FAST)
    panel.set_draft(tone(0.8), 24_000, "noisy")
    button = panel.model_clean_button
    assert button.isVisible() and button.isEnabled(), button.toolTip()
    with qtbot.waitSignal(window.engine.job_stopped, timeout=60_000):
        button.click()
        assert not button.isEnabled() and button.text() == "Denoising…"
    qtbot.waitUntil(lambda: button.text() == MODEL_CLEAN_TEXT, timeout=5_000)
    samples, rate = panel.prompts()[0]
    assert rate == 24_000 and len(samples) == 60 * 320  # the clip's 60 frames, said again by the model
    assert panel.undo_button.isEnabled()
    close_window(window)


def test_clean_and_convert_are_disabled_with_the_reason_when_the_model_cannot(qtbot: Any, tmp_path: Path,
                                                                             tiny_tokenizer: Path, codec: Any) -> None:
    write_tiny_checkpoint(tmp_path / "models" / "tiny" / "model.sft", capabilities=("ar", "nar"),
                          noncausal_masks=False)
    window = open_window(qtbot, make_services(tmp_path, tiny_tokenizer, codec))
    assert not window.convert_panel.enable.isEnabled()
    assert "lists no 'len' capability" in window.convert_panel.enable.toolTip()
    window.voice_panel.set_draft(tone(), 24_000, "clip")
    assert window.voice_panel.model_clean_button.isEnabled()  # ns works through the AR
    close_window(window)


def test_voice_conversion_mode_makes_a_take(qtbot: Any, home: Path, tiny_tokenizer: Path, codec: Any) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    window.sampler_panel.set_settings(FAST)
    window.voice_panel.set_draft(tone(base=260.0), 24_000, "target")
    window.text_panel.set_text("")
    window.convert_panel.enable.setChecked(True)
    assert window.convert_panel.hint.isVisible() and "Experimental" in window.convert_panel.hint.text()
    assert not window.generate_action.isEnabled()
    assert window.generate_action.toolTip() == "Choose a source clip to convert first."
    window.convert_panel.set_source(tone(0.8), 24_000, "source.wav")
    assert window.generate_action.isEnabled()
    with qtbot.waitSignal(window.take_added, timeout=60_000) as blocker:
        window.generate()
    take = blocker.args[0]
    assert take.text == "(voice conversion of source.wav)" and take.modality == "nar-len (vc)"
    assert take.duration_s == pytest.approx(60 * 320 / 24_000)  # the source's 60 frames
    close_window(window)


def test_blend_dialog_saves_a_blended_voice_the_window_speaks_with(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                                   codec: Any) -> None:
    services = make_services(home, tiny_tokenizer, codec)
    services.voices.save("Alice", [(tone(), 24_000)])
    services.voices.save("Bob", [(tone(base=300.0), 24_000)])
    window = open_window(qtbot, services)
    window.voice_panel.refresh_voices()
    assert window.voice_panel.blend_button.isEnabled()
    dialog = BlendDialog(services.voices)
    qtbot.addWidget(dialog)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert not save.isEnabled() and "Experimental" in dialog.findChild(type(dialog.summary)).text()
    for (_voice, check, weight), value in zip(dialog.rows, (3.0, 1.0), strict=True):
        check.setChecked(True)
        weight.setValue(value)
    assert dialog.summary.text().startswith("Mix: Alice 75 %, Bob 25 %")
    dialog.name.setText("Alibob")
    assert save.isEnabled()
    dialog.save()
    assert dialog.saved is not None and dialog.saved.is_blend
    window.voice_panel.refresh_voices(select_name="Alibob")
    assert "blend of Alice 3, Bob 1, experimental" in window.voice_panel.voice_combo.currentText()
    request = window.build_request()
    assert [part.name for part in request.blend] == ["Alice", "Bob"] and request.prompts == ()
    window.text_panel.set_text("Hello.")
    window.text_panel.set_split_mode("none")
    window.sampler_panel.set_settings(FAST)
    with qtbot.waitSignal(window.take_added, timeout=60_000) as blocker:
        window.generate()
    assert blocker.args[0].voice == "Alibob"
    close_window(window)


def test_model_manager_lists_downloads_imports_and_removes_loras(qtbot: Any, tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    dialog = ModelManagerDialog(store, AppSettings.from_file(tmp_path / "s.ini"))
    qtbot.addWidget(dialog)
    names = [dialog.tree.topLevelItem(i).data(0, NameRole) for i in range(dialog.tree.topLevelItemCount())]
    assert names[-len(store.available_loras()):] == store.available_loras()
    dialog.select("lora-glados")
    assert "Portal" in dialog.details.toPlainText() and "non-commercial" in dialog.details.toPlainText()
    assert dialog.download.isEnabled() and not dialog.make_default.isEnabled()
    with qtbot.waitSignal(dialog.models_changed, timeout=10_000):
        dialog.import_path(write_tiny_lora(tmp_path / "mine" / "lora.sft", name="mine"))
    assert store.installed_loras() == ["mine"] and store.installed() == []
    dialog.select("mine")
    assert dialog.remove.isEnabled() and not dialog.make_default.isEnabled()
    dialog.remove_selected(confirm=False)
    assert store.installed_loras() == []
    dialog.shutdown()
