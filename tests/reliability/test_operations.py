"""Operations: an exception anywhere in the app is logged and shown, never silently lost.

``tests/app/test_entry_point.py`` covers the rotating log, Qt messages routed to logging and the crash
dialog for an exception on the UI thread. Here the exception happens where Qt calls the hook from
another thread (a slot of a worker QThread) or in a plain Python thread: the dialog must still appear,
built on the UI thread, naming the log file that holds the traceback.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import pytest
from PySide6.QtCore import QObject, QThread, Slot
from PySide6.QtWidgets import QApplication

from valle_studio.app import main as app_main

pytestmark = pytest.mark.gui


class _Failing(QObject):
    @Slot()
    def run(self) -> None:
        raise RuntimeError("boom on the engine thread")


@pytest.fixture()
def reporter(monkeypatch: pytest.MonkeyPatch) -> Any:
    path = app_main.setup_logging()
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_valle_studio", False)]
    crash = app_main.CrashReporter(path)
    monkeypatch.setattr(sys, "excepthook", crash.excepthook)
    monkeypatch.setattr(threading, "excepthook", crash._thread_hook)
    yield crash
    if crash.dialog is not None:
        crash.dialog.close()
    for handler in handlers:
        logging.getLogger().removeHandler(handler)
        handler.close()


def _dialog_text(qtbot: Any, crash: Any) -> str:
    qtbot.waitUntil(lambda: crash.dialog is not None, timeout=5_000)
    dialog = crash.dialog
    assert dialog.thread() is QApplication.instance().thread()  # built where widgets may live
    assert dialog.isVisible()
    text = dialog.text()
    dialog.close()
    qtbot.waitUntil(lambda: crash.dialog is None, timeout=2_000)
    return text


@pytest.mark.qt_no_exception_capture
def test_exceptions_of_other_threads_reach_the_dialog(qtbot: Any, reporter: Any, qtlog: Any) -> None:
    thread = QThread()
    thread.setObjectName("failing-worker")
    worker = _Failing()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    thread.start()
    text = _dialog_text(qtbot, reporter)
    thread.quit()
    assert thread.wait(5_000)
    assert "boom on the engine thread" in text and str(reporter.log_path) in text

    loader = threading.Thread(target=lambda: 1 / 0, name="file-loader")
    loader.start()
    loader.join()
    text = _dialog_text(qtbot, reporter)
    assert "division by zero" in text and str(reporter.log_path) in text

    assert reporter.count == 2
    for handler in logging.getLogger().handlers:
        handler.flush()
    log_text = reporter.log_path.read_text(encoding="utf-8")
    assert "boom on the engine thread" in log_text and "ZeroDivisionError" in log_text
    assert "uncaught exception in thread file-loader" in log_text
    # Qt complains when a widget is made outside the UI thread; nothing of the sort happened.
    assert not [r.message for r in qtlog.records if "thread" in r.message.lower()]


LEAK_PROBE = """
import sys
from PySide6.QtCore import QObject, Signal
from valle_studio.app.qt_fixes import binding_leaks_none, guard_none_refcount
leaks = binding_leaks_none()
if sys.argv[1] == "guarded":
    guard_none_refcount()


class Probe(QObject):
    ping = Signal()


probe = Probe()
for _ in range(100_000):
    probe.setObjectName("x")  # returns nothing: an affected binding loses a None here ...
    probe.ping.emit()  # ... and a True here
print("alive", leaks)
"""


@pytest.mark.parametrize("mode", ["guarded", "bare"])
def test_many_qt_calls_cannot_abort_the_interpreter(mode: str) -> None:
    """PySide6 6.12.0 on Python < 3.12 loses a reference to None per void call and to True per signal
    (see qt_fixes): without the start-up guard these calls abort the interpreter; with it they do not."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", LEAK_PROBE, mode], capture_output=True, text=True, timeout=120)
    if mode == "guarded":
        assert done.returncode == 0 and "alive" in done.stdout, done.stderr
        return
    if "alive False" in done.stdout:
        pytest.skip("this Qt binding does not leak references to None: nothing to guard against")
    assert done.returncode != 0 and "deallocating" in done.stderr  # the defect the guard is for
