"""PyInstaller hook: pykakasi (Japanese readings) keeps its dictionaries in ``pykakasi/data``."""

from __future__ import annotations

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("pykakasi", include_py_files=False)
