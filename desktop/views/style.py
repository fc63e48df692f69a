"""The NHS-like palette and the application style sheet (resources/style.qss)."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from .. import paths

RESOURCES = paths.resources_dir()

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_PALE_GREY = "#E8EDEE"
NHS_TEXT = "#212B32"
NHS_SECONDARY_TEXT = "#4C6272"
NHS_RED = "#D5281B"
NHS_WARM_YELLOW = "#FFB81C"
# A pale tint of warm yellow: enough to catch the eye behind dark text, still readable.
AMBER_BACKGROUND = QColor("#FFE9B0")

log = logging.getLogger(__name__)


def apply_style(app: QApplication) -> None:
    font = app.font()
    font.setPointSize(10)
    app.setFont(font)
    sheet = RESOURCES / "style.qss"
    try:
        # Qt resolves url() against the working directory, so image paths are made absolute here.
        app.setStyleSheet(sheet.read_text(encoding="utf-8").replace("@RESOURCES@", RESOURCES.as_posix()))
    except OSError:
        # Still usable without it (an unusual install); the log says why it looks plain.
        log.warning("Style sheet %s not found; using the platform style", sheet)
