"""The text features in the window: <unk> marked in the phoneme view, Generate stopping before <unk>,
the lexicon dialogs (global, voice, batch project) and the About box with the espeak-ng in use."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QWidget

from tests.app.test_generation import FAST, close_window, make_services, open_window
from valle_studio.app.lexicon_actions import LexiconActions
from valle_studio.app.widgets.about_dialog import AboutDialog
from valle_studio.app.widgets.lexicon_dialog import LexiconDialog
from valle_studio.engine.text import PhonemeTokenizer, espeak_version
from valle_studio.engine.text.lexicon import Lexicon, LexiconEntry
from valle_studio.studio.lexicons import global_lexicon_path, load_lexicon, save_lexicon, voice_lexicon_path

pytestmark = pytest.mark.gui

UNKNOWN_IPA = "zˈɔɹũk"  # the tiny tokenizer has no ũ


def _phonemes(qtbot: Any, window: Any) -> Any:
    with qtbot.waitSignal(window.engine.phonemes_ready, timeout=30_000) as answer:
        window.text_panel.request_phonemes()
    return answer.args[0]


def test_phoneme_view_marks_unknown_symbols_and_lexicon_words(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                              codec: Any) -> None:
    save_lexicon(global_lexicon_path(), Lexicon((LexiconEntry("Zork", UNKNOWN_IPA),
                                                 LexiconEntry("Nguyen", "win", "say"))))
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    window.text_panel.show_phonemes.setChecked(True)
    window.text_panel.set_text("Hello Zork.\nMr. Nguyen is here.")
    window.text_panel.set_split_mode("lines")
    pieces = _phonemes(qtbot, window)
    assert [u.symbol for u in pieces[0].unknown] == ["ũ"] and pieces[0].unknown[0].word == "Zork"
    assert window.text_panel.unknown_words == ["'Zork' (ũ)"]
    shown = window.text_panel.phoneme_view.toPlainText()
    assert "⚠ not in the tokenizer, the model receives <unk>: 'Zork' (ũ)" in shown
    assert f"lexicon: 'Zork' → /{UNKNOWN_IPA}/" in shown and "lexicon: 'Nguyen' → \"win\"" in shown
    assert "#c62828" in window.text_panel.phoneme_view.toHtml()  # the symbol itself is marked in red
    close_window(window)


def test_generate_stops_before_unknown_symbols_then_generates_anyway(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                                     codec: Any) -> None:
    save_lexicon(global_lexicon_path(), Lexicon((LexiconEntry("Zork", UNKNOWN_IPA),)))
    window = open_window(qtbot, make_services(home, tiny_tokenizer, codec))
    window.sampler_panel.set_settings(FAST)
    window.text_panel.set_text("Hello Zork.")
    window.text_panel.set_split_mode("none")
    added: list[Any] = []
    window.take_added.connect(added.append)
    with qtbot.waitSignal(window.engine.job_finished, timeout=60_000):
        window.generate()
    qtbot.waitUntil(window.unknown_banner.isVisible, timeout=5000)
    assert "'Zork' (ũ)" in window.unknown_banner.text() and not added
    assert window.history_model.rowCount() == 0
    with qtbot.waitSignal(window.take_added, timeout=60_000):
        window.unknown_banner.action.click()
    assert not window.unknown_banner.isVisible() and len(added) == 1
    # A text without unknown symbols generates at once, with no stop.
    window.text_panel.set_text("Hello there.")
    with qtbot.waitSignal(window.take_added, timeout=60_000):
        window.generate()
    assert not window.unknown_banner.isVisible()
    close_window(window)


def test_lexicon_dialog_names_bad_entries_and_saves(qtbot: Any, tiny_tokenizer: Path) -> None:
    check = PhonemeTokenizer(tiny_tokenizer).unknown_symbols
    dialog = LexiconDialog(Lexicon((LexiconEntry("Müller", "mˈylɐ", language="de"),)), title="t",
                           unknown_symbols=check)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1 and dialog._cell(0, 1) == "/mˈylɐ/" and dialog._language(0) == "de"
    row = dialog.add_row("", "/abc/")
    dialog.accept()
    assert dialog.result() == 0 and "row 2: an entry has an empty word" in dialog.message.text()
    dialog.table.item(row, 0).setText("Zork")
    dialog.table.item(row, 1).setText(f"/{UNKNOWN_IPA}/")
    dialog.accept()
    assert "row 2: 'Zork' → /zˈɔɹũk/: 'ũ' is not in the tokenizer" in dialog.message.text()
    dialog.table.item(row, 1).setText("zork")  # a respelling: espeak reads it
    dialog.add_row("ZORK", "/zɔɹk/")
    dialog.accept()
    assert "already in the lexicon" in dialog.message.text() and "row 3" in dialog.message.text()
    dialog.table.setCurrentCell(2, 0)
    dialog.table.selectRow(2)
    dialog.remove_selected()
    dialog.accept()
    assert dialog.result() == 1
    assert [(e.word, e.kind, e.language) for e in dialog.lexicon().entries] == [
        ("Müller", "ipa", "de"), ("Zork", "say", "")]


def test_lexicon_actions_edit_global_voice_and_project_files(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                              codec: Any, tmp_path: Path) -> None:
    services = make_services(home, tiny_tokenizer, codec)
    installed = Path(services.store.tokenizer_paths()[0])  # type: ignore[attr-defined]
    installed.parent.mkdir(parents=True, exist_ok=True)
    installed.write_bytes(tiny_tokenizer.read_bytes())
    services.voices.save("Alice", [(np.sin(np.linspace(0, 900, 48_000)).astype(np.float32) * 0.3, 24_000)])
    chosen = ["Alice"]
    parent = QWidget()
    qtbot.addWidget(parent)
    actions = LexiconActions(services, lambda: chosen[0], parent)
    changed: list[int] = []
    actions.changed.connect(lambda: changed.append(1))
    for open_dialog, path in ((actions.edit_global, global_lexicon_path()),
                              (actions.edit_voice, voice_lexicon_path(services.voices.get("Alice")))):
        dialog = open_dialog()
        assert dialog is not None and not dialog.message.text()  # the installed tokenizer checks IPA
        dialog.add_row("Alice", "/ˈælɪs/")
        dialog.accept()
        assert [e.word for e in load_lexicon(path).entries] == ["Alice"]
    assert len(changed) == 2
    assert actions.current() is not None and len(actions.current()) == 1  # same word: the voice's wins
    project = SimpleNamespace(lexicon_path=tmp_path / "batch" / "lexicon.tsv", name="script")
    project.lexicon_path.parent.mkdir()
    dialog = actions.edit_project(project)
    assert dialog is not None
    dialog.add_row("Bob", "bobby")
    dialog.accept()
    assert load_lexicon(project.lexicon_path).entries[0].pronunciation == "bobby"
    global_lexicon_path().write_text("only one column\n", encoding="utf-8")
    assert actions.current() is None and "line 1" in actions.last_error  # a broken file never stops a take
    chosen[0] = "clip.wav (unsaved)"
    assert actions.saved_voice() is None


def test_about_names_the_espeak_in_use(qtbot: Any) -> None:
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.espeak_label.text().startswith("espeak-ng 1."), timeout=10_000)
    assert dialog.espeak_label.text().startswith(f"espeak-ng {espeak_version()} (")
    dialog._task.wait()
