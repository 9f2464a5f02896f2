"""The Best-of control beside the sampler: how many takes each Generate (and each batch line) makes.

"Best of N" generates N takes with seeds derived from the sampler's seed, checks each and keeps the
best; "Retry bad K" then tries up to K more while no take is good. Every take lands in the History
(or among the batch line's takes), the chosen one marked. The ranges are the engine's
(:mod:`valle_studio.engine.quality.options`), so the control cannot ask for something refused later.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QWidget

from valle_studio.engine.quality.options import MAX_BEST_OF, MAX_RETRY_BAD, QualityOptions


class BestOfControl(QWidget):
    """Two spin boxes, N and K; ``changed`` when either moves."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.best_of = QSpinBox()
        self.best_of.setObjectName("bestOf")
        self.best_of.setRange(1, MAX_BEST_OF)
        self.best_of.setPrefix("best of ")
        self.best_of.setAccessibleName("Best of")
        self.best_of.setToolTip("Generate this many takes (each with its own seed, derived from the seed above), "
                                "check each one and keep the best. Every take stays in the History.")
        self.retry = QSpinBox()
        self.retry.setObjectName("retryBad")
        self.retry.setRange(0, MAX_RETRY_BAD)
        self.retry.setPrefix("retry bad ")
        self.retry.setSpecialValueText("no retry")
        self.retry.setAccessibleName("Retry bad takes")
        self.retry.setToolTip("When no take is good, try up to this many more, one at a time, until one is.")
        label = QLabel("&Takes:")
        label.setBuddy(self.best_of)
        label.setToolTip("Every take is checked: does it say the words, does it stop, loop, fall silent, or "
                         "copy the reference?")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.best_of)
        layout.addWidget(self.retry)
        layout.addStretch(1)
        self.best_of.valueChanged.connect(lambda _v: self.changed.emit())
        self.retry.valueChanged.connect(lambda _v: self.changed.emit())

    def options(self) -> QualityOptions:
        """The options to generate with (the check is always on in the app)."""
        return QualityOptions(best_of=self.best_of.value(), retry_bad=self.retry.value())

    def set_options(self, best_of: int, retry_bad: int) -> None:
        """Show saved values (clamped to the ranges)."""
        self.best_of.setValue(max(1, min(MAX_BEST_OF, int(best_of))))
        self.retry.setValue(max(0, min(MAX_RETRY_BAD, int(retry_bad))))


__all__ = ["BestOfControl"]
