"""The main window's benchmark side: Help → Benchmark this machine, the expected duration of a take, and
the measured advice (a preset and a precision) applied in one click.

A mixin of :class:`~valle_studio.app.main_window.MainWindow` (kept apart so the window's file stays about
wiring the Studio tab); every attribute it reads is the window's.
"""

from __future__ import annotations

from typing import Any

from valle_studio.app.widgets.benchmark_dialog import BenchmarkDialog
from valle_studio.engine.bench.recommend import Recommendation, auto_precision
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.settings import GenerationSettings


class WindowAdvice:
    """See the module docstring."""

    _bench_dialog: BenchmarkDialog | None  # made on first use, then shown again

    def _estimate_request(self: Any) -> tuple[str, GenerationSettings, float, QualityOptions]:
        """What Generate would send now, for the expected duration: text, settings, seconds of voice, takes."""
        voice = sum(len(samples) / rate for samples, rate in self.voice_panel.prompts() if rate)
        return self.text_panel.text(), self.generation_settings(), voice, self.best_of.options()

    def open_benchmark(self: Any) -> BenchmarkDialog:
        """Help → Benchmark this machine (non-modal); a run is a job of the engine."""
        dialog: BenchmarkDialog | None = self._bench_dialog
        if dialog is None:
            dialog = self._bench_dialog = BenchmarkDialog(self.benchmark, self.estimates, self)
            dialog.apply_requested.connect(self.apply_advice)
        dialog.show()
        dialog.raise_()
        return dialog

    def _on_estimates_changed(self: Any) -> None:
        advice = self.estimates.recommendation()
        self.sampler_panel.set_measured_preset(advice.preset if advice is not None else None)

    def apply_advice(self: Any, advice: Recommendation) -> None:
        """One click: the measured preset into the sampler, and its precision (reloading the model if needed)."""
        self.sampler_panel.set_measured_preset(advice.preset)
        self.sampler_panel.apply_preset(advice.preset.name)
        wanted = advice.precision
        if self.settings.precision == "auto" and wanted == auto_precision(self.estimates.record, advice.device)[0]:
            wanted = "auto"  # "auto" already means it on this machine
        loaded = self.estimates.precision if self.engine.is_loaded else None
        if wanted != self.settings.precision or (loaded is not None and loaded != advice.precision):
            self.settings.precision = wanted
            self.load_default_model()
        self.statusBar().showMessage(f"Applied {advice.preset.label}: {advice.sentence}", 10_000)


__all__ = ["WindowAdvice"]
