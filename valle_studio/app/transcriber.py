"""The Transcribe action: a clip through the model's speech-to-text head, shown beside what it should say.

:class:`Transcriber` is what the voice panel (a reference clip), the History and the batch takes list
(any take) call. It submits one ``transcribe`` job to the window's
:class:`~valle_studio.app.jobs.controller.EngineController` (the model is never touched here), opens a
:class:`~valle_studio.app.widgets.transcript_dialog.TranscriptDialog` that follows the job, and stops the
job when the dialog is closed early. While other work holds the engine the dialog says so instead.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from valle_studio.app.jobs import kinds
from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.records import EngineBusy, JobKind
from valle_studio.app.widgets.transcript_dialog import TranscriptDialog
from valle_studio.core.clip import Clip


class Transcriber(QObject):
    """See the module docstring. ``window`` parents the dialogs."""

    def __init__(self, engine: EngineController, window: QWidget) -> None:
        super().__init__(window)
        self.engine = engine
        self.window = window
        self.dialogs: list[TranscriptDialog] = []  # open ones (tests and screenshots look at the last)

    def transcribe(self, samples: np.ndarray, sample_rate: int, language: str, *, asked: str | None,
                   title: str) -> TranscriptDialog:
        """Hear ``samples`` (``[S]`` float32 at ``sample_rate``) in ``language``; ``asked``: the text it
        should say (None for a reference clip). Returns the dialog, already shown."""
        dialog = TranscriptDialog(title, self.window)
        dialog.set_asked(None)
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _code: self._closed(dialog))
        if not self.engine.is_loaded or self.engine.is_loading:
            dialog.show_error("Load a voice model first: transcribing uses its speech-to-text head.")
            dialog.show()
            return dialog
        clip = Clip(np.asarray(samples, dtype=np.float32), int(sample_rate), title)
        try:
            job = self.engine.submit(JobKind.TRANSCRIBE, kinds.transcript(clip, language, asked),
                                     title="a transcription")
        except EngineBusy as busy:
            dialog.show_error(str(busy))
            dialog.show()
            return dialog
        job.progress.connect(dialog.show_progress)
        job.finished.connect(dialog.show_transcript)
        job.failed.connect(dialog.show_error)
        job.cancelled.connect(lambda: dialog.show_error("Stopped."))
        dialog.stop_requested.connect(job.cancel)
        dialog.show()
        return dialog

    def _closed(self, dialog: TranscriptDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)


__all__ = ["Transcriber"]
