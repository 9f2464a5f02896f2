"""The Transcribe window: what the model's speech-to-text head hears in a clip, beside what was asked.

It shows one :class:`~valle_studio.engine.quality.transcript.Transcript`: the phonemes asked for (the
take's text, phonemized; a reference clip has none), the phonemes heard, and the phoneme error rate
between the two ids sequences (the number the quality check judges). Heard phonemes the asked ones do
not have at that place are marked, so a listener sees where the take went wrong. Non-modal: closing it
while the transcription runs stops the job.
"""

from __future__ import annotations

import html
from difflib import SequenceMatcher

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from valle_studio.engine.progress import Progress
from valle_studio.engine.quality.thresholds import PHONEME_ERROR_RATE
from valle_studio.engine.quality.transcript import Transcript

NO_TEXT = "— (a reference clip has no text to compare with)"


def marked_heard(transcript: Transcript) -> str:
    """The heard IPA as rich text, with the symbols that differ from the asked ones underlined in red."""
    if transcript.asked_ipa is None:
        return html.escape(transcript.ipa)
    matcher = SequenceMatcher(a=transcript.asked_ipa, b=transcript.ipa, autojunk=False)
    parts = []
    for tag, _a0, _a1, b0, b1 in matcher.get_opcodes():
        piece = html.escape(transcript.ipa[b0:b1])
        parts.append(piece if tag == "equal" else f"<u style='color:#c83232'>{piece}</u>")
    return "".join(parts)


def error_words(rate: float | None) -> str:
    if rate is None:
        return "—"
    if rate >= PHONEME_ERROR_RATE.bad:
        judged = "the check calls this not the asked words"
    elif rate >= PHONEME_ERROR_RATE.suspect:
        judged = "the check calls this hard to understand"
    else:
        judged = "within what the check accepts"
    return f"{rate:.0%} of the asked phonemes heard wrong ({judged})"


class TranscriptDialog(QDialog):
    """See the module docstring. ``stop_requested``: closed while the job was still running."""

    stop_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcriptDialog")
        self.setWindowTitle(f"Transcribe: {title}")
        self.setMinimumWidth(520)
        self.running = True
        self.what = QLabel(html.escape(title))
        self.what.setWordWrap(True)
        self.asked = self._text_label("asked")
        self.heard = self._text_label("heard")
        self.heard.setText("<i>listening…</i>")
        self.rate = QLabel("—")
        self.rate.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        form = QFormLayout()
        form.addRow("Clip:", self.what)
        form.addRow("Asked:", self.asked)
        form.addRow("Heard:", self.heard)
        form.addRow("Error rate:", self.rate)
        note = QLabel("The model's own speech-to-text head, greedy. Several IPA symbols share one token, so the "
                      "error rate compares tokens, not letters.")
        note.setWordWrap(True)
        note.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(note)
        layout.addWidget(buttons)

    @staticmethod
    def _text_label(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setStyleSheet("font-size: 13pt")
        return label

    def set_asked(self, ipa: str | None) -> None:
        self.asked.setText(html.escape(ipa) if ipa else NO_TEXT)

    def show_progress(self, event: Progress) -> None:
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)

    def show_transcript(self, transcript: Transcript) -> None:
        self._stopped()
        self.set_asked(transcript.asked_ipa)
        self.heard.setText(marked_heard(transcript) or "<i>nothing</i>")
        self.heard.setToolTip(f"{len(transcript.ids)} phoneme tokens: {transcript.ids}")
        self.rate.setText(error_words(transcript.error_rate))

    def show_error(self, message: str) -> None:
        self._stopped()
        self.heard.setText(f"<span style='color:#c83232'>{html.escape(message)}</span>")

    def _stopped(self) -> None:
        self.running = False
        self.progress.hide()

    def closeEvent(self, event: object) -> None:
        if self.running:
            self.stop_requested.emit()
        super().closeEvent(event)  # type: ignore[arg-type]


__all__ = ["NO_TEXT", "TranscriptDialog", "error_words", "marked_heard"]
