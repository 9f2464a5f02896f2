"""Provenance in the app (issue 17): the take's export runs on a background task (button disabled, status
on it), writes a watermarked and tagged file and an audit-log line; the watermark follows Preferences;
Tools opens the audit log (filter, open folder) and checks a file for the watermark; failures are one
sentence in a dialog."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from tests.app.export_wait import export_and_wait
from tests.app.test_generation import make_services
from tests.speech_like import speech_like
from valle_studio.app.main_window import MainWindow
from valle_studio.app.widgets import output_panel as output_module
from valle_studio.app.widgets.watermark_option import WatermarkOption
from valle_studio.audio.tags import read_tags
from valle_studio.core.provenance import Provenance
from valle_studio.engine.watermark import apply_watermark
from valle_studio.studio.audit import AuditLog
from valle_studio.studio.provenance_export import file_confidence

pytestmark = pytest.mark.gui
SR = 24_000
TAKE = Provenance(text="A tagged take.", voice="Alice", model="tiny", created="2026-12-02T09:00:00+00:00")


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, tiny_tokenizer: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setenv("VALLE_AUDIT_DIR", str(tmp_path / "audit"))
    window = MainWindow(make_services(tmp_path, tiny_tokenizer, None))  # no model: nothing to load
    qtbot.addWidget(window)
    window.show()
    window.start()
    yield window
    window.close()


def choose_file(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    from PySide6.QtWidgets import QFileDialog

    kind = {".wav": "WAV", ".flac": "FLAC", ".ogg": "Ogg"}[target.suffix]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda _p, _t, _start, filters, _chosen: (str(target), next(f for f in filters.split(";;") if kind in f))))


def show_take(window: MainWindow, seconds: float = 2.0) -> None:
    window.output_panel.set_clip(speech_like(seconds, SR), SR, title=TAKE.text, name="take", provenance=TAKE)


def test_export_runs_off_the_ui_thread_with_the_button_disabled(window: MainWindow, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    release, threads = threading.Event(), []
    real = output_module.export_clip

    def slow_export(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        assert release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(output_module, "export_clip", slow_export)
    show_take(window)
    choose_file(monkeypatch, tmp_path / "take.wav")
    panel = window.output_panel
    assert panel.ask_export()  # returns at once: the UI thread is free while the file is written
    qtbot.waitUntil(lambda: bool(threads))
    assert threads == ["valle-export-take"]
    assert not panel.export.isEnabled() and panel.export.text() == "Exporting…" and panel.exporting
    assert not panel.ask_export()  # one export at a time
    with qtbot.waitSignal(panel.exported, timeout=30_000) as blocker:
        release.set()
    assert blocker.args == [tmp_path / "take.wav"]
    assert panel.export.isEnabled() and panel.export.text() == "&Export…"


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_export_is_watermarked_tagged_and_logged(window: MainWindow, tmp_path: Path, suffix: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    show_take(window)
    target = tmp_path / f"take{suffix}"
    choose_file(monkeypatch, target)
    assert export_and_wait(window.output_panel) == target
    tags = read_tags(target)
    assert (tags["VALLE_TEXT"], tags["VALLE_VOICE"], tags["VALLE_MODEL"]) == ("A tagged take.", "Alice", "tiny")
    assert tags["VALLE_SYNTHETIC"] == "synthetic speech" and tags["VALLE_WATERMARK"] == "perth-implicit"
    assert file_confidence(target) >= 0.5
    (entry,) = AuditLog().entries()
    assert (entry.path, entry.source, entry.voice, entry.watermark) == (str(target), "studio", "Alice", True)


def test_watermark_off_in_preferences_is_followed(window: MainWindow, tmp_path: Path, qtbot: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = window.edit_menu.open_preferences()  # Edit → Preferences… has the option
    option = dialog.sections[WatermarkOption.SECTION].findChild(WatermarkOption)
    assert option is not None
    assert option.checkbox.isChecked()  # on by default
    option.checkbox.setChecked(False)
    assert window.settings.watermark is False and "not be watermarked" in option.note.text()
    show_take(window)
    choose_file(monkeypatch, tmp_path / "plain.flac")
    assert export_and_wait(window.output_panel) == tmp_path / "plain.flac"
    assert read_tags(tmp_path / "plain.flac")["VALLE_WATERMARK"] == "none"
    assert file_confidence(tmp_path / "plain.flac") < 0.5
    assert AuditLog().entries()[0].watermark is False
    dialog.close()


def test_a_failed_export_says_one_sentence(window: MainWindow, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _p, title, text, *a, **k: said.append(text)))
    show_take(window)
    choose_file(monkeypatch, tmp_path / "missing" / "take.wav")
    assert export_and_wait(window.output_panel) is None
    assert len(said) == 1 and said[0].startswith("The take was not exported: ") and said[0].endswith(".")
    assert "does not exist" in said[0] and "\n" not in said[0]
    assert window.output_panel.export.isEnabled()


def test_tools_menu_audit_log_filters_and_opens_the_folder(window: MainWindow, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Tools" in titles and titles.index("&Tools") < titles.index("&Help")
    log = AuditLog()
    for voice in ("Alice", "Bob", "Carol"):
        log.record(Provenance(text=f"{voice} speaks.", voice=voice, model="tiny"), tmp_path / f"{voice}.wav",
                   "studio")
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toLocalFile()) or True))
    window.tools.audit_action.trigger()
    dialog = window.tools.audit_dialog
    assert dialog is not None and dialog.isVisible() and dialog.rows() == 3
    assert dialog.proxy.index(0, 3).data() == "Carol"  # newest first
    dialog.filter.setText("bob")
    assert dialog.rows() == 1 and "1 of 3" in dialog.summary.text()
    assert not dialog.open_folder.isEnabled()
    dialog.table.selectRow(0)
    dialog.open_folder.click()
    assert opened == [str(tmp_path)]


def test_tools_check_a_file_for_the_watermark(window: MainWindow, tmp_path: Path, qtbot: Any) -> None:
    clean = speech_like(3.0, SR)
    marked, plain = tmp_path / "marked.wav", tmp_path / "plain.wav"
    sf.write(marked, apply_watermark(clean, SR), SR, subtype="PCM_16")
    sf.write(plain, clean, SR, subtype="PCM_16")
    tools = window.tools
    for path, verdict in ((marked, "carries the VALL-E Studio watermark"), (plain, "does not carry")):
        with qtbot.waitSignal(tools.checked, timeout=60_000) as blocker:
            assert tools.start_check(path)
            assert not tools.check_action.isEnabled()
        assert blocker.args[0].watermarked == (path == marked)
        assert tools.result_box is not None and verdict in tools.result_box.text()
        tools.result_box.close()
    with qtbot.waitSignal(tools.check_failed, timeout=30_000):
        (tmp_path / "x.wav").write_text("no audio", encoding="utf-8")
        tools.start_check(tmp_path / "x.wav")
    assert "could not be checked" in tools.result_box.text()


def test_batch_export_dialog_follows_the_watermark_setting(window: MainWindow) -> None:
    window.settings.watermark = False
    assert window.batch_view.exporter.watermark_enabled() is False
