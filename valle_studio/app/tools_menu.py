"""The Tools menu (issue 17): "Audit log…" and "Check a file for the watermark…".

:func:`install_tools_menu` adds the menu to the main window's menu bar and wires the watermark setting
(Preferences) into the Studio export and the Batch export, which ask it at each export. Checking a file
reads and analyses it on a :class:`~valle_studio.app.jobs.background.BackgroundTask`; the verdict
appears in a non-modal message box (one sentence: found or not, confidence, what the tags claim).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from valle_studio.app.jobs.background import BackgroundTask
from valle_studio.app.widgets.audit_log_dialog import AuditLogDialog
from valle_studio.studio.audit import AuditLog
from valle_studio.studio.provenance_export import WatermarkCheck, check_file

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3 *.aiff *.aif);;All files (*)"


class ToolsMenu(QObject):
    """The menu's actions and the dialogs they open (see the module docstring)."""

    checked = Signal(object)  # WatermarkCheck
    check_failed = Signal(str)

    def __init__(self, window: Any, audit: AuditLog | None = None) -> None:
        super().__init__(window)
        self.window: QWidget = window
        self.audit = audit or AuditLog()
        self.audit_action = QAction("&Audit log of exports…", window)
        self.audit_action.setToolTip("Every exported file: what was said, voice, model, where it went, watermark")
        self.check_action = QAction("&Check a file for the watermark…", window)
        self.check_action.setToolTip("Does an audio file carry the VALL-E Studio watermark?")
        self.audit_action.triggered.connect(self.show_audit_log)
        self.check_action.triggered.connect(self.ask_check)
        self.audit_dialog: AuditLogDialog | None = None
        self.result_box: QMessageBox | None = None
        self._task: BackgroundTask | None = None

    def show_audit_log(self) -> AuditLogDialog:
        """Open (or raise and refresh) the audit log viewer; non-modal."""
        if self.audit_dialog is None:
            self.audit_dialog = AuditLogDialog(self.audit, self.window)
        else:
            self.audit_dialog.refresh()
        self.audit_dialog.show()
        self.audit_dialog.raise_()
        return self.audit_dialog

    def ask_check(self) -> bool:
        path, _chosen = QFileDialog.getOpenFileName(self.window, "Check a file for the watermark", "",
                                                    AUDIO_FILTER)
        return bool(path) and self.start_check(Path(path))

    def start_check(self, path: Path) -> bool:
        """Analyse ``path`` on a background thread; False while a check runs."""
        if self._task is not None:
            return False
        task = BackgroundTask(lambda _progress, _cancel: check_file(path), name="valle-watermark-check")
        task.finished.connect(self._on_checked)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        self._task = task
        self.check_action.setEnabled(False)
        status = getattr(self.window, "statusBar", None)
        if status is not None:
            status().showMessage(f"Checking {path.name} for the watermark…")
        task.start()
        return True

    def wait(self) -> None:
        if self._task is not None:
            self._task.wait()

    def _show(self, icon: QMessageBox.Icon, title: str, text: str) -> None:
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("watermarkResult")
        box.open()  # non-modal: the window stays usable
        self.result_box = box

    def _on_checked(self, result: WatermarkCheck) -> None:
        self._done()
        icon = QMessageBox.Icon.Information if result.watermarked else QMessageBox.Icon.Warning
        self._show(icon, "Watermark check", result.sentence())
        self.checked.emit(result)

    def _on_failed(self, message: str) -> None:
        self._done()
        self._show(QMessageBox.Icon.Warning, "Watermark check failed",
                   f"The file could not be checked: {message.strip().rstrip('.')}.")
        self.check_failed.emit(message)

    def _on_cancelled(self) -> None:
        self._done()

    def _done(self) -> None:
        self._task = None
        self.check_action.setEnabled(True)
        status = getattr(self.window, "statusBar", None)
        if status is not None:
            status().clearMessage()


def install_tools_menu(window: Any) -> ToolsMenu:
    """Add the Tools menu to ``window``'s menu bar (before Help, when called before it is built) and let
    the exports follow the watermark setting."""
    tools = ToolsMenu(window)
    menu = window.menuBar().addMenu("&Tools")
    menu.addAction(tools.audit_action)
    menu.addAction(tools.check_action)
    settings = window.settings
    window.output_panel.watermark_enabled = lambda: bool(settings.watermark)
    exporter = getattr(getattr(window, "batch_view", None), "exporter", None)
    if exporter is not None:
        exporter.watermark_enabled = lambda: bool(settings.watermark)
    return tools


__all__ = ["ToolsMenu", "install_tools_menu"]
