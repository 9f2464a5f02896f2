"""The ``valle-studio`` entry point: QApplication, logging, crash dialog, main window.

What happens at start:
1. A rotating log file in ``valle_studio.paths.user_log_dir()`` receives every log record, Qt's own
   messages (through ``qInstallMessageHandler``) and, in a frozen build, stdout/stderr (torch and
   tqdm print there).
2. An excepthook logs any uncaught exception and shows a dialog that names the log file. Exceptions
   of other threads (a slot of the engine thread, a Python thread) are logged there and the dialog is
   shown on the UI thread, where widgets may be created.
3. The window is shown first; torch is imported afterwards, on the engine thread, so the window
   appears quickly even though the import takes seconds.

``--screenshot PATH`` saves an image of the window and ``--quit-after MS`` quits cleanly after that
many milliseconds: together they let tests and CI start the app offscreen.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, QTimer, QtMsgType, Signal, Slot, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

import valle_studio
from valle_studio.app.icons import app_icon
from valle_studio.engine.about import VersionAction
from valle_studio.paths import APP_NAME, user_cache_dir, user_log_dir

log = logging.getLogger("valle_studio")

LOG_NAME = "valle-studio.log"
LOG_BYTES = 2_000_000
LOG_BACKUPS = 3
_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="valle-studio", description="VALL-E Studio: desktop voice cloning.")
    parser.add_argument("--version", action=VersionAction, help="show the version and the espeak-ng in use, and exit")
    parser.add_argument("--screenshot", type=Path, metavar="PATH",
                        help="save a PNG of the main window (before quitting, with --quit-after)")
    parser.add_argument("--quit-after", type=int, metavar="MS", default=None,
                        help="quit cleanly after this many milliseconds (tests, CI smoke runs)")
    parser.add_argument("--settings", type=Path, metavar="INI",
                        help="use this settings file instead of the one in the user's config folder")
    parser.add_argument("--debug", action="store_true", help="log debug messages too")
    # Qt's own options (-platform, -style, ...) are left for QApplication.
    args, _unknown = parser.parse_known_args(argv)
    return args


# -- logging --------------------------------------------------------------------------------------
def setup_logging(debug: bool = False) -> Path:
    """Log to a rotating file (and warnings to stderr); returns the log file's path."""
    path = user_log_dir() / LOG_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_valle_studio", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                                        encoding="utf-8")
    file_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"))
    file_handler._valle_studio = True  # type: ignore[attr-defined]
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console._valle_studio = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if sys.stderr is not None:
        root.addHandler(console)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    if getattr(sys, "frozen", False):
        _redirect_std_streams()
    return path


class _LogStream:
    """A file-like object that sends each written line to a logger (frozen builds have no console)."""

    def __init__(self, logger: logging.Logger, level: int) -> None:
        self._logger, self._level, self._buffer = logger, level, ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if line.strip():
                self._logger.log(self._level, line.rstrip())
        return len(text)

    def flush(self) -> None:
        pass


def _redirect_std_streams() -> None:
    sys.stdout = _LogStream(logging.getLogger("stdout"), logging.INFO)
    sys.stderr = _LogStream(logging.getLogger("stderr"), logging.WARNING)


def _qt_message_handler(mode: QtMsgType, context: object, message: str) -> None:
    logging.getLogger("qt").log(_QT_LEVELS.get(mode, logging.WARNING), "%s", message)


def contain_library_caches() -> None:
    """Send caches that libraries would put in the system's temporary folder to the app's cache folder.

    torch creates ``/tmp/torchinductor_<user>`` when the first model is built (on the engine thread) and
    sets ``TORCHINDUCTOR_CACHE_DIR`` then. Setting it here, on the main thread before any other thread
    starts, keeps the folder in the app's own cache and means nobody changes the environment later,
    while other threads may be reading it.
    """
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(user_cache_dir() / "torchinductor"))


