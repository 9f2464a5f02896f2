"""The Edit menu with Preferences… (Ctrl+,), the saved appearance, and the icons of the main actions.

Built by the window's layout with ``EditMenu(window)`` right after the File menu. It applies the saved
appearance at once, keeps the action icons drawn in the palette's colours (redrawn when the appearance
changes, so they read on a dark window too), and wires the Preferences dialog to the window: the
appearance to :mod:`~valle_studio.app.theme`, "play while generating" to the output panel's own box
(both stay in step), the export folder to the output panel, the countdown to the recording strip, and
adds the watermark option (read at every export).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from valle_studio.app import theme
from valle_studio.app.icons import action_icon
from valle_studio.app.widgets.preferences_dialog import PreferencesDialog
from valle_studio.app.widgets.watermark_option import WatermarkOption

# window attribute -> glyph (app/icons.py); attributes the window lacks are skipped
ACTION_ICONS = {"generate_action": "generate", "stop_action": "stop", "play_action": "play",
                "export_action": "export", "models_action": "models", "preferences_action": "preferences"}
HELP_ICONS = {"guide_action": "help", "shortcuts_action": "keyboard", "about_action": "about"}  # of help_menu


class EditMenu(QObject):
    """See the module docstring."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self.preferences_action = QAction("&Preferences…", window)
        self.preferences_action.setShortcut(QKeySequence("Ctrl+,"))
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)  # the app menu on macOS
        self.preferences_action.setToolTip("Appearance, playback, export folder, recording (Ctrl+,)")
        window.addAction(self.preferences_action)
        window.preferences_action = self.preferences_action
        self.menu = window.menuBar().addMenu("&Edit")
        self.menu.addAction(self.preferences_action)
        self.preferences_action.triggered.connect(self.open_preferences)
        self._dialog: PreferencesDialog | None = None
        strip = getattr(getattr(window, "voice_panel", None), "recording_strip", None)
        if strip is not None:
            strip.set_countdown(self.settings.record_countdown)
        theme.apply_appearance(self.settings.appearance)
        theme.theme_changes.changed.connect(self._on_theme)

    # -- icons -------------------------------------------------------------------------------------
    def apply_icons(self) -> None:
        """(Re)draw the main actions' icons in the current palette (the recording strip draws Record's)."""
        window = self.window
        help_menu = getattr(window, "help_menu", None)
        pairs = [(getattr(window, name, None), glyph) for name, glyph in ACTION_ICONS.items()]
        pairs += [(getattr(help_menu, name, None), glyph) for name, glyph in HELP_ICONS.items()]
        for action, glyph in pairs:
            if isinstance(action, QAction):
                action.setIcon(action_icon(glyph))

    def _on_theme(self, _appearance: str) -> None:
        self.apply_icons()

    # -- preferences -------------------------------------------------------------------------------
    def preferences_dialog(self) -> PreferencesDialog:
        """The dialog (made once, kept while the window lives); ``add_section`` extends it."""
        if self._dialog is None:
            self._dialog = self._make_dialog()
        return self._dialog

    def open_preferences(self) -> PreferencesDialog:
        dialog = self.preferences_dialog()
        dialog.set_engine_summary(self._engine_summary())
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _make_dialog(self) -> PreferencesDialog:
        window = self.window
        dialog = PreferencesDialog(self.settings, window, engine_summary=self._engine_summary())
        dialog.appearance_changed.connect(theme.apply_appearance)
        box = window.output_panel.play_while_generating
        dialog.set_play_while_generating(box.isChecked(), available=box.isEnabled())
        dialog.play_while_generating_changed.connect(box.setChecked)
        box.toggled.connect(lambda on: dialog.set_play_while_generating(on, available=box.isEnabled()))
        dialog.export_dir_changed.connect(lambda folder: setattr(window.output_panel, "export_dir", folder))
        strip = getattr(window.voice_panel, "recording_strip", None)
        if strip is not None:
            dialog.countdown_changed.connect(strip.set_countdown)
        dialog.model_manager_requested.connect(window.open_model_manager)
        # The watermark of every export (Studio and Batch read the setting when they export).
        dialog.add_section(WatermarkOption.SECTION, WatermarkOption(self.settings))
        return dialog

    def _engine_summary(self) -> str:
        s = self.settings
        text = f"Device: {s.device} · Precision: {s.precision} (chosen for the next model load)"
        label = getattr(self.window, "device_label", None)
        if label is not None and getattr(self.window.engine, "is_loaded", False):
            text += f". Now: {label.text()}, {self.window.precision_label.text()}"
        return text


__all__ = ["ACTION_ICONS", "HELP_ICONS", "EditMenu"]
