"""The Help menu: keyboard shortcuts read from the window's actions, the offline user guide on F1, About
with the versions and the licences of what runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from tests.app.prefs_window import close_window, make_window
from valle_studio.app.widgets.about_dialog import AboutDialog, package_version
from valle_studio.app.widgets.guide_dialog import GuideDialog, guide_path
from valle_studio.app.widgets.shortcuts_dialog import ShortcutsDialog, shortcut_rows
from valle_studio.engine.store import catalog as cat

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


def help_menu_titles(window: Any) -> list[str]:
    menu = window.menuBar().actions()[-1].menu()
    assert isinstance(menu, QMenu)
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_help_menu_has_guide_shortcuts_benchmark_log_and_about(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    assert window.menuBar().actions()[-1].text() == "&Help"
    assert help_menu_titles(window) == ["User &guide", "&Keyboard shortcuts", "&Benchmark this machine…",
                                        "Open &log folder", "&About VALL-E Studio"]
    close_window(window)


def test_shortcuts_dialog_lists_the_real_actions(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    # A shortcut added to the window after it was built shows up: the list is read, not written by hand.
    extra = QAction("Frobnicate the take", window)
    extra.setShortcut(QKeySequence("Ctrl+Shift+F"))
    window.addAction(extra)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)
    dialog = window.help_menu._open.get("shortcuts")
    assert isinstance(dialog, ShortcutsDialog) and dialog.isVisible()
    table = {(dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text(), dialog.table.item(r, 2).text())
             for r in range(dialog.table.rowCount())}
    native = QKeySequence.SequenceFormat.NativeText
    expected = {("Generate", "Ctrl+Return, Ctrl+Enter", "Run"), ("Stop", "Esc", "Run"),
                ("Play/Pause", "Space", "Run"), ("Export take…", "Ctrl+E", "File"),
                ("Model manager…", "Ctrl+M", "Models"), ("Preferences…", "Ctrl+,", "Edit"),
                ("User guide", "F1", "Help"), ("Keyboard shortcuts", "Ctrl+/", "Help"),
                ("Frobnicate the take", QKeySequence("Ctrl+Shift+F").toString(native), "Window")}
    assert expected <= table
    # Every action of the window that has a shortcut is there, once.
    with_keys = {id(a) for a in window.findChildren(QAction) if a.shortcuts() and not a.isSeparator()}
    assert len(shortcut_rows(window)) == len(with_keys) == dialog.table.rowCount()
    close_window(window)


def test_f1_opens_the_bundled_guide(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    window.activateWindow()  # a window shortcut needs the active window
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.help_menu._open.get("guide")
    assert isinstance(dialog, GuideDialog) and dialog.isVisible()
    text = dialog.browser.toPlainText()
    assert text.startswith("VALL-E Studio user guide")
    for words in ("Make a voice", "Record", "Preferences", "Keyboard shortcuts", "Batch"):
        assert words in text
    assert "not found" not in text
    close_window(window)


def test_guide_is_found_inside_a_frozen_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "user_guide.md").write_text("# Bundled guide\n", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert guide_path() == tmp_path / "assets" / "user_guide.md"
    # ... and the bundle recipe copies it there.
    spec = (ROOT / "installer" / "valle_studio.spec").read_text(encoding="utf-8")
    assert '(str(ASSETS / "user_guide.md"), "assets")' in spec
    assert (ROOT / "assets" / "user_guide.md").is_file()


def test_a_missing_guide_says_so(qtbot: Any, tmp_path: Path) -> None:
    dialog = GuideDialog(path=tmp_path / "nowhere.md")
    qtbot.addWidget(dialog)
    assert "incomplete" in dialog.browser.toPlainText()


def test_about_names_versions_model_and_licences(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path, load=True)
    window.about_action.trigger()
    dialog = window.help_menu._open.get("about")
    assert isinstance(dialog, AboutDialog) and dialog.isVisible()
    versions = dialog.versions_label.text()
    for name in ("VALL-E Studio", "Python", "PySide6", "PyTorch", package_version("torch")):
        assert name in versions
    qtbot.waitUntil(lambda: "looking it up" not in dialog.espeak_label.text(), timeout=20_000)
    assert dialog.espeak_label.text().startswith("espeak-ng")
    assert "VALL-E AR+NAR+NAR-len" in dialog.model_label.text() and "cpu" in dialog.model_label.text()
    licences = dialog.licences_text()
    for name, terms in cat.licence_notes(cat.CATALOG, cat.DEFAULT_MODEL):  # the model and what it requires
        assert f"{name}: {terms}" in licences
    assert f"EnCodec 24 kHz: {cat.ENCODEC_TERMS}" in licences
    assert f"Vocos (EnCodec 24 kHz): {cat.VOCOS_TERMS}" in licences
    assert licences.count("EnCodec 24 kHz:") == 1  # each once
    close_window(window)


def test_about_without_a_model_still_lists_the_codecs(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    dialog = window.show_about()
    assert "none loaded" in dialog.model_label.text()
    assert cat.ENCODEC_TERMS in dialog.licences_text() and cat.VOCOS_TERMS in dialog.licences_text()
    qtbot.waitUntil(lambda: "looking it up" not in dialog.espeak_label.text(), timeout=20_000)
    close_window(window)
