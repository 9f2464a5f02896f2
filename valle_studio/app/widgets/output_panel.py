"""The output: waveform with a playback cursor, play/pause, seek by clicking, export.

It takes the :class:`~valle_studio.app.audio_bridge.PlaybackController` in ``__init__`` and shows
one clip at a time (the newest take, or the take being auditioned). When there is no audio device
the play button stays disabled and says why, in its tooltip and in a line under the waveform.

A streamed generation (:mod:`valle_studio.app.stream_bridge`) fills the panel as the audio arrives:
:meth:`OutputPanel.begin_stream`, :meth:`~OutputPanel.append_stream`, then :meth:`~OutputPanel.end_stream`
(or :meth:`~OutputPanel.stop_stream` on cancel); the waveform grows and the player plays on gaplessly.

Export (issue 17) runs on a :class:`~valle_studio.app.jobs.background.BackgroundTask`: the watermark is
embedded and confirmed, the file tagged and written and the audit log appended
(:func:`valle_studio.studio.provenance_export.export_clip`) while the button says "Exporting…" and is
disabled; ``exported(path)`` follows, or a one-sentence error dialog.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app import theme
from valle_studio.app.audio_bridge import PlaybackController
from valle_studio.app.icons import action_icon
from valle_studio.app.jobs.background import BackgroundTask
from valle_studio.app.widgets.compact import compact_button
from valle_studio.app.widgets.elided_label import ElidedLabel
from valle_studio.app.widgets.progress_panel import format_seconds
from valle_studio.app.widgets.waveform_view import WaveformView
from valle_studio.core.provenance import Provenance
from valle_studio.studio.audit import AuditLog
from valle_studio.studio.provenance_export import ExportOutcome, export_clip

log = logging.getLogger(__name__)

#: Save-dialog filter -> extension; the first is the default.
EXPORT_FILTERS: dict[str, str] = {
    "WAV audio (*.wav)": ".wav",
    "FLAC audio, lossless and smaller (*.flac)": ".flac",
    "Ogg Vorbis audio, compressed (*.ogg)": ".ogg",
}


def suggested_name(text: str, seed: int | None) -> str:
    """A file name from the first words of the text: ``"hello-there_seed42"``."""
    words = re.findall(r"\w+", text.lower())[:6]
    stem = "-".join(words)[:48] or "take"
    return f"{stem}_seed{seed}" if seed is not None else stem


def with_extension(path: str, chosen_filter: str) -> Path:
    """Add the chosen format's extension when the name has none of the offered ones."""
    result = Path(path)
    if result.suffix.lower() not in EXPORT_FILTERS.values():
        result = result.with_name(result.name + EXPORT_FILTERS.get(chosen_filter, ".wav"))
    return result


