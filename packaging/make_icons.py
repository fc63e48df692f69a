"""Render resources/icons/locality-desk.svg into the PNG sizes, the Windows .ico and the macOS .icns.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py

Run it after changing the SVG and commit what it writes: the builds use the files, not this script.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICONS / "locality-desk.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # the largest a .ico holds


def render(renderer: QSvgRenderer, size: int) -> Image.Image:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(data))).convert("RGBA")


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"Qt cannot read {SVG}")
    images = {size: render(renderer, size) for size in SIZES}
    for size, image in images.items():
        image.save(ICONS / f"locality-desk-{size}.png")
    # Pillow picks each size from the largest image, so every size is drawn from the vector rather than shrunk.
    images[256].save(
        ICONS / "locality-desk.ico",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[images[s] for s in ICO_SIZES if s != 256],
    )
    retina = render(renderer, 1024)  # the .icns also holds 512 px at double density
    retina.save(ICONS / "locality-desk.icns", append_images=list(images.values()))
    print(f"Wrote {len(images)} PNGs, locality-desk.ico and locality-desk.icns into {ICONS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
