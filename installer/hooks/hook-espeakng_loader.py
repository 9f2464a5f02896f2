"""PyInstaller hook: espeakng_loader's own libespeak-ng and its voice/dictionary data.

``espeakng_loader.get_library_path()`` and ``get_data_path()`` look beside the package's
``__init__``, so both go to ``espeakng_loader/`` inside the bundle, exactly as in the wheel.
Only the unversioned library name is loaded (the wheel carries three identical copies).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, get_package_paths

_, package_dir = get_package_paths("espeakng_loader")
_names = {"win32": "espeak-ng.dll", "darwin": "libespeak-ng.dylib"}
_library = Path(package_dir) / _names.get(sys.platform, "libespeak-ng.so")
if not _library.is_file():
    raise SystemExit(f"hook-espeakng_loader: {_library} is missing; reinstall espeakng-loader")

binaries = [(str(_library), "espeakng_loader")]
datas = collect_data_files("espeakng_loader", subdir="espeak-ng-data", include_py_files=False)
