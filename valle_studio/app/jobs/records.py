"""Plain records of the engine's jobs: kinds, busy policy, the busy state and the job's context (no Qt).

A *job* is one piece of model work on the engine thread: a function ``run(context)`` that gets a
:class:`JobContext` (the loaded synthesizer, a throttled progress callback, a way to hand out partial
results, the cancel token) and returns the job's result. :class:`EngineState` is what the whole UI
observes: which job runs, what waits behind it, which model is loading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from valle_studio.engine.interfaces import SynthesizerProtocol
from valle_studio.engine.progress import CancelToken, Progress


@dataclass(frozen=True)
class LoadSpec:
    """Which model to load and how. ``model`` is a catalog name or a file path."""

    model: str
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", "mps"
    precision: str = "auto"  # "auto", "float32", "float16", "bfloat16"


#: Builds a synthesizer for a spec; called on the engine thread (it may import torch and take long).
Loader = Callable[[LoadSpec], SynthesizerProtocol | None]


class JobKind(str, Enum):
    """What a job does; the busy state and the messages name it."""

    TAKE = "take"  # a studio take, generated whole
    STREAM = "stream"  # a studio take, handed out in chunks as it is generated
    PHONEMIZE = "phonemize"  # the phoneme preview (light: see EngineController.phonemize)
    TRANSCRIBE = "transcribe"  # speech to phonemes with the model's own head
    BATCH = "batch"  # a batch project's queue of lines
    CALL = "call"  # any function that needs the synthesizer (benchmark, best-of-N, ...)

    @property
    def is_studio_take(self) -> bool:
        return self in (JobKind.TAKE, JobKind.STREAM)

    @property
    def noun(self) -> str:
        """``"a take"``, ``"a batch"``: for sentences such as "A batch is running"."""
        return _NOUNS[self]


_NOUNS = {JobKind.TAKE: "a take", JobKind.STREAM: "a take", JobKind.PHONEMIZE: "the phonemes",
          JobKind.TRANSCRIBE: "a transcription", JobKind.BATCH: "a batch", JobKind.CALL: "a task"}


class WhenBusy(str, Enum):
    """What a new job does when another one is active (queued or running, and not cancelled)."""

    REFUSE = "refuse"  # raise EngineBusy: the caller tells the user what holds the engine
    QUEUE = "queue"  # wait behind everything already there
    REPLACE = "replace"  # cancel an active job of the same family (studio takes), else refuse


@dataclass(frozen=True)
class JobInfo:
    """One job as the busy state shows it. ``cancelled``: asked to stop, still winding down."""

    id: int
    kind: JobKind
    title: str = ""
    cancelled: bool = False

    @property
    def label(self) -> str:
        return self.title or self.kind.noun


@dataclass(frozen=True)
class EngineState:
    """What the engine thread is doing (see the module docstring). Light jobs are not listed."""

    running: JobInfo | None = None
    queued: tuple[JobInfo, ...] = ()
    loading: str | None = None  # the model being loaded (or waiting to load)

    @property
    def active(self) -> JobInfo | None:
        """The job that holds the engine for the user: running or queued, and not cancelled."""
        if self.running is not None and not self.running.cancelled:
            return self.running
        return next((job for job in self.queued if not job.cancelled), None)

    @property
    def busy(self) -> bool:
        return self.active is not None

    @property
    def idle(self) -> bool:
        """Nothing runs or waits at all (no job winding down either)."""
        return self.running is None and not self.queued and self.loading is None

    def holds(self, kind: JobKind) -> bool:
        """Whether the active job is of ``kind`` (a take and a streamed take count as one)."""
        active = self.active
        if active is None:
            return False
        return active.kind == kind or (active.kind.is_studio_take and kind.is_studio_take)

    def text(self) -> str:
        """One line for a status bar: ``"generating a take"``, ``"running a batch · 1 waiting"``."""
        active = self.active
        if active is not None:
            text = _DOING.get(active.kind, "working on {}").format(active.label)
        elif self.running is not None:
            text = f"stopping {self.running.label}"
        elif self.loading is not None:
            text = f"loading {self.loading}"
        else:
            return "idle"
        waiting = sum(1 for job in self.queued if not job.cancelled and job is not active)
        return text + (f" · {waiting} waiting" if waiting else "")


_DOING = {JobKind.TAKE: "generating {}", JobKind.STREAM: "generating {}", JobKind.TRANSCRIBE: "transcribing",
          JobKind.BATCH: "running {}", JobKind.CALL: "running {}"}


class EngineBusy(RuntimeError):
    """A job was refused because ``holder`` holds the engine; the message says so in plain words."""

    def __init__(self, holder: JobInfo, wanted: JobKind) -> None:
        self.holder, self.wanted = holder, wanted
        super().__init__(f"{holder.label[:1].upper()}{holder.label[1:]} is running: {wanted.noun} has to wait "
                         "until it has finished or was cancelled.")


@dataclass(frozen=True)
class JobContext:
    """What a job's function gets on the engine thread.

    ``synth`` is the loaded synthesizer (None only for jobs that said they can do without one);
    ``progress`` is throttled before it crosses to the UI thread; ``emit`` hands out a partial result
    (an audio chunk, a batch event) unthrottled; ``cancel`` is the job's token, which the engine checks
    between model steps.
    """

    synth: SynthesizerProtocol | None
    progress: Callable[[Progress], None]
    emit: Callable[[Any], None]
    cancel: CancelToken

    @property
    def model(self) -> SynthesizerProtocol:
        """The synthesizer, for jobs that cannot run without one (the engine checked before starting)."""
        assert self.synth is not None, "this job was started without a model"
        return self.synth


#: A job's function: runs on the engine thread, returns the job's result.
JobFunction = Callable[[JobContext], Any]

__all__ = ["EngineBusy", "EngineState", "JobContext", "JobFunction", "JobInfo", "JobKind", "LoadSpec", "Loader",
           "WhenBusy"]
