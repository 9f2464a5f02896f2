"""Render the app icon from ``valle-studio.svg`` into the files the bundles and the app use.

    /work/main/.venv/bin/python assets/render_icons.py

Writes ``icons/valle-studio-<N>.png`` for every size in ``PNG_SIZES``, ``valle-studio.ico``
(Windows: 16-256 px) and ``valle-studio.icns`` (macOS: 16-1024 px). Qt's SVG renderer draws the
source (so the SVG stays the one true drawing); Pillow packs the ICO and ICNS. Pillow is needed only
here, not by the app: ``pip install pillow`` into the venv before running this.

The rendered files are committed, so building a bundle never needs this script.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "valle-studio.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render_png(size: int) -> bytes:
    """The SVG drawn at ``size`` x ``size`` px (antialiased, transparent corners), as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE}: Qt could not parse the SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def _write_atomic(path: Path, payload: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def main() -> int:
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    icons = HERE / "icons"
    icons.mkdir(exist_ok=True)
    rendered: dict[int, Image.Image] = {}
    for size in sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES)):
        png = render_png(size)
        rendered[size] = Image.open(io.BytesIO(png)).convert("RGBA")
        if size in PNG_SIZES:
            out = io.BytesIO()
            rendered[size].save(out, "PNG", optimize=True)
            _write_atomic(icons / f"valle-studio-{size}.png", out.getvalue())

    # Each size is drawn by Qt at that size (not scaled down from one big bitmap), so small icons stay crisp.
    largest = max(ICO_SIZES)
    out = io.BytesIO()
    rendered[largest].save(out, "ICO", sizes=[(s, s) for s in ICO_SIZES],
                           append_images=[rendered[s] for s in ICO_SIZES if s != largest])
    _write_atomic(HERE / "valle-studio.ico", out.getvalue())

    out = io.BytesIO()
    largest = max(ICNS_SIZES)
    rendered[largest].save(out, "ICNS", append_images=[rendered[s] for s in ICNS_SIZES if s != largest])
    _write_atomic(HERE / "valle-studio.icns", out.getvalue())
    print(f"rendered {len(PNG_SIZES)} PNGs, valle-studio.ico and valle-studio.icns from {SOURCE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
