"""Exporting a take runs on a background task (issue 17): start it and wait for its answer in tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication


def export_and_wait(panel: Any, timeout_s: float = 60.0) -> Path | None:
    """``panel.ask_export()`` (the save dialog patched by the caller), then wait for ``exported`` (the path)
    or ``export_failed`` (None; its dialog is the caller's to expect). None when nothing started."""
    answers: list[Path | None] = []

    def on_exported(path: Path) -> None:
        answers.append(path)

    def on_failed(_message: str) -> None:
        answers.append(None)

    panel.exported.connect(on_exported)
    panel.export_failed.connect(on_failed)
    try:
        if not panel.ask_export():
            return None
        deadline = time.monotonic() + timeout_s
        while not answers:
            if time.monotonic() > deadline:
                raise AssertionError("the export did not answer in time")
            QCoreApplication.processEvents()
            time.sleep(0.005)
        return answers[0]
    finally:
        panel.exported.disconnect(on_exported)
        panel.export_failed.disconnect(on_failed)
