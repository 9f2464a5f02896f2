"""Which espeak-ng library and data the phonemizer uses: espeak-ng 1.51 wherever it can be had.

The published ecker/vall-e weights were trained on espeak-ng 1.51 phonemes; 1.52 spells German
``ü`` as ``ʏ`` (a symbol the tokenizer lacks), English ``oːɹ`` as ``ɔːɹ`` and joins Mandarin
syllables. :func:`choose_espeak` therefore looks for 1.51 first and says what it found. In order:

1. ``PHONEMIZER_ESPEAK_LIBRARY`` (and ``PHONEMIZER_ESPEAK_DATA_PATH``): the user's explicit choice;
2. a frozen app bundle: the library and data its build chose (``installer/hooks``), from its manifest;
3. the ``espeakng-loader`` wheel's library when it is 1.51 and loads (``espeakng-loader==0.1.51.0``,
   installed on Linux x86_64; it needs glibc >= 2.38 and the system's libpcaudio0 and libsonic0);
4. the system's ``libespeak-ng`` when it is 1.51 (Debian 12 / Ubuntu 24.04: ``apt-get install
   libespeak-ng1``, which the bootstrap does), with its own data;
5. any other library (espeakng-loader 0.2.4 bundles 1.52 on macOS, Windows and Linux aarch64) with the
   1.51 *data* folder, where the bootstrap unpacked it (``<venv>/share/valle-studio/espeak-ng-data-1.51``),
   except for Mandarin: the 1.52 library garbles 1.51's ``cmn`` dictionary, so Mandarin keeps the
   library's own data and the 1.51 syllable layout is restored afterwards
   (:mod:`~valle_studio.engine.text.espeak_compat`);
6. the same library with its own data, normalised toward 1.51 where the differences are known;
7. any system espeak-ng.

The measured agreement of each choice with 1.51 is in the README ("espeak-ng"). Probing loads a
library once with ``ctypes`` and asks ``espeak_Info`` for its version, which needs no initialisation.
Nothing here runs espeak itself; :mod:`~valle_studio.engine.text.phonemize` does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from valle_studio.engine.text.espeak_compat import NORMALISED_LANGUAGES

__all__ = [
    "BUNDLE_FOLDER",
    "BUNDLE_MANIFEST",
    "DATA_151_FOLDER",
    "TRAINED_VERSION",
    "EspeakSetup",
    "EspeakUnavailable",
    "choose_espeak",
    "data_151_folder",
    "library_version",
    "own_data_folder",
]

log = logging.getLogger(__name__)

#: The espeak-ng the published weights were trained on (major.minor).
TRAINED_VERSION = "1.51"
#: Where the bootstrap unpacks the 1.51 data folder on platforms whose library is another version.
DATA_151_FOLDER = Path("share") / "valle-studio" / "espeak-ng-data-1.51"
#: Inside a frozen bundle: the folder with the chosen library and data, and its manifest.
BUNDLE_FOLDER = "valle_studio_espeak"
BUNDLE_MANIFEST = "espeak.json"


class EspeakUnavailable(RuntimeError):
    """No usable espeak-ng library was found; the message lists what was tried."""


@dataclass(frozen=True)
class EspeakSetup:
    """One espeak-ng library with the data folder to use for each language.

    ``data``: the data folder for every language (None: the library's own compiled-in one);
    ``data_by_language``: exceptions to it; ``normalise``: languages whose output is normalised
    toward 1.51 (:func:`~valle_studio.engine.text.espeak_compat.normalise`); ``source``: where the
    library comes from, in words.
    """

    library: str
    version: str
    source: str
    data: str | None = None
    data_by_language: Mapping[str, str | None] = field(default_factory=dict)
    normalise: frozenset[str] = frozenset()

    def data_for(self, language: str) -> str | None:
        """The data folder espeak reads for ``language`` (a code such as ``"zh"``)."""
        return self.data_by_language.get(language, self.data)

    @property
    def is_trained_version(self) -> bool:
        """Library and data are both the 1.51 the models were trained on, for every language."""
        return (_major_minor(self.version) == TRAINED_VERSION and not self.data_by_language
                and not self.normalise)

    def describe(self) -> str:
        """One line for ``--version`` and the About box, e.g.
        ``espeak-ng 1.51 (system library /usr/lib/.../libespeak-ng.so.1)``."""
        text = f"espeak-ng {self.version} ({self.source})"
        if self.data is not None and not self.data_by_language:
            text += f", data {self.data}"
        elif self.data_by_language:
            text += f", 1.51 data {self.data} (Mandarin: the library's own data)"
        if self.normalise:
            text += f", normalised toward {TRAINED_VERSION} for {', '.join(sorted(self.normalise))}"
        return text

    def to_json(self) -> dict[str, object]:
        """The manifest a frozen bundle carries (paths made relative by the caller)."""
        return {"library": self.library, "version": self.version, "source": self.source, "data": self.data,
                "data_by_language": dict(self.data_by_language), "normalise": sorted(self.normalise)}


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def library_version(path: str | Path) -> str | None:
    """The version an espeak-ng library reports (``"1.51"``, ``"1.52.0"``), or None when it does not
    load here (missing file, wrong glibc, missing libpcaudio/libsonic, not espeak)."""
    try:
        lib = ctypes.CDLL(str(path))
        info = lib.espeak_Info
    except (OSError, AttributeError) as exc:
        log.debug("espeak-ng library %s does not load: %s", path, exc)
        return None
    info.restype = ctypes.c_char_p
    info.argtypes = [ctypes.c_void_p]
    raw = info(None)
    if not isinstance(raw, bytes) or not raw.strip():
        return None
    return raw.decode("utf-8", "replace").split()[0].replace("-dev", "")


def own_data_folder(library: str | Path) -> Path | None:
    """The data folder a library reads when none is given: Debian's ``<libdir>/espeak-ng-data``, a
    wheel's folder beside its library, or ``/usr/share/espeak-ng-data`` (where a frozen-bundle build
    finds the data it must copy)."""
    lib = Path(library)
    for folder in (lib.parent / "espeak-ng-data", lib.resolve().parent / "espeak-ng-data",
                   Path("/usr/share/espeak-ng-data"), Path("/usr/local/share/espeak-ng-data")):
        if (folder / "phontab").is_file():
            return folder
    return None


def data_151_folder(prefix: str | Path | None = None) -> Path | None:
    """The 1.51 data folder the bootstrap unpacked into ``prefix`` (the venv), if it is there."""
    folder = Path(prefix if prefix is not None else sys.prefix) / DATA_151_FOLDER
    return folder if (folder / "phontab").is_file() else None


# -- the candidates, in order --------------------------------------------------------------------------------
Candidate = Callable[[list[str]], "EspeakSetup | None"]


def _from_environment(tried: list[str]) -> EspeakSetup | None:
    library = os.environ.get("PHONEMIZER_ESPEAK_LIBRARY")
    if not library:
        return None
    version = library_version(library)
    if version is None:
        raise EspeakUnavailable(f"PHONEMIZER_ESPEAK_LIBRARY={library} is not a loadable espeak-ng library")
    return EspeakSetup(library, version, f"PHONEMIZER_ESPEAK_LIBRARY={library}",
                       data=os.environ.get("PHONEMIZER_ESPEAK_DATA_PATH") or None)


def _from_bundle(tried: list[str]) -> EspeakSetup | None:
    base = getattr(sys, "_MEIPASS", None)
    if not getattr(sys, "frozen", False) or base is None:
        return None
    folder = Path(base) / BUNDLE_FOLDER
    manifest = folder / BUNDLE_MANIFEST
    if not manifest.is_file():
        tried.append(f"the app bundle has no {BUNDLE_FOLDER}/{BUNDLE_MANIFEST}")
        return None
    spec = json.loads(manifest.read_text(encoding="utf-8"))

    def inside(rel: object) -> str | None:
        return None if rel is None else str(folder / str(rel))

    library = inside(spec["library"])
    assert library is not None
    version = library_version(library)
    if version is None:
        tried.append(f"the bundle's {library} does not load")
        return None
    return EspeakSetup(library, version, f"bundled with the app: {spec['source']}", data=inside(spec["data"]),
                       data_by_language={k: inside(v) for k, v in dict(spec["data_by_language"]).items()},
                       normalise=frozenset(spec["normalise"]))


def _loader() -> tuple[str, str] | None:
    """(library, data folder) of the installed espeakng-loader wheel, if any."""
    try:
        import espeakng_loader
    except ImportError:
        return None
    try:
        return str(espeakng_loader.get_library_path()), str(espeakng_loader.get_data_path())
    except (OSError, RuntimeError):
        return None


def _loader_151(tried: list[str]) -> EspeakSetup | None:
    found = _loader()
    if found is None:
        tried.append("espeakng-loader is not installed")
        return None
    library, data = found
    version = library_version(library)
    if version is None:
        tried.append(f"espeakng-loader's {library} does not load here (1.51 needs glibc >= 2.38, "
                     "libpcaudio0 and libsonic0)")
        return None
    if _major_minor(version) != TRAINED_VERSION:
        return None
    return EspeakSetup(library, version, f"espeakng-loader {library}", data=data)


def _system_libraries() -> Iterator[str]:
    """Paths of the system's espeak-ng libraries: the usual folders first (full paths, which a bundle
    build can copy), then whatever the linker finds by name."""
    for folder in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                   "/usr/local/lib", "/opt/homebrew/lib"):
        for name in ("libespeak-ng.so.1", "libespeak-ng.1.dylib", "libespeak-ng.dylib"):
            path = Path(folder) / name
            if path.exists():
                yield str(path)
    found = ctypes.util.find_library("espeak-ng")
    if found:
        yield found


def _system_151(tried: list[str]) -> EspeakSetup | None:
    for library in dict.fromkeys(_system_libraries()):
        version = library_version(library)
        if version is not None and _major_minor(version) == TRAINED_VERSION:
            return EspeakSetup(library, version, f"system library {library}")
        tried.append(f"system {library}: " + (f"version {version}" if version else "does not load"))
    return None


def _other_library(tried: list[str]) -> tuple[str, str, str] | None:
    """(library, its data, version) of espeakng-loader's non-1.51 library, when it loads."""
    found = _loader()
    if found is None:
        return None
    version = library_version(found[0])
    return None if version is None else (found[0], found[1], version)


