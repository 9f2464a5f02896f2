"""The Studio tab's time estimates: the expected duration before Generate, the time left while a take runs.

:class:`TakeEstimate` follows the text, the sampler, the voice and the loaded model and shows
"Expected: about 1 min 20 s" in the progress strip (from the saved benchmark, or a conservative guess
marked as such, with where it comes from in the tooltip). When a take starts it follows the take's
progress events with a :class:`~valle_studio.engine.bench.estimate.RunEta` and shows the time left,
counting down every second between events. It only reads widgets and the engine's signals.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from valle_studio.app.estimates import Estimates, takes_words
from valle_studio.app.widgets.progress_panel import ProgressPanel
from valle_studio.batch.eta import format_eta
from valle_studio.engine.bench.estimate import RunEta, format_duration
from valle_studio.engine.progress import Progress
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.settings import GenerationSettings

#: What Generate would send now: text, settings, seconds of reference voice, the takes (best-of, check).
Request = Callable[[], tuple[str, GenerationSettings, float, QualityOptions]]


class TakeEstimate(QObject):
    """See the module docstring. ``request`` returns what Generate would send now."""

    def __init__(self, estimates: Estimates, panel: ProgressPanel, request: Request,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.estimates = estimates
        self.panel = panel
        self.request = request
        self.job: int | None = None
        self._eta: RunEta | None = None
        self._started = 0.0
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_left)
        estimates.changed.connect(self.refresh)

    def refresh(self) -> None:
        """Show the expected duration of the take Generate would start now (nothing while one runs)."""
        if self.job is not None:
            return
        text, settings, prompt_s, quality = self.request()
        if not text.strip():
            self.panel.set_expected("")
            return
        estimate = self.estimates.take(text, settings, prompt_s=prompt_s, quality=quality)
        counted = takes_words(quality, estimate.seconds, estimate.most_seconds)
        check = (f" Checking costs about {format_duration(estimate.check_s)} a take."
                 if estimate.check_s > 0 else "")
        self.panel.set_expected(f"Expected: {self.estimates.words(estimate.seconds)}",
                                f"Expected duration of this Generate ({counted}): {self.estimates.basis()}.{check}")

    def started(self, job: int) -> None:
        """A take of the current request was queued as ``job``."""
        text, settings, prompt_s, quality = self.request()
        estimate = self.estimates.take(text, settings, prompt_s=prompt_s, quality=quality)
        self.job, self._eta, self._started = job, RunEta(estimate), time.monotonic()
        self._tick.start()
        self._show_left()

    def progress(self, job: int, event: Progress) -> None:
        if job == self.job and self._eta is not None:
            self._eta.update(event.stage, event.done, event.total, event.detail)
            self._show_left()

    def ended(self, job: int) -> None:
        """The take ended (finished, failed or stopped): back to the expected duration of the next one."""
        if job == self.job:
            self.job, self._eta = None, None
            self._tick.stop()
            self.refresh()

    def seconds_left(self) -> float | None:
        return None if self._eta is None else self._eta.seconds_left(time.monotonic() - self._started)

    def _show_left(self) -> None:
        left = self.seconds_left()
        if left is not None:
            guess = "" if self.estimates.measured else " (rough guess)"
            self.panel.set_expected(f"about {format_eta(left)} left{guess}",
                                    f"Time left, from the expected duration ({self.estimates.basis()}) and the "
                                    "speed of this take so far.")


__all__ = ["TakeEstimate"]
