"""The main window's menus. Every keyboard shortcut lives on one of these actions, so the menus list them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QWhatsThis

from ..kit import messages, style
from . import help_window, team_folder
from .edit_menu import EditMenu
from .later import Later
from .screens import SCREENS

sync_dialogs = Later("desktop.views.shell.sync_dialogs")  # with the sync models, when a sync item is first chosen

if TYPE_CHECKING:
    from .main_window import MainWindow


def build_menus(window: MainWindow) -> QMenu:
    """Fill the window's menu bar; return the Open Recent menu, which is refilled each time it opens."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    _action(window, file_menu, "&New workspace…", window.new_workspace, QKeySequence.StandardKey.New)
    _action(window, file_menu, "&Open workspace…", window.choose_and_open, QKeySequence.StandardKey.Open)
    recent = file_menu.addMenu("Open &Recent")
    recent.aboutToShow.connect(lambda: fill_recent(window, recent))
    file_menu.addSeparator()
    window.import_action = _action(
        window, file_menu, "&Import risk extract…", window.import_extract, QKeySequence("Ctrl+I")
    )
    window.import_history_action = _action(window, file_menu, "Import &history…", window.import_history)
    _action(window, file_menu, "Update reference data from &NHS files…", lambda: update_reference_data(window))
    file_menu.addSeparator()
    _action(window, file_menu, "&Back up now…", window.back_up_now)
    _action(window, file_menu, "Res&tore from backup…", window.restore_from_backup)
    file_menu.addSeparator()
    _action(window, file_menu, "&Send changes to the team…", lambda: sync_dialogs.send_changes(window))
    _action(window, file_menu, "&Apply a teammate's changes…", lambda: sync_dialogs.apply_changes(window))
    _action(window, file_menu, "Sync &conflicts…", lambda: sync_dialogs.show_conflicts(window))
    _action(window, file_menu, "Team &folder…", lambda: team_folder.name_team_folder(window))
    file_menu.addSeparator()
    _action(window, file_menu, "&Who is using this…", window.set_user_name)
    file_menu.addSeparator()
    _action(window, file_menu, "&Quit", window.close, QKeySequence("Ctrl+Q"))

    window.edit_menu = EditMenu(window, bar.addMenu("&Edit"))

    go = bar.addMenu("&Go")
    for number, screen in enumerate(SCREENS, start=1):
        shortcut = QKeySequence(f"Ctrl+{number}") if number <= 9 else None
        window.go_actions[screen.key] = _action(
            window, go, screen.title.replace("&", "&&"), lambda _=False, k=screen.key: window.go_to(k), shortcut
        )
    go.addSeparator()
    _action(window, go, "&Filter the table", window.focus_filter, QKeySequence.StandardKey.Find)
    _action(window, go, "Choose &locality", window.focus_localities, QKeySequence("Ctrl+L"))

    settings_menu = bar.addMenu("&Settings")
    _action(window, settings_menu, "&Cohort criteria…", window.edit_cohort_rules)
    window.scheme_actions = style.fill_scheme_menu(
        settings_menu.addMenu("C&olours"),
        window.settings,
        lambda _c: messages.show_status(window, "Colours changed; a chart takes them the next time it is drawn."),
    )

    help_menu = bar.addMenu("&Help")
    _action(
        window,
        help_menu,
        "User &guide",
        lambda: help_window.open_guide(window, window.current_screen().key),
        QKeySequence.StandardKey.HelpContents,
    )
    whats_this = QWhatsThis.createAction(window)  # Shift+F1, then click a field to read the rule behind it
    whats_this.setText("What's &This?")
    help_menu.addAction(whats_this)
    help_window.install_help_keys(QApplication.instance())  # F1 and Shift+F1 in a modal form too
    help_menu.addSeparator()
    _action(window, help_menu, "&About Locality Desk", window.show_about)
    return recent


def update_reference_data(window: MainWindow) -> None:
    """File → Update reference data from NHS files…: on the Practices screen, which shows the result."""
    if "practices" not in window.pages:
        messages.warn(
            window,
            "No reference data here",
            "This workspace has no Practices screen, so it takes no NHS reference files. Open the team's locality "
            "workspace (File → Open) and update its reference data there.",
        )
        return
    window.show_screen("practices")
    window.pages["practices"].update_from_nhs_files()


def fill_recent(window: MainWindow, menu: QMenu) -> None:
    menu.clear()
    recent = window.settings.recent_workspaces()
    for number, path in enumerate(recent, start=1):
        action = menu.addAction(f"&{number}  {path.name}  —  {path.parent}")
        action.setEnabled(path.exists())  # kept in the list: the drive may only be unplugged
        action.triggered.connect(lambda _=False, p=path: window.open_path(p))
    if not recent:
        menu.addAction("No workspaces yet").setEnabled(False)
    menu.addSeparator()
    clear = menu.addAction("Clear the list")
    clear.setEnabled(bool(recent))
    clear.triggered.connect(window.settings.clear_recent)


def _action(window: MainWindow, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(shortcut)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action
