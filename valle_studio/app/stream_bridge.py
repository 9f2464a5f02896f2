"""Streamed generation in the window: chunks from the engine thread into the output panel and player.

:class:`StreamBridge` decides whether a generation streams (the output panel's "Play while generating"
box, on by default when there is an output device, remembered in the settings file), follows the job
it was told about with :meth:`~StreamBridge.track`, and hands that job's
:class:`~valle_studio.engine.streaming.AudioChunk` signals to the panel: the first chunk opens the
take and starts playing it, the next ones grow the waveform and are appended gaplessly to the player,
the last one lets playback end. Stopping or a failure stops the sound with the generation; a finished
job is handed back to the window, which keeps the player going (:meth:`~StreamBridge.take_over`).

Chunks arrive as queued signals, so everything here runs on the UI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Slot

from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.settings import AppSettings
from valle_studio.app.widgets.output_panel import OutputPanel
from valle_studio.engine.interfaces import AudioChunkProtocol

log = logging.getLogger(__name__)


class StreamBridge(QObject):
    """See the module docstring. ``settings`` remembers the box (None: it is not remembered)."""

    def __init__(self, engine: EngineController, panel: OutputPanel, settings: AppSettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.panel = panel
        self._settings = settings
        self._job: int | None = None
        self._title = ""
        self._opened = False  # the first chunk of the tracked job has been shown
        self.chunks = 0  # chunks shown for the tracked job (tests, status)
        box = panel.play_while_generating
        if settings is not None and panel.playback.available:
            box.setChecked(settings.play_while_generating)
        box.toggled.connect(self._remember)
        engine.job_chunk.connect(self._on_chunk)
        engine.job_cancelled.connect(self._on_stopped)
        engine.job_failed.connect(self._on_failed)

    def wanted(self) -> bool:
        """Whether the next generation should stream (box ticked and a device to play on)."""
        return self.panel.play_while_generating.isChecked() and self.panel.playback.available

    def track(self, job: int, text: str) -> None:
        """Follow ``job``'s chunks; ``text`` titles the take while it arrives."""
        words = " ".join(text.split())
        self._job, self._opened, self.chunks = job, False, 0
        self._title = f"Generating: {words if len(words) <= 100 else words[:99] + '…'}"

    def take_over(self, job: int) -> bool:
        """The window shows finished ``job``: True when the panel already holds its streamed audio
        (the window then only retitles it, and playback carries on)."""
        mine = job == self._job and self._opened and self.panel.streaming
        if job == self._job:
            self._job = None
        return mine

    @Slot(int, object)
    def _on_chunk(self, job: int, chunk: AudioChunkProtocol) -> None:
        if job != self._job:
            return
        if not self._opened:
            self._opened = True
            self.panel.begin_stream(chunk.samples, chunk.sample_rate, title=self._title, play=True)
        elif self.panel.streaming:  # the user may have shown another take meanwhile
            self.panel.append_stream(chunk.samples)
        self.chunks += 1
        if chunk.final:
            self.panel.end_stream()

    @Slot(int, str)
    def _on_failed(self, job: int, _message: str) -> None:
        self._on_stopped(job)

    @Slot(int)
    def _on_stopped(self, job: int) -> None:
        if job != self._job:
            return
        self._job = None
        if self._opened:
            self.panel.stop_stream("Stopped: the part generated so far (not kept in the history)")

    def _remember(self, checked: bool) -> None:
        if self._settings is not None:
            self._settings.play_while_generating = bool(checked)
