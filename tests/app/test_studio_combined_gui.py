"""The Studio tab with issue 14's Best-of control and issue 18's LoRA control, voice-conversion mode and
blended voices together, on the real engine thread with a tiny model: a blend runs the best-of loop (every
take in the History, one chosen), a conversion is one take that is not checked (the Best-of control says it
does not apply), and a LoRA travels with every take."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QGroupBox

from tests.app.test_generation import FAST, close_window, make_services, open_window
from tests.app.test_issue18_gui import tone
from valle_studio.engine.debug import write_tiny_checkpoint, write_tiny_lora
from valle_studio.engine.quality.report import QUALITY_KEY
from valle_studio.engine.store import ModelStore

pytestmark = pytest.mark.gui


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    write_tiny_checkpoint(tmp_path / "models" / "tiny" / "model.sft")
    ModelStore(tmp_path / "models").import_lora(write_tiny_lora(tmp_path / "g.sft", name="glados"))
    return tmp_path


def _box_of(widget: Any) -> str:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QGroupBox):
        parent = parent.parentWidget()
    return parent.title() if parent is not None else ""


def test_the_studio_tab_holds_best_of_lora_and_conversion(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                          codec: Any) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    assert _box_of(window.best_of) == "Sampler" and _box_of(window.sampler_panel) == "Sampler"
    assert _box_of(window.lora_panel) == "LoRA voice adapter" and _box_of(window.convert_panel) == "Text"
    assert window.best_of.isEnabled() and window.convert_panel.enable.isEnabled()
    close_window(window)


def test_a_blended_voice_with_a_lora_runs_the_best_of_loop(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                           codec: Any) -> None:
    services = make_services(home, tiny_tokenizer, codec)
    services.voices.save("Alice", [(tone(), 24_000)])
    services.voices.save("Bob", [(tone(base=300.0), 24_000)])
    services.voices.save_blend("Alibob", [("Alice", 0.5), ("Bob", 0.5)])
    window = open_window(qtbot, services)
    window.voice_panel.refresh_voices(select_name="Alibob")
    window.lora_panel.refresh()
    window.text_panel.set_text("Hello.")
    window.text_panel.set_split_mode("none")
    window.sampler_panel.set_settings(FAST)
    window.lora_panel.set_values(FAST.replace(lora="glados", lora_strength=0.5))
    window.best_of.set_options(2, 0)
    request = window.build_request()
    assert [part.name for part in request.blend] == ["Alice", "Bob"] and request.settings.lora == "glados"
    with qtbot.waitSignal(window.take_added, timeout=120_000) as blocker:
        window.generate()
    chosen = blocker.args[0]
    model = window.history_model
    takes = [model.take_at(row) for row in range(model.rowCount())]
    assert len(takes) == 2 and {t.voice for t in takes} == {"Alibob"}  # both candidates kept
    assert all(t.settings.lora == "glados" and t.settings.lora_strength == 0.5 for t in takes)
    assert [t.extra[QUALITY_KEY]["chosen"] for t in takes].count(True) == 1
    assert chosen.extra[QUALITY_KEY]["chosen"] is True and "verdict" in chosen.extra[QUALITY_KEY]  # checked
    close_window(window)


def test_a_voice_conversion_is_one_take_not_checked(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                    codec: Any) -> None:
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    window.sampler_panel.set_settings(FAST)
    window.best_of.set_options(3, 1)
    window.voice_panel.set_draft(tone(base=260.0), 24_000, "target")
    window.text_panel.set_text("")
    window.convert_panel.enable.setChecked(True)
    window.convert_panel.set_source(tone(0.8), 24_000, "source.wav")
    assert not window.best_of.isEnabled() and "one take" in window.best_of.toolTip()
    with qtbot.waitSignal(window.take_added, timeout=60_000) as blocker:
        window.generate()
    take = blocker.args[0]
    assert window.history_model.rowCount() == 1  # Best of 3 does not apply to a conversion
    assert take.modality == "nar-len (vc)" and take.extra[QUALITY_KEY]["chosen"] is True
    assert "verdict" not in take.extra[QUALITY_KEY]
    assert window.statusBar().currentMessage().startswith("Take finished, not checked")
    window.convert_panel.enable.setChecked(False)
    assert window.best_of.isEnabled() and window.best_of.toolTip() == ""
    close_window(window)
