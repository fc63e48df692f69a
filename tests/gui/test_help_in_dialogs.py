"""F1 in a modal form opens the guide at the part about that form, in a window the modal form does not block, and
leaves the form open with what was typed in it."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit

from desktop import paths
from desktop.views.shell.help_window import DIALOG_PAGES, HelpWindow, guide_page_for, own_guide, slug


def _open(qtbot, trigger) -> QDialog:
    """The modal dialog *trigger* opens, as the screen opens it (open(): the screen is not blocked in a loop)."""
    trigger()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QDialog))
    dialog = QApplication.activeModalWidget()
    qtbot.waitExposed(dialog)
    return dialog


def _f1(qtbot, dialog: QDialog) -> HelpWindow:
    dialog.activateWindow()
    target = dialog.focusWidget() or dialog
    qtbot.keyClick(target, Qt.Key.Key_F1)
    guide = own_guide(dialog)
    assert guide is not None, "F1 opened no guide for the dialog"
    qtbot.waitUntil(guide.isVisible)
    return guide


def _type_to(window, letters: str) -> None:
    """Key presses through the window system (QTest's window overload), which drops those for a blocked window."""
    for letter in letters:
        QTest.keyClick(window.windowHandle(), getattr(Qt.Key, f"Key_{letter.upper()}"))


def _mdt(window):
    window.show_screen("mdt")
    return window.current_page()


@pytest.mark.parametrize(
    ("name", "trigger", "page", "heading"),
    [
        ("ActionDialog", lambda w: _mdt(w).actions.new_action(), "mdt.md", "The action form"),
        ("PlanMeetingDialog", lambda w: _mdt(w).meetings.plan_meeting(), "mdt.md", "1. Plan the meeting"),
    ],
)
def test_f1_in_an_mdt_form_opens_its_part_of_the_guide(history_window, qtbot, name, trigger, page, heading):
    dialog = _open(qtbot, lambda: trigger(history_window))
    assert type(dialog).__name__ == name
    guide = _f1(qtbot, dialog)
    assert (guide.page(), guide.anchor()) == (page, slug(heading))
    # The guide shows the form's heading, however far down its page it is.
    at = guide.browser.textCursor()
    assert at.block().text() == heading
    assert guide.browser.verticalScrollBar().value() > 0
    assert guide.browser.viewport().rect().contains(guide.browser.cursorRect(at))
    assert dialog.isVisible() and QApplication.activeModalWidget() is dialog
    dialog.done(0)


def test_f1_in_the_visit_form_leaves_what_was_typed_and_the_guide_can_be_used(history_window, qtbot):
    history_window.show_screen("care_homes")
    page = history_window.current_page()
    dialog = _open(qtbot, page.log_visit)
    assert type(dialog).__name__ == "LogVisitDialog"
    note = next(w for w in dialog.findChildren(QLineEdit) if w.isVisible() and w.isEnabled() and not w.isReadOnly())
    note.setFocus()
    qtbot.keyClicks(note, "Weekly round")
    guide = _f1(qtbot, dialog)
    assert (guide.page(), guide.anchor()) == ("care-homes.md", "logging-a-visit")
    assert note.text() == "Weekly round" and dialog.isVisible()

    # Typed as the window system delivers it, which drops what a modal dialog blocks: the guide takes it...
    guide.find_box.setFocus()
    _type_to(guide, "round")
    assert guide.find_box.text() == "round"
    # ...while the main window, which the dialog blocks, does not (so the check above could fail).
    history_window.show_screen("audit")
    box = history_window.current_page().filters.text
    box.setFocus()
    _type_to(history_window, "x")
    assert box.text() == ""
    dialog.done(0)


def test_f1_in_the_caseload_form_of_several_patients(history_window, qtbot):
    history_window.show_screen("cohort")
    page = history_window.current_page()
    qtbot.waitUntil(lambda: page.model.rowCount() > 1)
    page.table.select_ids([str(page.frame.ids[0]), str(page.frame.ids[1])], str(page.frame.ids[0]))
    dialog = _open(qtbot, lambda: page.bulk_change("status"))
    guide = _f1(qtbot, dialog)
    assert (guide.page(), guide.anchor()) == ("cohort.md", "several-patients-at-once")
    # The main window's own guide is another window: F1 there still opens the screen's page.
    assert own_guide(history_window) is None
    dialog.done(0)
    qtbot.waitUntil(lambda: own_guide(history_window) is guide)  # the guide open at the close stays open
    assert guide.isVisible()


def test_a_dialog_without_a_part_of_its_own_gets_its_screens_page(history_window, qtbot):
    from desktop.views.kit import messages

    history_window.show_screen("returns")
    box = messages.QMessageBox(history_window)
    box.setText("A question")
    box.open()
    qtbot.waitExposed(box)
    assert guide_page_for(box) == "returns.md"
    box.done(0)


def test_every_form_named_has_its_part_in_the_guide():
    docs = paths.docs_dir()
    for name, target in DIALOG_PAGES.items():
        page, _hash, heading = target.partition("#")
        text = (docs / page).read_text(encoding="utf-8")
        headings = {slug(h) for h in re.findall(r"^#+\s+(.+)$", text, re.M)}
        assert not heading or heading in headings, f"{name}: no heading {heading!r} in {page}"


def test_a_form_may_name_its_own_part_of_the_guide(qtbot):
    from desktop.views.kit.form_dialog import FormDialog

    class Named(FormDialog):
        help_page = "sync.md#team-folder"

        def values(self):
            return {}

    dialog = Named("Title", "Heading", "Words", "Save", lambda values: None)
    qtbot.addWidget(dialog)
    assert guide_page_for(dialog) == "sync.md#team-folder"
