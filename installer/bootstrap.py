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

# Debian/Ubuntu packages: Qt's xcb/EGL/font stack, PortAudio for sounddevice, libsndfile's codecs.
DEBIAN_PACKAGES = [
    "libportaudio2", "libsndfile1", "libegl1", "libgl1", "libxkbcommon0", "libxkbcommon-x11-0",
    "libfontconfig1", "libdbus-1-3", "libglib2.0-0", "libx11-6", "libx11-xcb1", "libxcb-cursor0",
    "libxcb-icccm4", "libxcb-keysyms1", "libxcb-shape0", "libxcb-xinerama0", "libxcb-randr0",
    "libxcb-render-util0", "libxcb-image0", "fonts-dejavu-core",
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
        return python
    say("installing VALL-E Studio and its dependencies (the first time takes a few minutes)")
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-q", "-e", f"{ROOT}[test]"], check=True)
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
