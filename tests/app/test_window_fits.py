"""The main window fits a small laptop screen, and no text ever resizes it (issue 17, item 4).

Sizes: 1024x640, and a 1366x768 screen at 150 % scaling, which leaves about 910x510 logical pixels
(the taskbar and the title bar take the rest). Checked with both tabs shown, with a model loaded (the
no-model banner hidden): the window's minimum size fits; the output panel's Play/Export row never covers
the waveform's ruler; a long status text (the selection of a long clip, a long model name, a long take)
leaves the window as wide as it was; a combo box shows its current item whole; opening Advanced gives the
sampler room for its rows. One test starts the app in a subprocess with ``QT_SCALE_FACTOR=1.5``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

from tests.app.test_engine_jobs import CountingSynth
from tests.app.test_window_busy import open_window
from valle_studio.app.main_window import MainWindow
from valle_studio.app.widgets.elided_label import ElidedLabel

pytestmark = pytest.mark.gui

SIZES = [(1024, 640), (910, 510)]


@pytest.fixture()
def window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    win = open_window(qtbot, tmp_path, CountingSynth())
    qtbot.waitUntil(lambda: not win.banner.isVisible(), timeout=5_000)
    yield win
    win.close()


def _show_at(window: MainWindow, width: int, height: int) -> None:
    window.resize(width, height)
    for _ in range(3):
        QApplication.processEvents()


def _in_window(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


@pytest.mark.parametrize("tab", [0, 1], ids=["studio", "batch"])
@pytest.mark.parametrize(("width", "height"), SIZES, ids=lambda v: str(v))
def test_the_window_fits_and_rows_do_not_overlap(window: MainWindow, tab: int, width: int, height: int) -> None:
    window.tabs.setCurrentIndex(tab)
    _show_at(window, width, height)
    hint = window.minimumSizeHint()
    assert hint.width() <= width and hint.height() <= height, f"minimum {hint.width()}x{hint.height()}"
    assert (window.width(), window.height()) == (width, height)
    if tab == 0:
        out = window.output_panel
        wave = _in_window(out.waveform, window)
        for below in (out.play, out.export, out.time):
            assert wave.bottom() < _in_window(below, window).top(), "the Play/Export row covers the ruler"
        assert out.waveform.height() >= out.waveform.minimumHeight()
        # every column gets at least what its widgets need
        for column in (window.voice_panel, window.text_panel, window.sampler_scroll):
            assert column.width() >= column.minimumSizeHint().width()
            assert column.height() >= column.minimumSizeHint().height()
    else:
        batch = window.batch_view
        assert batch.run_bar.isVisible() and batch.run_bar.height() >= batch.run_bar.minimumSizeHint().height()
        assert not window.progress_panel.isVisible(), "the Studio strip with its Stop shows on the Batch tab"


@pytest.mark.parametrize("which", ["banner", "unknown_banner"])
def test_a_banner_still_fits_910x510(window: MainWindow, which: str) -> None:
    """The no-model banner and the "Generate anyway" strip are one line, and the Studio progress strip gives
    them its room while they show (they used to add 58 px each, past a 1366x768 screen at 150%)."""
    banner = getattr(window, which)
    banner.setText("<b>Not generated:</b> " + "a long message about the words the tokenizer lacks " * 4)
    banner.setVisible(True)
    _show_at(window, 910, 510)
    hint = window.minimumSizeHint()
    assert hint.width() <= 910 and hint.height() <= 510, f"minimum {hint.width()}x{hint.height()}"
    assert banner.isVisible() and banner.height() <= 2 * banner.fontMetrics().lineSpacing() + 12  # one line
    assert "…" in banner.label.text() and banner.toolTip().startswith("Not generated: a long message")
    assert not window.progress_panel.isVisible()
    banner.setVisible(False)
    _show_at(window, 910, 510)
    assert window.progress_panel.isVisible()  # back when the banner goes


def test_a_long_status_text_does_not_grow_the_window(window: MainWindow, qtbot: Any) -> None:
    _show_at(window, 1024, 640)
    before = window.minimumSizeHint().width()
    rate = 16_000
    window.voice_panel.set_draft(np.zeros(rate * 9, np.float32) + 0.1, rate, "a clip with a long name " * 3)
    window.voice_panel.waveform.set_selection(0.5, 6.7)
    QApplication.processEvents()
    assert window.voice_panel.duration_label.text().startswith("Selection 6.2 s of 9.0 s")
    window.model_label.setText("Model: " + "an-imported-model-with-a-very-long-name-" * 4)
    window.engine_label.setText("Engine: generating a take of a very long text, piece 12 of 40, level 7 of 7")
    window.progress_panel.show_message("Engine busy: running the batch 'a very long project name' on the Batch tab")
    window.output_panel.title.setText("A take of a very long text " * 10)
    window.batch_view.run_bar.label.setText("123 of 456 lines · 27% · about 1 h 20 min left · " * 3)
    for _ in range(3):
        QApplication.processEvents()
    assert window.width() == 1024 and window.minimumSizeHint().width() <= before
    # cut texts say themselves whole in their tooltips
    assert "very-long-name" in window.model_label.toolTip()
    assert window.output_panel.title.elided() and "very long text" in window.output_panel.title.toolTip()


def test_combo_boxes_show_their_current_text_whole_at_1024x640(window: MainWindow) -> None:
    _show_at(window, 1024, 640)
    window.sampler_panel.set_advanced_visible(True)
    QApplication.processEvents()
    sampler = window.sampler_panel
    combos = [sampler.preset, sampler.modality, window.text_panel.language, window.text_panel.split]
    for combo in combos:
        for index in range(combo.count()):
            combo.setCurrentIndex(index)
            assert _text_fits(combo), f"{combo.accessibleName()}: {combo.currentText()!r} is cut"
    assert sampler.modality.findText("Auto") >= 0  # the explanation moved to the tooltip
    assert "what the model supports best" in sampler.modality.itemData(0, 3)


def _text_fits(combo: QComboBox) -> bool:
    """The current text fits the part of the box left of the arrow (as the style draws it)."""
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    return combo.fontMetrics().horizontalAdvance(combo.currentText()) <= field.width()


def test_advanced_opens_into_room_for_its_rows(window: MainWindow) -> None:
    _show_at(window, 1024, 640)
    rows = window.sampler_panel.preset.sizeHint().height()
    closed = window.sampler_scroll.viewport().height()
    window.sampler_panel.advanced_button.setChecked(True)
    QApplication.processEvents()
    opened = window.sampler_scroll.viewport().height()
    assert opened >= 7 * rows, f"Advanced shows {opened} px: {opened // rows} rows"
    assert opened > closed
    window.sampler_panel.advanced_button.setChecked(False)
    QApplication.processEvents()
    assert window.sampler_scroll.viewport().height() == closed  # the text box gets its room back


def test_elided_label_minimum_is_small_and_tooltip_whole(qtbot: Any) -> None:
    label = ElidedLabel("Selection 6.2 s of 8.9 s", minimum_chars=4)
    label.setToolTip("The selection's length")
    qtbot.addWidget(label)
    assert label.minimumSizeHint().width() < label.fontMetrics().horizontalAdvance("Selection 6.2")
    label.resize(label.minimumSizeHint())
    label.show()
    assert label.elided() and label.toolTip() == "Selection 6.2 s of 8.9 s\n\nThe selection's length"
    label.resize(label.sizeHint())
    assert not label.elided() and label.toolTip() == "The selection's length"


SCALED = r"""
import sys, tempfile
from collections.abc import Iterator
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
from tests.app.test_window_fits import offscreen_window
window = offscreen_window(Path(tempfile.mkdtemp()))
window.resize(910, 510)
app.processEvents()
hint = window.minimumSizeHint()
screen = window.screen().size()
print("RESULT", window.devicePixelRatioF(), hint.width(), hint.height(), window.width(), window.height())
if len(sys.argv) > 1:
    window.grab().save(sys.argv[1])
