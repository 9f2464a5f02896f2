"""EngineController and BackgroundTask: thread hops, cancellation contract, stale results.

A scripted synthesizer stands in for the model here so the races can be forced: it reports
progress through the engine's own ``report()`` (which checks the cancel token) and can hold at
its last step until the test lets it go. The tiny real model is exercised in test_generation.py.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QThread

from valle_studio.app.jobs import BackgroundTask, EngineController, LoadSpec
from valle_studio.engine.progress import CancelToken, Progress, report
from valle_studio.engine.requests import SynthesisRequest, SynthesisResult
from valle_studio.engine.text.analysis import Piece

pytestmark = pytest.mark.gui


class ScriptedSynth:
    """Reports ``steps`` demasking steps, then waits for ``release`` (if given) and returns."""

    info = SimpleNamespace(name="scripted", device="cpu", dtype="torch.float32")

    def __init__(self, steps: int = 20, step_s: float = 0.005) -> None:
        self.steps, self.step_s = steps, step_s
        self.release: threading.Event | None = None
        self.at_end = threading.Event()
        self.threads: list[str] = []
        self.steps_run = 0

    def synthesize(self, request: SynthesisRequest, *, progress: Any, cancel: CancelToken) -> SynthesisResult:
        self.threads.append(QThread.currentThread().objectName())
        for i in range(1, self.steps + 1):
            report(progress, cancel, "demasking", i, self.steps)
            self.steps_run += 1
            time.sleep(self.step_s)
        self.at_end.set()
        if self.release is not None:
            self.release.wait(10)
        audio = np.zeros(2400, np.float32)
        return SynthesisResult(audio=audio, sample_rate=24_000, codes=np.zeros((7, 8), np.int64),
                               sentences=(), seed=3, modality="nar-len", elapsed_s=0.1)

    def analyze(self, text: str, language: str, split: str, **_: Any) -> list[Piece]:
        if text == "boom":
            raise ValueError("cannot phonemize that")
        return [Piece(text, f"{language}:{text}", (1, 2))]


@pytest.fixture()
def engine(qtbot: Any) -> Any:
    synth = ScriptedSynth()
    controller = EngineController(lambda spec: synth)
    with qtbot.waitSignal(controller.model_loaded, timeout=30_000):
        controller.load(LoadSpec("scripted"))
    controller.synth = synth  # type: ignore[attr-defined]
    yield controller
    assert controller.shutdown()


def test_generation_runs_on_engine_thread(qtbot: Any, engine: Any) -> None:
    progress: list[Progress] = []
    engine.job_progress.connect(lambda _j, p: progress.append(p))
    with qtbot.waitSignal(engine.job_finished, timeout=10_000) as done:
        job = engine.generate(SynthesisRequest(text="hi"))
        assert engine.is_busy
    assert done.args[0] == job and done.args[1].seed == 3
    assert engine.synth.threads == ["valle-engine"]
    assert progress and progress[-1] == Progress("demasking", 20, 20)  # the last step is never dropped
    assert not engine.is_busy


def test_cancel_stops_within_a_step_and_never_finishes(qtbot: Any, engine: Any) -> None:
    engine.synth.steps, engine.synth.step_s = 10_000, 0.002
    finished: list[int] = []
    engine.job_finished.connect(lambda j, _r: finished.append(j))
    with qtbot.waitSignal(engine.job_progress, timeout=10_000):
        job = engine.generate(SynthesisRequest(text="long"))
    with qtbot.waitSignal(engine.job_cancelled, timeout=1000) as cancelled:
        engine.cancel()
    assert cancelled.args == [job] and not engine.is_busy  # the UI hears at once
    with qtbot.waitSignal(engine.job_stopped, timeout=5000) as stopped:
        pass
    assert stopped.args == [job, "cancelled"]
    assert engine.synth.steps_run < 10_000
    qtbot.wait(30)
    assert finished == []


def test_cancel_after_last_step_still_reports_cancelled(qtbot: Any, engine: Any) -> None:
    engine.synth.release = threading.Event()
    finished: list[int] = []
    engine.job_finished.connect(lambda j, _r: finished.append(j))
    job = engine.generate(SynthesisRequest(text="race"))
    assert engine.synth.at_end.wait(10)  # past every cancellation check inside the engine
    engine.cancel()
    with qtbot.waitSignal(engine.job_stopped, timeout=5000) as stopped:
        engine.synth.release.set()
    assert stopped.args == [job, "cancelled"]  # the worker re-checked the token before reporting
    qtbot.wait(30)
    assert finished == []


def test_new_job_replaces_running_one(qtbot: Any, engine: Any) -> None:
    engine.synth.release = threading.Event()
    results: list[int] = []
    engine.job_finished.connect(lambda j, _r: results.append(j))
    cancelled: list[int] = []
    engine.job_cancelled.connect(cancelled.append)
    first = engine.generate(SynthesisRequest(text="one"))
    assert engine.synth.at_end.wait(10)
    engine.synth.release.set()  # the old job now returns a result nobody should get
    with qtbot.waitSignal(engine.job_finished, timeout=10_000):
        second = engine.generate(SynthesisRequest(text="two"))
    assert cancelled == [first] and results == [second]


def test_generate_without_model_fails_cleanly(qtbot: Any) -> None:
    def loader(spec: LoadSpec) -> Any:
        raise FileNotFoundError("model.sft is missing")

    controller = EngineController(loader)
    with qtbot.waitSignal(controller.model_load_failed, timeout=30_000) as failed:
        controller.load(LoadSpec("nowhere"))
    assert failed.args[1] == "model.sft is missing" and not controller.is_loaded
    with qtbot.waitSignal(controller.job_failed, timeout=5000) as job_failed:
        controller.generate(SynthesisRequest(text="hi"))
    assert job_failed.args[1] == "No voice model is loaded."
    assert controller.shutdown()


def test_phonemize_answers_latest_request_only(qtbot: Any, engine: Any) -> None:
    answers: list[Any] = []
    engine.phonemes_ready.connect(answers.append)
    engine.phonemize("old", "en", "none")
    with qtbot.waitSignal(engine.phonemes_ready, timeout=5000):
        engine.phonemize("new", "de", "none")
    qtbot.wait(30)
    assert [[p.ipa for p in answer] for answer in answers] == [["de:new"]]
    with qtbot.waitSignal(engine.phonemes_ready, timeout=5000) as error:
        engine.phonemize("boom", "en", "none")
    assert error.args == ["cannot phonemize that"]


def test_devices_probed_on_start(qtbot: Any) -> None:
    controller = EngineController(lambda spec: None)
    with qtbot.waitSignal(controller.devices_changed, timeout=60_000) as found:
        controller.start()
    assert found.args[0][-1] == "cpu"
    assert controller.shutdown()


def test_shutdown_cancels_a_running_job(qtbot: Any, engine: Any) -> None:
    engine.synth.steps, engine.synth.step_s = 100_000, 0.002
    with qtbot.waitSignal(engine.job_progress, timeout=10_000):
        engine.generate(SynthesisRequest(text="endless"))
    t0 = time.monotonic()
    assert engine.shutdown(5000)
    assert time.monotonic() - t0 < 2.0 and not engine.worker_thread.isRunning()


# -- BackgroundTask -----------------------------------------------------------------------------------
def test_background_task_result_and_progress(qtbot: Any) -> None:
    def work(progress: Any, cancel: CancelToken) -> str:
        for i in range(1, 4):
            report(progress, cancel, "downloading model.sft", i * 100, 300)
        return "done"

    task = BackgroundTask(work)
    seen: list[Progress] = []
    task.progress.connect(seen.append)
    with qtbot.waitSignal(task.finished, timeout=5000) as finished:
        task.start()
    assert finished.args == ["done"] and seen[-1].done == 300
    assert not task.running


def test_background_task_cancel_never_finishes(qtbot: Any) -> None:
    started = threading.Event()

    def work(progress: Any, cancel: CancelToken) -> str:
        started.set()
        while True:
            report(progress, cancel, "downloading", 1, 0)
            time.sleep(0.005)

    task = BackgroundTask(work)
    finished: list[Any] = []
    task.finished.connect(finished.append)
    task.start()
    assert started.wait(5)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.cancel()
    assert finished == [] and not task.running


def test_background_task_failure_message(qtbot: Any) -> None:
    def work(progress: Any, cancel: CancelToken) -> None:
        raise OSError("disk full")

    task = BackgroundTask(work)
    with qtbot.waitSignal(task.failed, timeout=5000) as failed:
        task.start()
    assert failed.args == ["disk full"]
