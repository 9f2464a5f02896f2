"""Sampler settings: presets, the everyday controls, and the rest under "Advanced".

The panel produces a :class:`GenerationSettings` (:meth:`SamplerPanel.settings`) and can show one
(:meth:`SamplerPanel.set_settings`, used by "reuse settings"). Spin-box ranges come from
:mod:`.sampler_fields` and match the settings' validation, so an invalid value cannot be entered.
The text split mode belongs to the text panel; :meth:`settings` keeps whatever split it is given.
"""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.widgets.sampler_fields import FIELDS, FLAGS, MODALITY_LABELS, MODALITY_TIP, NumberField
from valle_studio.engine.settings import MODALITIES, PRESETS, GenerationSettings

PRESET_LABELS = {"default": "Default (original web UI)", "stable": "Stable", "expressive": "Expressive"}
PRESET_TIPS = {
    "default": "Exactly the settings of the original VALL-E web UI.",
    "stable": "Cooler, guided sampling: fewer glitches, a flatter delivery.",
    "expressive": "Hotter sampling with a nucleus cap: livelier, and takes differ more from each other.",
}
CUSTOM = "custom"
MAX_SEED = 2**63 - 1
# Fields a preset does not touch: the seed is the user's, the split mode the text panel's.
_NOT_IN_PRESET = ("seed", "split")


class SeedValidator(QRegularExpressionValidator):
    """Digits only, below 2**63 (the settings' limit); empty means "random"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QRegularExpression(r"\d{0,19}"), parent)

    def validate(self, text: str, pos: int) -> object:
        state = super().validate(text, pos)
        base = state[0] if isinstance(state, tuple) else state
        if base == QValidator.State.Acceptable and text and int(text) > MAX_SEED:
            return QValidator.State.Invalid, text, pos
        return state


def _spin(field: NumberField) -> QAbstractSpinBox:
    box: QSpinBox | QDoubleSpinBox
    if field.decimals is None:
        box = QSpinBox()
        box.setRange(int(field.minimum), int(field.maximum))
        box.setSingleStep(int(field.step))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(field.decimals)
        box.setRange(field.minimum, field.maximum)
        box.setSingleStep(field.step)
    if field.special:
        box.setSpecialValueText(field.special)
    box.setSuffix(field.suffix)
    box.setToolTip(field.tooltip)
    box.setAccessibleName(field.label)
    box.setObjectName(field.name)
    box.setKeyboardTracking(False)  # valueChanged once per edit, not per typed digit
    box.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
    return box


def _shrinkable(combo: QComboBox) -> None:
    """Let a combo box get narrower than its longest item, so the window fits small screens."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(10)


def _label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    label.setToolTip(buddy.toolTip())
    return label


