"""Help → User guide (F1): the Markdown guide in docs/, with its pictures, a contents list, links between pages,
Back and Forward, and find in page (Ctrl+F).

F1 opens the page about the screen on show; in a dialog, the part of the guide about that form (DIALOG_PAGES, or
the dialog's own `help_page`), in a guide window of the dialog's own, which its modality does not block. The guide
is read from disk each time a page opens, so the window needs no build step; docs/ is found through desktop.paths,
beside the source tree or inside a frozen build.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtGui import QBrush, QColor, QImage, QKeySequence, QShortcut, QTextDocument, QTextFrameFormat, QTextTable
from PySide6.QtWidgets import (
    QDialog,
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
from ..kit.widgets import STRETCH, button_bar

INDEX = "index.md"
# The page that explains each screen of the navigation (desktop.views.shell.screens.SCREENS), for F1.
SCREEN_PAGES = {
    "my_work": "my-work.md",
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
# The part of the guide about each dialog, "page.md#heading" (the heading's slug, as GitHub makes it), by class
# name; a dialog may instead say it with a `help_page` attribute. A dialog in neither gets its screen's page.
DIALOG_PAGES = {
    "BulkDialog": "cohort.md#several-patients-at-once",
    "InterventionDialog": "cohort.md#one-patient",
    "FlagDialog": "cohort.md#one-patient",
    "CohortRulesDialog": "cohort.md#cohort-criteria",
    "ImportDialog": "importing-a-risk-extract.md#steps",
    "ImportHistoryDialog": "importing-a-risk-extract.md#rolling-an-import-back",
    "PlanMeetingDialog": "mdt.md#1-plan-the-meeting",
    "AgendaPicker": "mdt.md#2-draw-up-the-agenda",
    "ActionDialog": "mdt.md#the-action-form",
    "StatusDialog": "mdt.md#the-action-form",
    "LogVisitDialog": "care-homes.md#logging-a-visit",
    "ResidentDialog": "care-homes.md#the-resident-form",
    "RevisionsDialog": "returns.md#correcting-a-signed-off-return",
    "StepChangeDialog": "reports.md#step-changes",
    "MonthDialog": "reports.md#the-monthly-exception-report",
    "BoardAsksDialog": "reports.md#the-board-summary-page-1-of-the-locality-report",
    "SystemSummaryDialog": "reports.md#the-system-report-in-the-boards-terms",
    "ReturnImportDialog": "commissioner.md#importing-the-returns",
    "TrustedKeysDialog": "commissioner.md#signed-returns-and-the-teams-keys",
    "RecordDialog": "reference-data.md",
    "ReferenceUpdateDialog": "reference-data.md#updating-from-the-nhs-files",
    "PassphraseDialog": "sync.md",
    "SyncPreviewDialog": "sync.md#applying-a-teammates-changes",
    "ConflictsDialog": "sync.md#sync-conflicts",
    "TeamFolderDialog": "sync.md#team-folder",
    "NewWorkspaceDialog": "workspaces-and-backups.md#workspaces",
    "WhoDialog": "workspaces-and-backups.md#who-is-using-locality-desk",
    "RestoreDialog": "workspaces-and-backups.md#restoring-from-a-backup",
    "AboutBox": "information-governance.md",
    "FirstRunWizard": "getting-started-locality-team.md#the-first-time-you-open-locality-desk",
}
_LINK = re.compile(r"\[([^\]]+)\]\(([^)#\s]+\.md)\)")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: "1. Plan the meeting" -> "1-plan-the-meeting"."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


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
        bar = button_bar(
            self.back_button, self.forward_button, self.contents_button, STRETCH, self.find_note, self.find_box
        )

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
        # The contents as wide as its longest title at the user's font size, within reason.
        listed = min(max(290, self.pages.sizeHintForColumn(0) + 32), 480)
        splitter.setSizes([listed, 1000 - listed])
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
        """Open a page of the guide by file name, e.g. 'cohort.md', or at a heading, 'mdt.md#the-action-form';
        an unknown name opens the contents."""
        name, _hash, heading = name.partition("#")
        path = self.folder / name
        if not path.is_file():
            path, heading = self.folder / INDEX, ""
        url = QUrl.fromLocalFile(str(path))
        if heading:
            url.setFragment(heading)
        self.browser.setSource(url, QTextDocument.ResourceType.MarkdownResource)
        self._to_heading(heading)  # again: the page may have been on show already, with the view elsewhere

    def page(self) -> str:
        """The file name of the page on show."""
        return Path(self.browser.source().toLocalFile()).name

    def anchor(self) -> str:
        """The heading the page was opened at (its slug), or "" for its top."""
        return self._anchor

    _anchor = ""

    def _to_heading(self, anchor: str) -> None:
        # Qt's Markdown gives headings no anchors, so the heading is found by its slug and scrolled to the top.
        self._anchor = ""
        block = self.browser.document().begin()
        while anchor and block.isValid():
            if block.blockFormat().headingLevel() and slug(block.text()) == anchor:
                self._anchor = anchor
                cursor = self.browser.textCursor()
                cursor.setPosition(block.position())
                self.browser.setTextCursor(cursor)
                top = self.browser.document().documentLayout().blockBoundingRect(block).top()
                self.browser.verticalScrollBar().setValue(int(top))
                return
            block = block.next()

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
        self._to_heading(url.fragment())  # a link to a heading ("mdt.md#the-action-form") lands on it
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
    guide = own_guide(window)
    if guide is None:
        guide = HelpWindow(window)
    guide.show_page(SCREEN_PAGES.get(screen_key or "", INDEX))
    guide.show()
    guide.raise_()
    guide.activateWindow()
    return guide


def own_guide(window: QWidget) -> HelpWindow | None:
    """The guide window that belongs to *window* itself (not one of a dialog of it)."""
    return window.findChild(HelpWindow, "helpWindow", Qt.FindChildOption.FindDirectChildrenOnly)


def guide_page_for(dialog: QWidget) -> str:
    """The part of the guide about *dialog*: its own `help_page`, else DIALOG_PAGES by its class (or a class it is
    made from); for a message box that names neither, its owner's; at the main window, the page of the screen on
    show; else the contents."""
    widget: QWidget | None = dialog
    while widget is not None:
        if getattr(widget, "help_page", ""):
            return widget.help_page
        for cls in type(widget).__mro__:
            if cls.__name__ in DIALOG_PAGES:
                return DIALOG_PAGES[cls.__name__]
        if hasattr(widget, "current_screen"):
            return SCREEN_PAGES.get(widget.current_screen().key, INDEX)
        widget = widget.parentWidget()
    return INDEX


def open_guide_for(dialog: QWidget) -> HelpWindow:
    """F1 in a dialog: the guide at the part about it, in a window of the dialog's own. A modal dialog blocks
    every other window, the main window's guide too, but not a window that is its child; the dialog stays open.
    When the dialog closes, a guide still open moves to the main window (if that has none) so the reading goes on."""
    guide = own_guide(dialog)
    if guide is None:
        guide = HelpWindow(dialog)
        if isinstance(dialog, QDialog):
            dialog.finished.connect(lambda _result, g=guide, d=dialog: _outlive(g, d))
    guide.show()  # before the page, so the view is laid out at its size when it scrolls to the form's part
    guide.show_page(guide_page_for(dialog))
    guide.raise_()
    guide.activateWindow()
    return guide


def _outlive(guide: HelpWindow, dialog: QWidget) -> None:
    owner = dialog.parentWidget().window() if dialog.parentWidget() is not None else None
    if not guide.isVisible() or owner is None or own_guide(owner) is not None:
        return  # it goes with the dialog
    where = guide.geometry()
    guide.setParent(owner, guide.windowFlags())
    guide.setGeometry(where)
    guide.show()


class HelpKeys(QObject):
    """F1 and Shift+F1 in every window, a modal form included: the Help menu's shortcuts belong to the main window,
    which a modal dialog blocks, and the forms are where help is wanted most. F1 in a dialog opens the guide at the
    part about that form; Shift+F1 is What's This (click a field to read the rule behind it)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or event.key() != Qt.Key.Key_F1:
            return False
        if event.modifiers() == Qt.KeyboardModifier.ShiftModifier and not QWhatsThis.inWhatsThisMode():
            QWhatsThis.enterWhatsThisMode()
            return True
        # Only a widget's key press: the same key reaches its window (a QWindow) first.
        if event.modifiers() == Qt.KeyboardModifier.NoModifier and isinstance(watched, QWidget):
            dialog = watched.window()
            if isinstance(dialog, QDialog):
                open_guide_for(dialog)
                return True
        return False


def install_help_keys(app: QObject) -> None:
    """Once per application, however many main windows are built."""
    if app.findChild(HelpKeys) is None:
        app.installEventFilter(HelpKeys(app))
