"""The Batch tab's cluster option: a run on a real local Ray instance from the tab (progress per worker,
the same takes as the file says), cancel, the settings popup, and the option without Ray installed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.app.conftest import no_dangling_qthreads, no_unexpected_message_boxes  # noqa: F401  (fixtures)
from tests.audio.fake_stream import FakeStreamFactory
from tests.batch.helpers import SR, tiny_model, voice_clip
from valle_studio.app.audio_bridge import PlaybackController
from valle_studio.app.jobs import EngineController, LoadSpec
from valle_studio.app.widgets.batch_view import BatchView
from valle_studio.batch.rows import DONE, PENDING
from valle_studio.batch.runner import ROW_FINISHED
from valle_studio.cluster.options import ClusterOptions
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.voices import VoiceLibrary

pytestmark = [pytest.mark.ray, pytest.mark.gui]
SHOTS = Path(os.environ.get("VALLE_SHOTS_DIR", "/work/shots/ray"))
FAST = GenerationSettings(max_steps=2, max_duration=0.5, seed=9)
SCRIPT = "".join(f"Narrator: Line {n} of the scene.\n" for n in range(1, 7))


def shoot(widget, name: str) -> None:
    """A screenshot for the reviewers when the shots folder exists (never required by the test)."""
    if SHOTS.is_dir():
        widget.grab().save(str(SHOTS / name))


@pytest.fixture
def model_dir(cluster_home: Path, tiny_tokenizers: Path, tmp_path: Path) -> Path:
    """A tiny model with its tokenizers beside it: how the window (and so each worker) loads a file."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("tokenizer.json", "text_tokenizer.json"):
        shutil.copy(tiny_tokenizers / name, folder / name)
    return tiny_model(folder)


@pytest.fixture
def make_view(qtbot, tmp_path: Path, use_cluster_home: Path, model_dir: Path):
    from valle_studio.engine.synthesizer import Synthesizer

    voices = VoiceLibrary(tmp_path / "voices")
    voices.save("Narrator", [(voice_clip(), SR)])
    playback = PlaybackController(stream_factory=FakeStreamFactory(speed=25))
    engine = EngineController(lambda spec: Synthesizer.load(spec.model, device="cpu", dtype="float32"))
    views: list[BatchView] = []

    def make() -> BatchView:
        with qtbot.waitSignal(engine.model_loaded, timeout=60_000):
            engine.load(LoadSpec(str(model_dir), device="cpu", precision="float32"))
        view = BatchView(engine, voices, playback, lambda: FAST, projects_root=tmp_path / "batch", reopen_last=False)
        qtbot.addWidget(view)
        view.resize(1000, 640)
        view.show()
        views.append(view)
        script = tmp_path / "scene.txt"
        script.write_text(SCRIPT, encoding="utf-8")
        assert view.open_script(script)
        return view

    yield make
    for view in views:
        view.shutdown()
    assert engine.shutdown()
    playback.shutdown()


def test_a_batch_runs_on_ray_from_the_tab(qtbot, ray_address: str, make_view) -> None:
    view = make_view()
    option = view.cluster_option
    assert option.available and not option.enabled
    option.check.setChecked(True)
    option.set_options(ClusterOptions(workers=2, cpus=1, retries=1))
    assert "2 × 1 CPU" in option.status.text()
    finished: list[object] = []
    view.controller.batch_event.connect(lambda e: finished.append(e) if e.kind == ROW_FINISHED else None)
    progress: list[object] = []
    view.controller.cluster.cluster_progress.connect(progress.append)
    with qtbot.waitSignal(view.controller.finished, timeout=180_000) as blocker:
        qtbot.mouseClick(view.run_all_button, Qt.MouseButton.LeftButton)
        assert view.controller.active is view.controller.cluster and not option.check.isEnabled()
        qtbot.waitUntil(lambda: len(finished) >= 2, timeout=180_000)
        option.open_settings()  # the popup shows the workers while the run goes
        qtbot.waitUntil(lambda: option.dialog is not None and option.dialog.table.rowCount() == 2, timeout=10_000)
        shoot(option.dialog, "cluster_settings_popup_running.png")
        shoot(view.window(), "batch_tab_ray_running.png")
        option.dialog.reject()
    summary = blocker.args[0]
    assert summary.ok and len(summary.finished) == 6
    assert [view.project.status(r) for r in view.project.rows] == [DONE] * 6
    last = progress[-1]
    assert last.done == 6 and sum(w.done for w in last.workers) == 6 and len(last.workers) == 2
    assert option.status.text() == "2 workers · 0 running"
    assert "6 done" in option.status.toolTip() and "worker 1" in option.status.toolTip()
    assert option.check.isEnabled()  # the choice is free again
    assert "6 of 6" in view.progress_label.text()


def test_cancel_stops_the_cluster_run(qtbot, ray_address: str, make_view) -> None:
    view = make_view()
    view.cluster_option.check.setChecked(True)
    finished: list[object] = []

    def on_event(event) -> None:
        if event.kind == ROW_FINISHED and not finished:
            finished.append(event)
            qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)

    view.controller.batch_event.connect(on_event)
    with qtbot.waitSignal(view.controller.finished, timeout=180_000) as blocker:
        view.run_all()
    summary = blocker.args[0]
    assert summary.cancelled and len(summary.finished) < 6
    statuses = [view.project.status(r) for r in view.project.rows]
    assert statuses.count(DONE) == len(summary.finished) and statuses.count(PENDING) == 6 - len(summary.finished)
    assert "Cancelled" in view.progress_label.text() and not view.controller.is_running


def test_the_option_does_not_make_the_batch_tab_taller(qtbot, make_view) -> None:
    view = make_view()
    with_option = view.minimumSizeHint()
    view.cluster_option.hide()
    without = view.minimumSizeHint()
    assert with_option.height() <= without.height()
    assert with_option.width() <= 910 - 40  # the window's 910 px, less the frame and tab margins
