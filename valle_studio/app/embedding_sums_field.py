"""The model manager's "Embedding sums" field: auto, legacy or fixed, for the selected installed model.

*Auto* lets the file decide (``engine/embedding_sums.py``: the published ``ar+nar-llama-8`` is known
wherever it is loaded from, and a trained v1 file without a length head counts as pre-fix). *Legacy* and
*fixed* force the rule for that file, by its fingerprint, so it holds by catalog name, by path and after
an import alike. Changing it emits :attr:`EmbeddingSumsField.chosen`; the dialog then asks for a reload.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from valle_studio.engine.interfaces import ModelStoreProtocol

log = logging.getLogger(__name__)

CHOICES = {
    "auto": "Auto (decided by the file)",
    "legacy": "Legacy (trained before upstream's 2025-03 fix)",
    "fixed": "Fixed (upstream's current sums)",
}
TIP = ("How the model sums its audio embeddings. The published ar+nar-llama-8 was trained before upstream "
       "fixed an off-by-one in March 2025 and sounds right only with the legacy sums; Auto recognises it. "
       "Choose Legacy or Fixed for a file of your own that Auto gets wrong.")


class EmbeddingSumsField(QComboBox):
    """See the module docstring. :meth:`show_model` follows the dialog's selection."""

    chosen = Signal(str, str)  # model name, "auto" | "legacy" | "fixed"

    def __init__(self, store: ModelStoreProtocol, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setAccessibleName("Embedding sums")
        self.setToolTip(TIP)
        for key, label in CHOICES.items():
            self.addItem(label, key)
        self._name: str | None = None
        self.currentIndexChanged.connect(self._on_change)
        self.show_model(None)

    def show_model(self, name: str | None) -> None:
        """Show the choice recorded for installed model ``name``; None (nothing installed chosen) disables it."""
        choice = "auto"
        if name is not None:
            try:
                choice = self.store.embedding_sums(name)
            except Exception as exc:  # not installed (any more), unreadable file
                log.info("embedding sums of %s unknown: %s", name, exc)
                name = None
        self._name = name
        blocked = self.blockSignals(True)
        self.setCurrentIndex(max(0, self.findData(choice)))
        self.blockSignals(blocked)
        self.setEnabled(name is not None)

    def _on_change(self) -> None:
        if self._name is None:
            return
        choice = str(self.currentData())
        self.store.set_embedding_sums(self._name, choice)
        self.chosen.emit(self._name, choice)
