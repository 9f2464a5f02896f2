"""The one engine owner: its queue, its busy state, a batch against a studio take, model changes.

A counting synthesizer stands in for the model: it records every call with its start and end and
how many calls ran at the same moment, so "never two jobs on the model at once" is checked, not
assumed. It reports through the engine's own ``report()`` (which checks the cancel token) and can
hold at its first step until the test lets it go.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
import weakref
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from valle_studio.app.jobs import (
    BatchController,
    EngineBusy,
    EngineController,
    EngineState,
    JobContext,
    JobKind,
    LoadSpec,
    WhenBusy,
)
from valle_studio.batch import projects
from valle_studio.batch.project import BatchProject
from valle_studio.batch.runner import ROW_PROGRESS
from valle_studio.engine.progress import CancelToken, report
from valle_studio.engine.requests import SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.text.analysis import Piece

pytestmark = pytest.mark.gui


class CountingSynth:
    """``steps`` demasking steps per call; a text starting with "hold" waits at its first step until
    ``release`` is set (checking the cancel token meanwhile only when ``hold_checks_cancel``)."""

    sample_rate = 24_000

    def __init__(self, name: str = "counting", steps: int = 6, step_s: float = 0.002) -> None:
        self.info = SimpleNamespace(name=name, path=Path(f"{name}.sft"), device="cpu", dtype="torch.float32")
        self.steps, self.step_s = steps, step_s
        self.release = threading.Event()
        self.reached = threading.Event()
        self.hold_checks_cancel = True
        self._lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.calls: list[tuple[str, float, float]] = []  # (text, started, ended), in the order they ended

    def synthesize(self, request: SynthesisRequest, *, progress: Any = None, cancel: CancelToken | None = None,
                   decode: bool = True) -> SynthesisResult:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        started = time.monotonic()
        try:
            for step in range(1, self.steps + 1):
                report(progress, cancel, "demasking", step, self.steps)
                if step == 1 and request.text.startswith("hold"):
                    self.reached.set()
                    while not self.release.wait(0.005):
                        if self.hold_checks_cancel and cancel is not None:
                            cancel.check()
                time.sleep(self.step_s)
        finally:
            with self._lock:
                self.active -= 1
            self.calls.append((request.text, started, time.monotonic()))
        return SynthesisResult(audio=np.zeros(2400, np.float32), sample_rate=24_000,
                               codes=np.zeros((7, 8), np.int64), sentences=(), seed=1, modality="nar-len",
                               elapsed_s=0.01)

    def check(self, request: SynthesisRequest, result: SynthesisResult, *, progress: Any = None,
              cancel: CancelToken | None = None) -> Any:
        from valle_studio.engine.quality import TakeQuality

        return TakeQuality("good", 0.9)

    def analyze(self, text: str, language: str = "en", split: str = "sentences", **_: Any) -> list[Piece]:
        return [Piece(text, f"{language}:{text}", (1, 2))]

    def encode_prompts(self, sources: Any, length_frames: int = 0) -> None:
        return None

    def overlapping(self) -> list[tuple[str, str]]:
        """Pairs of calls whose run times overlap (there must be none)."""
        spans = sorted(self.calls, key=lambda call: call[1])
        return [(a[0], b[0]) for a, b in itertools.pairwise(spans) if b[1] < a[2]]


@pytest.fixture()
def synth() -> CountingSynth:
    return CountingSynth()


@pytest.fixture()
def engine(qtbot: Any, synth: CountingSynth) -> Any:
    controller = EngineController(lambda spec: synth)
    with qtbot.waitSignal(controller.model_loaded, timeout=30_000):
        controller.load(LoadSpec("counting"))
    yield controller
    assert controller.shutdown()


@pytest.fixture()
def project(tmp_path: Path) -> BatchProject:
    script = tmp_path / "lines.txt"
    script.write_text("Line one.\nLine two.\nLine three.\n", encoding="utf-8")
    made = projects.create_from_script(script, tmp_path / "batch", settings=GenerationSettings())
    yield made
    made.close()


def wait_idle(qtbot: Any, engine: EngineController) -> None:
    qtbot.waitUntil(lambda: engine.state.idle, timeout=10_000)


# -- a batch against a studio take ------------------------------------------------------------------------
def test_batch_is_refused_while_a_studio_take_runs(qtbot: Any, engine: EngineController, synth: CountingSynth,
                                                   project: BatchProject) -> None:
    batch = BatchController(engine)
    job = engine.generate(SynthesisRequest(text="hold this take"))
    assert synth.reached.wait(10)
    with pytest.raises(EngineBusy) as refused:
        batch.start(project, [r.id for r in project.rows])
    assert refused.value.holder.id == job and refused.value.holder.kind is JobKind.TAKE
    assert "a take is running" in str(refused.value).lower()
    assert not batch.is_running and engine.state.queued == ()  # nothing was queued
    with qtbot.waitSignal(engine.job_finished, timeout=10_000):
        synth.release.set()
    wait_idle(qtbot, engine)
    assert [text for text, *_ in synth.calls] == ["hold this take"] and synth.max_active == 1


def test_batch_waits_for_a_stopped_take_to_wind_down(qtbot: Any, engine: EngineController, synth: CountingSynth,
                                                      project: BatchProject) -> None:
    synth.hold_checks_cancel = False  # after Esc the take keeps the engine thread for a while
    batch = BatchController(engine)
    waiting: list[bool] = []
    batch.waiting_changed.connect(waiting.append)
    job = engine.generate(SynthesisRequest(text="hold then stop"))
    assert synth.reached.wait(10)
    engine.cancel()  # Esc
    assert not engine.is_busy and engine.state.running is not None and engine.state.running.cancelled
    assert "stopping" in engine.state.text()
    assert batch.start(project, [r.id for r in project.rows])  # accepted, but it waits
    assert batch.is_waiting and waiting == [True]
    assert engine.state.active is not None and engine.state.active.kind is JobKind.BATCH
    qtbot.wait(100)
    assert [text for text, *_ in synth.calls] == []  # the batch did not start beside the take
    stopped: list[tuple[int, str]] = []
    engine.job_stopped.connect(lambda j, how: stopped.append((j, how)))
    with qtbot.waitSignal(batch.finished, timeout=30_000) as done:
        synth.release.set()
    assert done.args[0].ok and len(done.args[0].finished) == 3
    assert stopped[0] == (job, "cancelled") and waiting == [True, False]
    assert [text for text, *_ in synth.calls] == ["hold then stop", "Line one.", "Line two.", "Line three."]
    assert synth.max_active == 1 and synth.overlapping() == []
    assert all(project.status(row) == "done" for row in project.rows)


def test_generate_is_refused_during_a_batch_even_paused(qtbot: Any, engine: EngineController,
                                                        synth: CountingSynth, project: BatchProject) -> None:
    synth.steps, synth.step_s = 40, 0.01
    batch = BatchController(engine)
    # Wait until the first row is generating (its progress), not just started: a pause before the model
    # is reached would leave nothing generated and the check below could not tell.
    with qtbot.waitSignal(batch.batch_event, timeout=10_000,
                          check_params_cb=lambda event: event.kind == ROW_PROGRESS):
        assert batch.start(project, [r.id for r in project.rows])
    assert engine.state.holds(JobKind.BATCH) and engine.is_busy
    with pytest.raises(EngineBusy, match="batch"):
        engine.generate(SynthesisRequest(text="not now"))
    batch.pause()
    qtbot.waitUntil(lambda: batch.is_paused, timeout=5000)
    with pytest.raises(EngineBusy):
        engine.generate(SynthesisRequest(text="not while paused either"))
    with qtbot.waitSignal(batch.finished, timeout=30_000) as done:
        batch.cancel()
    assert done.args[0].cancelled
    assert "not now" not in [text for text, *_ in synth.calls] and synth.max_active == 1
    wait_idle(qtbot, engine)
    with qtbot.waitSignal(engine.job_finished, timeout=10_000):
        engine.generate(SynthesisRequest(text="now"))  # the engine is free again


# -- the queue and the busy state ---------------------------------------------------------------------------
def test_jobs_that_queue_run_one_after_another_and_the_state_says_so(qtbot: Any, engine: EngineController,
                                                                     synth: CountingSynth) -> None:
    order: list[str] = []
    states: list[EngineState] = []
    engine.state_changed.connect(states.append)

    def task(name: str) -> Any:
        def run(context: JobContext) -> str:
            order.append(name)
            context.model.synthesize(SynthesisRequest(text=name), progress=context.progress, cancel=context.cancel)
            return name.upper()

        return run

    first = engine.call(task("hold first"), title="the first task")
    assert synth.reached.wait(10)
    with pytest.raises(EngineBusy):  # refused by default ...
        engine.call(task("refused"), title="a refused task")
    second = engine.call(task("second"), title="the second task", when_busy=WhenBusy.QUEUE)  # ... unless asked
    third = engine.transcribe(np.zeros((10, 8), np.int64), "en", when_busy=WhenBusy.QUEUE)
    state = engine.state
    assert state.running is not None and state.running.id == first.id
    assert [job.id for job in state.queued] == [second.id, third.id]
    assert state.text() == "running the first task · 2 waiting"
    assert state.holds(JobKind.CALL) and not state.holds(JobKind.BATCH)
    results: list[str] = []
    second.finished.connect(results.append)
    failures: list[str] = []
    third.failed.connect(failures.append)  # the counting synthesizer cannot transcribe
    with qtbot.waitSignal(third.stopped, timeout=10_000):
        synth.release.set()
    assert order == ["hold first", "second"] and results == ["SECOND"]
    assert failures and "transcribe" in failures[0]
    assert engine.state.idle and engine.state.text() == "idle" and states[-1] == EngineState()
    assert synth.max_active == 1


def test_a_queued_job_cancelled_ends_at_once_without_running(qtbot: Any, engine: EngineController,
                                                             synth: CountingSynth) -> None:
    ran: list[str] = []
    engine.call(lambda c: c.model.synthesize(SynthesisRequest(text="hold"), progress=c.progress,
                                             cancel=c.cancel), title="a long task")
    assert synth.reached.wait(10)
    queued = engine.call(lambda c: ran.append("queued"), title="a queued task", when_busy=WhenBusy.QUEUE)
    stopped: list[str] = []
    queued.stopped.connect(stopped.append)
    with qtbot.waitSignal(queued.cancelled, timeout=1000):
        queued.cancel()
    assert stopped == ["cancelled"] and queued.done and engine.state.queued == ()
    synth.release.set()
    wait_idle(qtbot, engine)
    assert ran == []


def test_phonemes_are_answered_while_a_long_take_runs(qtbot: Any, engine: EngineController,
                                                      synth: CountingSynth) -> None:
    engine.generate(SynthesisRequest(text="hold a long take"))
    assert synth.reached.wait(10)
    with qtbot.waitSignal(engine.phonemes_ready, timeout=5000) as answer:
        engine.phonemize("hello", "de", "none")
    assert [p.ipa for p in answer.args[0]] == ["de:hello"] and engine.is_busy  # served between two steps of the take
    synth.release.set()
    wait_idle(qtbot, engine)


# -- model changes ----------------------------------------------------------------------------------------
def test_model_change_cancels_running_work_says_so_and_never_keeps_two_models(qtbot: Any,
                                                                              project: BatchProject) -> None:
    old = CountingSynth("old")
    old_ref = weakref.ref(old)
    alive_at_load: list[bool] = []

    def loader(spec: LoadSpec) -> Any:
        if spec.model == "old":
            return old_ref()
        gc.collect()
        alive_at_load.append(old_ref() is not None)  # the old model must be gone before the new one loads
        return CountingSynth("new")

    engine = EngineController(loader)
    with qtbot.waitSignal(engine.model_loaded, timeout=30_000):
        engine.load(LoadSpec("old"))
    del old
    batch = BatchController(engine)
    held = old_ref()
    assert held is not None
    held.steps, held.step_s = 200, 0.005
    with qtbot.waitSignal(batch.batch_event, timeout=10_000):
        batch.start(project, [r.id for r in project.rows])
    del held
    notices: list[str] = []
    engine.notice.connect(notices.append)
    finished: list[Any] = []
    batch.finished.connect(finished.append)
    with qtbot.waitSignal(engine.model_loaded, timeout=30_000) as loaded:
        engine.load(LoadSpec("new"))
        assert notices == ['Stopped the batch "lines" to change the model to new.']
        assert engine.is_loading and not engine.is_busy and engine.state.loading == "new"
    assert loaded.args[1].name == "new" and alive_at_load == [False]
    assert finished and finished[0].cancelled  # the run ended (the rows it did finish are kept) first
    assert engine.info.name == "new" and not batch.is_running
    assert engine.shutdown()


def test_model_change_can_wait_for_the_running_job(qtbot: Any, engine: EngineController,
                                                   synth: CountingSynth) -> None:
    ends: list[str] = []
    engine.job_stopped.connect(lambda _j, how: ends.append(how))
    engine.generate(SynthesisRequest(text="hold until the end"))
    assert synth.reached.wait(10)
    notices: list[str] = []
    engine.notice.connect(notices.append)
    engine.load(LoadSpec("counting", device="cpu"), wait=True)
    assert notices == ["The model changes to counting once a take has finished."]
    assert engine.is_busy and engine.state.loading == "counting"
    with qtbot.waitSignal(engine.model_loaded, timeout=30_000):
        synth.release.set()
    assert ends == ["finished"]  # the take was not cancelled
