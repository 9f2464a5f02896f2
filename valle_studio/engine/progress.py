"""Progress reports and cooperative cancellation for long engine operations (no Qt)."""

from __future__ import annotations

import threading
import time
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


class ProgressThrottle:
    """Passes progress events on to ``forward`` at most once per ``interval_s`` within a stage.

    A tiny model reports thousands of steps a second and a download every chunk, while a bar or a
    terminal line needs no more than a few updates a second. An event always gets through when its
    key (by default its stage) differs from the last one passed on, and when it is its stage's last
    step (``done >= total`` with a known total), so a bar never stops short of its end. Not
    thread-safe: call it from the one thread that reports.
    """

    def __init__(self, forward: ProgressCallback, interval_s: float, *,
                 key: Callable[[Progress], object] = lambda event: event.stage,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.forward = forward
        self.interval_s = interval_s
        self._key = key
        self._clock = clock
        self._last_key: object = None
        self._last_at = float("-inf")

    def __call__(self, event: Progress) -> None:
        now = self._clock()
        key = self._key(event)
        last_step = event.total > 0 and event.done >= event.total
        if key != self._last_key or last_step or now - self._last_at >= self.interval_s:
            self._last_key, self._last_at = key, now
            self.forward(event)
