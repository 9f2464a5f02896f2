"""Edit → Preferences (Ctrl+,): appearance applied live and kept, the other settings in one place, extensible."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import QCheckBox, QMenu, QScrollArea, QWidget

from tests.app.prefs_window import close_window, make_window
from valle_studio.app import theme
from valle_studio.app.icons import action_icon
from valle_studio.app.settings import AppSettings

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def back_to_system() -> Iterator[None]:
    """The application is shared by all tests: leave its appearance as Qt chose it."""
    yield
    theme.apply_appearance("system")


def click(qtbot: Any, button: QWidget) -> None:
    """Click a radio button on its indicator (its hit area is the indicator and the text, not the row)."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(6, button.height() // 2))


def window_colour() -> int:
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness()


def test_edit_menu_opens_preferences_with_ctrl_comma(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[:2] == ["&File", "&Edit"]
    edit = window.menuBar().actions()[1].menu()
    assert isinstance(edit, QMenu)
    action = window.preferences_action
    assert action in edit.actions()
    assert action.shortcut() == QKeySequence("Ctrl+,")
    action.trigger()
    dialog = window.edit_menu.preferences_dialog()
    assert dialog.isVisible()
    assert list(dialog.sections) == ["Appearance", "Playback and export", "Recording", "Device and precision",
                                     "Provenance"]
    close_window(window)


def test_dark_appearance_applies_live_and_persists(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    light = window_colour()
    before = window.grab().toImage().pixelColor(600, 400).lightness()
    dialog = window.edit_menu.open_preferences()
    icon_before = window.generate_action.icon().pixmap(24, 24).toImage()
    play_before = window.output_panel.play.icon().pixmap(24, 24).toImage()
    click(qtbot, dialog.appearance_buttons["dark"])
    assert theme.current() == "dark"
    assert window_colour() < 80 < light  # the palette of the running app changed, no restart
    assert theme.is_dark()
    assert window.grab().toImage().pixelColor(600, 400).lightness() < before  # and the window is drawn dark
    # The action icons were redrawn in the light text colour of the dark palette.
    icon_after = window.generate_action.icon().pixmap(24, 24).toImage()
    assert icon_after != icon_before
    assert window.output_panel.play.icon().pixmap(24, 24).toImage() != play_before  # the panel's own buttons too
    assert AppSettings.from_file(tmp_path / "settings.ini").appearance == "dark"
    click(qtbot, dialog.appearance_buttons["system"])
    assert window_colour() == light  # System gives back what Qt chose at start
    close_window(window)


def test_saved_dark_appearance_is_applied_at_start(qtbot: Any, tmp_path: Path) -> None:
    settings = AppSettings.from_file(tmp_path / "settings.ini")
    settings.appearance = "dark"
    window = make_window(qtbot, tmp_path, settings=settings)
    assert theme.current() == "dark" and theme.is_dark()
    dialog = window.edit_menu.open_preferences()
    assert dialog.appearance_buttons["dark"].isChecked()
    close_window(window)


def test_light_appearance_is_light_even_after_dark(qtbot: Any, tmp_path: Path) -> None:
    theme.apply_appearance("dark")
    theme.apply_appearance("light")
    assert not theme.is_dark()
    assert window_colour() > 200


def test_icons_read_on_both_palettes() -> None:
    """Each glyph is drawn in the palette's text colour: light on dark, dark on light."""
    for palette, bright in ((theme.dark_palette(), True), (QPalette(Qt.GlobalColor.white), False)):
        image = action_icon("stop", palette).pixmap(24, 24).toImage()
        centre = image.pixelColor(12, 12)
        assert centre.alpha() > 200
        assert (centre.lightness() > 180) is bright


def test_play_while_generating_and_export_folder_follow_the_window(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    dialog = window.edit_menu.open_preferences()
    panel_box = window.output_panel.play_while_generating
    assert isinstance(dialog.play_while_generating, QCheckBox)
    # The fake output device exists, so the boxes are live; each follows the other.
    start = panel_box.isChecked()
    dialog.play_while_generating.setChecked(not start)
    assert panel_box.isChecked() is (not start)
    panel_box.setChecked(start)
    assert dialog.play_while_generating.isChecked() is start
    folder = tmp_path / "exports"
    folder.mkdir()
    dialog.export_dir.setText(str(folder))
    dialog.export_dir.editingFinished.emit()
    assert window.output_panel.export_dir == str(folder)
    dialog.countdown.setValue(5)
    assert window.voice_panel.recording_strip.countdown_s == 5
    assert window.settings.record_countdown == 5
    close_window(window)


def test_add_section_extends_the_dialog(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    dialog = window.edit_menu.preferences_dialog()
    box = QCheckBox("Something else")
    section = dialog.add_section("Extra", box)
    assert list(dialog.sections)[-1] == "Extra"
    assert box.parent() is section and section.title() == "Extra"
    # The dialog grows to show every section at once (here the screen has room): nothing hides below.
    dialog.show()
    qtbot.wait(50)
    assert dialog.findChild(QScrollArea).verticalScrollBar().maximum() == 0
    dialog.close()
    close_window(window)


def test_a_missing_export_folder_is_pointed_out(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    dialog = window.edit_menu.open_preferences()
    dialog.export_dir.setText(str(tmp_path / "not-there"))
    dialog.export_dir.editingFinished.emit()
    assert dialog.export_note.isVisible() and "does not exist" in dialog.export_note.text()
    dialog.export_dir.setText(str(tmp_path))
    dialog.export_dir.editingFinished.emit()
    assert not dialog.export_note.isVisible()
    close_window(window)