def _loader_with_151_data(tried: list[str]) -> EspeakSetup | None:
    other = _other_library(tried)
    data = data_151_folder()
    if other is None or data is None:
        if other is not None:
            tried.append(f"no 1.51 data folder at {Path(sys.prefix) / DATA_151_FOLDER} (the bootstrap puts it there)")
        return None
    library, own_data, version = other
    return EspeakSetup(library, version, f"espeakng-loader {library}", data=str(data),
                       data_by_language={"zh": own_data}, normalise=frozenset({"zh"}))


def _loader_normalised(tried: list[str]) -> EspeakSetup | None:
    other = _other_library(tried)
    if other is None:
        return None
    library, own_data, version = other
    return EspeakSetup(library, version, f"espeakng-loader {library}", data=own_data,
                       normalise=NORMALISED_LANGUAGES)


def _any_system(tried: list[str]) -> EspeakSetup | None:
    for library in dict.fromkeys(_system_libraries()):
        version = library_version(library)
        if version is not None:
            return EspeakSetup(library, version, f"system library {library}")
    return None


CANDIDATES: tuple[Candidate, ...] = (_from_environment, _from_bundle, _loader_151, _system_151,
                                     _loader_with_151_data, _loader_normalised, _any_system)


def choose_espeak(candidates: tuple[Candidate, ...] = CANDIDATES) -> EspeakSetup:
    """The first usable espeak-ng of ``candidates`` (the module docstring's order).

    Raises:
        EspeakUnavailable: none loads; the message says what was tried and how to install one.
    """
    tried: list[str] = []
    for candidate in candidates:
        setup = candidate(tried)
        if setup is not None:
            if not setup.is_trained_version:
                log.warning("espeak-ng %s is not the 1.51 the models were trained on: %s", setup.version,
                            setup.describe())
            return setup
    raise EspeakUnavailable(
        "no usable espeak-ng library: " + "; ".join(tried)
        + ". Install espeak-ng 1.51 (Debian/Ubuntu: apt-get install libespeak-ng1), reinstall espeakng-loader, "
          "or set PHONEMIZER_ESPEAK_LIBRARY to an espeak-ng library")
