"""Sampler settings: presets, the everyday controls, and the rest under "Advanced".

The panel produces a :class:`GenerationSettings` (:meth:`SamplerPanel.settings`) and can show one
(:meth:`SamplerPanel.set_settings`, used by "reuse settings"). Every control is built from the settings'
one declaration (``engine.settings.SPECS``, turned into widget geometry by :mod:`.sampler_fields`), in
declaration order, with the spec's label, tip and "basic" flag; the ranges match the validation, so an
invalid value cannot be entered. The presets, their labels and tips come from ``engine.settings``.
The text split mode belongs to the text panel; :meth:`settings` keeps whatever split it is given.
"""

from __future__ import annotations

from typing import Any

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

from valle_studio.app.widgets.compact import compact_button, fitting_combo, short_label
from valle_studio.app.widgets.sampler_fields import (
    CHOICES,
    FIELDS,
    FLAGS,
    MAX_SEED,
    SEED,
    TOKENS,
    NumberField,
)
from valle_studio.engine.setting_spec import FieldSpec, SettingsError
from valle_studio.engine.settings import PRESET_LIST, PRESETS, SPECS, GenerationSettings, Preset

CUSTOM = "custom"
# Fields a preset does not touch: the seed is the user's, the split mode the text panel's, the LoRA the
# LoRA control's.
_NOT_IN_PRESET = ("seed", "split", "lora", "lora_strength")
_OTHER_PANELS = tuple(s.name for s in SPECS.values() if s.panel != "sampler")


