"""The Batch tab's summary line: the project's counts, the expected time of Run all, the settings in use.

A mixin of :class:`~valle_studio.app.widgets.batch_view.BatchView`; every attribute it reads is the view's.
"""

from __future__ import annotations

from typing import Any

from valle_studio.app.estimates import takes_words
from valle_studio.engine.settings import GenerationSettings


def settings_summary(settings: GenerationSettings) -> str:
    parts = [settings.modality, f"temperature {settings.ar_temperature:g}", f"{settings.max_steps} steps",
             f"max {settings.max_duration:g} s"]
    if settings.seed is not None:
        parts.append(f"seed {settings.seed}")
    return ", ".join(parts)


class BatchSummary:
    """See the module docstring."""

    def _update_summary_when_idle(self: Any) -> None:
        if not self.controller.is_running:
            self._update_summary()

    def _update_summary(self: Any) -> None:
        project = self.project
        if project is None:
            self.project_label.setText("No batch open")
            self.settings_label.setText("")
            return
        counts = project.counts()
        parts = [f"{counts['done']} of {len(project.rows)} done"]
        if counts["failed"]:
            parts.append(f"{counts['failed']} failed")
        if counts["changed"]:
            parts.append(f"{counts['changed']} edited")
        expected = self._expected_run()
        if expected:
            parts.append(expected)
        self.project_label.setText(f"{project.name} · " + " · ".join(parts))
        self.settings_label.setText(f"Settings: {settings_summary(project.settings)}")
        self.settings_label.setToolTip(", ".join(f"{k} {v}" for k, v in project.settings.to_dict().items()))

    def refresh_estimate(self: Any) -> None:
        """Estimate Run all again (the takes per line changed)."""
        if self.project is not None:
            self._update_summary()

    def _expected_run(self: Any) -> str:
        """``"Run all: about 25 min"``: what the lines Run all would generate take with the takes each line
        gets (best-of, checked), from the saved benchmark (or a rough guess); the Run all button's tooltip
        says what is counted and where the figure comes from."""
        project, estimates = self.project, self.estimates
        if project is None or estimates is None:
            return ""
        ids = set(project.ids_needing_work())
        rows = [(row.text, project.settings_for(row)) for row in project.rows if row.id in ids]
        if not rows:
            return ""
        quality = self._quality()
        seconds, most = estimates.rows(rows, quality)
        self.run_bar.set_run_all_note(f"{len(rows)} line(s) now, per line {takes_words(quality, seconds, most)}: "
                                      f"{estimates.words(seconds)}, {estimates.basis()}")
        return f"Run all: {estimates.words(seconds)}"


__all__ = ["BatchSummary", "settings_summary"]
