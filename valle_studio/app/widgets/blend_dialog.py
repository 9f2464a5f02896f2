"""Save a blend of saved voices (experimental): pick two or more, give each a weight and the blend a name.

The blend is saved like any voice (:meth:`VoiceLibrary.save_blend
<valle_studio.studio.voices.VoiceLibrary.save_blend>`: the members' clips are copied into it) and then
chosen in the voice panel like one. The dialog says plainly what a blend is: the engine mixes the voices'
prompt embeddings frame by frame (``engine/model/prompt_mix.py``), which may or may not sound like a
voice in between.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from valle_studio.studio.voices import Voice, VoiceError, VoiceLibrary

EXPLANATION = ("<b>Experimental.</b> A blend mixes the chosen voices inside the model, at its reference-prompt "
               "embedding, with these weights (they are scaled to add up to 1). It may sound like a voice in "
               "between, like one of them, or like neither: listen before you rely on it. The clips are copied, "
               "so the blend keeps working if a voice is renamed or deleted.")


class BlendDialog(QDialog):
    """See the module docstring; :attr:`saved` is the new voice after ``exec()`` returns accepted."""

    def __init__(self, library: VoiceLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Blend voices")
        self.setObjectName("blendDialog")
        self.library = library
        self.saved: Voice | None = None
        self.rows: list[tuple[Voice, QCheckBox, QDoubleSpinBox]] = []
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Voice</b>"), 0, 0)
        grid.addWidget(QLabel("<b>Weight</b>"), 0, 1)
        for row, voice in enumerate((v for v in library.list() if not v.is_blend), start=1):
            check = QCheckBox(f"{voice.name}  ({voice.duration_s:.1f} s)")
            weight = QDoubleSpinBox()
            weight.setRange(0.05, 10.0)
            weight.setSingleStep(0.05)
            weight.setDecimals(2)
            weight.setValue(1.0)
            weight.setAccessibleName(f"Weight of {voice.name}")
            weight.setEnabled(False)
            check.toggled.connect(weight.setEnabled)
            check.toggled.connect(self._update)
            weight.valueChanged.connect(self._update)
            grid.addWidget(check, row, 0)
            grid.addWidget(weight, row, 1)
            self.rows.append((voice, check, weight))
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name of the blended voice")
        self.name.setAccessibleName("Name of the blended voice")
        self.name.textChanged.connect(self._update)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(grid)
        layout.addWidget(self.name)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self.resize(460, 320)
        self._update()

    def members(self) -> list[tuple[str, float]]:
        """The voices ticked, with their weights."""
        return [(voice.name, weight.value()) for voice, check, weight in self.rows if check.isChecked()]

    def save(self) -> None:
        try:
            self.saved = self.library.save_blend(self.name.text(), self.members())
        except VoiceError as exc:
            QMessageBox.warning(self, "Could not save the blend", str(exc))
            return
        self.accept()

    def _update(self) -> None:
        members = self.members()
        total = sum(w for _, w in members)
        if len(members) < 2:
            text, ok = "Tick at least two voices.", False
        else:
            text = "Mix: " + ", ".join(f"{name} {100 * w / total:.0f} %" for name, w in members)
            ok = bool(self.name.text().strip())
            if not ok:
                text += ". Give the blend a name."
        self.summary.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ok)
