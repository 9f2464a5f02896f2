"""The Studio tab's model tasks beyond speaking text: cleaning a reference clip, converting a voice.

:class:`StudioTasks` connects the voice panel's "Denoise" (clean with the model) and the voice-conversion mode to
the one engine owner (:class:`~valle_studio.app.jobs.controller.EngineController`): each is a job of it
(a CALL job for the clean-up, a studio-take job for a conversion, so it replaces and is stopped like
a take and lands in the History like one), never a thread of its own. It also tells both controls what
the loaded model can do: the ``tasks`` of its info (from the checkpoint's metadata, ``engine/tasks.py``),
so a control the model cannot serve is disabled with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QPlainTextEdit, QWidget

from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.records import EngineBusy, JobContext, JobKind
from valle_studio.app.widgets.convert_panel import ConvertPanel
from valle_studio.app.widgets.voice_panel import VoicePanel
from valle_studio.core.clip import Clip
from valle_studio.engine.quality.best_of import Candidate, Candidates
from valle_studio.engine.requests import SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings

log = logging.getLogger(__name__)

TRANSCRIPT = "What the source clip says (optional: leave empty and the model's own speech-to-text hears it)"


class StudioTasks(QObject):
    """See the module docstring. ``settings()`` gives the Studio tab's settings when a task starts."""

    message = Signal(str)  # one line for the status bar

    def __init__(self, engine: EngineController, voice_panel: VoicePanel, convert_panel: ConvertPanel,
                 settings: Callable[[], GenerationSettings], parent: QWidget,
                 text_editor: QPlainTextEdit | None = None) -> None:
        super().__init__(parent)
        if text_editor is not None:  # in conversion mode the text box holds the source's transcript
            typed = text_editor.placeholderText()
            convert_panel.enable.toggled.connect(lambda on: text_editor.setPlaceholderText(TRANSCRIPT if on else typed))
        self.engine = engine
        self.voice_panel = voice_panel
        self.convert_panel = convert_panel
        self.settings = settings
        self._parent = parent
        engine.model_loading.connect(lambda _spec: self._show_support(None))
        engine.model_loaded.connect(lambda _spec, info: self._show_support(getattr(info, "tasks", None)))
        voice_panel.model_clean_requested.connect(self.clean)

    def _show_support(self, tasks: Any) -> None:
        self.voice_panel.set_model_tasks(tasks)
        self.convert_panel.set_support(tasks.get("vc") if tasks else None)

    # -- clean-up of the draft clip ------------------------------------------------------------
    def clean(self, samples: np.ndarray, sample_rate: int) -> int | None:
        """Clean the voice panel's draft with the model's ns task (a job of the engine); its id, or None."""
        clip = Clip(np.asarray(samples, np.float32), int(sample_rate), "draft clip")
        # The model says the clip again: without the Studio's LoRA, which would change the voice itself.
        settings = self.settings().replace(lora="")

        def run(context: JobContext) -> SynthesisResult:
            return context.model.clean(clip, task="ns", settings=settings, progress=context.progress,
                                       cancel=context.cancel)

        try:
            job = self.engine.call(run, title="a clean-up by the model")
        except EngineBusy as busy:
            self.message.emit(str(busy))
            return None
        self.voice_panel.set_model_cleaning(True)
        job.finished.connect(lambda result: self.voice_panel.apply_model_clean(result.audio, result.sample_rate))
        job.failed.connect(lambda text: QMessageBox.warning(self._parent, "Could not clean the clip", text))
        job.stopped.connect(lambda _outcome: self.voice_panel.set_model_cleaning(False))
        self.message.emit("Cleaning the clip with the model…")
        return job.id

    # -- voice conversion ----------------------------------------------------------------------
    def convert(self, request: SynthesisRequest) -> int:
        """Convert the mode's source clip into ``request``'s voice, as a studio take (replacing the active
        one). Returns the job id; raises EngineBusy while other work holds the engine.

        The job ends like a Generate, with :class:`Candidates`, so the History keeps it the same way: one
        take, not checked (the quality check judges speech made from text; a conversion keeps the source's
        length and words), so the Best-of control does not apply to it."""
        source = self.convert_panel.source()
        if source is None:
            raise ValueError("choose a source clip for the voice conversion first")
        text = request.text.strip() or None

        def run(context: JobContext) -> Candidates:
            result = context.model.convert(source, request, text=text, progress=context.progress,
                                           cancel=context.cancel)
            return Candidates((Candidate(0, result.seed, result, None),), 0, result.seed)

        return self.engine.submit(JobKind.TAKE, run, title="a voice conversion").id


__all__ = ["StudioTasks"]
