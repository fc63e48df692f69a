"""Help → User guide (F1) and What's This (Shift+F1), the shortcut table against the real menus, and the rule
behind every form field shown as its tooltip and What's This."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QImage, QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QWhatsThis,
    QWidget,
)

from desktop import paths
from desktop.models import clock, reference, workspace
from desktop.models.care_homes import residents, visits
from desktop.models.cohort import caseload, risk_import
from desktop.models.cohort import rules as cohort_rules
from desktop.models.cohort.extract_reader import CANONICAL
from desktop.models.cohort.extract_rules import COLUMN_HELP
from desktop.models.demo.extract import write_extract
from desktop.models.identifiers import nhs_check_digit
from desktop.models.kpi import returns
from desktop.models.kpi.catalogue import catalogue
from desktop.models.mdt import actions, meetings
from desktop.views.care_homes.residents_view import ResidentDialog
from desktop.views.care_homes.visit_dialog import LogVisitDialog
from desktop.views.cohort.caseload_dialogs import BulkDialog, InterventionDialog
from desktop.views.cohort.caseload_form import CaseloadForm
from desktop.views.cohort.import_dialog import ImportDialog
from desktop.views.cohort.rules_dialog import CohortRulesDialog
from desktop.views.kit.field_help import INPUTS, plain
from desktop.views.mdt.action_dialog import ActionDialog, StatusDialog
from desktop.views.mdt.meeting_dialogs import PlanMeetingDialog
from desktop.views.reference.record_dialog import RecordDialog
from desktop.views.returns.model import KEYS, ReturnsModel
from desktop.views.shell import sync_dialogs, who_dialog
from desktop.views.shell.help_window import SCREEN_PAGES, HelpWindow
from desktop.views.shell.sync_dialogs import PassphraseDialog
from desktop.views.shell.who_dialog import WhoDialog


def _menu_action(window, menu_title: str, text: str) -> QAction:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu_title)
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def _guide(window) -> HelpWindow:
    guide = window.findChild(HelpWindow, "helpWindow")
    assert guide is not None
    return guide


# -- the guide window ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["cohort", "mdt", "care_homes", "returns", "audit", "staff"])
def test_f1_opens_the_guide_at_the_page_about_the_screen_on_show(window, qtbot, key):
    window.show_screen(key)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    guide = _guide(window)
    qtbot.waitUntil(guide.isVisible)
    assert guide.page() == SCREEN_PAGES[key]
    heading = (paths.docs_dir() / SCREEN_PAGES[key]).read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    assert guide.browser.toPlainText().startswith(heading)
    assert guide.pages.currentItem().data(Qt.ItemDataRole.UserRole) == SCREEN_PAGES[key]


def test_the_user_guide_item_is_on_the_help_menu_with_the_platform_help_key(window):
    action = _menu_action(window, "Help", "User guide")
    assert action.shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
    action.trigger()
    guide = _guide(window)
    assert guide.isVisible()
    # A second F1 reuses the window instead of opening another one.
    action.trigger()
    assert len(window.findChildren(HelpWindow)) == 1


def test_a_link_clicked_opens_that_page_and_back_and_forward_retrace_the_steps(window, qtbot):
    _menu_action(window, "Help", "User guide").trigger()
    guide = _guide(window)
    guide.show_page("index.md")
    qtbot.waitExposed(guide)
    position = _anchor_position(guide.browser.document(), "returns.md")
    cursor = QTextCursor(guide.browser.document())
    cursor.setPosition(position + 1)
    guide.browser.ensureCursorVisible()
    qtbot.mouseClick(
        guide.browser.viewport(),
        Qt.MouseButton.LeftButton,
        pos=guide.browser.cursorRect(cursor).center() + QPoint(2, 0),
    )
    qtbot.waitUntil(lambda: guide.page() == "returns.md")
    assert guide.browser.toPlainText().startswith("Signing off a quarterly return")
    assert guide.back_button.isEnabled()
    qtbot.mouseClick(guide.back_button, Qt.MouseButton.LeftButton)
    assert guide.page() == "index.md"
    qtbot.mouseClick(guide.forward_button, Qt.MouseButton.LeftButton)
    assert guide.page() == "returns.md"


def test_choosing_a_page_in_the_contents_shows_it_with_its_pictures_fitted(window, qtbot):
    _menu_action(window, "Help", "User guide").trigger()
    guide = _guide(window)
    row = next(
        r for r in range(guide.pages.count()) if guide.pages.item(r).data(Qt.ItemDataRole.UserRole) == "care-homes.md"
    )
    guide.pages.setCurrentRow(row)
    assert guide.page() == "care-homes.md"
    names = _image_names(guide.browser.document())
    assert len(names) == 3
    for name in names:
        image = guide.browser.loadResource(QTextDocument.ResourceType.ImageResource.value, QUrl(name))
        assert isinstance(image, QImage) and not image.isNull(), name
        assert image.width() <= max(480, guide.browser.viewport().width())


def test_find_in_page_selects_the_words_and_says_when_they_are_not_there(window, qtbot):
    _menu_action(window, "Help", "User guide").trigger()
    guide = _guide(window)
    guide.show_page("mdt.md")
    qtbot.keyClick(guide, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(guide.find_box, "overdue")
    qtbot.keyClick(guide.find_box, Qt.Key.Key_Return)
    assert guide.browser.textCursor().selectedText().lower() == "overdue"
    first = guide.browser.textCursor().position()
    qtbot.keyClick(guide.find_box, Qt.Key.Key_Return)
    assert guide.browser.textCursor().position() > first
    guide.find_box.clear()
    qtbot.keyClicks(guide.find_box, "no such words anywhere")
    qtbot.keyClick(guide.find_box, Qt.Key.Key_Return)
    assert guide.find_note.text() == "Not on this page"


def test_whats_this_is_on_the_help_menu_and_enters_whats_this_mode(window):
    action = _menu_action(window, "Help", "What's This?")
    assert action.shortcut() == QKeySequence("Shift+F1")
    action.trigger()
    try:
        assert QWhatsThis.inWhatsThisMode()
    finally:
        QWhatsThis.leaveWhatsThisMode()


def test_the_shortcut_table_lists_every_menu_item_with_its_real_shortcut(window):
    sections = _shortcut_tables((paths.docs_dir() / "menus-and-shortcuts.md").read_text(encoding="utf-8"))
    checked = 0
    for top in window.menuBar().actions():
        title = top.text().replace("&", "")
        rows = sections[title]  # every menu has its table
        for action in top.menu().actions():
            if action.isSeparator() or not action.isVisible():
                continue
            text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            # Undo and Redo carry the step's name after the word: the table names the item by its first word.
            row = rows.get(text, next((r for item, r in rows.items() if text.startswith(item + " ")), None))
            assert row is not None, f"{title} → {text} is not in the shortcut table"
            # The platform may bind more keys than the table names (Redo: Ctrl+Y, Ctrl+Shift+Z…); the table's
            # keys must be among them, and an item without keys must have none in the table.
            bound = {k.toString(QKeySequence.SequenceFormat.PortableText) for k in action.shortcuts()}
            listed = set(row.split(", ")) if row else set()
            assert listed <= bound and bool(listed) == bool(bound), f"{title} → {text}: {bound} vs {listed}"
            checked += 1
    assert checked >= 25


# -- the rule behind each field ----------------------------------------------------------------------------------
def _explained(widget, rule: str) -> None:
    targets = [widget] + ([widget.line] if hasattr(widget, "line") else [])
    for target in targets:
        assert plain(target.toolTip()).startswith(rule), target.objectName()
        assert target.whatsThis() == target.toolTip()


def _every_field_explained(editors, rules) -> None:
    assert editors and set(editors) <= set(rules), set(editors) - set(rules)  # no field without its rule
    for name, editor in editors.items():
        _explained(editor, rules[name])


@pytest.fixture
def cha(session):
    return workspace.locality_by_code(session.db, "CHA")


@pytest.fixture
def staff(session, cha):
    return reference.list_rows(session.db, "staff", cha["id"])


@pytest.mark.parametrize("entity", sorted(reference.ENTITIES))
def test_every_reference_field_shows_its_rule(qtbot, session, cha, entity):
    dialog = RecordDialog(session.db, reference.ENTITIES[entity], None, cha["id"], lambda values: "")
    qtbot.addWidget(dialog)
    rules = {f.name: reference.rule_text(entity, f.name) for f in reference.ENTITIES[entity].fields}
    _every_field_explained(dialog.editors, rules)


def test_a_code_field_says_its_form_and_that_it_is_unique(qtbot, session, cha):
    dialog = RecordDialog(session.db, reference.PRACTICES, None, cha["id"], lambda values: "")
    qtbot.addWidget(dialog)
    words = plain(dialog.editor("ods_code").toolTip())
    assert "one capital letter then five digits" in words and "No two practices" in words
    assert "Required." in words and "Optional." in plain(dialog.editor("postcode").toolTip())


def test_the_action_forms_show_their_rules(qtbot, session, cha, staff):
    new = ActionDialog(None, staff, [], lambda values: None)
    qtbot.addWidget(new)
    _every_field_explained(new.editors, actions.HELP)
    action_id, _ = actions.create(
        session.db,
        session.actor,
        cha["id"],
        {"description": "Review the falls plan", "owner_staff_id": staff[0]["id"], "due_date": "2026-01-31"},
    )
    existing = ActionDialog(actions.get(session.db, action_id), staff, [], lambda values: None)
    qtbot.addWidget(existing)
    _every_field_explained(existing.editors, actions.HELP)
    assert {"status", "completed_on", "escalated_to", "escalation_reason"} <= set(existing.editors)
    bulk = StatusDialog(3, lambda values: None)
    qtbot.addWidget(bulk)
    _every_field_explained(bulk.editors, actions.HELP)


def test_the_meeting_form_shows_its_rules(qtbot, staff):
    dialog = PlanMeetingDialog("Charnwood", staff, 0, [], lambda values: None)
    qtbot.addWidget(dialog)
    _every_field_explained(dialog.editors, meetings.HELP)


def _nhs_number(seed: int) -> str:
    while True:
        first = f"9{seed:08d}"
        if (check := nhs_check_digit(first)) is not None:
            return first + str(check)
        seed += 1


def test_the_visit_and_resident_forms_show_their_rules(qtbot, session, cha, staff):
    home = reference.list_rows(session.db, "care_homes", cha["id"])[0]
    resident_id, _ = residents.save(
        session.db,
        session.actor,
        home["id"],
        {
            "nhs_number": _nhs_number(123),
            "family_name": "Synthetic",
            "given_name": "Test",
            "admitted_on": (clock.today() - dt.timedelta(days=30)).isoformat(),
        },
    )
    listed = residents.listing(session.db, home["id"])
    dialog = LogVisitDialog(
        [(home["id"], home["name"])],
        [(s["id"], s["name"]) for s in staff],
        lambda _home: listed,
        lambda values: None,
        home["id"],
    )
    qtbot.addWidget(dialog)
    _every_field_explained(dialog.editors, visits.HELP)
    _explained(dialog.resident_row(resident_id).outcome, visits.HELP["residents"])
    follow = dialog.follow_ups[0]
    _explained(follow.description, actions.HELP["description"])
    _explained(follow.due, actions.HELP["due_date"])
    form = ResidentDialog(lambda values: None, home["name"])
    qtbot.addWidget(form)
    _every_field_explained(form.editors, residents.HELP)
    assert "modulus-11" in plain(form.editors["nhs_number"].toolTip())


def test_the_caseload_forms_show_their_rules(qtbot, staff):
    form = CaseloadForm()
    qtbot.addWidget(form)
    _every_field_explained(form.editors, caseload.HELP)
    intervention = InterventionDialog("Test Synthetic", staff, lambda values: None)
    qtbot.addWidget(intervention)
    for widget, name in (
        (intervention.kind, "type"),
        (intervention.date, "delivered_on"),
        (intervention.by, "delivered_by_id"),
    ):
        _explained(widget, caseload.INTERVENTION_HELP[name])
    bulk = BulkDialog("status", 4, staff, lambda values: None)
    qtbot.addWidget(bulk)
    _explained(bulk.choice, caseload.HELP["status"])
    _explained(bulk.reason, caseload.HELP["discharge_reason"])


def test_the_cohort_criteria_show_their_rules(qtbot, session):
    dialog = CohortRulesDialog(session)
    qtbot.addWidget(dialog)
    _every_field_explained(dialog.editors, cohort_rules.HELP)
    assert set(dialog.editors) == set(cohort_rules.HELP)


def test_the_import_dialog_shows_the_rules_of_the_extract_date_and_each_column(qtbot, session, settings, cha, tmp_path):
    path = tmp_path / "cha.csv"
    write_extract(path, "CHA", 40)
    dialog = ImportDialog(session, cha, settings, path)
    qtbot.addWidget(dialog)
    _explained(dialog.date_edit, risk_import.EXTRACT_DATE_HELP)
    # Each column's mapping says what its values must be, and follows the choice.
    combos = dialog.mapping.combos
    assert set(combos) >= set(CANONICAL) - {"efi_deficits"}  # the demo extract's headings are canonical names
    for heading, combo in combos.items():
        _explained(combo, COLUMN_HELP[heading])
    combos["housebound"].setCurrentIndex(0)
    _explained(combos["housebound"], "Not imported")
    combos["housebound"].setCurrentIndex(combos["housebound"].findData("eol_register"))
    _explained(combos["housebound"], COLUMN_HELP["eol_register"])
    _explained(combos["eol_register"], "Not imported")  # the column can come from one heading only


def test_the_cells_typed_into_a_draft_return_show_their_rules():
    model = ReturnsModel(writer=lambda code, key, text: None)
    kpis = catalogue()
    model.set_return(kpis, {}, {}, editable=True)
    entered = next(k for k in kpis if k.source == "entered")
    computed = next(k for k in kpis if k.source == "computed")
    figures = model.index(model.row_of(entered.code), KEYS.index("figures"))
    comment = model.index(model.row_of(computed.code), KEYS.index("comment"))
    assert returns.ENTER_HELP in figures.data(Qt.ItemDataRole.ToolTipRole)
    assert figures.data(Qt.ItemDataRole.WhatsThisRole) == returns.ENTER_HELP
    assert (
        comment.data(Qt.ItemDataRole.ToolTipRole) == comment.data(Qt.ItemDataRole.WhatsThisRole) == returns.COMMENT_HELP
    )
    # Computed figures are not typed, so they carry no typing rule.
    fixed = model.index(model.row_of(computed.code), KEYS.index("figures"))
    assert fixed.data(Qt.ItemDataRole.WhatsThisRole) is None


def test_no_input_of_a_form_is_left_without_words(qtbot, session, cha, staff):
    # Walk each form's widgets, not its list of editors, so a field added without its rule is caught.
    forms = [
        ActionDialog(None, staff, [], lambda values: None),
        StatusDialog(2, lambda values: None),
        ResidentDialog(lambda values: None, "Home"),
        CohortRulesDialog(session),
        CaseloadForm(),
        InterventionDialog("Test Synthetic", staff, lambda values: None),
        BulkDialog("status", 2, staff, lambda values: None),
        PlanMeetingDialog("Charnwood", staff, 0, [], lambda values: None),
        PassphraseDialog("Send changes to the team", "", confirm=True),
        *[
            RecordDialog(session.db, entity, None, cha["id"], lambda values: "")
            for entity in reference.ENTITIES.values()
        ],
    ]
    for form in forms:
        qtbot.addWidget(form)
        inputs = _inputs(form)
        assert len(inputs) >= 2, type(form).__name__
        silent = [w.objectName() or type(w).__name__ for w in inputs if not w.toolTip() or not w.whatsThis()]
        assert not silent, f"{type(form).__name__}: {silent}"


# -- helpers ----------------------------------------------------------------------------------------------------
def _inputs(form) -> list:
    """The widgets a user types into or chooses with, on the form itself (not a calendar's popup, not the line
    inside a spin box or a combo)."""
    found = [w for w in form.findChildren(QWidget) if isinstance(w, INPUTS) and w.window() is form.window()]
    return [w for w in found if not isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox))]


def _anchor_position(document: QTextDocument, href: str) -> int:
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().isAnchor() and fragment.charFormat().anchorHref() == href:
                return fragment.position()
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href}")


def _image_names(document: QTextDocument) -> list[str]:
    names = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                names.append(fmt.toImageFormat().name())
            it += 1
        block = block.next()
    return names


def _shortcut_tables(text: str) -> dict[str, dict[str, str]]:
    """{menu: {item: shortcut cell}} from the page's '## Menu' sections of | item | shortcut | … | rows."""
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = tables.setdefault(line[3:].strip(), {})
        elif (
            current is not None
            and (m := re.match(r"\|\s*([^|]+?)\s*\|\s*([^|]*?)\s*\|", line))
            and m.group(1) not in ("item", "---")
        ):
            current[m.group(1)] = m.group(2)
    return tables


def test_the_who_and_passphrase_questions_say_what_they_need(qtbot, session, settings):
    who = WhoDialog(session, settings)
    qtbot.addWidget(who)
    _explained(who.name, who_dialog.NAME_HELP)
    _explained(who.role, who_dialog.ROLE_HELP)
    asked = PassphraseDialog("Send changes to the team", "Choose the team's passphrase.", confirm=True)
    qtbot.addWidget(asked)
    _explained(asked.passphrase, sync_dialogs.PASSPHRASE_HELP)
    _explained(asked.confirm, sync_dialogs.CONFIRM_HELP)


def test_shift_f1_in_a_modal_form_asks_what_a_field_is(window, qtbot, staff):
    dialog = ActionDialog(None, staff, [], lambda values: None, parent=window)
    qtbot.addWidget(dialog)
    dialog.open()  # window-modal: the main window's own Shift+F1 cannot reach it
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    dialog.description.setFocus()
    qtbot.keyClick(dialog.description, Qt.Key.Key_F1, Qt.KeyboardModifier.ShiftModifier)
    try:
        assert QWhatsThis.inWhatsThisMode()
    finally:
        QWhatsThis.leaveWhatsThisMode()
    assert dialog.description.toPlainText() == ""  # the key was not typed into the field
