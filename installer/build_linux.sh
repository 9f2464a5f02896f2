#!/usr/bin/env bash
# Build the Linux VALL-E Studio bundle (a self-contained folder) and optionally smoke-test it.
#
#   installer/build_linux.sh [--flavour cpu|cuda] [--smoke] [--archive]
#
# Output: dist/<flavour>/valle-studio/ holding the executables valle-studio (the app) and
# valle-studio-cli, their shared _internal/ folder, and install-desktop-entry.sh (adds the app to the
# desktop's menu with its icon). --archive also packs it as dist/valle-studio-<version>-linux-x86_64-<flavour>.tar.gz.
# Needs: the project's venv (PYTHON, default .venv/bin/python) with PyInstaller, and the system's
# libportaudio2 (Debian/Ubuntu: apt-get install libportaudio2), which the bundle then carries.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
FLAVOUR=cpu
SMOKE=0
ARCHIVE=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --flavour) FLAVOUR="${2:?--flavour needs cpu or cuda}"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --archive) ARCHIVE=1; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "build_linux.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$FLAVOUR" in cpu|cuda) ;; *) echo "build_linux.sh: --flavour must be cpu or cuda, not $FLAVOUR" >&2; exit 2 ;; esac

say() { echo "[build_linux] $*"; }

[[ -x "$PYTHON" ]] || { echo "build_linux.sh: no Python at $PYTHON (run: python3 installer/bootstrap.py setup)" >&2; exit 1; }
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    say "installing PyInstaller into $(dirname "$(dirname "$PYTHON")")"
    "$PYTHON" -m pip install -q "pyinstaller>=6.11"
fi
if ! "$PYTHON" -c "import ctypes.util, sys; sys.exit(ctypes.util.find_library('portaudio') is None)"; then
    echo "build_linux.sh: PortAudio not found; install it first (Debian/Ubuntu: apt-get install libportaudio2)" >&2
    exit 1
fi

VERSION="$("$PYTHON" -c 'import valle_studio; print(valle_studio.__version__)')"
DIST="$ROOT/dist/$FLAVOUR"
WORK="$ROOT/build/pyinstaller-$FLAVOUR"
BUNDLE="$DIST/valle-studio"
say "VALL-E Studio $VERSION, flavour $FLAVOUR -> $BUNDLE"

start=$(date +%s)
VALLE_STUDIO_FLAVOUR="$FLAVOUR" "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" "$ROOT/installer/valle_studio.spec"
elapsed=$(( $(date +%s) - start ))

# A desktop entry the user can install with one double-click/command; it points at wherever the folder lies.
install -m 0644 "$ROOT/assets/valle-studio.desktop" "$BUNDLE/valle-studio.desktop"
cat > "$BUNDLE/install-desktop-entry.sh" <<'SCRIPT'
#!/bin/sh
# Add VALL-E Studio (this folder) to the desktop's application menu, with its icon, for this user.
set -e
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$DATA/icons/hicolor/${size}x${size}/apps"
    cp "$HERE/_internal/assets/icons/valle-studio-$size.png" "$DATA/icons/hicolor/${size}x${size}/apps/valle-studio.png"
done
mkdir -p "$DATA/applications"
sed -e "s|^Exec=.*|Exec=\"$HERE/valle-studio\"|" -e "s|^TryExec=.*|TryExec=$HERE/valle-studio|" \
    "$HERE/valle-studio.desktop" > "$DATA/applications/valle-studio.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$DATA/applications" || true
echo "VALL-E Studio added to the application menu ($DATA/applications/valle-studio.desktop)"
SCRIPT
chmod 0755 "$BUNDLE/install-desktop-entry.sh"

size=$(du -sh "$BUNDLE" | cut -f1)
say "built in ${elapsed}s; bundle size $size ($BUNDLE)"

if [[ $ARCHIVE -eq 1 ]]; then
    tarball="$ROOT/dist/valle-studio-$VERSION-linux-$(uname -m)-$FLAVOUR.tar.gz"
    say "packing $tarball"
    tar -C "$DIST" -czf "$tarball" valle-studio
    say "archive $(du -sh "$tarball" | cut -f1)"
fi

if [[ $SMOKE -eq 1 ]]; then
    "$PYTHON" "$ROOT/installer/smoke_test.py" --bundle "$BUNDLE"
fi
