"""PyInstaller hook: phonemizer reads its own version through importlib.metadata.

Its espeak backend is loaded through ``EspeakWrapper.set_library`` (the bundled espeakng_loader
library, see hook-espeakng_loader.py); the festival and segments backends are never used by the app.
"""

from __future__ import annotations

from PyInstaller.utils.hooks import collect_data_files, copy_metadata

datas = copy_metadata("phonemizer") + collect_data_files("phonemizer", include_py_files=False)
excludedimports = ["segments", "csvw", "clldutils"]
