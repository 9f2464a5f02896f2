"""Faults and impatient users: Stop at every stage, a second Generate, closing the window mid-work,
running out of memory. Each must end cleanly: the right signal, no take, no QThread left running, no
half-written file.

A :class:`Gate` wraps the real synthesizer (or downloader) and holds its worker at a chosen stage until
the test has acted, so "Stop during refining" really happens during refining, every time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.engine.test_store_fakehub import FakeHub, serve_catalog
from tests.reliability.helpers import (
    FAST,
    FAST_FLAGS,
    Boxes,
    assert_cli_error,
    assert_no_new_files,
    files_under,
    home,
    run_cli,
)
from tests.reliability.studio import close_window, generate_and_wait, install_model, make_services, open_window
from valle_studio import cli
from valle_studio.engine import pipeline
from valle_studio.engine.progress import CancelToken, Progress
from valle_studio.engine.store import DEFAULT_MODEL, ENCODEC, TOKENIZERS, VOCOS, ModelStore

STAGES = ["predicting length", "demasking", "generating", "refining", "decoding"]


class Gate:
    """Holds the worker thread at the first progress event of ``stage`` until released or cancelled."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.reached = threading.Event()
        self.release = threading.Event()
        self.after: list[Progress] = []  # events that got through once the gate had been reached

    def hold(self, event: Progress, cancel: CancelToken | None) -> None:
        if self.reached.is_set():
            self.after.append(event)
        elif event.stage.startswith(self.stage):
            self.reached.set()
            while not self.release.wait(0.005):
                if cancel is not None and cancel.cancelled:
                    break

    def wrap(self, synth: Any) -> Any:
        """Hold both ways the window generates: ``synthesize`` and ``stream`` (audio as it comes)."""
        for name in ("synthesize", "stream"):
            original = getattr(synth, name, None)
            if original is not None:
                setattr(synth, name, self._held(original))
        return synth

    def _held(self, original: Any) -> Any:
        def run(request: Any, *args: Any, progress: Any = None, cancel: Any = None, **kwargs: Any) -> Any:
            def hook(event: Progress) -> None:
                self.hold(event, cancel)
                if progress is not None:
                    progress(event)

            return original(request, *args, progress=hook, cancel=cancel, **kwargs)

        return run


@pytest.fixture()
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    return Boxes().install(monkeypatch)


def gated_window(qtbot: Any, gate: Gate, codec: Any, tokenizer: Path, tiny_bytes: bytes) -> Any:
    services = make_services(codec, tokenizer, wrap=gate.wrap)
    install_model(services.store, tiny_bytes)
    window = open_window(qtbot, services)
    modality = "ar+nar" if gate.stage == "generating" else "nar-len"
    window.sampler_panel.set_settings(FAST.replace(modality=modality))
    window.text_panel.set_split_mode("none")
    return window


def settings_for(stage: str) -> list[str]:
    return ["--modality", "ar+nar" if stage == "generating" else "nar-len"]


# -- Stop ---------------------------------------------------------------------------------------------------
@pytest.mark.gui
@pytest.mark.parametrize("stage", STAGES)
def test_stop_at_every_stage(stage: str, qtbot: Any, codec: Any, tokenizer: Path, tiny_bytes: bytes,
                             boxes: Boxes) -> None:
    gate = Gate(stage)
    window = gated_window(qtbot, gate, codec, tokenizer, tiny_bytes)
    stopped: list[tuple[int, str]] = []
    finished: list[int] = []
    window.engine.job_stopped.connect(lambda job, how: stopped.append((job, how)))
    window.engine.job_finished.connect(lambda job, _result: finished.append(job))
    window.text_panel.set_text("Stop me somewhere.")
    before = files_under(home())

    job = window.generate()
    qtbot.waitUntil(gate.reached.is_set, timeout=30_000)
    window.stop_action.trigger()  # Esc
    assert window.progress_panel.stage.text() == "Stopped" and window.generate_action.isEnabled()
    gate.release.set()
    qtbot.waitUntil(lambda: bool(stopped), timeout=10_000)

    assert stopped == [(job, "cancelled")] and finished == []  # the worker itself ended by cancelling
    assert gate.after == []  # not one more model step reported after Stop
    assert window.history_model.rowCount() == 0 and boxes.shown == []
    assert_no_new_files(home(), before)
    close_window(window)


