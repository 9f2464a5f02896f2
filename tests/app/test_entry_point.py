"""The ``valle-studio`` entry point: starts offscreen and quits cleanly; logging and crash handling."""

from __future__ import annotations

import logging
import logging.handlers
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import qCritical, qInstallMessageHandler, qWarning
from PySide6.QtWidgets import QApplication

from valle_studio.app import main as app_main
from valle_studio.paths import user_log_dir

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")  # VALLE_STUDIO_HOME comes from conftest
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=timeout)


def test_starts_offscreen_and_quits_cleanly(tmp_path: Path) -> None:
    shot = tmp_path / "shots" / "window.png"
    done = _run(["-m", "valle_studio", "--quit-after", "1500", "--screenshot", str(shot),
                 "--settings", str(tmp_path / "portable.ini")])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert shot.is_file() and shot.stat().st_size > 10_000
    log_text = (user_log_dir() / app_main.LOG_NAME).read_text(encoding="utf-8")
    assert "VALL-E Studio" in log_text and "starting" in log_text and "exited with code 0" in log_text
    assert "CRITICAL" not in log_text and "Traceback" not in log_text
    assert (tmp_path / "portable.ini").is_file()  # window state saved on quit, to the chosen file


def test_window_modules_do_not_import_torch() -> None:
    """The window must appear before the slow torch import, which happens on the engine thread."""
    code = ("import sys\n"
            "import valle_studio.app.main, valle_studio.app.main_window, valle_studio.app.services\n"
            "import valle_studio.app.model_manager\n"
            "print('torch' in sys.modules)")
    done = _run(["-c", code], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        app_main.parse_args(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "VALL-E Studio" in out and "espeak-ng 1." in out


def test_logging_qt_messages_and_crash_dialog(qtbot: Any, tmp_path: Path) -> None:
    path = app_main.setup_logging()
    assert path == user_log_dir() / app_main.LOG_NAME
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_valle_studio", False)]
    assert any(isinstance(h, logging.handlers.RotatingFileHandler) for h in handlers)
    previous = sys.excepthook
    try:
        qInstallMessageHandler(app_main._qt_message_handler)
        qWarning("a qt warning from the test")
        qCritical("a qt critical from the test")
        reporter = app_main.CrashReporter(path)
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError as exc:
            reporter.excepthook(type(exc), exc, exc.__traceback__)
        assert reporter.dialog is not None and reporter.dialog.isVisible()  # shown, not blocking
        assert str(path) in reporter.dialog.text()
        reporter.excepthook(ValueError, ValueError("second"), None)  # one dialog at a time
        assert reporter.count == 2
        reporter.dialog.close()
        qtbot.waitUntil(lambda: reporter.dialog is None, timeout=2000)
    finally:
        qInstallMessageHandler(None)
        sys.excepthook = previous
        for handler in handlers:
            handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "a qt warning from the test" in text and "WARNING" in text
    assert "a qt critical from the test" in text
    assert "uncaught exception" in text and "boom in a slot" in text
    for handler in handlers:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert QApplication.instance() is not None


def test_app_icon_has_every_rendered_size(qapp) -> None:
    from valle_studio.app.icons import ICON_SIZES, app_icon

    sizes = {(s.width(), s.height()) for s in app_icon().availableSizes()}
    assert sizes == {(n, n) for n in ICON_SIZES}
