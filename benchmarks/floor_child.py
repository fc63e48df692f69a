"""Run in a child process by bench_startup.py: the floor of the cold start. A bare PySide6 window over a 60,000-row
table (a QMainWindow holding a QTableView on a minimal QAbstractTableModel, its rows read from the demo world's
patients table with sqlite3), launched as gui_child.py launches the app; prints the seconds from the parent's launch
to the window's first paint, and the rows it shows."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time

LAUNCHED = float(sys.argv[2])
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView  # noqa: E402

ROWS = 60_000
COLUMNS = ("nhs_number", "family_name", "given_name", "date_of_birth", "practice_code", "status")


class Table(QAbstractTableModel):
    def __init__(self, rows: list[tuple]):
        super().__init__()
        self.rows = rows

    def rowCount(self, parent=QModelIndex()):  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            value = self.rows[index.row()][index.column()]
            return None if value is None else str(value)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


def read_rows(path: str) -> list[tuple]:
    """60,000 rows of the patients table; the demo world holds fewer, so the table is read again until there are
    60,000 (every row still fetched from SQLite)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        select = f"SELECT {', '.join(COLUMNS)} FROM patients"
        (count,) = conn.execute("SELECT count(*) FROM patients").fetchone()
        times = max(1, -(-ROWS // max(count, 1)))
        return conn.execute(f"{' UNION ALL '.join([select] * times)} LIMIT {ROWS}").fetchall()
    finally:
        conn.close()


app = QApplication(sys.argv[:1])
result: dict = {}


class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow) and "start" not in result:
            result["start"] = time.time() - LAUNCHED
            QTimer.singleShot(0, app.quit)
        return False


watcher = FirstPaint()
app.installEventFilter(watcher)
window = QMainWindow()
view = QTableView()
view.setModel(Table(read_rows(sys.argv[1])))
window.setCentralWidget(view)
window.resize(1400, 900)
window.show()
app.exec()
result["rows"] = view.model().rowCount()
print(json.dumps(result))
