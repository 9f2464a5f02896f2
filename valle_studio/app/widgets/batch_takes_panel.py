"""The takes of the selected batch line: list, waveform, play, approve, delete, transcribe.

Each take shows its quality check (a badge icon in the verdict's colour and the verdict's word; the
reasons in its tooltip); the take a best-of run chose is starred.

Auditioning goes through the window's shared :class:`~valle_studio.app.audio_bridge.PlaybackController`
(this panel passes itself as the owner), so a take plays in the same player as the main window's
output and stops whatever else was playing.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.audio_bridge import PlaybackController
from valle_studio.app.widgets.verdict_badge import badge_icon, reasons_html, word
from valle_studio.app.widgets.waveform_view import WaveformView
from valle_studio.audio.io import AudioError
from valle_studio.batch.project import BatchProject
from valle_studio.batch.quality import group_takes, is_chosen, take_quality
from valle_studio.batch.rows import Row, Take

log = logging.getLogger(__name__)
TakeIdRole = Qt.ItemDataRole.UserRole + 1


def take_label(number: int, take: Take, approved: bool, chosen: bool = False) -> str:
    """``"✓ Take 2 · 1.4 s · seed 7 · Suspect ★"``: approved mark, length, seed, verdict, chosen star."""
    mark = "✓ " if approved else ""
    return (f"{mark}Take {number} · {take.duration_s:.1f} s · seed {take.seed} · {word(take_quality(take))}"
            + (" ★" if chosen else ""))


class BatchTakesPanel(QWidget):
    """See the module docstring. ``changed(row_id)``: a take was approved or deleted."""

    changed = Signal(str)
    error = Signal(str)
    transcribe_requested = Signal(object, int, object)  # samples [S] float32, sample rate, the Take

    def __init__(self, playback: PlaybackController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        self.project: BatchProject | None = None
        self.row: Row | None = None
        self._loaded: str | None = None  # take id whose audio the player holds
        self.title = QLabel("Select a line to see its takes.")
        self.title.setWordWrap(True)
        self.takes = QListWidget()
        self.takes.setAccessibleName("Takes of the selected line")
        self.takes.setMaximumWidth(260)
        self.waveform = WaveformView()
        self.waveform.setAccessibleName("Waveform of the selected take")
        self.waveform.set_placeholder_text("No take yet")
        self.waveform.setMinimumHeight(80)
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the selected take (Space in the table plays the approved one)")
        self.approve_button = QPushButton("Approve")
        self.approve_button.setToolTip("Use this take for the line: it is the one exported")
        self.delete_button = QPushButton("Delete take")
        self.transcribe_button = QPushButton("Transcribe")
        self.transcribe_button.setToolTip("Hear this take through the model's speech-to-text head, beside the "
                                          "phonemes of its text")

        buttons = QHBoxLayout()
        for button in (self.play_button, self.approve_button, self.delete_button, self.transcribe_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.waveform, 1)
        right.addLayout(buttons)
        body = QHBoxLayout()
        body.addWidget(self.takes)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)

        self.takes.currentItemChanged.connect(lambda *_: self._on_take_selected())
        self.takes.itemDoubleClicked.connect(lambda _item: self.play_selected(restart=True))
        self.play_button.clicked.connect(lambda: self.play_selected())
        self.approve_button.clicked.connect(self.approve_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.transcribe_button.clicked.connect(self.transcribe_selected)
        self.waveform.seek_requested.connect(self._seek)
        playback.position_changed.connect(self._on_position)
        playback.state_changed.connect(lambda _s: self._update_buttons())
        playback.loaded.connect(self._update_buttons)
        self._update_buttons()

    # -- showing a row --------------------------------------------------------------------------
    def show_row(self, project: BatchProject | None, row: Row | None) -> None:
        """Show ``row``'s takes, the approved one selected."""
        self.project, self.row = project, row
        self.takes.blockSignals(True)
        self.takes.clear()
        if row is None or project is None:
            self.title.setText("Select a line to see its takes.")
        else:
            number = project.index_of(row.id) + 1
            count = f"{len(row.takes)} take{'s' if len(row.takes) != 1 else ''}" if row.takes else "no takes yet"
            self.title.setText(f"<b>Line {number}</b> · {count}")
            for n, take in enumerate(row.takes, start=1):
                chosen = is_chosen(take) and len(group_takes(row, take)) > 1
                item = QListWidgetItem(badge_icon(take_quality(take)), take_label(n, take, take.id == row.approved,
                                                                                 chosen))
                item.setData(TakeIdRole, take.id)
                best = f"<p>Chosen as the best of {len(group_takes(row, take))} takes.</p>" if chosen else ""
                item.setToolTip(f"<p>{reasons_html(take_quality(take))}</p>{best}<p>Generated {take.created} with "
                                f"{take.model or 'the model'}; voice {take.voice}</p>")
                self.takes.addItem(item)
                if take.id == row.approved:
                    self.takes.setCurrentItem(item)
        self.takes.blockSignals(False)
        self._on_take_selected()

    def selected_take(self) -> Take | None:
        item = self.takes.currentItem()
        if item is None or self.row is None:
            return None
        try:
            return self.row.take(item.data(TakeIdRole))
        except KeyError:
            return None

    # -- actions ----------------------------------------------------------------------------------
    def play_take(self, take: Take, *, restart: bool = True) -> None:
        """Load ``take`` into the shared player (if needed) and play it."""
        if not self.playback.available:
            self.error.emit(self.playback.unavailable_reason or "Playback is not available.")
            return
        if self._owns_player() and self._loaded == take.id and not restart:
            self.playback.toggle()
            return
        clip = self._load(take)
        if clip is None:
            return
        self.playback.load(clip[0], clip[1], owner=self)
        self._loaded = take.id
        self.playback.play(0.0)

    def play_selected(self, *, restart: bool = False) -> None:
        take = self.selected_take()
        if take is not None:
            self.play_take(take, restart=restart)

    def approve_selected(self) -> None:
        take = self.selected_take()
        if take is None or self.project is None or self.row is None:
            return
        self.project.approve(self.row.id, take.id)
        self.show_row(self.project, self.row)
        self.changed.emit(self.row.id)

    def transcribe_selected(self) -> None:
        take = self.selected_take()
        clip = self._load(take) if take is not None else None
        if take is not None and clip is not None:
            self.transcribe_requested.emit(clip[0], clip[1], take)

    def delete_selected(self) -> None:
        take = self.selected_take()
        if take is None or self.project is None or self.row is None:
            return
        answer = QMessageBox.question(self, "Delete take", "Delete this take? Its audio file is removed.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        if self._owns_player() and self._loaded == take.id:
            self.playback.stop()
        self.project.delete_take(self.row.id, take.id)
        self.show_row(self.project, self.row)
        self.changed.emit(self.row.id)

    # -- internals --------------------------------------------------------------------------------
    def _load(self, take: Take) -> tuple[np.ndarray, int] | None:
        """``(samples [S] float32, sample_rate)`` of a take, or None (and ``error``) when unreadable."""
        assert self.project is not None
        try:
            return self.project.take_audio(take)
        except AudioError as exc:
            self.error.emit(str(exc))
            return None

    def _owns_player(self) -> bool:
        return self.playback.owner is self

    def _on_take_selected(self) -> None:
        take = self.selected_take()
        if take is None:
            self.waveform.clear()
        else:
            clip = self._load(take)
            if clip is not None:
                self.waveform.set_audio(*clip)
                self.waveform.set_cursor(0.0)
        self._update_buttons()

    def _on_position(self, seconds: float) -> None:
        take = self.selected_take()
        if self._owns_player() and take is not None and take.id == self._loaded:
            self.waveform.set_cursor(seconds)

    def _seek(self, seconds: float) -> None:
        take = self.selected_take()
        if take is None:
            return
        if not (self._owns_player() and self._loaded == take.id):
            self.play_take(take)
        self.playback.seek(seconds)
        self.waveform.set_cursor(seconds)

    def _update_buttons(self) -> None:
        take = self.selected_take()
        playing = self._owns_player() and self.playback.is_playing and take is not None and take.id == self._loaded
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setEnabled(take is not None and self.playback.available)
        if not self.playback.available:
            self.play_button.setToolTip(self.playback.unavailable_reason or "Playback is not available.")
        approved = self.row is not None and take is not None and take.id == self.row.approved
        self.approve_button.setEnabled(take is not None and not approved)
        self.delete_button.setEnabled(take is not None)
        self.transcribe_button.setEnabled(take is not None)
