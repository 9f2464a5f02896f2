"""The Studio tab's voice-conversion mode (experimental): a source clip whose words the chosen voice says.

Switched on, Generate converts instead of speaking the text: the source clip (chosen here, decoded off
the UI thread) keeps its length and timing, the voice comes from the voice panel, the text box holds the
source's transcript if the user knows it (empty: the model's own speech-to-text hears it). Whether the
loaded model can convert at all comes from its metadata (:meth:`set_support`): without NAR-len the mode
is off and the tooltip says why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from valle_studio.app.audio_bridge import AudioFileLoader
from valle_studio.audio.io import AudioClip
from valle_studio.core.clip import Clip
from valle_studio.engine.interfaces import TaskSupportProtocol

EXPERIMENTAL = ("Experimental (as upstream marks it): the chosen voice says the words of a source clip, with the "
                "source's length and timing. The text box holds the source's transcript; leave it empty and the "
                "model's own speech-to-text hears it.")


class ConvertPanel(QWidget):
    """See the module docstring. :attr:`active` and :meth:`source` are what Generate reads."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source: Clip | None = None
        self._source_name = ""
        self._pending = 0
        self._reason = "Load a model first."
        self.enable = QCheckBox("&Voice conversion (experimental)")
        self.enable.setObjectName("voiceConversion")
        self.enable.setToolTip(EXPERIMENTAL)
        self.choose = QPushButton("Source clip…")
        self.choose.setToolTip("The clip whose words are said in the chosen voice (WAV, FLAC, OGG or MP3)")
        self.source_label = QLabel("no source clip")
        self.source_label.setObjectName("convertSource")
        self.hint = QLabel(EXPERIMENTAL)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #b26a00")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.enable)
        row.addWidget(self.choose)
        row.addWidget(self.source_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.hint)
        self._loader = AudioFileLoader(self)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self.enable.toggled.connect(self._on_toggled)
        self.choose.clicked.connect(self._choose)
        self.set_support(None)

    # -- public --------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """The mode is on (Generate converts)."""
        return self.enable.isChecked() and self.enable.isEnabled()

    @property
    def ready(self) -> bool:
        """On, with a source clip: Generate can run."""
        return self.active and self._source is not None

    def source(self) -> Clip | None:
        return self._source

    def source_name(self) -> str:
        return self._source_name

    def set_support(self, support: TaskSupportProtocol | None) -> None:
        """What the loaded model allows (its ``vc`` entry); None: no model."""
        available = support is not None and support.available
        self._reason = "" if available else (support.reason if support is not None else "Load a model first.")
        self.enable.setEnabled(available)
        self.enable.setToolTip(EXPERIMENTAL if available else f"Voice conversion is not available: {self._reason}")
        self._update()

    def set_source(self, samples: np.ndarray, sample_rate: int, name: str) -> None:
        """Use ``samples`` ``[S]`` as the source clip."""
        self._source = Clip(np.asarray(samples, np.float32), int(sample_rate), name)
        self._source_name = name
        self._update()
        self.changed.emit()

    def load_file(self, path: str | Path) -> None:
        """Decode ``path`` in the background; it becomes the source clip."""
        self._pending = self._loader.load(Path(path))
        self.source_label.setText("Loading…")

    def shutdown(self) -> None:
        self._loader.shutdown()

    # -- internals -----------------------------------------------------------------------------
    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Source clip for voice conversion", "",
                                              "Audio (*.wav *.flac *.ogg *.mp3);;All files (*)")
        if path:
            self.load_file(path)

    def _on_loaded(self, ticket: int, clip: AudioClip) -> None:
        if ticket == self._pending:
            self._pending = 0
            self.set_source(clip.samples, clip.sample_rate, clip.source.name)

    def _on_failed(self, ticket: int, message: str) -> None:
        if ticket == self._pending:
            self._pending = 0
            self.source_label.setText(f"Could not open it: {message}")

    def _on_toggled(self) -> None:
        self._update()
        self.changed.emit()

    def _update(self) -> None:
        on = self.active
        self.choose.setVisible(on)
        self.source_label.setVisible(on)
        self.hint.setVisible(on)
        if self._source is not None:
            self.source_label.setText(f"{self._source_name} ({self._source.seconds:.1f} s)")
        elif not self._pending:
            self.source_label.setText("no source clip")