class OutputPanel(QWidget):
    """Waveform, transport and export for the current clip."""

    exported = Signal(Path)
    export_finished = Signal(object)  # ExportOutcome: the path, its provenance record, the watermark check
    export_failed = Signal(str)
    clip_changed = Signal()  # a clip was shown or cleared

    def __init__(self, playback: PlaybackController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        self.samples: np.ndarray | None = None
        self.sample_rate = 0
        self.export_dir = ""
        self.export_filter = next(iter(EXPORT_FILTERS))
        self._name = "take"
        self._cursor = 0.0
        self._streaming = False  # audio is still arriving (begin_stream .. end_stream)
        self._playing_icon = False  # the Play button shows Pause
        #: What the current clip is (text, voice, model); the window sets it with each take it shows.
        self.provenance: Provenance | None = None
        #: Asked at each export: embed the watermark? (the window reads the Preferences setting here)
        self.watermark_enabled: Callable[[], bool] = lambda: True
        self.audit = AuditLog()
        self._export_task: BackgroundTask | None = None

        # The take's text: one elided line (the whole text in its tooltip), so a long take never widens
        # or heightens the panel.
        self.title = ElidedLabel("No take yet", minimum_chars=6)
        self.title.setObjectName("outputTitle")
        self.waveform = WaveformView()
        self.waveform.setAccessibleName("Waveform of the current take")
        self.waveform.setToolTip("Click to move the playback cursor there.")
        self.waveform.setMinimumHeight(96)

        # Drawn in the palette's colours (app/icons.py) and redrawn on a theme change: Qt's standard media
        # icons are dark on dark in the Dark appearance.
        self.play = QPushButton(action_icon("play"), "Play")
        self.play.setObjectName("play")
        self.time = ElidedLabel("0:00.0 / 0:00.0", minimum_chars=6)
        self.time.setObjectName("playTime")
        self.export = QPushButton(action_icon("export"), "&Export…")
        self.export.setObjectName("export")
        self.export.setToolTip("Save this take as WAV, FLAC or Ogg Vorbis.")
        self.play_while_generating = QCheckBox("Play &while generating")  # beside the title: the row is full
        self.play_while_generating.setObjectName("playWhileGenerating")
        self.play_while_generating.setChecked(playback.available)
        self.device_note = ElidedLabel("", minimum_chars=8)  # one line: the whole sentence is its tooltip
        self.device_note.setObjectName("deviceNote")

        compact_button(self.play, "Play", "Pause")
        compact_button(self.export)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.play_while_generating)
        row = QHBoxLayout()
        row.addWidget(self.play)
        row.addWidget(self.time, 1)
        row.addWidget(self.export)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.waveform, 1)
        layout.addLayout(row)
        layout.addWidget(self.device_note)

        self.play.clicked.connect(self.toggle)
        self.export.clicked.connect(self.ask_export)
        self.waveform.seek_requested.connect(self.seek)
        playback.position_changed.connect(self._on_position)
        playback.state_changed.connect(self._on_state)
        theme.theme_changes.changed.connect(self._on_theme)
        playback.loaded.connect(self._on_loaded)
        playback.error.connect(self._on_error)
        self._update_enabled()

    # -- clip ------------------------------------------------------------------------------
    def set_clip(self, samples: np.ndarray, sample_rate: int, *, title: str, name: str,
                 streamed: bool = False, provenance: Provenance | None = None) -> None:
        """Show and load a clip: ``samples`` mono float32 ``[S]``. ``name`` seeds the export file name,
        ``provenance`` (text, voice, model of the take) goes into the exported file's tags and the audit log.

        ``streamed``: the clip is the one that was just streamed in; the player carries on where it is.
        """
        self.provenance = provenance
        if streamed and self._streaming_clip(samples):
            self._streaming = False
            self._name = name
            self.title.setText(title)
            self.clip_changed.emit()
            return
        self._streaming = False
        self.samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.sample_rate = int(sample_rate)
        self._name = name
        self.title.setText(title)
        self.waveform.set_audio(self.samples, self.sample_rate)
        self._cursor = 0.0
        self.waveform.set_cursor(0.0)
        if self.playback.available:
            self.playback.load(self.samples, self.sample_rate, owner=self)
        self._show_time(0.0)
        self._update_enabled()
        self.clip_changed.emit()

    def clear(self) -> None:
        if self._owns_playback():
            self.playback.stop()
        self._streaming = False
        self.samples = None
        self.sample_rate = 0
        self.title.setText("No take yet")
        self.waveform.clear()
        self._show_time(0.0)
        self._update_enabled()
        self.clip_changed.emit()

    # -- streaming -------------------------------------------------------------------------
    @property
    def streaming(self) -> bool:
        """True while a streamed take is still arriving."""
        return self._streaming

    def begin_stream(self, samples: np.ndarray, sample_rate: int, *, title: str, play: bool) -> None:
        """Show the first chunk (``[S]`` float32) of a take being generated; with ``play``, start it."""
        self.samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.sample_rate = int(sample_rate)
        self._streaming = True
        self.title.setText(title)
        self.waveform.set_audio(self.samples, self.sample_rate)
        self._cursor = 0.0
        self.waveform.set_cursor(0.0)
        if play and self.playback.available:
            self.playback.load(self.samples, self.sample_rate, owner=self, complete=False)
            self.playback.play()
        self._show_time(0.0)
        self._update_enabled()
        self.clip_changed.emit()

    def append_stream(self, samples: np.ndarray) -> None:
        """Add the next chunk: the waveform grows and, if this take is playing, the player plays it next."""
        if not self._streaming or self.samples is None:
            return
        chunk = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.samples = np.concatenate([self.samples, chunk])
        self.waveform.append(chunk)
        if self._owns_playback():
            self.playback.append(chunk)
        self._show_time(self._cursor)

    def end_stream(self) -> None:
        """The last chunk is in: playback stops when it reaches the end."""
        if self._streaming and self._owns_playback():
            self.playback.mark_complete()

    def stop_stream(self, title: str) -> None:
        """The generation stopped early: stop playing; the audio so far stays visible under ``title``."""
        if not self._streaming:
            return
        self._streaming = False
        if self._owns_playback():
            self.playback.stop()
        self.title.setText(title)

    def _streaming_clip(self, samples: np.ndarray) -> bool:
        current = self.samples
        return current is not None and len(current) == len(samples) and np.array_equal(current, samples)

    @property
    def duration_s(self) -> float:
        return 0.0 if self.samples is None or not self.sample_rate else len(self.samples) / self.sample_rate

    # -- transport -------------------------------------------------------------------------
    def toggle(self) -> None:
        """Play or pause (Space)."""
        if self.samples is None or not self.playback.available:
            return
        if not self._owns_playback():  # the voice panel auditioned a reference meanwhile
            self._reclaim(self._cursor)
            self.playback.play()
        else:
            self.playback.toggle()

    def play_from_start(self) -> None:
        """Play the clip from its beginning (after a take is auditioned from the history)."""
        if self.samples is None or not self.playback.available:
            return
        if not self._owns_playback():
            self._reclaim(0.0)
        self.playback.seek(0.0)
        self.playback.play()

    def seek(self, seconds: float) -> None:
        """Move the cursor (and playback, if this clip is loaded) to ``seconds``."""
        seconds = max(0.0, min(seconds, self.duration_s))
        self._on_position(seconds, force=True)
        if self.samples is not None and self.playback.available:
            if not self._owns_playback():
                self._reclaim(seconds)
            self.playback.seek(seconds)

    # -- export ----------------------------------------------------------------------------
    @property
    def exporting(self) -> bool:
        return self._export_task is not None

    def clip_provenance(self) -> Provenance:
        """The record the export writes: the take's (set by the window), else the shown title."""
        if self.provenance is not None:
            return self.provenance
        return Provenance(text=self.title.text(), voice="", model="")

    def export_to(self, path: str | Path) -> ExportOutcome:
        """Write the clip to ``path`` now, on the calling thread (the extension picks WAV, FLAC or Ogg):
        watermarked unless switched off, tagged, logged. The UI uses :meth:`start_export`.

        Raises:
            AudioError, OSError, ValueError, WatermarkUnavailable.
        """
        if self.samples is None:
            raise ValueError("There is no take to export yet.")
        return export_clip(path, self.samples, self.sample_rate, self.clip_provenance(),
                           watermark=self.watermark_enabled(),
                           subtype="PCM_16" if Path(path).suffix.lower() == ".wav" else None,
                           source="studio", audit=self.audit)

    def start_export(self, path: str | Path) -> bool:
        """Export to ``path`` on a background thread; False when there is nothing to export or an export
        is running. Answers with ``exported`` + ``export_finished``, or ``export_failed`` (and a dialog)."""
        if self.samples is None or self._export_task is not None:
            return False
        samples, rate, record = self.samples.copy(), self.sample_rate, self.clip_provenance()
        watermark, audit, target = self.watermark_enabled(), self.audit, Path(path)
        subtype = "PCM_16" if target.suffix.lower() == ".wav" else None

        def work(_progress: object, _cancel: object) -> ExportOutcome:
            return export_clip(target, samples, rate, record, watermark=watermark, subtype=subtype,
                               source="studio", audit=audit)

        task = BackgroundTask(work, name="valle-export-take")
        task.finished.connect(self._on_export_finished)
        task.failed.connect(self._on_export_failed)
        task.cancelled.connect(self._on_export_cancelled)
        self._export_task = task
        self.export.setText("Exporting…")
        self.export.setToolTip(f"Writing {target.name} (watermark, tags, audit log)…")
        self._update_enabled()
        task.start()
        return True

    def ask_export(self) -> bool:
        """Ask where to save (a save dialog) and start the export there; False when nothing started."""
        if self.samples is None or self._export_task is not None:
            return False
        start = str(Path(self.export_dir or Path.home()) / self._name)
        path, chosen = QFileDialog.getSaveFileName(self, "Export take", start, ";;".join(EXPORT_FILTERS),
                                                   self.export_filter)
        if not path:
            return False
        self.export_filter = chosen or self.export_filter
        return self.start_export(with_extension(path, chosen))

    def wait_export(self, timeout_ms: int = 30_000) -> None:
        """Block until a running export ended (closing the window: the file is finished, never cut off)."""
        if self._export_task is not None:
            self._export_task.wait(timeout_ms)  # the export does not stop half-way: it finishes the file

    def _on_export_finished(self, outcome: ExportOutcome) -> None:
        self._export_done()
        self.export_dir = str(outcome.path.parent)
        log.info("exported %s (watermark %s)", outcome.path, "confirmed" if outcome.record.watermark else "no")
        self.exported.emit(outcome.path)
        self.export_finished.emit(outcome)

    def _on_export_failed(self, message: str) -> None:
        self._export_done()
        self.export_failed.emit(message)
        sentence = message.strip().rstrip(".")
        QMessageBox.warning(self, "Export failed", f"The take was not exported: {sentence}.")

    def _on_export_cancelled(self) -> None:
        self._export_done()

    def _export_done(self) -> None:
        self._export_task = None
        self.export.setText("&Export…")
        self.export.setToolTip("Save this take as WAV, FLAC or Ogg Vorbis.")
        self._update_enabled()

    # -- internals -------------------------------------------------------------------------
    def _update_enabled(self) -> None:
        has_clip = self.samples is not None
        self.export.setEnabled(has_clip and self._export_task is None)
        self.play_while_generating.setEnabled(self.playback.available)
        self.play_while_generating.setToolTip(
            "Start playing as soon as the first words are generated; the rest follows as it is made. On "
            "models whose refinement (NAR) attention is bidirectional, an AR+NAR take generated this way can "
            "differ slightly from one generated whole."
            if self.playback.available else "Playback is off: there is no audio output device.")
        if not self.playback.available:
            reason = self.playback.unavailable_reason or "Playback is not available."
            self.play.setEnabled(False)
            self.play.setToolTip(f"Playback is off: {reason}. You can still export the take and play "
                                 "the file elsewhere.")
            self.device_note.setText(f"⚠ Playback is off: {reason}.")
            self.device_note.setVisible(True)
            return
        self.device_note.setVisible(False)
        self.play.setEnabled(has_clip)
        self.play.setToolTip("Play or pause the take (Space)." if has_clip else
                             "Nothing to play yet: generate a take or pick one from the history.")

    def _owns_playback(self) -> bool:
        return self.playback.available and self.playback.owner is self

    def _reclaim(self, seconds: float) -> None:
        assert self.samples is not None
        self.playback.load(self.samples, self.sample_rate, owner=self, complete=not self._streaming)
        self.playback.seek(seconds)

    def _on_position(self, seconds: float, force: bool = False) -> None:
        if not (force or self._owns_playback()):
            return
        self._cursor = seconds
        self.waveform.set_cursor(seconds)
        self._show_time(seconds)

    def _on_state(self, state: str) -> None:
        playing = state == "playing" and self._owns_playback()
        self._playing_icon = playing
        self.play.setIcon(action_icon("pause" if playing else "play"))
        self.play.setText("Pause" if playing else "Play")

    def _on_theme(self, _appearance: str) -> None:
        self.play.setIcon(action_icon("pause" if self._playing_icon else "play"))
        self.export.setIcon(action_icon("export"))

    def _on_loaded(self) -> None:
        self._on_state(self.playback.state)  # another owner took over: show "Play" again

    def _on_error(self, message: str) -> None:
        self.device_note.setText(f"⚠ {message}")
        self.device_note.setVisible(True)

    def _show_time(self, seconds: float) -> None:
        self.time.setText(f"{format_seconds(seconds)} / {format_seconds(self.duration_s)}")
