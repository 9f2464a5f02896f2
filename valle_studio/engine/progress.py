"""Progress reports and cooperative cancellation for long engine operations (no Qt)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One progress event: ``stage`` names the phase ("predicting length", "demasking", "refining",
    "decoding", "downloading", ...), ``done``/``total`` count its steps (total 0 = unknown)."""

    stage: str
    done: int
    total: int
    detail: str = ""

    @property
    def text(self) -> str:
        """Human text such as ``"demasking 12/25"``."""
        core = f"{self.stage} {self.done}/{self.total}" if self.total else self.stage
        return f"{core} ({self.detail})" if self.detail else core


ProgressCallback = Callable[[Progress], None]


class Cancelled(Exception):
    """Raised inside an engine operation when its :class:`CancelToken` was cancelled."""


class CancelToken:
    """Thread-safe cancel flag checked by the engine between model steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


def report(callback: ProgressCallback | None, cancel: CancelToken | None, stage: str, done: int,
           total: int, detail: str = "") -> None:
    """Check ``cancel`` and forward one event to ``callback``; the one call every loop step makes."""
    if cancel is not None:
        cancel.check()
    if callback is not None:
        callback(Progress(stage, done, total, detail))
