"""PyInstaller hook: bundle the espeak-ng library and data that this build machine's app would use.

``choose_espeak()`` runs here, at build time, exactly as the app runs it: on Debian 12 that is Debian's
libespeak-ng1 1.51 (its libpcaudio/libsonic and their libraries follow through PyInstaller's dependency
analysis), with glibc >= 2.38 the espeakng-loader 0.1.51.0 library, elsewhere the 1.52 library with the
1.51 data. Everything goes to ``valle_studio_espeak/`` with a manifest (``espeak.json``) that names the
files relative to that folder; ``espeak_setup._from_bundle`` reads it first in a frozen app.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from valle_studio.engine.text.espeak_setup import BUNDLE_FOLDER, BUNDLE_MANIFEST, choose_espeak, own_data_folder

_setup = choose_espeak()
_library = Path(_setup.library).resolve()
if not _library.is_file():
    raise SystemExit(f"hook espeak_setup: the chosen espeak-ng library {_setup.library} is not a file")
print(f"hook espeak_setup: bundling {_setup.describe()}")

binaries = [(str(_library), BUNDLE_FOLDER)]
datas: list[tuple[str, str]] = []
_folders: dict[str, str] = {}  # source data folder -> its name inside the bundle


def _bundled_data(folder: str | None) -> str:
    source = Path(folder) if folder else own_data_folder(_setup.library)
    if source is None or not (source / "phontab").is_file():
        raise SystemExit(f"hook espeak_setup: no espeak-ng data folder for {_setup.library}")
    key = str(source.resolve())
    if key not in _folders:
        name = "espeak-ng-data" if not _folders else f"espeak-ng-data-{len(_folders)}"
        _folders[key] = name
        for path in sorted(source.rglob("*")):
            if path.is_file():
                datas.append((str(path), str(Path(BUNDLE_FOLDER) / name / path.parent.relative_to(source))))
    return _folders[key]


_manifest = {
    "library": _library.name,
    "version": _setup.version,
    "source": _setup.source,
    "data": _bundled_data(_setup.data),
    "data_by_language": {lang: _bundled_data(folder) for lang, folder in _setup.data_by_language.items()},
    "normalise": sorted(_setup.normalise),
}
_manifest_path = Path(tempfile.mkdtemp(prefix="valle-espeak-")) / BUNDLE_MANIFEST
_manifest_path.write_text(json.dumps(_manifest, indent=1), encoding="utf-8")
datas.append((str(_manifest_path), BUNDLE_FOLDER))
