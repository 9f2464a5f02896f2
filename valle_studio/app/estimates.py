"""Expected durations for the window: the saved benchmark (or a conservative guess) and the loaded model.

:class:`Estimates` holds the saved benchmark of this machine (re-read after a benchmark run) and what
the loaded model runs on (device, precision, whether it can do NAR-len). The Studio tab asks it for
the expected duration of a take (:meth:`Estimates.take`) and, while a take runs, follows a
:class:`~valle_studio.engine.bench.estimate.RunEta`; the Batch tab asks for a whole script
(:meth:`Estimates.rows`). Both count the takes the Best-of control asks for, each checked
(:class:`~valle_studio.engine.quality.options.QualityOptions`). Nothing here imports torch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from valle_studio.engine.bench.choice import saved_benchmark
from valle_studio.engine.bench.estimate import DEFAULT_PROMPT_SECONDS, Estimate, Estimator, format_duration
from valle_studio.engine.bench.recommend import Recommendation, recommend
from valle_studio.engine.bench.record import BenchRecord
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.text.split import split_text

log = logging.getLogger(__name__)
GUESS_NOTE = "a rough guess: this machine has not been benchmarked yet (Help → Benchmark this machine)"


def precision_of(dtype: str, requested: str) -> str:
    """The precision an estimate should use: ``"int8"`` for a quantised model, else the model's dtype."""
    if requested == "int8":
        return "int8"
    return str(dtype).removeprefix("torch.") or "float32"


class Estimates(QObject):
    """See the module docstring. ``changed`` fires when the benchmark or the model changes."""

    changed = Signal()

    def __init__(self, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path = path
        self.record: BenchRecord | None = None
        self.note = ""
        self.device, self.precision, self.can_nar_len = "cpu", "float32", True
        self.reload()

    def reload(self) -> None:
        """Read the saved benchmark again (after a run, or when the window starts)."""
        self.record, self.note = saved_benchmark(self._path)
        self.changed.emit()

    def set_model(self, device: str, precision: str, can_nar_len: bool) -> None:
        """What the loaded model runs on (``device`` as torch names it: "cpu", "cuda:0")."""
        device = "cuda:0" if device == "cuda" else device
        self.device, self.precision, self.can_nar_len = device, precision, can_nar_len
        self.changed.emit()

    @property
    def measured(self) -> bool:
        return self.estimator().source == "benchmark"

    def estimator(self) -> Estimator:
        return Estimator(self.record, device=self.device, precision=self.precision)

    def recommendation(self) -> Recommendation | None:
        return recommend(self.record, can_nar_len=self.can_nar_len)

    def _modality(self, settings: GenerationSettings) -> str:
        if settings.modality == "auto":
            return "nar-len" if self.can_nar_len else "ar+nar"
        return settings.modality

    def take(self, text: str, settings: GenerationSettings, *, prompt_s: float = DEFAULT_PROMPT_SECONDS,
             quality: QualityOptions | None = None) -> Estimate:
        """The expected duration of a Studio Generate of ``text`` with ``settings``, a prompt of ``prompt_s``
        and ``quality`` (best-of N, retries, the check; None: one unchecked take)."""
        pieces = split_text(text, settings.split) or [text]
        if settings.prompt_length > 0:
            prompt_s = settings.prompt_length
        duration = None if settings.duration_frames is None else settings.duration_frames / 75.0
        return self.estimator().pieces(pieces, modality=self._modality(settings), steps=settings.max_steps,
                                       cfg_strength=settings.cfg_strength, max_duration=settings.max_duration,
                                       prompt_s=prompt_s, duration_s=duration, quality=quality)

    def rows(self, rows: Iterable[tuple[str, GenerationSettings]], quality: QualityOptions | None = None
             ) -> tuple[float, float]:
        """``(expected, most)`` seconds of a batch run of ``rows`` (text, settings), each line with
        ``quality``'s takes (``most``: every retry runs too); each row encodes its voice once."""
        estimates = [self.take(text, settings, quality=quality) for text, settings in rows if text.strip()]
        return sum(e.seconds for e in estimates), sum(e.most_seconds for e in estimates)

    def basis(self) -> str:
        """Where the numbers come from, in words (for tooltips)."""
        if not self.measured:
            return GUESS_NOTE if not self.note or "no benchmark" in self.note else f"a rough guess: {self.note}"
        record = self.record
        assert record is not None
        return (f"measured on this machine ({'quick' if record.quick else 'full'} benchmark of {record.created[:10]}, "
                f"{self.device}, {self.precision})")

    def words(self, seconds: float) -> str:
        """``"about 1 min 20 s"`` (measured) or ``"about 6 min (rough guess)"``."""
        return f"about {format_duration(seconds)}" + ("" if self.measured else " (rough guess)")


def takes_words(quality: QualityOptions | None, seconds: float, most: float) -> str:
    """What an estimate counts, for its tooltip: ``"3 takes, each checked; up to 5 min with 2 retries"``."""
    if quality is None:
        return "one take"
    takes = f"{quality.best_of} takes" if quality.best_of > 1 else "one take"
    checked = ", each checked" if quality.best_of > 1 and quality.check else (", checked" if quality.check else "")
    retries = (f"; up to {format_duration(most)} if all {quality.retry_bad} retries run" if quality.retry_bad
               and most > seconds else "")
    return f"{takes}{checked}{retries}"


__all__ = ["GUESS_NOTE", "Estimates", "precision_of", "takes_words"]
