"""Help → User guide (F1): the Markdown guide in docs/, with its pictures, a contents list, links between pages,
Back and Forward, and find in page (Ctrl+F).

F1 opens the page about the screen on show. The guide is read from disk each time a page opens, so the window
needs no build step; docs/ is found through desktop.paths, beside the source tree or inside a frozen build.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtGui import QBrush, QColor, QImage, QKeySequence, QShortcut, QTextDocument, QTextFrameFormat, QTextTable
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWhatsThis,
    QWidget,
)

from ... import paths

INDEX = "index.md"
# The page that explains each screen of the navigation (desktop.views.shell.screens.SCREENS), for F1.
SCREEN_PAGES = {
    "cohort": "cohort.md",
    "mdt": "mdt.md",
    "care_homes": "care-homes.md",
    "returns": "returns.md",
    "reports": "reports.md",
    "commissioner": "commissioner.md",
    "localities": "reference-data.md",
    "pcns": "reference-data.md",
    "practices": "reference-data.md",
    "care_home_register": "reference-data.md",
    "staff": "reference-data.md",
    "audit": "audit-log.md",
}
_LINK = re.compile(r"\[([^\]]+)\]\(([^)#\s]+\.md)\)")


def docs_dir() -> Path:
    return paths.docs_dir()


def contents(folder: Path | None = None) -> list[tuple[str, str]]:
    """(title, file) of each page the guide's index links to, in its order, the index first."""
    folder = folder or docs_dir()
    text = (folder / INDEX).read_text(encoding="utf-8")
    pages = [("Contents", INDEX)]
    for title, target in _LINK.findall(text):
        if target not in (p for _, p in pages):
            pages.append((title, target))
    return pages


class GuideBrowser(QTextBrowser):
    """A text browser that fits the guide's screenshots to its width and draws the tables' rules."""

    def loadResource(self, kind: int, url: QUrl):
        resource = super().loadResource(kind, url)
        if kind == QTextDocument.ResourceType.ImageResource.value and resource is not None:
            image = QImage.fromData(resource) if not isinstance(resource, QImage) else resource
            room = max(480, self.viewport().width() - 48)
            if not image.isNull() and image.width() > room:
                return image.scaledToWidth(room, Qt.TransformationMode.SmoothTransformation)
            return image
        return resource

    def rule_tables(self) -> None:
        # Markdown tables arrive without borders, which makes a wide table hard to follow across.
        for frame in self.document().rootFrame().childFrames():
            if isinstance(frame, QTextTable):
                fmt = frame.format()
                fmt.setBorder(1)
                fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
                fmt.setBorderBrush(QBrush(QColor("#AEB7BD")))
                fmt.setBorderCollapse(True)
                fmt.setCellPadding(4)
                fmt.setCellSpacing(0)
                frame.setFormat(fmt)


