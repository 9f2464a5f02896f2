#!/usr/bin/env bash
# Build the macOS VALL-E Studio app (dist/cpu/VALL-E Studio.app) and optionally smoke-test it.
#
#   installer/build_macos.sh [--smoke] [--dmg]
#
# Output: dist/cpu/VALL-E Studio.app, with valle-studio (the app) and valle-studio-cli in
# Contents/MacOS. --dmg also writes dist/valle-studio-<version>-macos-<arch>.dmg.
# PyPI's torch for macOS has no CUDA (it uses Apple's GPU through MPS), so there is one flavour.
# Build on the architecture you ship for (arm64 on Apple silicon, x86_64 on Intel Macs): the bundle
# carries that venv's binaries. PyInstaller signs ad hoc; set VALLE_STUDIO_CODESIGN_IDENTITY to sign
# with a Developer ID (then notarize with xcrun notarytool, see installer/README.md).
# Needs: the project's venv (PYTHON, default .venv/bin/python). PortAudio and libsndfile come inside
# the sounddevice and soundfile wheels, espeak-ng inside espeakng-loader.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SMOKE=0
DMG=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --smoke) SMOKE=1; shift ;;
        --dmg) DMG=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "build_macos.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
say() { echo "[build_macos] $*"; }

[[ -x "$PYTHON" ]] || { echo "build_macos.sh: no Python at $PYTHON (run: python3 installer/bootstrap.py setup)" >&2; exit 1; }
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    say "installing PyInstaller into the venv"
    "$PYTHON" -m pip install -q "pyinstaller>=6.11"
fi

VERSION="$("$PYTHON" -c 'import valle_studio; print(valle_studio.__version__)')"
DIST="$ROOT/dist/cpu"
WORK="$ROOT/build/pyinstaller-cpu"
APP="$DIST/VALL-E Studio.app"
say "VALL-E Studio $VERSION ($(uname -m)) -> $APP"

start=$(date +%s)
VALLE_STUDIO_FLAVOUR=cpu "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" "$ROOT/installer/valle_studio.spec"
elapsed=$(( $(date +%s) - start ))
say "built in ${elapsed}s; app size $(du -sh "$APP" | cut -f1)"

if [[ $DMG -eq 1 ]]; then
    dmg="$ROOT/dist/valle-studio-$VERSION-macos-$(uname -m).dmg"
    say "packing $dmg"
    rm -f "$dmg"
    hdiutil create -volname "VALL-E Studio" -srcfolder "$APP" -ov -format UDZO "$dmg"
fi

if [[ $SMOKE -eq 1 ]]; then
    "$PYTHON" "$ROOT/installer/smoke_test.py" --bundle "$APP"
fi
