"""Edit → Preferences: the app-wide settings in one place, each applied as soon as it is changed.

Appearance (System / Light / Dark), playing a take while it is generated, the export folder, the
countdown before recording, and where the device and precision are chosen (the model manager, which
knows the devices and what each precision costs here). Every change is written to
:class:`~valle_studio.app.settings.AppSettings` at once and announced by a signal, so the window applies
it live; there is no OK/Cancel to forget.

The dialog is extensible: :meth:`PreferencesDialog.add_section` appends another titled box (the
watermark option of the export provenance work, for one).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app import theme
from valle_studio.app.settings import AppSettings


class PreferencesDialog(QDialog):
    """See the module docstring. Signals carry the new value; the settings already hold it."""

    appearance_changed = Signal(str)
    play_while_generating_changed = Signal(bool)
    export_dir_changed = Signal(str)
    countdown_changed = Signal(int)
    model_manager_requested = Signal()

    def __init__(self, settings: AppSettings, parent: QWidget | None = None, *,
                 engine_summary: str = "") -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Preferences")
        self.setObjectName("preferencesDialog")
        self.sections: dict[str, QGroupBox] = {}
        self._column = QVBoxLayout()
        self._column.setSpacing(10)
        self._column.addStretch(1)
        body = QWidget()
        body.setLayout(self._column)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        note = QLabel("Changes apply at once and are kept for the next start.")
        note.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)

        self.add_section("Appearance", self._appearance_box())
        self.add_section("Playback and export", self._output_box())
        self.add_section("Recording", self._recording_box())
        self.add_section("Device and precision", self._engine_box(engine_summary))
        self._body, self._scroll = body, scroll
        self.resize(560, 540)

    # -- extension -----------------------------------------------------------------------------
    def add_section(self, title: str, widget: QWidget) -> QGroupBox:
        """Append a box titled ``title`` holding ``widget`` (below the others); returns the box."""
        box = QGroupBox(title)
        box.setObjectName(f"prefs:{title}")
        QVBoxLayout(box).addWidget(widget)
        self._column.insertWidget(self._column.count() - 1, box)  # before the closing stretch
        self.sections[title] = box
        if hasattr(self, "_body"):
            self._fit_height()
        return box

    def _fit_height(self) -> None:
        """Tall enough to show every section without scrolling, as far as the screen allows (the scroll
        area takes over on a small screen)."""
        screen = self.screen().availableGeometry().height() if self.screen() is not None else 800
        chrome = self.sizeHint().height() - self._scroll.sizeHint().height()
        wanted = self._body.sizeHint().height() + max(chrome, 0) + 8
        self.resize(self.width(), max(self.height(), min(wanted, int(screen * 0.9))))

    # -- live values from elsewhere ---------------------------------------------------------------
    def set_play_while_generating(self, on: bool, *, available: bool = True) -> None:
        """Follow the output panel's own box (it can be ticked there too)."""
        blocked = self.play_while_generating.blockSignals(True)
        self.play_while_generating.setChecked(on)
        self.play_while_generating.blockSignals(blocked)
        self.play_while_generating.setEnabled(available)
        self.play_while_generating.setToolTip("" if available else "Playback is off: there is no audio output device.")

    def set_engine_summary(self, text: str) -> None:
        self.engine_label.setText(text)

    # -- sections ------------------------------------------------------------------------------
    def _appearance_box(self) -> QWidget:
        box = QWidget()
        row = QVBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.appearance_group = QButtonGroup(self)
        self.appearance_buttons: dict[str, QRadioButton] = {}
        chosen = self.settings.appearance if self.settings.appearance in theme.APPEARANCES else "system"
        for key in theme.APPEARANCES:
            button = QRadioButton(theme.LABELS[key])
            button.setObjectName(f"appearance:{key}")
            button.setChecked(key == chosen)
            button.toggled.connect(lambda on, key=key: self._on_appearance_toggled(key, on))
            self.appearance_group.addButton(button)
            self.appearance_buttons[key] = button
            row.addWidget(button)
        return box

    def _output_box(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.play_while_generating = QCheckBox("Play a take while it is generated")
        self.play_while_generating.setChecked(self.settings.play_while_generating)
        self.play_while_generating.toggled.connect(self._set_play_while_generating)
        form.addRow(self.play_while_generating)
        self.export_dir = QLineEdit(self.settings.export_dir)
        self.export_dir.setPlaceholderText(str(Path.home()))
        self.export_dir.setToolTip("Where Export… opens; each export remembers its folder here")
        self.export_dir.editingFinished.connect(lambda: self._set_export_dir(self.export_dir.text()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_export_dir)
        row = QHBoxLayout()
        row.addWidget(self.export_dir, 1)
        row.addWidget(browse)
        form.addRow("Export folder", row)
        self.export_note = QLabel("")
        self.export_note.setObjectName("exportFolderNote")
        self.export_note.setWordWrap(True)
        self.export_note.setVisible(False)
        form.addRow(self.export_note)
        self._check_export_dir(self.settings.export_dir)
        return box

    def _recording_box(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.countdown = QSpinBox()
        self.countdown.setRange(0, 10)
        self.countdown.setSuffix(" s")
        self.countdown.setSpecialValueText("Off")
        self.countdown.setValue(max(0, min(10, int(self.settings.record_countdown))))
        self.countdown.setToolTip("Seconds counted down after pressing Record, to get ready; press Record "
                                  "again to start at once")
        self.countdown.valueChanged.connect(self._set_countdown)
        form.addRow("Countdown before recording", self.countdown)
        return box

    def _engine_box(self, summary: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.engine_label = QLabel(summary or f"Device: {self.settings.device} · Precision: {self.settings.precision}")
        self.engine_label.setWordWrap(True)
        self.engine_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        manager = QPushButton("Choose in the model manager…")
        manager.setToolTip("The model manager lists the devices found and what each precision costs here (Ctrl+M)")
        manager.clicked.connect(self.model_manager_requested)
        row.addWidget(self.engine_label, 1)
        row.addWidget(manager)
        return box

    # -- slots ---------------------------------------------------------------------------------
    def _on_appearance_toggled(self, key: str, on: bool) -> None:
        if not on:  # the button left behind; the chosen one says what to apply
            return
        self.settings.appearance = key
        self.appearance_changed.emit(key)

    def _set_play_while_generating(self, on: bool) -> None:
        self.settings.play_while_generating = bool(on)
        self.play_while_generating_changed.emit(bool(on))

    def _browse_export_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder", self.export_dir.text() or str(Path.home()))
        if folder:
            self.export_dir.setText(folder)
            self._set_export_dir(folder)

    def _check_export_dir(self, folder: str) -> bool:
        """Say so when ``folder`` is not an existing folder; True when it is (or is empty: home)."""
        problem = "" if not folder or Path(folder).expanduser().is_dir() else (
            "That folder does not exist: create it, or choose another with Browse….")
        self.export_note.setText(problem)
        self.export_note.setVisible(bool(problem))
        return not problem

    def _set_export_dir(self, folder: str) -> None:
        folder = folder.strip()
        self._check_export_dir(folder)
        if folder == self.settings.export_dir:
            return
        self.settings.export_dir = folder
        self.export_dir_changed.emit(folder)

    def _set_countdown(self, seconds: int) -> None:
        self.settings.record_countdown = int(seconds)
        self.countdown_changed.emit(int(seconds))


__all__ = ["PreferencesDialog"]