@pytest.mark.parametrize("stage", STAGES)
def test_ctrl_c_at_every_stage(stage: str, tmp_path: Path, tiny_model: Path, tokenizer: Path, with_codec: Any,
                               monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from valle_studio.cli import options

    def interrupt(self: Any, event: Progress) -> None:
        if event.stage == stage:
            raise KeyboardInterrupt

    monkeypatch.setattr(options.StderrProgress, "__call__", interrupt)
    out = tmp_path / "out"
    out.mkdir()
    outcome = run_cli(capsys, ["synth", "--model", str(tiny_model), "--tokenizer", str(tokenizer), "--text",
                               "Stop me.", *FAST_FLAGS, *settings_for(stage), "--out", str(out / "take.wav"),
                               "--out-codes", str(out / "codes.npy")])
    assert outcome.code == cli.EXIT_CANCELLED and outcome.last == "valle-studio-cli: cancelled"
    assert files_under(out) == set()


# -- a second Generate ---------------------------------------------------------------------------------------
@pytest.mark.gui
def test_new_generation_while_one_runs(qtbot: Any, codec: Any, tokenizer: Path, tiny_bytes: bytes,
                                       boxes: Boxes) -> None:
    gate = Gate("demasking")
    window = gated_window(qtbot, gate, codec, tokenizer, tiny_bytes)
    stopped: list[tuple[int, str]] = []
    window.engine.job_stopped.connect(lambda job, how: stopped.append((job, how)))
    window.text_panel.set_text("The first request.")
    first = window.generate()
    qtbot.waitUntil(gate.reached.is_set, timeout=30_000)

    # The window offers no second start while one runs: the action is off and says why.
    assert not window.generate_action.isEnabled() and "stop it first" in window.generate_action.toolTip()
    window.generate_action.trigger()
    assert window.engine.is_busy and stopped == []

    # A start that gets through anyway (a script, a race with the shortcut) replaces the running job.
    takes: list[Any] = []
    window.take_added.connect(takes.append)
    window.text_panel.set_text("The second request.")
    second = window.generate()
    assert second != first and window.progress_panel.stage.text() != "Stopped"  # the panel shows the new job
    gate.release.set()
    qtbot.waitUntil(lambda: bool(takes), timeout=30_000)
    assert takes[0].text == "The second request."
    qtbot.waitUntil(lambda: len(stopped) == 2, timeout=10_000)
    assert stopped == [(first, "cancelled"), (second, "finished")]
    assert window.history_model.rowCount() == 1 and boxes.shown == []
    close_window(window)


# -- closing the window ----------------------------------------------------------------------------------------
@pytest.mark.gui
def test_close_window_during_generation(qtbot: Any, codec: Any, tokenizer: Path, tiny_bytes: bytes,
                                        boxes: Boxes) -> None:
    gate = Gate("refining")
    window = gated_window(qtbot, gate, codec, tokenizer, tiny_bytes)
    window.text_panel.set_text("Close the window now.")
    history = window.services.history.folder
    before = files_under(history)
    window.generate()
    qtbot.waitUntil(gate.reached.is_set, timeout=30_000)
    window.close()  # never released: shutdown must cancel the job and wait for the thread
    assert not window.engine.worker_thread.isRunning()
    assert files_under(history) == before  # no take, no half-written audio
    settings = Path(window.services.settings.path)
    assert "Close the window now." in settings.read_text(encoding="utf-8")  # state saved, whole
    assert not [p for p in files_under(home()) if p.endswith(".tmp")]
    assert boxes.shown == []


class GatedDownloader:
    """The store's own download, held after its first chunk until the test (or a cancel) lets go."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self.gate = Gate("downloading")

    def download(self, name: str, *, progress: Any = None, cancel: Any = None) -> Any:
        def hook(event: Progress) -> None:
            if event.done > 0:
                self.gate.hold(event, cancel)
            if progress is not None:
                progress(event)

        return self.store.download(name, progress=hook, cancel=cancel)


@pytest.mark.gui
def test_close_window_during_download(qtbot: Any, codec: Any, tokenizer: Path, tiny_bytes: bytes,
                                      boxes: Boxes, monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.engine.store import http_fetch

    monkeypatch.setattr(http_fetch, "CHUNK", 10_000)  # several chunks, so a download can stop mid-file
    with FakeHub() as hub:
        world = serve_catalog(hub)
        store = ModelStore(endpoints=hub.endpoints, catalog=world.catalog)
        store.download(VOCOS)
        store.download(TOKENIZERS)
        [file] = world.catalog[ENCODEC].files
        final = store.folder_of(ENCODEC) / file.local_name
        final.unlink()
        install_model(store, tiny_bytes, name=DEFAULT_MODEL)
        downloader = GatedDownloader(store)
        window = open_window(qtbot, make_services(codec, tokenizer, store=store, downloader=downloader))
        dialog = window.open_model_manager()
        assert dialog.start_download(DEFAULT_MODEL) is not None
        qtbot.waitUntil(downloader.gate.reached.is_set, timeout=30_000)
        window.close()  # the dialog's task is cancelled and waited for
        assert dialog.task is None and not window.engine.worker_thread.isRunning()
        assert not final.exists()  # never a half-downloaded file where the app would use it
        [part] = [store.root / p for p in files_under(store.root) if p.endswith(".part")]
        kept = part.stat().st_size  # whole chunks only: the one in flight when Stop came is finished
        expected = world.content[f"{ENCODEC}/{file.local_name}"]
        assert 0 < kept < len(expected) and kept % 10_000 == 0 and part.read_bytes() == expected[:kept]

        # Next start: the download resumes where it stopped and the file is verified.
        again = open_window(qtbot, make_services(codec, tokenizer, store=store))
        dialog = again.open_model_manager()
        ended: list[str] = []
        task = dialog.start_download(DEFAULT_MODEL)
        task.finished.connect(lambda *_: ended.append("finished"))
        qtbot.waitUntil(lambda: bool(ended) and dialog.task is None, timeout=30_000)
        assert final.read_bytes() == expected
        assert hub.ranges(file.local_name)[-1] == f"bytes={kept}-"
        close_window(again)
    assert boxes.shown == []


# -- out of memory -------------------------------------------------------------------------------------------
OOM_ERRORS = [
    pytest.param(lambda: torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"), id="gpu"),
    pytest.param(lambda: MemoryError(), id="cpu"),
]


def run_out_of_memory(monkeypatch: pytest.MonkeyPatch, make_error: Any) -> list[int]:
    """Make the model run out of memory once (in the per-line generation both ``synthesize`` and
    streaming use); returns the list each release of cached memory is counted in."""
    from valle_studio.engine import synthesizer

    released: list[int] = []
    original = pipeline.generate_line
    monkeypatch.setattr(synthesizer, "release_memory", lambda: released.append(1))

    def generate_line(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(pipeline, "generate_line", original)  # the next request fits again
        raise make_error()

    monkeypatch.setattr(pipeline, "generate_line", generate_line)
    return released


@pytest.mark.gui
@pytest.mark.parametrize("make_error", OOM_ERRORS)
def test_out_of_memory_in_the_window(make_error: Any, qtbot: Any, codec: Any, tokenizer: Path,
                                     tiny_bytes: bytes, boxes: Boxes, monkeypatch: pytest.MonkeyPatch) -> None:
    services = make_services(codec, tokenizer)
    install_model(services.store, tiny_bytes)
    window = open_window(qtbot, services)
    window.sampler_panel.set_settings(FAST)
    released = run_out_of_memory(monkeypatch, make_error)
    status, _ = generate_and_wait(qtbot, window, "A very long request.")
    assert status == "failed" and released  # cached GPU memory was given back
    text = boxes.assert_says("Generation failed", "out of memory", "shorter text", "Max duration", "Steps",
                             "float16")
    # one sentence first (error_dialog), the engine's full advice behind Details
    assert text.startswith("Generation failed: the device ran out of memory") and "MemoryError" not in text
    assert "\n\nOut of memory: try" in text
    assert window.generate_action.isEnabled()
    boxes.shown.clear()
    assert generate_and_wait(qtbot, window, "A short one.")[0] == "finished"  # the app carries on
    close_window(window)


@pytest.mark.parametrize("make_error", OOM_ERRORS)
def test_out_of_memory_in_the_cli(make_error: Any, tmp_path: Path, tiny_model: Path, tokenizer: Path,
                                  monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run_out_of_memory(monkeypatch, make_error)
    out = tmp_path / "codes.npy"
    outcome = run_cli(capsys, ["synth", "--model", str(tiny_model), "--tokenizer", str(tokenizer), "--text",
                               "A very long request.", *FAST_FLAGS, "--out-codes", str(out)])
    assert_cli_error(outcome, "out of memory", "shorter text", "--max-duration", "--steps", "--dtype float16")
    assert not out.exists()
