"""PyInstaller hook: espeakng_loader ships as Python only; the espeak-ng the app uses is bundled by
``hook-valle_studio.engine.text.espeak_setup.py`` (the build machine's choice, ideally 1.51), so that
a frozen app never carries two espeak-ng libraries or loads the wrong one."""

from __future__ import annotations

binaries: list[tuple[str, str]] = []
datas: list[tuple[str, str]] = []
