"""Help → Benchmark this machine and the time estimates in the window.

The window runs the counting synthesizer of ``test_engine_jobs``; the benchmark measures a tiny
checkpoint (the store's "installed" model) with the stand-in codec, so a quick run takes seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app.test_engine_jobs import CountingSynth
from tests.audio.fake_stream import FakeStreamFactory
from tests.engine.bench_records import TinyCodec, cpu_record
from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.main_window import MainWindow
from valle_studio.app.services import AppServices
from valle_studio.app.settings import AppSettings
from valle_studio.engine.bench.record import benchmark_path, save_record
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.progress import Progress
from valle_studio.studio.history import History
from valle_studio.studio.voices import VoiceLibrary

pytestmark = pytest.mark.gui


class TinyStore:
    """One installed model, whose file is a tiny checkpoint (what the benchmark measures)."""

    default_model = "counting"

    def __init__(self, path: Path) -> None:
        self.path = path

    def installed(self) -> list[str]:
        return ["counting"]

    def available(self) -> list[str]:
        return []

    def path_of(self, name: str) -> Path:
        return self.path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("guibench") / "tiny.sft", seed=7)


@pytest.fixture(autouse=True)
def _tiny_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.engine.codec import encodec_vocos

    monkeypatch.setattr(encodec_vocos.EncodecVocosCodec, "random", classmethod(lambda cls, *a, **k: TinyCodec()))


def open_window(qtbot: Any, tmp_path: Path, tiny: Path, synth: CountingSynth | None = None) -> MainWindow:
    synth = synth or CountingSynth()
    factory = FakeStreamFactory(speed=50.0, output_reason="No audio output device found")
    services = AppServices(settings=AppSettings.from_file(tmp_path / "settings.ini"),
                           history=History(tmp_path / "history"), store=TinyStore(tiny),  # type: ignore[arg-type]
                           loader=lambda spec: synth, playback=PlaybackController(stream_factory=factory),
                           recording=RecordingController(stream_factory=factory),
                           voices=VoiceLibrary(tmp_path / "voices"))
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.engine.model_loaded, timeout=30_000):
        window.start()
    return window


def test_a_quick_run_fills_the_dialog_saves_and_one_click_applies_the_advice(qtbot: Any, tmp_path: Path,
                                                                           tiny: Path) -> None:
    window = open_window(qtbot, tmp_path, tiny)
    dialog = window.open_benchmark()
    assert dialog.items.rowCount() == 0 and "no benchmark" in dialog.sentence.text()
    seen: list[Progress] = []
    window.benchmark.progress.connect(seen.append)
    with qtbot.waitSignal(window.benchmark.finished, timeout=180_000):
        assert dialog.start()
        assert not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    assert seen and benchmark_path().is_file()
    assert dialog.items.rowCount() >= 2  # float32 and int8 (and bfloat16 where the CPU has it)
    assert "x)" in dialog.items.item(0, 1).text() and "bound" in dialog.items.item(0, 1).toolTip()
    assert dialog.lines.rowCount() >= 6 and "On this machine a 10 s line takes about" in dialog.sentence.text()
    assert "Saved to" in dialog.status.text() and dialog.apply_button.isEnabled()
    assert window.estimates.record is not None and window.estimates.measured
    # the measured preset is offered beside the fixed ones; one click loads it (and its precision)
    panel = window.sampler_panel
    assert panel.preset.findData("fast") >= 0 and panel.preset.findData("default") == 0
    advice = window.estimates.recommendation()
    assert advice is not None
    dialog.apply_button.click()
    assert panel.preset_name() == "fast"
    assert panel.settings().modality == advice.modality
    expected = "auto" if advice.precision in ("float32", "bfloat16") else advice.precision
    assert window.settings.precision in (expected, advice.precision)
    qtbot.waitUntil(lambda: window.model_ready, timeout=30_000)
    window.shutdown()


def test_cancel_mid_run_saves_nothing_and_says_so(qtbot: Any, tmp_path: Path, tiny: Path) -> None:
    window = open_window(qtbot, tmp_path, tiny)
    dialog = window.open_benchmark()
    window.benchmark.progress.connect(lambda _e: window.benchmark.cancel())
    with qtbot.waitSignal(window.benchmark.cancelled, timeout=60_000):
        dialog.start()
    assert not benchmark_path().exists()
    assert "Nothing was saved" in dialog.status.text() and dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: window.engine.state.idle, timeout=60_000)
    window.shutdown()


def test_the_benchmark_waits_for_no_take_it_is_refused_while_one_runs(qtbot: Any, tmp_path: Path, tiny: Path) -> None:
    synth = CountingSynth()
    window = open_window(qtbot, tmp_path, tiny, synth)
    window.text_panel.set_text("hold this take")
    assert window.generate() is not None
    assert synth.reached.wait(10)
    dialog = window.open_benchmark()
    assert not dialog.start()
    assert "is running" in dialog.status.text() and "needs the engine to itself" in dialog.status.text()
    with qtbot.waitSignal(window.take_added, timeout=10_000):
        synth.release.set()
    window.shutdown()


def test_expected_duration_before_and_time_left_during_a_take(qtbot: Any, tmp_path: Path, tiny: Path) -> None:
    synth = CountingSynth()
    window = open_window(qtbot, tmp_path, tiny, synth)
    window.text_panel.set_text("A sentence of some length to say.")
    text = window.progress_panel.expected.text()
    assert text.startswith("Expected: about") and "rough guess" in text
    assert "not been benchmarked" in window.progress_panel.expected.toolTip()
    save_record(cpu_record())
    window.estimates.reload()
    measured = window.progress_panel.expected.text()
    assert measured.startswith("Expected: about") and "rough guess" not in measured
    assert "measured on this machine" in window.progress_panel.expected.toolTip()
    assert "one take, checked" in window.progress_panel.expected.toolTip()
    one_take = window.estimates.take(window.text_panel.text(), window.generation_settings(),
                                     quality=window.best_of.options()).seconds
    window.best_of.best_of.setValue(3)  # best of 3: three checked takes, the voice encoded once
    assert "3 takes, each checked" in window.progress_panel.expected.toolTip()
    three = window.estimates.take(window.text_panel.text(), window.generation_settings(),
                                  quality=window.best_of.options()).seconds
    assert 2.5 * one_take < three < 3 * one_take
    window.best_of.best_of.setValue(1)
    window.text_panel.set_text("hold " + "a much longer text to say " * 8)
    assert window.generate() is not None
    assert synth.reached.wait(10)
    qtbot.waitUntil(lambda: "left" in window.progress_panel.expected.text(), timeout=5_000)
    with qtbot.waitSignal(window.take_added, timeout=10_000):
        synth.release.set()
    assert window.progress_panel.expected.text().startswith("Expected: about")
    window.shutdown()


def test_the_batch_tab_estimates_the_whole_script(qtbot: Any, tmp_path: Path, tiny: Path) -> None:
    save_record(cpu_record())
    window = open_window(qtbot, tmp_path, tiny)
    script = tmp_path / "scene.txt"
    script.write_text("First line of the scene.\nSecond line, a little longer than the first.\n", encoding="utf-8")
    assert window.batch_view.open_script(script)
    label = window.batch_view.project_label.text()
    assert "Run all: about" in label and "rough guess" not in label
    assert "2 line(s) now" in window.batch_view.run_all_button.toolTip()
    before = window.batch_view.project_label.text()
    window.best_of.best_of.setValue(2)
    window.best_of.retry.setValue(1)
    tip = window.batch_view.run_all_button.toolTip()
    assert "per line 2 takes, each checked; up to" in tip and "if all 1 retries run" in tip
    assert window.batch_view.project_label.text() != before
    window.shutdown()