class SeedValidator(QRegularExpressionValidator):
    """Digits only, at most :data:`MAX_SEED` (the settings' limit); empty means "random"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QRegularExpression(r"\d{0,19}"), parent)

    def validate(self, text: str, pos: int) -> object:
        state = super().validate(text, pos)
        base = state[0] if isinstance(state, tuple) else state
        if base == QValidator.State.Acceptable and text and int(text) > MAX_SEED:
            return QValidator.State.Invalid, text, pos
        return state


class TokensValidator(QValidator):
    """A list of token ids as the settings accept it (``spec.parse``); digits, commas and spaces may be
    typed on the way there."""

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec

    def validate(self, text: str, pos: int) -> object:
        if any(not (ch.isdigit() or ch in ", ") for ch in text):
            return QValidator.State.Invalid, text, pos
        try:
            self.spec.parse(text)
        except SettingsError:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos


def _tokens_edit(spec: FieldSpec) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(spec.name)
    edit.setAccessibleName(spec.title)
    edit.setToolTip(spec.tip)
    edit.setPlaceholderText("none")
    edit.setValidator(TokensValidator(spec, edit))
    return edit


def _spin(field: NumberField) -> QSpinBox | QDoubleSpinBox:
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


def _add_item(combo: QComboBox, label: str, data: object, tip: str) -> None:
    """One item, shown by its short label; the whole label and the tip are its tooltip."""
    short = short_label(label)
    whole = label.replace("&", "")
    combo.addItem(short, data)
    combo.setItemData(combo.count() - 1, f"{whole}: {tip}" if tip and short != label else (tip or whole),
                      Qt.ItemDataRole.ToolTipRole)


def _fit(combo: QComboBox) -> None:
    """Room for the longest short item text (never cut), however long the full labels are."""
    fitting_combo(combo, max((len(combo.itemText(i)) for i in range(combo.count())), default=6))


def _combo(spec: FieldSpec) -> QComboBox:
    """A combo box of an enum setting: its choices' short labels, with the whole label and tip as tooltips."""
    combo = QComboBox()
    combo.setAccessibleName(spec.title)
    combo.setObjectName(spec.name)
    for choice in spec.choices:
        _add_item(combo, choice.label, choice.value, choice.tip)
    combo.setToolTip(spec.tip)
    _fit(combo)
    return combo


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
        self._modality_tips: dict[str, str] = {}  # each modality item's own tooltip (set_capabilities)
        self._split = "sentences"
        self._loading = False
        # The fixed presets, plus a measured one ("Fast on this CPU", set_measured_preset) after them.
        self._presets: dict[str, GenerationSettings] = dict(PRESETS)
        self._others = GenerationSettings()  # fields other panels show, kept as they were given
        self._last_tokens: dict[str, tuple[int, ...]] = {}

        self.preset = QComboBox()
        self.preset.setAccessibleName("Preset")
        for preset in PRESET_LIST:
            _add_item(self.preset, preset.label, preset.name, preset.tip)
        self.preset.addItem("Custom", CUSTOM)
        fitting_combo(self.preset, 8)  # "Expressive" fits: "x" is wider than most letters
        self.preset.setToolTip("Named starting points. Changing any value below makes the preset 'Custom'.")

        self.choices: dict[str, QComboBox] = {spec.name: _combo(spec) for spec in CHOICES}
        self.modality = self.choices["modality"]
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {f.name: _spin(f) for f in FIELDS}
        self.tokens: dict[str, QLineEdit] = {spec.name: _tokens_edit(spec) for spec in TOKENS}
        self.flags: dict[str, QCheckBox] = {}
        for name, label, tip in FLAGS:
            box = QCheckBox(label)
            box.setToolTip(tip)
            box.setObjectName(name)
            self.flags[name] = box

        self.seed = QLineEdit()
        self.seed.setObjectName(SEED.name)
        self.seed.setAccessibleName(SEED.title)
        self.seed.setPlaceholderText(SEED.off_text)
        self.seed.setValidator(SeedValidator(self.seed))
        self.seed.setToolTip(SEED.tip)
        self.random_seed = QPushButton("&Random")
        self.random_seed.setToolTip("Clear the seed: every generation draws a new random one.")
        self.random_seed.clicked.connect(self.seed.clear)
        compact_button(self.random_seed)  # the seed field beside it keeps room for "random"
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

        # One form for both parts, so labels line up; the advanced rows are hidden, not removed. Rows follow
        # the declaration order: the basic settings, "Advanced", then the rest.
        self.form = QFormLayout()
        # In a narrow column a long label goes above its field instead of widening the window.
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.form.addRow(_label("Pr&eset", self.preset), self.preset)
        self._advanced_rows: list[QWidget] = []
        for spec in (s for s in SPECS.values() if s.basic):
            self._add_row(spec, seed_row)
        self.form.addRow(self.advanced_button)
        for spec in (s for s in SPECS.values() if not s.basic):
            self._add_row(spec, seed_row)
            widget = self._widget(spec)
            if widget is not None:
                self._advanced_rows.append(widget)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addStretch(1)
        self.set_advanced_visible(False)

        self.preset.currentIndexChanged.connect(self._on_preset)
        for combo in self.choices.values():
            combo.currentIndexChanged.connect(self._on_value)
        for spin in self.spins.values():
            spin.valueChanged.connect(self._on_value)
        for box in self.flags.values():
            box.toggled.connect(self._on_value)
        for edit in self.tokens.values():
            edit.editingFinished.connect(self._on_value)
        self.seed.textChanged.connect(self._on_seed)
        self.set_settings(PRESETS["default"])

    # -- values --------------------------------------------------------------------------------
    def settings(self) -> GenerationSettings:
        """The settings the controls show (always valid: the ranges match the validation)."""
        # what the controls hold; GenerationSettings checks every value
        values: dict[str, Any] = {name: combo.currentData() for name, combo in self.choices.items()}
        values["split"] = self._split
        for field in FIELDS:
            value = self.spins[field.name].value()
            # The "off" position of an optional field, or anything typed below its range, is None.
            limits = SPECS[field.name].range
            assert limits is not None  # every number field has a range
            values[field.name] = None if field.none_at_minimum and value < limits.low else value
        for name, box in self.flags.items():
            values[name] = box.isChecked()
        for name, edit in self.tokens.items():
            values[name] = self._tokens_value(name, edit)
        values["seed"] = int(self.seed.text()) if self.seed.text() else None
        # The LoRA control's fields keep what was shown last (see set_settings); the split is the text panel's.
        values.update({name: getattr(self._others, name) for name in _OTHER_PANELS if name != "split"})
        return GenerationSettings(**values)

    def _tokens_value(self, name: str, edit: QLineEdit) -> tuple[int, ...]:
        """The ids typed, or the last valid list while the text is half typed (the validator allows that)."""
        try:
            value: tuple[int, ...] = SPECS[name].parse(edit.text())
        except SettingsError:
            value = self._last_tokens.get(name, ())
        self._last_tokens[name] = value
        return value

    def set_settings(self, settings: GenerationSettings) -> None:
        """Show ``settings`` in the controls and select the matching preset (or "Custom")."""
        self._loading = True
        try:
            self._split = settings.split
            self._others = settings
            for name, edit in self.tokens.items():
                value = getattr(settings, name)
                self._last_tokens[name] = value
                edit.setText(SPECS[name].shown(value))
            for name, combo in self.choices.items():
                combo.setCurrentIndex(max(0, combo.findData(getattr(settings, name))))
            for field in FIELDS:
                value = getattr(settings, field.name)
                if value is None:
                    value = field.minimum
                self.spins[field.name].setValue(value)
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
        self.set_settings(self._presets[name].replace(**keep))

    def set_measured_preset(self, preset: Preset | None) -> None:
        """Offer ``preset`` (derived from a benchmark of this machine) after the fixed presets, or remove it
        (None). It never replaces one of them: a name of a fixed preset is refused."""
        if preset is not None and preset.name in PRESETS:
            raise ValueError(f"a measured preset cannot replace the {preset.name!r} preset")
        blocked = self.preset.blockSignals(True)
        for name in [n for n in self._presets if n not in PRESETS]:
            self.preset.removeItem(self.preset.findData(name))
            del self._presets[name]
        if preset is not None:
            index = self.preset.findData(CUSTOM)
            self.preset.insertItem(index, short_label(preset.label), preset.name)
            self.preset.setItemData(index, f"{preset.label}: {preset.tip}", Qt.ItemDataRole.ToolTipRole)
            self._presets[preset.name] = preset.settings
        self.preset.blockSignals(blocked)
        self._select_matching_preset()

    # -- hook (helper "models", issue 17): the loaded model's abilities decide the Modality choices ----------
    def set_capabilities(self, unavailable: dict[str, str]) -> str | None:
        """Disable the modalities in ``unavailable`` (value: why, as the tooltip); a chosen one falls back to
        "auto". Returns the modality that was dropped, if any, for the window's notice."""
        model = self.modality.model()
        dropped = None
        for i in range(self.modality.count()):
            key = str(self.modality.itemData(i))
            item = model.item(i)  # type: ignore[attr-defined]  # a combo box's own QStandardItemModel
            if key not in self._modality_tips:  # the item's own description, kept for when it is possible again
                self._modality_tips[key] = item.toolTip()
            item.setEnabled(key not in unavailable)
            item.setToolTip(unavailable.get(key, self._modality_tips[key]))
        if str(self.modality.currentData()) in unavailable:
            dropped = str(self.modality.currentData())
            self.modality.setCurrentIndex(self.modality.findData("auto"))
        return dropped

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
    def _widget(self, spec: FieldSpec) -> QWidget | None:
        """The control of ``spec`` in this panel (None: another panel shows it)."""
        if spec.name == SEED.name:
            return self.seed
        for controls in (self.choices, self.spins, self.flags, self.tokens):
            if spec.name in controls:
                return controls[spec.name]
        return None

    def _add_row(self, spec: FieldSpec, seed_row: QHBoxLayout) -> None:
        widget = self._widget(spec)
        if widget is None:
            return
        if isinstance(widget, QCheckBox):
            self.form.addRow(widget)  # a check box carries its own label
        elif widget is self.seed:
            self.form.addRow(_label(spec.label, widget), seed_row)
        else:
            self.form.addRow(_label(spec.label, widget), widget)

    def _select_matching_preset(self) -> None:
        current = self.settings()
        neutral = {k: getattr(PRESETS["default"], k) for k in _NOT_IN_PRESET}
        name = next((n for n, p in self._presets.items() if p.replace(**neutral) == current.replace(**neutral)),
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
