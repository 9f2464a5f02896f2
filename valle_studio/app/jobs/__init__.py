"""The app's one worker pattern: model jobs on the engine thread, everything else as background tasks.

- :class:`EngineController` (``controller.py``) owns the engine thread and the one loaded model; every
  model job (studio take, streamed take, phonemes, transcription, batch run, any function that needs
  the synthesizer) is a :class:`Job` of it, queued by the rules in its docstring, and
  :class:`EngineState` is the busy state the whole UI observes (``state_changed``).
- ``engine_thread.py`` is the engine thread's side, the only code that touches the synthesizer;
  ``kinds.py`` and ``batch.py`` hold the job kinds' functions (``batch.py`` also the Batch tab's
  :class:`BatchController`); ``records.py`` the plain records.
- :class:`BackgroundTask` (``background.py``) runs work that needs no model (downloads, imports,
  exports, decoding audio files) on a thread of its own.
"""

from valle_studio.app.jobs.background import BackgroundTask
from valle_studio.app.jobs.batch import BatchController
from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.engine_thread import probe_devices
from valle_studio.app.jobs.job import Job
from valle_studio.app.jobs.records import (
           EngineBusy,
           EngineState,
           JobContext,
           JobInfo,
           JobKind,
           Loader,
           LoadSpec,
           WhenBusy,
)

__all__ = ["BackgroundTask", "BatchController", "EngineBusy", "EngineController", "EngineState", "Job", "JobContext",
           "JobInfo", "JobKind", "LoadSpec", "Loader", "WhenBusy", "probe_devices"]
