"""Signed returns on the Commissioner screen (issue 20, point 3): the import dialog shows the fingerprint of a key
seen for the first time for a team, to compare by phone; accepting it checks the files again and the import then
trusts it, audited; refusing it keeps the files out. The Trusted keys dialog lists the keys and imports a team's
key file once its fingerprint is confirmed.

Real keys from real workspaces; the commissioner workspace is made here, trusting no key (whatever the shared
fixtures trust)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QFileDialog, QFrame, QLabel, QPushButton
from return_files import return_doc
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.models.clock import Actor
from desktop.models.kpi import signing
from desktop.models.workspace import create_workspace
from desktop.views.kit import messages
from desktop.views.kit.session import Session

TEAM = Actor(user="fed.manager", device_id="cha-laptop", role="federation manager")


@pytest.fixture
def icb(make_window, settings, tmp_path):
    """The Commissioner screen of a new commissioner workspace that trusts no key yet."""
    path = tmp_path / "fresh-icb.sqlite"
    create_workspace(path, "commissioner").close()
    window = make_window(Session.open(path, settings))
    window.show_screen("commissioner")
    return window.current_page()


@pytest.fixture
def team(tmp_path):
    """Charnwood's workspace, whose key signs its returns."""
    db = create_workspace(tmp_path / "cha.sqlite", "locality")
    yield db
    db.close()


def signed_file(team, path, **kw):
    doc = return_doc(**kw)
    for field in signing.FIELDS:
        doc.pop(field, None)
    path.write_text(json.dumps(signing.sign(team, TEAM, doc), indent=2), encoding="utf-8")
    return path


def statuses(dialog) -> dict[str, tuple[str, str]]:
    model = dialog.model
    return {
        model.index(r, 0).data(): (model.index(r, 1).data(), model.index(r, 2).data()) for r in range(model.rowCount())
    }


def notice(dialog, fp) -> QFrame:
    [found] = [f for f in dialog.keys_box.findChildren(QFrame, "notice") if f.property("fingerprint") == fp]
    return found


def texts(widget) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def test_a_new_key_shows_its_fingerprint_and_importing_after_acceptance_trusts_it(icb, team, tmp_path, qtbot):
    file = signed_file(team, tmp_path / "kpi-return-CHA.json")
    fp = signing.own_key(team)["fingerprint"]
    dialog = icb.import_files([file])
    finish_tasks(qtbot)
    assert statuses(dialog)["kpi-return-CHA.json"] == ("Rejected", "new-key")
    assert dialog.keys_box.isVisible()
    shown = texts(notice(dialog, fp))
    assert fp in shown and "Charnwood" in shown and "(CHA)" in shown and "Phone the team" in shown
    assert not dialog.import_button.isEnabled()

    notice(dialog, fp).findChild(QPushButton, "trustKey").click()
    finish_tasks(qtbot)
    assert statuses(dialog)["kpi-return-CHA.json"] == ("Would be imported", "")
    assert "Accepted" in texts(notice(dialog, fp))
    db = icb.session.db
    assert signing.trusted(db) == {}  # nothing is trusted before Import
    assert dialog.import_button.isEnabled() and dialog.import_button.text() == "Import 1 file"

    dialog.import_button.click()
    finish_tasks(qtbot)
    assert dialog.summary.text() == "1 imported"
    assert "Trusted 1 new signing key." in dialog.intro.text()
    assert signing.locality_of(db, fp) == "CHA"
    assert [e["action"] for e in audit.entries(db, "signing_keys")] == ["trust"]
    # The next file of the team goes straight through.
    again = icb.import_files([signed_file(team, tmp_path / "q2.json", period="2025-26-Q2")])
    finish_tasks(qtbot)
    assert statuses(again)["q2.json"] == ("Would be imported", "") and not again.keys_box.isVisible()


def test_a_refused_key_keeps_its_files_out_and_trusts_nothing(icb, team, tmp_path, qtbot):
    file = signed_file(team, tmp_path / "r.json")
    fp = signing.own_key(team)["fingerprint"]
    dialog = icb.import_files([file])
    finish_tasks(qtbot)
    notice(dialog, fp).findChild(QPushButton, "refuseKey").click()
    assert "Refused" in texts(notice(dialog, fp))
    assert notice(dialog, fp).findChild(QPushButton, "trustKey") is None
    assert not dialog.import_button.isEnabled()
    assert signing.trusted(icb.session.db) == {}


def test_a_forged_file_is_rejected_bad_signature_in_the_dialog(icb, team, tmp_path, qtbot):
    from corpus_signing import forge

    good = signed_file(team, tmp_path / "good.json")
    signing.trust(icb.session.db, icb.session.actor, "CHA", signing.own_key(team)["public_key"])
    forged = json.loads(good.read_text(encoding="utf-8"))
    forged["revision"] = 2  # a later revision: only its signature is wrong
    (tmp_path / "forged.json").write_text(json.dumps(forge(forged)), encoding="utf-8")
    dialog = icb.import_files([good, tmp_path / "forged.json"])
    finish_tasks(qtbot)
    assert statuses(dialog)["forged.json"] == ("Rejected", "bad-signature")
    assert statuses(dialog)["good.json"] == ("Would be imported", "")
    assert not dialog.keys_box.isVisible()


def test_the_trusted_keys_dialog_imports_a_key_file_once_its_fingerprint_is_confirmed(
    icb, team, tmp_path, monkeypatch, qtbot
):
    key_file = signing.export_public_key(team, TEAM, tmp_path / "cha-key.json", "CHA")
    fp = signing.own_key(team)["fingerprint"]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(key_file), "")))
    answers, asked = [False, True], []

    def confirm(parent, title, text, action):
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(messages, "confirm", confirm)
    assert icb.keys_button.isVisible()
    dialog = icb.show_keys()
    assert dialog.table.item(0, 0).text() == "No key is trusted yet."
    dialog.import_button.click()  # refused at the question: nothing trusted
    assert fp in asked[0] and "(CHA)" in asked[0]
    assert signing.trusted(icb.session.db) == {}
    dialog.import_button.click()
    assert signing.locality_of(icb.session.db, fp) == "CHA"
    assert [dialog.table.item(0, c).text() for c in range(3)] == ["CHA", fp, "trusted"]
    assert dialog.table.item(0, 4).text() == "key file"
    # A return signed with it is imported without asking about its key.
    check = icb.import_files([signed_file(team, tmp_path / "r.json")])
    finish_tasks(qtbot)
    assert statuses(check)["r.json"] == ("Would be imported", "")


def test_a_file_that_is_not_a_key_file_is_refused_with_a_reason(icb, tmp_path, monkeypatch, warnings):
    bad = tmp_path / "not-a-key.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad), "")))
    dialog = icb.show_keys()
    dialog.import_button.click()
    assert warnings and "not a Locality Desk key file" in warnings[0][1]
    assert signing.trusted(icb.session.db) == {}