class HelpWindow(QWidget):
    """A window of its own beside the main window, so the guide can stay open while the user works."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("helpWindow")
        self.setWindowTitle("Locality Desk — User guide")
        self.resize(1000, 760)
        self.folder = docs_dir()

        self.back_button = QPushButton("◀ Back")
        self.back_button.setShortcut(QKeySequence.StandardKey.Back)
        self.forward_button = QPushButton("Forward ▶")
        self.forward_button.setShortcut(QKeySequence.StandardKey.Forward)
        self.contents_button = QPushButton("Contents")
        self.find_box = QLineEdit()
        self.find_box.setObjectName("helpFind")
        self.find_box.setPlaceholderText("Find in page (Ctrl+F); Enter for the next")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setMaximumWidth(320)
        self.find_note = QLabel()
        self.find_note.setObjectName("fieldHelp")
        bar = QHBoxLayout()
        for widget in (self.back_button, self.forward_button, self.contents_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.find_note)
        bar.addWidget(self.find_box)

        self.pages = QListWidget()
        self.pages.setObjectName("helpContents")
        self.pages.setAccessibleName("Contents of the guide")
        for title, name in contents(self.folder):
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.pages.addItem(item)
        self.browser = GuideBrowser()
        self.browser.setObjectName("helpPage")
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(self.folder)])
        self.browser.document().setDocumentMargin(16)
        splitter = QSplitter()
        splitter.addWidget(self.pages)
        splitter.addWidget(self.browser)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([290, 710])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self.back_button.clicked.connect(self.browser.backward)
        self.forward_button.clicked.connect(self.browser.forward)
        self.contents_button.clicked.connect(lambda: self.show_page(INDEX))
        self.browser.backwardAvailable.connect(self.back_button.setEnabled)
        self.browser.forwardAvailable.connect(self.forward_button.setEnabled)
        self.browser.sourceChanged.connect(self._source_changed)
        self.pages.currentItemChanged.connect(self._page_chosen)
        self.find_box.returnPressed.connect(self.find_next)
        self.find_box.textEdited.connect(lambda _t: self.find_note.clear())
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_find)
        QShortcut(QKeySequence("Shift+Return"), self.find_box, lambda: self.find_next(backwards=True))
        self.back_button.setEnabled(False)
        self.forward_button.setEnabled(False)

    def show_page(self, name: str) -> None:
        """Open a page of the guide by file name, e.g. 'cohort.md'; an unknown name opens the contents."""
        path = self.folder / name
        if not path.is_file():
            path = self.folder / INDEX
        self.browser.setSource(QUrl.fromLocalFile(str(path)), QTextDocument.ResourceType.MarkdownResource)

    def page(self) -> str:
        """The file name of the page on show."""
        return Path(self.browser.source().toLocalFile()).name

    def find_next(self, backwards: bool = False) -> bool:
        text = self.find_box.text()
        if not text:
            return False
        flags = QTextDocument.FindFlag.FindBackward if backwards else QTextDocument.FindFlag(0)
        found = self.browser.find(text, flags)
        if not found:  # wrap round to the other end of the page
            cursor = self.browser.textCursor()
            cursor.movePosition(cursor.MoveOperation.End if backwards else cursor.MoveOperation.Start)
            self.browser.setTextCursor(cursor)
            found = self.browser.find(text, flags)
        self.find_note.setText("" if found else "Not on this page")
        return found

    def _focus_find(self) -> None:
        self.find_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.find_box.selectAll()

    def _page_chosen(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None and item.data(Qt.ItemDataRole.UserRole) != self.page():
            self.show_page(item.data(Qt.ItemDataRole.UserRole))

    def _source_changed(self, url: QUrl) -> None:
        # Keep the contents list on the page shown, however it was reached (a link, Back, F1). The url, not
        # source(): on the first page, source() is still empty when this is signalled.
        name = Path(url.toLocalFile()).name
        self.browser.rule_tables()
        self.find_note.clear()
        for row in range(self.pages.count()):
            item = self.pages.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                self.pages.blockSignals(True)
                self.pages.setCurrentItem(item)
                self.pages.blockSignals(False)
                return
        self.pages.clearSelection()


def open_guide(window: QWidget, screen_key: str | None = None) -> HelpWindow:
    """Show the guide beside *window* at the page for *screen_key* (or the contents); one guide window each."""
    guide = window.findChild(HelpWindow, "helpWindow")
    if guide is None:
        guide = HelpWindow(window)
    guide.show_page(SCREEN_PAGES.get(screen_key or "", INDEX))
    guide.show()
    guide.raise_()
    guide.activateWindow()
    return guide


class WhatsThisKey(QObject):
    """Shift+F1 in every window, a modal form included: the Help menu's shortcut belongs to the main window, which
    a modal dialog blocks, and the forms are where a field's rule is wanted most."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_F1
            and event.modifiers() == Qt.KeyboardModifier.ShiftModifier
            and not QWhatsThis.inWhatsThisMode()
        ):
            QWhatsThis.enterWhatsThisMode()
            return True
        return False


def install_whats_this_key(app: QObject) -> None:
    """Once per application, however many main windows are built."""
    if app.findChild(WhatsThisKey) is None:
        app.installEventFilter(WhatsThisKey(app))
