"""The main window: locality switcher, navigation, the screens, menus and the status bar."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QColor, QFont, QFontMetrics, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ...models import clock, roles
from ...models.changes import Changes
from ...models.errors import StorageUnavailable
from ...models.workspace import create_workspace, data_ends_note
from ...settings import Settings
from ..kit import messages
from ..kit.page import Page
from ..kit.session import Session
from ..kit.style import colours
from . import backups as backup_ops
from . import who_dialog
from .menus import build_menus
from .page_set import PageSet
from .planned_page import PlannedPage
from .screens import SCREENS, Screen, available, page_class
from .startup import WORKSPACE_FILTER
from .team_folder import TeamFolderSync
from .workspace_dialogs import NewWorkspaceDialog, about_box

log = logging.getLogger(__name__)
KIND_LABEL = {"locality": "Locality workspace", "commissioner": "Commissioner workspace"}


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, session: Session):
        super().__init__()
        self.settings = settings
        self.session: Session | None = None
        self.pages = PageSet([], self._place_page)
        self.new_dialog: NewWorkspaceDialog | None = None
        self.go_actions: dict[str, QAction] = {}
        self._opening = False  # set_session under way: the My work count waits for its first screen
        self._painted = False
        self.setMinimumSize(QSize(1000, 640))
        self._build_header()
        self._build_body()
        self._build_status_bar()
        self.recent_menu = build_menus(self)
        self._restore_state()
        self.team_folder = TeamFolderSync(self)
        self.set_session(session)

    # -- workspace --------------------------------------------------------------------------------------
    def set_session(self, session: Session) -> None:
        """Show *session*'s workspace everywhere, closing the one shown before."""
        shown = self.current_screen().key if self.stack.currentWidget() else self.settings.state("last_screen")
        if self.session is not None:
            self.team_folder.drop_on_close(self.session)
            self.session.changed.disconnect(self._on_changes)
            self.session.close()
        self.session = session
        who_dialog.apply_remembered(session, self.settings)
        self.show_who()
        session.changed.connect(self._on_changes)
        self.edit_menu.refresh()  # the new session's stack is empty
        for page in self.pages.built():
            self.stack.removeWidget(page)
            page.deleteLater()
        self.pages = PageSet([s for s in SCREENS if available(s, session.kind)], self._place_page)
        for row in range(self.nav.count()):
            key = self.nav.item(row).data(Qt.ItemDataRole.UserRole)
            if key is not None:
                self.nav.item(row).setHidden(key not in self.pages)
        for key, action in self.go_actions.items():
            action.setVisible(key in self.pages)
        self.setWindowTitle(f"{session.path.name} — Locality Desk")
        self.path_label.setText(str(session.path))
        self.path_label.setToolTip(str(session.path))
        self.kind_label.setText(KIND_LABEL.get(session.kind, session.kind))
        self.kind_badge.setText(KIND_LABEL.get(session.kind, session.kind))
        self._show_day_notice()
        self.import_action.setText("&Import returns…" if session.kind == "commissioner" else "&Import risk extract…")
        self.import_history_action.setVisible(session.kind != "commissioner")
        for action in self.locality_actions:  # a commissioner looks at all teams at once
            action.setVisible(session.kind != "commissioner")
        self._opening = True
        try:
            self._fill_localities()
            self.show_screen(shown if shown in self.pages else self.first_screen())
        finally:
            self._opening = False
        self.refresh_work_count()  # once, from My work's own lists when it is the screen just shown
        if self._painted:  # the teammates' new bundles, once the window is up (at start-up: after its first paint)
            QTimer.singleShot(0, self.team_folder.catch_up)

    def first_screen(self) -> str:
        """The screen a workspace opens on when no other is remembered (the first start, or a remembered screen
        this kind of workspace lacks): the last screen shown wins, because the user chose it. A commissioner
        workspace opens on the Commissioner screen; the federation manager or a locality lead, who sign the
        quarter's return off, on Returns; every other team member on My work."""
        if self.session.kind == "commissioner":
            return "commissioner"
        return "returns" if roles.may_sign_off(self.session.actor.role) else "my_work"

    def _show_day_notice(self) -> None:
        """Say when the screens judge "today" by a pinned day, or show a demo whose history stopped long ago."""
        today = clock.today()
        lines = [data_ends_note(self.session.db, today)]
        if clock.pinned_by_environment():
            lines.insert(0, f"Locality Desk is showing {today:%A %d %B %Y} as today ({clock.ENV_TODAY} is set).")
        text = "\n".join(line for line in lines if line)
        self.day_notice_label.setText(text)
        self.day_notice.setVisible(bool(text))

    def open_path(self, path: Path) -> bool:
        """Switch to the workspace at *path*; a file that cannot be used is explained and nothing changes."""
        try:
            session = Session.open(Path(path), self.settings)
        except StorageUnavailable as exc:
            messages.warn(self, "Cannot open the workspace", f"{exc}\n\nThe current workspace stays open.")
            return False
        log.info("Opened workspace %s", session.path)
        self.set_session(session)
        return True

    def choose_and_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open workspace", self.settings.state("last_directory"), WORKSPACE_FILTER
        )
        if name:
            self.settings.set_state("last_directory", str(Path(name).parent))
            self.open_path(Path(name))

    def new_workspace(self) -> None:
        def create(path: Path, kind: str) -> None:
            create_workspace(path, kind).close()

        start = self.settings.state("last_directory") or str(self.session.path.parent)
        self.new_dialog = NewWorkspaceDialog(start, create, self)
        self.new_dialog.created.connect(self._created)
        self.new_dialog.open()

    def _created(self, path: Path) -> None:
        self.settings.set_state("last_directory", str(path.parent))
        self.open_path(path)

    # -- navigation ---------------------------------------------------------------------------------------
    def show_screen(self, key: str) -> None:
        if key not in self.pages:  # absent from this kind of workspace
            return
        for row in range(self.nav.count()):
            if self.nav.item(row).data(Qt.ItemDataRole.UserRole) == key:
                if row == self.nav.currentRow():
                    self._nav_changed(row)  # the same row after a workspace switch: show its new page
                else:
                    self.nav.setCurrentRow(row)
                return

    def current_screen(self) -> Screen:
        return self.current_page().screen

    def current_page(self) -> Page:
        return self.stack.currentWidget()

    def go_to(self, key: str) -> None:
        """Go → a screen (Ctrl+1…9): show it and put the keyboard on its first control, not on one it hid."""
        self.show_screen(key)
        page = self.current_page()
        widget = page.nextInFocusChain()
        while widget is not page and widget is not None:
            if (
                page.isAncestorOf(widget)
                and widget.isVisible()
                and widget.isEnabled()
                and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            ):
                widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return
            widget = widget.nextInFocusChain()

    def focus_filter(self) -> None:
        self.current_page().focus_filter()

    def current_locality(self) -> dict | None:
        return self.locality_box.currentData()

    def _nav_changed(self, row: int) -> None:
        key = self.nav.item(row).data(Qt.ItemDataRole.UserRole) if row >= 0 else None
        if key in self.pages:
            page = self.pages[key]
            self.stack.setCurrentWidget(page)
            page.on_shown()

    def _locality_changed(self) -> None:
        locality = self.current_locality()
        if locality:
            self.settings.set("last_locality", locality["code"])
        for page in self.pages.built():
            page.set_locality(locality)
        self.refresh_work_count()

    def refresh_work_count(self) -> None:
        """The navigation's "My work (7)": worked out whether or not the screen was ever opened; taken from the
        screen's own lists when it has just loaded them for this locality, rather than reading them twice."""
        rows = [self.nav.item(r) for r in range(self.nav.count())]
        item = next((i for i in rows if i.data(Qt.ItemDataRole.UserRole) == "my_work"), None)
        if item is None or self.session is None or self._opening:
            return
        from ..my_work import page as my_work  # the first screen of most users: imported with it, or here

        work = None
        if "my_work" in self.pages:
            page = next((p for p in self.pages.built() if p.screen.key == "my_work"), None)
            if page is not None and not page.stale and page.locality == self.current_locality():
                work = page.work
            else:
                work = my_work.work_for(self.session, self.settings, self.current_locality())
        item.setText(my_work.navigation_title(next(s.title for s in SCREENS if s.key == "my_work"), work))

    def _fill_localities(self) -> None:
        current = self.current_locality()
        wanted = current["code"] if current else self.settings.get("last_locality")
        self.locality_box.blockSignals(True)
        self.locality_box.clear()
        for loc in self.session.localities():
            self.locality_box.addItem(f"{loc['name']}  ({loc['code']})", loc)
        codes = [self.locality_box.itemData(i)["code"] for i in range(self.locality_box.count())]
        self.locality_box.setCurrentIndex(codes.index(wanted) if wanted in codes else min(0, len(codes) - 1))
        self.locality_box.setEnabled(bool(codes))
        self.locality_box.blockSignals(False)
        self._locality_changed()

    def _on_changes(self, changes: Changes) -> None:
        self.edit_menu.refresh()
        if changes.touches("localities"):
            self._fill_localities()
        for page in self.pages.built():
            page.on_changes(changes)
        if "my_work" in self.pages:
            from ..my_work.page import DEPENDS

            if changes.touches(*DEPENDS):
                self.refresh_work_count()

    def _place_page(self, screen: Screen) -> Page:
        """Build a screen's page on its first visit, put it in the window and tell it the locality shown."""
        page = self._make_page(screen, self.session)
        self.stack.addWidget(page)
        page.set_locality(self.current_locality())
        return page

    def _make_page(self, screen: Screen, session: Session) -> Page:
        if not screen.page:
            return PlannedPage(screen, session.kind)
        page = page_class(screen)
        if screen.entity:  # a reference table keeps no settings of its own
            return page(screen, session)
        return page(screen, session, self.settings)

    def import_extract(self) -> None:
        """File → Import… (Ctrl+I): a risk extract in a locality workspace, the teams' returns in a commissioner's."""
        if self.session.kind == "commissioner" and "commissioner" in self.pages:
            self.show_screen("commissioner")
            self.pages["commissioner"].choose_files()
            return
        if "cohort" not in self.pages:
            messages.warn(
                self,
                "No risk extracts here",
                "A commissioner workspace never holds patient data, so it "
                "does not import risk extracts. Open the team's locality workspace (File → Open) to "
                "import one; the commissioner imports the teams' return files on the Commissioner "
                "screen.",
            )
            return
        self.show_screen("cohort")
        self.pages["cohort"].import_extract()

    def import_history(self) -> None:
        """File → Import history…: the locality's extract imports, and rolling back the last."""
        from ..cohort.import_history import ImportHistoryDialog

        if self.session.kind == "commissioner" or "cohort" not in self.pages:
            messages.warn(self, "No risk extracts here", "A commissioner workspace never imports risk extracts.")
            return
        self.show_screen("cohort")
        page = self.pages["cohort"]
        if page.locality is None:
            messages.warn(self, "Choose a locality", "Choose the locality in the Locality box first.")
            return
        self.history_dialog = ImportHistoryDialog(self.session, page.locality, self)
        self.history_dialog.open()

    def edit_cohort_rules(self) -> None:
        if self.session.kind == "commissioner":
            messages.warn(
                self,
                "No cohort here",
                "A commissioner workspace holds no cohort, so it has no cohort "
                "criteria. Open a locality workspace to change them.",
            )
            return
        self.show_screen("cohort")
        self.pages["cohort"].edit_rules()

    # -- building -------------------------------------------------------------------------------------------
    def _build_header(self) -> None:
        bar = QToolBar("Locality")
        bar.setObjectName("header")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setEnabled(False)
        title = QLabel("Locality Desk")
        title.setObjectName("appTitle")
        bar.addWidget(title)
        self.locality_actions = [bar.addWidget(QLabel("Locality"))]
        self.locality_box = QComboBox()
        self.locality_box.setObjectName("localitySwitcher")
        self.locality_box.setAccessibleName("Locality")
        self.locality_box.setToolTip("The locality the screens show")
        self.locality_box.setMinimumContentsLength(28)
        self.locality_box.currentIndexChanged.connect(self._locality_changed)
        self.locality_actions.append(bar.addWidget(self.locality_box))
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.kind_badge = QLabel()
        self.kind_badge.setObjectName("kindBadge")
        bar.addWidget(self.kind_badge)
        self.addToolBar(bar)

    def _build_body(self) -> None:
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Screens")
        self.nav.setFrameShape(QListWidget.Shape.NoFrame)
        self.nav.setMinimumWidth(190)
        heading_font = QFont(self.nav.font())
        heading_font.setBold(True)
        heading_font.setPointSizeF(heading_font.pointSizeF() * 0.85)
        group = None
        for number, screen in enumerate(SCREENS, start=1):
            if screen.group != group:
                group = screen.group
                heading = QListWidgetItem(group.upper())
                heading.setFlags(Qt.ItemFlag.NoItemFlags)
                heading.setFont(heading_font)
                heading.setForeground(QColor(colours().secondary))
                if number > 1:
                    heading.setSizeHint(QSize(0, 48))
                self.nav.addItem(heading)
            item = QListWidgetItem(screen.title)
            item.setData(Qt.ItemDataRole.UserRole, screen.key)
            item.setToolTip(f"{screen.summary}" + (f"  (Ctrl+{number})" if number <= 9 else ""))
            self.nav.addItem(item)
        # Wide enough for the longest title in bold (the chosen one) at the user's font size, not only at 10 pt.
        self.nav.ensurePolished()
        bold = QFont(self.nav.font())
        bold.setBold(True)
        widest = max(QFontMetrics(bold).horizontalAdvance(s.title) for s in SCREENS)
        self.nav.setMinimumWidth(max(190, widest + 40))  # the item padding and the mark of the chosen one
        self.nav.currentRowChanged.connect(self._nav_changed)
        self.stack = QStackedWidget()
        self.splitter = QSplitter()
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 1180])
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(1)
        # Above the screens: what a user must know about the day the figures are judged on.
        self.day_notice = QFrame()
        self.day_notice.setObjectName("notice")
        inner = QVBoxLayout(self.day_notice)
        inner.setContentsMargins(12, 6, 12, 6)
        self.day_notice_label = QLabel()
        self.day_notice_label.setObjectName("dayNotice")
        self.day_notice_label.setWordWrap(True)
        inner.addWidget(self.day_notice_label)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.day_notice)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(body)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.path_label = QLabel()
        self.path_label.setObjectName("workspacePath")
        self.kind_label = QLabel()
        self.kind_label.setObjectName("workspaceKind")
        local = QLabel("All data is stored locally on this computer")
        local.setObjectName("localOnly")
        self.who_label = QLabel()
        self.who_label.setObjectName("whoLabel")
        self.who_label.setToolTip("Who each change is recorded as (File → Who is using this…)")
        bar.addWidget(self.path_label, 1)
        bar.addPermanentWidget(self.who_label)
        bar.addPermanentWidget(self.kind_label)
        bar.addPermanentWidget(local)

    def set_user_name(self) -> None:
        """File → Who is using this…: the name and role each change is recorded with."""
        self.who = who_dialog.ask(self, self.session, self.settings)
        self.who.chosen.connect(self.show_who)
        self.who.chosen.connect(self._user_changed)

    def _user_changed(self) -> None:
        """Another user's work: My work and its count are someone else's now."""
        for page in self.pages.built():
            if page.screen.key == "my_work":
                page.mark_stale()
        self.refresh_work_count()

    def show_who(self) -> None:
        self.who_label.setText(self.session.actor.label)

    def show_about(self) -> None:
        self.about = about_box(self)
        self.about.open()

    def focus_localities(self) -> None:
        self.locality_box.setFocus()
        self.locality_box.showPopup()

    # -- backups ----------------------------------------------------------------------------------------------
    def back_up_now(self) -> None:
        backup_ops.back_up_now(self)

    def restore_from_backup(self) -> None:
        backup_ops.restore_from_backup(self)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.team_folder.catch_up)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if getattr(self, "daily_backups", None) is None:  # the first show: start looking after start-up
            self.daily_backups = backup_ops.DailyBackups(self)
            self.daily_backups.start()
            self.team_folder.start()

    def _back_up_on_close(self) -> None:
        if getattr(self, "daily_backups", None) is not None:
            self.daily_backups.stop()
        backup_ops.back_up_on_close(self)

    # -- state ------------------------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.settings.state_bytes("window_geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        splitter = self.settings.state_bytes("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set_state_bytes("window_geometry", self.saveGeometry())
        self.settings.set_state_bytes("splitter", self.splitter.saveState())
        self.settings.set_state("last_screen", self.current_screen().key)
        self.settings.sync()
        self.team_folder.stop()
        self.team_folder.drop_on_close(self.session)
        self._back_up_on_close()
        if self.session is not None:
            self.session.close()
            self.session = None
        super().closeEvent(event)