window.close()
"""


def offscreen_window(home: Path) -> MainWindow:
    """A main window over empty services with no model (the subprocess test builds it in its own process)."""
    from tests.audio.fake_stream import FakeStreamFactory
    from valle_studio.app.audio_bridge import PlaybackController, RecordingController
    from valle_studio.app.services import AppServices
    from valle_studio.app.settings import AppSettings
    from valle_studio.studio.history import History
    from valle_studio.studio.voices import VoiceLibrary

    class NoModels:
        default_model = ""

        def installed(self) -> list[str]:
            return []

        def available(self) -> list[str]:
            return []

    factory = FakeStreamFactory(speed=50.0, output_reason="No audio output device found")
    services = AppServices(settings=AppSettings.from_file(home / "settings.ini"), history=History(home / "history"),
                           store=NoModels(), loader=lambda spec: None,  # type: ignore[arg-type]
                           playback=PlaybackController(stream_factory=factory),
                           recording=RecordingController(stream_factory=factory), voices=VoiceLibrary(home / "voices"))
    window = MainWindow(services)
    window.banner.setVisible(False)  # as with a model installed
    window.show()
    return window


def test_fits_1366x768_at_150_percent_in_a_scaled_process(tmp_path: Path) -> None:
    """``QT_SCALE_FACTOR=1.5``: 1366x768 physical pixels are 910x512 logical ones; the window fits them."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "1.5", "PYTHONPATH": str(root)}
    shot = os.environ.get("LAYOUT_SHOT", "")
    done = subprocess.run([sys.executable, "-c", SCALED, *([shot] if shot else [])], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT")), "")
    assert line, done.stdout + done.stderr
    ratio, min_w, min_h, width, height = (float(v) for v in line.split()[1:])
    assert ratio == pytest.approx(1.5)
    assert min_w <= 910 and min_h <= 510 and (width, height) == (910, 510)
    assert min_w * ratio <= 1366 and min_h * ratio <= 768