class SamplerPanel(QWidget):
    """Presets plus one spin box (or check box) per generation setting."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._split = "sentences"
        self._loading = False

        self.preset = QComboBox()
        self.preset.setAccessibleName("Preset")
        for name in PRESETS:
            self.preset.addItem(PRESET_LABELS.get(name, name.title()), name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_TIPS.get(name, ""),
                                    Qt.ItemDataRole.ToolTipRole)
        self.preset.addItem("Custom", CUSTOM)
        _shrinkable(self.preset)
        self.preset.setToolTip("Named starting points. Changing any value below makes the preset 'Custom'.")

        self.modality = QComboBox()
        self.modality.setAccessibleName("Modality")
        for name in MODALITIES:
            self.modality.addItem(MODALITY_LABELS.get(name, name), name)
        self.modality.setToolTip(MODALITY_TIP)
        _shrinkable(self.modality)

        self.spins: dict[str, QAbstractSpinBox] = {f.name: _spin(f) for f in FIELDS}
        self.flags: dict[str, QCheckBox] = {}
        for name, label, tip in FLAGS:
            box = QCheckBox(label)
            box.setToolTip(tip)
            box.setObjectName(name)
            self.flags[name] = box

        self.seed = QLineEdit()
        self.seed.setObjectName("seed")
        self.seed.setAccessibleName("Seed")
        self.seed.setPlaceholderText("random")
        self.seed.setValidator(SeedValidator(self.seed))
        self.seed.setToolTip("The same seed with the same settings, text and voice gives the same take. "
                             "Leave empty for a new random seed each time; every take records the seed "
                             "it used.")
        self.random_seed = QPushButton("&Random")
        self.random_seed.setToolTip("Clear the seed: every generation draws a new random one.")
        self.random_seed.clicked.connect(self.seed.clear)
        seed_row = QHBoxLayout()
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_seed)

        self.advanced_button = QToolButton()
        self.advanced_button.setText("&Advanced")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setAutoRaise(True)
        self.advanced_button.setToolTip("Show the finer sampling controls.")
        self.advanced_button.toggled.connect(self.set_advanced_visible)

        # One form for both parts, so labels line up; the advanced rows are hidden, not removed.
        self.form = QFormLayout()
        self.form.addRow(_label("Pr&eset", self.preset), self.preset)
        self.form.addRow(_label("&Modality", self.modality), self.modality)
        for field in FIELDS:
            if field.basic:
                self.form.addRow(_label(field.label, self.spins[field.name]), self.spins[field.name])
        self.form.addRow(_label("See&d", self.seed), seed_row)
        self.form.addRow(self.advanced_button)
        self._advanced_rows: list[QWidget] = []
        for field in FIELDS:
            if not field.basic:
                self.form.addRow(_label(field.label, self.spins[field.name]), self.spins[field.name])
                self._advanced_rows.append(self.spins[field.name])
        for box in self.flags.values():
            self.form.addRow(box)
            self._advanced_rows.append(box)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addStretch(1)
        self.set_advanced_visible(False)

        self.preset.currentIndexChanged.connect(self._on_preset)
        self.modality.currentIndexChanged.connect(self._on_value)
        for spin in self.spins.values():
            spin.valueChanged.connect(self._on_value)  # type: ignore[attr-defined]
        for box in self.flags.values():
            box.toggled.connect(self._on_value)
        self.seed.textChanged.connect(self._on_seed)
        self.set_settings(PRESETS["default"])

    # -- values --------------------------------------------------------------------------------
    def settings(self) -> GenerationSettings:
        """The settings the controls show (always valid: the ranges match the validation)."""
        values: dict[str, object] = {"modality": self.modality.currentData(), "split": self._split}
        for field in FIELDS:
            value = self.spins[field.name].value()  # type: ignore[attr-defined]
            # The "off" end of an optional field (and any negative number typed next to it) is None.
            if field.none_at_minimum and (value <= field.minimum or value < 0):
                value = None
            values[field.name] = value
        for name, box in self.flags.items():
            values[name] = box.isChecked()
        values["seed"] = int(self.seed.text()) if self.seed.text() else None
        return GenerationSettings(**values)  # type: ignore[arg-type]

    def set_settings(self, settings: GenerationSettings) -> None:
        """Show ``settings`` in the controls and select the matching preset (or "Custom")."""
        self._loading = True
        try:
            self._split = settings.split
            self.modality.setCurrentIndex(max(0, self.modality.findData(settings.modality)))
            for field in FIELDS:
                value = getattr(settings, field.name)
                if value is None:
                    value = field.minimum
                self.spins[field.name].setValue(value)  # type: ignore[attr-defined]
            for name, box in self.flags.items():
                box.setChecked(bool(getattr(settings, name)))
            self.seed.setText("" if settings.seed is None else str(settings.seed))
            self._select_matching_preset()
        finally:
            self._loading = False
        self.changed.emit()

    def apply_preset(self, name: str) -> None:
        """Load a preset's values, keeping the seed and the split mode."""
        current = self.settings()
        keep = {k: getattr(current, k) for k in _NOT_IN_PRESET}
        self.set_settings(PRESETS[name].replace(**keep))

    def preset_name(self) -> str:
        """The selected preset's key, or ``"custom"``."""
        return str(self.preset.currentData())

    def advanced_visible(self) -> bool:
        return self.advanced_button.isChecked()

    def set_advanced_visible(self, visible: bool) -> None:
        for widget in self._advanced_rows:
            self.form.setRowVisible(widget, visible)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if visible else Qt.ArrowType.RightArrow)
        if self.advanced_button.isChecked() != visible:
            self.advanced_button.setChecked(visible)

    # -- internals -----------------------------------------------------------------------------
    def _select_matching_preset(self) -> None:
        current = self.settings()
        neutral = {k: getattr(PRESETS["default"], k) for k in _NOT_IN_PRESET}
        name = next((n for n, p in PRESETS.items() if p.replace(**neutral) == current.replace(**neutral)),
                    CUSTOM)
        blocked = self.preset.blockSignals(True)
        self.preset.setCurrentIndex(self.preset.findData(name))
        self.preset.blockSignals(blocked)

    def _on_preset(self) -> None:
        name = self.preset_name()
        if name != CUSTOM and not self._loading:
            self.apply_preset(name)

    def _on_value(self) -> None:
        if self._loading:
            return
        self._select_matching_preset()
        self.changed.emit()

    def _on_seed(self) -> None:
        if not self._loading:
            self.changed.emit()