# -- crash dialog ---------------------------------------------------------------------------------
class CrashReporter(QObject):
    """Logs uncaught exceptions and shows one dialog at a time naming the log file.

    Qt calls ``sys.excepthook`` on the thread whose slot raised, so the hook only logs and emits
    ``_report``; the dialog is built by :meth:`_show`, which runs on the UI thread (directly when the
    exception happened there, queued otherwise).
    """

    _report = Signal(str, str)  # summary, traceback

    def __init__(self, log_path: Path) -> None:
        super().__init__()
        self.log_path = log_path
        self.dialog: QMessageBox | None = None
        self.count = 0
        self._report.connect(self._show)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_hook

    def excepthook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        self.count += 1
        details = "".join(traceback.format_exception(kind, exc, tb))
        log.critical("uncaught exception:\n%s", details)
        self._report.emit(str(exc) or kind.__name__, details)

    @Slot(str, str)
    def _show(self, summary: str, details: str) -> None:
        if QApplication.instance() is None or self.dialog is not None:
            return
        # Non-modal: a dialog must never block the event loop (or a --quit-after run).
        box = QMessageBox(QMessageBox.Icon.Critical, "VALL-E Studio: unexpected error",
                          f"Something went wrong: {summary}\n\nThe details were written to the log file:\n"
                          f"{self.log_path}\n\nPlease include that file if you report the problem.")
        box.setDetailedText(details)
        box.finished.connect(self._closed)
        self.dialog = box
        box.show()

    def _closed(self) -> None:
        self.dialog = None

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        self.count += 1
        details = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        log.critical("uncaught exception in thread %s:\n%s", getattr(args.thread, "name", "?"), details)
        self._report.emit(str(args.exc_value) or args.exc_type.__name__, details)


def save_screenshot(window: QWidget, path: Path) -> bool:
    """Save a PNG of ``window`` atomically; False (and a log line) when it cannot be written."""
    from valle_studio.core.atomic import atomic_write

    pixmap = window.grab()

    def write(temp: Path) -> None:
        if not pixmap.save(str(temp), "PNG"):
            raise OSError(f"Qt could not write a PNG to {temp}")

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, write)
    except OSError as exc:
        log.error("screenshot not saved: %s", exc)
        return False
    log.info("screenshot saved to %s", path)
    return True


def follow_color_scheme(app: QApplication) -> None:
    """Follow the system's light/dark setting.

    Qt applies the platform palette itself on macOS and Linux desktops. The classic Windows style
    ignores dark mode, so there Fusion (which honours it) takes over when the system is dark.
    """
    from PySide6.QtCore import Qt

    def apply() -> None:
        dark = app.styleHints().colorScheme() == Qt.ColorScheme.Dark
        if sys.platform == "win32" and dark and app.style().name().lower() == "windowsvista":
            app.setStyle("Fusion")

    apply()
    app.styleHints().colorSchemeChanged.connect(lambda *_: apply())


# -- main -----------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the exit code (0 after a clean quit)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(arguments)
    log_path = setup_logging(args.debug)
    contain_library_caches()
    from valle_studio.app.qt_fixes import guard_none_refcount

    guard_none_refcount()  # before the first widget: see qt_fixes
    log.info("%s %s starting (Python %s)", APP_NAME, valle_studio.__version__, sys.version.split()[0])
    qInstallMessageHandler(_qt_message_handler)
    reporter = CrashReporter(log_path)
    reporter.install()

    app = QApplication.instance() or QApplication([sys.argv[0], *arguments])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("valle-studio")  # Wayland app id, matches assets/valle-studio.desktop
    app.setOrganizationName("valle-studio")
    app.setApplicationVersion(valle_studio.__version__)
    follow_color_scheme(app)

    from valle_studio.app.main_window import MainWindow
    from valle_studio.app.services import default_services
    from valle_studio.app.settings import AppSettings

    services = default_services()
    if args.settings is not None:
        services.settings = AppSettings.from_file(args.settings)
    window = MainWindow(services)
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    QTimer.singleShot(0, window.start)  # the engine thread (and torch) only after the window is up

    def screenshot() -> None:
        if args.screenshot is not None:
            save_screenshot(window, args.screenshot)

    if args.quit_after is not None:
        def quit_now() -> None:
            screenshot()
            window.close()
            app.quit()

        QTimer.singleShot(max(0, args.quit_after), quit_now)
    elif args.screenshot is not None:
        QTimer.singleShot(1000, screenshot)

    code = app.exec()
    window.shutdown()
    qInstallMessageHandler(None)
    log.info("exited with code %d", code)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
