"""The Batch tab's Ray choice is kept between sessions: on/off, address, workers, CPUs, GPUs, retries.

Stored as one JSON value in :attr:`AppSettings.cluster <valle_studio.app.settings.AppSettings.cluster>`;
a value that no longer reads (an old layout, numbers out of range) is ignored with a log line and the
option starts as it does the first time. Ray being absent leaves the options as saved but the box off.
"""

from __future__ import annotations

import dataclasses
import json
import logging

from valle_studio.app.settings import AppSettings
from valle_studio.app.widgets.cluster_option import ClusterOption
from valle_studio.cluster.options import ClusterOptions, ClusterOptionsError

log = logging.getLogger(__name__)


def restore(option: ClusterOption, settings: AppSettings) -> None:
    """Give ``option`` the saved choice, then save every later change to ``settings``."""
    raw = str(settings.cluster or "")
    if raw:
        try:
            saved = json.loads(raw)
            fields = {f.name for f in dataclasses.fields(ClusterOptions)}
            option.set_options(ClusterOptions(**{k: v for k, v in saved.get("options", {}).items() if k in fields}))
            option.check.setChecked(bool(saved.get("enabled")) and option.available)
        except (ValueError, TypeError, AttributeError, ClusterOptionsError) as exc:
            log.warning("ignoring the saved Ray option %r: %s", raw, exc)
    option.changed.connect(lambda: save(option, settings))


def save(option: ClusterOption, settings: AppSettings) -> None:
    """Write ``option``'s choice to ``settings``."""
    settings.cluster = json.dumps({"enabled": option.check.isChecked(),
                                   "options": dataclasses.asdict(option.options())})


__all__ = ["restore", "save"]
