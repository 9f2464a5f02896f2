"""The LoRA control of the Studio tab: which voice adapter to merge into the model, and how strongly.

It shows the settings' two LoRA fields (``lora``, ``lora_strength``: their labels, tips and range come
from ``engine.settings.SPECS``): a choice of the LoRAs installed in the model store (download or import
them in the model manager, which "Manage…" opens) and a strength slider with its spin box, 0 to 1.5.
The engine merges the chosen LoRA into the weights when a take starts and takes it out exactly when
another (or none) is chosen (``engine/lora``). A LoRA named by a reused take or a project that is not
installed is shown as such, so the choice is never silently lost.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from valle_studio.engine.interfaces import ModelStoreProtocol
from valle_studio.engine.settings import SPECS, GenerationSettings

log = logging.getLogger(__name__)

NONE_LABEL = "None (the model as it is)"
_STRENGTH = SPECS["lora_strength"]
_SCALE = 100  # slider positions per unit of strength


class LoraPanel(QWidget):
    """See the module docstring. ``store`` lists the installed LoRAs."""

    changed = Signal()
    manage_requested = Signal()  # "Manage…": open the model manager

    def __init__(self, store: ModelStoreProtocol, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        assert _STRENGTH.range is not None and _STRENGTH.decimals is not None
        self.choice = QComboBox()
        self.choice.setObjectName("lora")
        self.choice.setAccessibleName(SPECS["lora"].title)
        self.choice.setToolTip(SPECS["lora"].tip)
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.choice.setMinimumContentsLength(12)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(int(_STRENGTH.range.low * _SCALE), int(_STRENGTH.range.high * _SCALE))
        self.slider.setSingleStep(int(_STRENGTH.step * _SCALE))
        self.slider.setPageStep(25)
        self.slider.setTickInterval(50)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip(_STRENGTH.tip)
        self.slider.setAccessibleName(_STRENGTH.title)
        self.strength = QDoubleSpinBox()
        self.strength.setObjectName("lora_strength")
        self.strength.setRange(_STRENGTH.range.low, _STRENGTH.range.high)
        self.strength.setSingleStep(_STRENGTH.step)
        self.strength.setDecimals(_STRENGTH.decimals)
        self.strength.setToolTip(_STRENGTH.tip)
        self.strength.setAccessibleName(_STRENGTH.title)
        self.manage = QPushButton("Manage…")
        self.manage.setToolTip("Download or import LoRAs in the model manager")
        self.note = QLabel("")
        self.note.setWordWrap(False)  # one short line: the group's height does not depend on the width
        self.note.setEnabled(False)  # drawn greyed: a hint

        label = QLabel("&LoRA")
        label.setBuddy(self.choice)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(label)
        top.addWidget(self.choice, 1)
        top.addWidget(self.manage)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        strength_label = QLabel("S&trength")
        strength_label.setBuddy(self.strength)
        bottom.addWidget(strength_label)
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.strength)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(bottom)
        layout.addWidget(self.note)

        self.strength.setValue(_STRENGTH.default)
        self.slider.setValue(round(_STRENGTH.default * _SCALE))
        self.choice.currentIndexChanged.connect(self._on_choice)
        self.slider.valueChanged.connect(lambda v: self.strength.setValue(v / _SCALE))
        self.strength.valueChanged.connect(self._on_strength)
        self.manage.clicked.connect(self.manage_requested)
        self.refresh()

    # -- values --------------------------------------------------------------------------------
    def values(self) -> dict[str, object]:
        """The two settings fields as the controls show them."""
        name = self.choice.currentData()
        return {"lora": name or "", "lora_strength": round(self.strength.value(), 2)}

    def set_values(self, settings: GenerationSettings) -> None:
        """Show the LoRA of ``settings`` (a reused take's, a saved set)."""
        blocked = self.blockSignals(True)
        try:
            self._select(settings.lora)
            self.strength.setValue(settings.lora_strength)
        finally:
            self.blockSignals(blocked)
        self._update()
        self.changed.emit()

    def refresh(self) -> None:
        """Re-read the installed LoRAs, keeping the choice."""
        current = self.choice.currentData() or ""
        blocked = self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItem(NONE_LABEL, "")
        for name in self._installed():
            self.choice.addItem(self._title(name), name)
        self.choice.blockSignals(blocked)
        self._select(current)
        self._update()

    # -- internals -----------------------------------------------------------------------------
    def _installed(self) -> list[str]:
        try:
            return list(self.store.installed_loras())
        except Exception:  # a store without LoRAs (or a broken folder) must not break the window
            log.debug("no LoRAs listed", exc_info=True)
            return []

    def _title(self, name: str) -> str:
        try:
            return str(self.store.entry(name).display_name).removeprefix("LoRA: ")
        except Exception:  # an imported LoRA has no catalog entry
            return name

    def _select(self, name: str) -> None:
        index = self.choice.findData(name)
        if index < 0 and name:
            self.choice.addItem(f"{name} (not installed)", name)
            index = self.choice.count() - 1
        blocked = self.choice.blockSignals(True)
        self.choice.setCurrentIndex(max(index, 0))
        self.choice.blockSignals(blocked)

    def _on_choice(self) -> None:
        self._update()
        self.changed.emit()

    def _on_strength(self, value: float) -> None:
        blocked = self.slider.blockSignals(True)
        self.slider.setValue(round(value * _SCALE))
        self.slider.blockSignals(blocked)
        self._update()
        self.changed.emit()

    def _update(self) -> None:
        name = self.choice.currentData() or ""
        self.slider.setEnabled(bool(name))
        self.strength.setEnabled(bool(name))
        if not name:
            count = self.choice.count() - 1
            self.note.setText("No LoRA: the model speaks as it is." if count else
                              "No LoRA installed: get one with Manage….")
        elif "(not installed)" in self.choice.currentText():
            self.note.setText("Not installed: a take would fail (Manage…).")
        else:
            self.note.setText(f"Merged into the model at {self.strength.value():.2f} (1 = as trained).")
