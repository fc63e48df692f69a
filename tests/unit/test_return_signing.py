"""Signed returns (issue 20, point 3): real Ed25519 keys made by real workspaces. A forged return (COH-02 edited to
100 %, another signer, the digest recomputed) is rejected `bad-signature`, and so is a file signed by another
workspace's key for a team already trusted; an unsigned file is rejected `unsigned`; a team's first key is
`new-key` until the user accepts its fingerprint; a rotation endorsed by the trusted key is taken on, audited;
key files carry a key to the commissioner by another route.

The tests through import_returns, returns.export and the CLI go through the calls into
desktop.models.kpi.signing that returns.py, return_import.py and cli.py make."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json

import corpus_signing
import pytest
from corpus_helpers import snapshot
from corpus_signing import REFUSED, forge
from extract_helpers import patient, synthetic_nhs, write_csv
from return_files import return_doc

from desktop.cli import main
from desktop.models import audit, free_text, quarters
from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.errors import ValidationError
from desktop.models.kpi import returns, signing
from desktop.models.kpi.return_import import CODES, import_returns
from desktop.models.workspace import create_workspace, get_meta

ICB = Actor(user="commissioner", device_id="icb-laptop")
TEAM = Actor(user="fed.manager", device_id="cha-laptop", role="federation manager")


@pytest.fixture
def icb(tmp_path):
    db = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    yield db
    db.close()


@pytest.fixture
def team(tmp_path):
    """Charnwood's workspace: its key signs the returns."""
    db = create_workspace(tmp_path / "cha.sqlite", "locality")
    yield db
    db.close()


@pytest.fixture
def other_team(tmp_path):
    """Another workspace, whose key is not Charnwood's."""
    db = create_workspace(tmp_path / "other.sqlite", "locality")
    yield db
    db.close()


def signed(db, doc=None, **kw):
    return signing.sign(db, TEAM, doc if doc is not None else unsigned(**kw))


def unsigned(**kw):
    """A return as Locality Desk wrote it before returns were signed."""
    doc = return_doc(**kw)
    for field in signing.FIELDS:
        doc.pop(field, None)
    return doc


def put(path, doc):
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def one(db, path, **kw):
    outcomes, _ = import_returns(db, ICB, [path], **kw)
    return outcomes[0]


def held(db) -> int:
    return db.execute("SELECT COUNT(*) FROM returns").fetchone()[0]


# -- the key and the signature, on their own --------------------------------------------------------------------
def test_a_workspace_makes_its_key_once_keeps_it_in_meta_and_audits_it(team):
    assert signing.own_key(team) is None
    key = signing.ensure_key(team, TEAM)
    assert signing.ensure_key(team, TEAM) == key  # made once
    assert json.loads(get_meta(team, "signing_key"))["fingerprint"] == key["fingerprint"]
    raw = base64.b64decode(key["public_key"])
    assert len(raw) == 32 and signing.fingerprint(raw) == key["fingerprint"]
    assert len(key["fingerprint"].split(" ")) == 8 and all(len(g) == 4 for g in key["fingerprint"].split(" "))
    made = [e for e in audit.entries(team, "signing_keys") if e["action"] == "create"]
    assert len(made) == 1 and key["fingerprint"] in made[0]["summary"]


def test_a_signed_return_carries_its_key_and_a_signature_over_everything_else(team):
    doc = signed(team)
    key = signing.own_key(team)
    assert (doc["public_key"], doc["key_fingerprint"]) == (key["public_key"], key["fingerprint"])
    assert "private_key" not in json.dumps(doc) and key["private_key"] not in json.dumps(doc)
    public = signing._public(doc["public_key"])
    public.verify(base64.b64decode(doc["signature"]), signing.message(doc))  # raises if it does not verify
    for field in ("sha256", "period", "values", "key_fingerprint"):
        assert f'"{field}"' in signing.message(doc).decode()
    assert '"signature"' not in signing.message(doc).decode()


def test_signing_values_are_recognised_exactly_so_the_patient_data_check_skips_only_them(team):
    doc = signed(team)
    for field in ("public_key", "signature", "key_fingerprint"):
        assert signing.is_signing_value(field, doc[field])
    assert not signing.is_signing_value("signature", "NHS 943 476 5919")
    assert not signing.is_signing_value("comment", doc["signature"])


# -- verify: ok, new-key, bad-signature, unsigned --------------------------------------------------------------
def test_first_signed_return_is_new_key_until_accepted_then_trusted_and_audited(icb, team):
    doc = signed(team)
    fp = doc["key_fingerprint"]
    verdict = signing.verify(icb, doc)
    assert (verdict.status, verdict.locality, verdict.fingerprint) == ("new-key", "CHA", fp)
    assert fp in verdict.reason and "Phone the team" in verdict.reason
    # Not accepted: nothing is trusted.
    assert signing.admit(icb, ICB, doc).status == "new-key" and signing.trusted(icb) == {}
    # Accepted (typed as a person would, in capitals without spaces): trusted, audited, then ok.
    assert signing.admit(icb, ICB, doc, accept=[fp.replace(" ", "").upper()]).status == "ok"
    [entry] = signing.trusted(icb)["CHA"]
    assert (entry["fingerprint"], entry["by"], entry["how"], entry["retired_at"]) == (
        fp,
        "commissioner",
        "first use",
        None,
    )
    assert signing.verify(icb, signed(team, period="2025-26-Q2")).status == "ok"
    trusts = [e for e in audit.entries(icb, "signing_keys") if e["action"] == "trust"]
    assert len(trusts) == 1 and "CHA" in trusts[0]["summary"] and fp in trusts[0]["summary"]


def test_the_forged_return_of_the_issue_is_bad_signature(icb, team):
    doc = signed(team)
    signing.trust(icb, ICB, "CHA", doc["public_key"])
    assert signing.verify(icb, doc).status == "ok"
    verdict = signing.verify(icb, forge(copy.deepcopy(doc)))
    assert verdict.status == "bad-signature" and "does not match its content" in verdict.reason


def test_a_file_signed_by_another_workspaces_key_for_a_trusted_team_is_bad_signature(icb, team, other_team):
    signing.trust(icb, ICB, "CHA", signed(team)["public_key"])
    # Re-signed whole by another workspace (its own key and fingerprint in the file): the signature is good,
    # the key is not the team's.
    verdict = signing.verify(icb, signed(other_team, forge(signed(team))))
    assert verdict.status == "bad-signature"
    assert signing.own_key(other_team)["fingerprint"] in verdict.reason
    assert signing.own_key(team)["fingerprint"] in verdict.reason
    assert "key import" in verdict.reason


def test_an_unsigned_file_is_unsigned_and_damaged_signature_fields_are_bad_signature(icb, team):
    assert signing.verify(icb, unsigned()).status == "unsigned"
    good = signed(team)
    for spoil in (
        lambda d: d.pop("public_key"),
        lambda d: d.__setitem__("signature", "not base64!"),
        lambda d: d.__setitem__("signature", base64.b64encode(b"x" * 10).decode()),
        lambda d: d.__setitem__("key_fingerprint", "0000 0000 0000 0000 0000 0000 0000 0000"),
        lambda d: d.__setitem__("public_key", 42),
        lambda d: d.__setitem__("previous_signature", d["signature"]),  # half an endorsement
    ):
        doc = copy.deepcopy(good)
        spoil(doc)
        verdict = signing.verify(icb, doc)
        assert verdict.status == "bad-signature", doc
        assert "damaged" in verdict.reason


def test_rotation_is_audited_signed_by_both_keys_and_taken_on_by_the_commissioner(icb, team):
    first = signed(team)
    signing.trust(icb, ICB, "CHA", first["public_key"])
    old = signing.own_key(team)["fingerprint"]
    new = signing.rotate_key(team, TEAM)["fingerprint"]
    assert new != old and signing.own_key(team)["previous"]["fingerprint"] == old
    assert [e for e in audit.entries(team, "signing_keys") if e["action"] == "rotate"][0]["summary"].count(new) == 1

    doc = signed(team, period="2025-26-Q2")
    assert (doc["key_fingerprint"], doc["previous_key_fingerprint"]) == (new, old)
    assert signing.verify(icb, doc).rotated_from == old
    assert signing.admit(icb, ICB, doc).status == "ok"
    keys = {k["fingerprint"]: k for k in signing.trusted(icb)["CHA"]}
    assert keys[new]["retired_at"] is None and keys[new]["how"] == f"rotation from {old}"
    assert keys[old]["retired_at"] is not None
    actions = [e["action"] for e in audit.entries(icb, "signing_keys")]
    assert actions.count("trust") == 2 and actions.count("retire") == 1
    # From now on the new key alone is the team's; a file signed with the retired key only is refused.
    assert signing.verify(icb, doc).status == "ok"
    stale = copy.deepcopy(first)
    assert signing.verify(icb, stale).status == "bad-signature" and "retired" in signing.verify(icb, stale).reason


def test_a_rotation_not_endorsed_by_the_trusted_key_is_bad_signature(icb, team, other_team):
    trusted = signed(team)
    signing.trust(icb, ICB, "CHA", trusted["public_key"])
    # Another workspace claims to be CHA's new key, naming the trusted key, with a signature it cannot make.
    doc = signed(other_team)
    doc["previous_key_fingerprint"] = trusted["key_fingerprint"]
    doc["signature"] = base64.b64encode(
        signing._private(signing.own_key(other_team)).sign(signing.message({**doc, "previous_signature": ""}))
    ).decode()
    doc["previous_signature"] = doc["signature"]
    verdict = signing.verify(icb, doc)
    assert verdict.status == "bad-signature" and "endorsement does not match" in verdict.reason


# -- key files ----------------------------------------------------------------------------------------------------
def test_a_key_file_carries_the_public_key_only_and_importing_it_trusts_it_audited(icb, team, tmp_path):
    path = signing.export_public_key(team, TEAM, tmp_path / "cha.key.json", "CHA")
    content = json.loads(path.read_text(encoding="utf-8"))
    key = signing.own_key(team)
    assert (content["locality"]["code"], content["public_key"], content["key_fingerprint"]) == (
        "CHA",
        key["public_key"],
        key["fingerprint"],
    )
    assert key["private_key"] not in path.read_text(encoding="utf-8")
    entry, new = signing.import_key_file(icb, ICB, path)
    assert new and entry["how"] == "key file" and signing.verify(icb, signed(team)).status == "ok"
    assert signing.import_key_file(icb, ICB, path) == (entry, False)  # again: nothing changes
    assert [e["action"] for e in audit.entries(icb, "signing_keys")] == ["trust"]


def test_a_second_laptops_key_file_adds_a_key_and_replace_retires_the_others(icb, team, other_team, tmp_path):
    signing.import_key_file(icb, ICB, signing.export_public_key(team, TEAM, tmp_path / "a.json", "CHA"))
    second = signing.export_public_key(other_team, TEAM, tmp_path / "b.json", "CHA")
    signing.import_key_file(icb, ICB, second)
    assert len(signing.active(icb, "CHA")) == 2
    assert signing.verify(icb, signed(team)).status == signing.verify(icb, signed(other_team)).status == "ok"
    signing.import_key_file(icb, ICB, second, replace_others=True)
    assert [k["fingerprint"] for k in signing.active(icb, "CHA")] == [signing.own_key(other_team)["fingerprint"]]
    assert signing.verify(icb, signed(team)).status == "bad-signature"


def test_a_bad_key_file_is_refused_with_a_reason_and_changes_nothing(icb, team, tmp_path):
    good = json.loads(signing.export_public_key(team, TEAM, tmp_path / "k.json", "CHA").read_text(encoding="utf-8"))
    cases = {
        "edited fingerprint": ({**good, "key_fingerprint": "0000 1111 2222 3333 4444 5555 6666 7777"}, "fingerprint"),
        "not a key file": ({"format": "locality-desk/kpi-return"}, "not a Locality Desk key file"),
        "no key": ({**good, "public_key": "abc"}, "no usable key"),
        "unknown team": ({**good, "locality": {"code": "ZZZ", "name": "Nowhere"}}, "no locality 'ZZZ'"),
    }
    for name, (content, message) in cases.items():
        with pytest.raises(ValidationError, match=message):
            signing.import_key_file(icb, ICB, put(tmp_path / f"{name}.json", content))
    assert signing.trusted(icb) == {} and audit.entries(icb, "signing_keys") == []
    with pytest.raises(ValidationError, match="commissioner workspace"):
        signing.import_key_file(team, TEAM, tmp_path / "k.json")
    with pytest.raises(ValidationError, match="say which locality"):
        signing.export_public_key(team, TEAM, tmp_path / "x.json")  # holds no return: which team is unclear


def test_a_retired_key_is_not_trusted_again(icb, team, tmp_path):
    path = signing.export_public_key(team, TEAM, tmp_path / "k.json", "CHA")
    entry, _ = signing.import_key_file(icb, ICB, path)
    signing.retire(icb, ICB, "CHA", entry["fingerprint"])
    with pytest.raises(ValidationError, match="retired"):
        signing.import_key_file(icb, ICB, path)
    with pytest.raises(ValidationError, match="retired"):
        signing.trust(icb, ICB, "CHA", entry["public_key"])


# -- through the import (needs the lead's hooks in return_import.py) ------------------------------------------------
def test_the_import_knows_the_new_codes():
    assert {"bad-signature", "unsigned", "new-key"} <= set(CODES)


def test_import_forged_return_is_rejected_bad_signature_and_changes_nothing(icb, team, tmp_path):
    doc = signed(team)
    assert one(icb, put(tmp_path / "good.json", doc), accept_keys=[doc["key_fingerprint"]]).status == "imported"
    before = held(icb)
    forged = forge(signed(team, revision=2, scale=2))
    got = one(icb, put(tmp_path / "forged.json", forged))
    assert (got.status, got.code) == ("rejected", "bad-signature")
    assert held(icb) == before


def test_import_another_workspaces_key_for_a_trusted_team_is_bad_signature(icb, team, other_team, tmp_path):
    doc = signed(team)
    one(icb, put(tmp_path / "good.json", doc), accept_keys=[doc["key_fingerprint"]])
    got = one(icb, put(tmp_path / "other.json", signed(other_team, revision=2, scale=2)))
    assert (got.status, got.code) == ("rejected", "bad-signature")


def test_import_unsigned_file_from_before_signing_is_rejected_unsigned(icb, tmp_path):
    got = one(icb, put(tmp_path / "old.json", unsigned()))
    assert (got.status, got.code) == ("rejected", "unsigned") and "update Locality Desk" in got.reason
    assert held(icb) == 0


def test_import_first_key_new_key_then_accepted_trusted_in_the_same_transaction(icb, team, tmp_path):
    doc = signed(team)
    path = put(tmp_path / "r.json", doc)
    got = one(icb, path)
    assert (got.status, got.code) == ("rejected", "new-key") and doc["key_fingerprint"] in got.reason
    assert signing.trusted(icb) == {} and held(icb) == 0
    # A dry run with the key accepted says what would happen and keeps nothing, the trust included.
    assert one(icb, path, dry_run=True, accept_keys=[doc["key_fingerprint"]]).status == "imported"
    assert signing.trusted(icb) == {}
    assert one(icb, path, accept_keys=[doc["key_fingerprint"]]).status == "imported"
    assert signing.locality_of(icb, doc["key_fingerprint"]) == "CHA"
    assert one(icb, put(tmp_path / "q2.json", signed(team, period="2025-26-Q2"))).status == "imported"


def test_a_key_accepted_for_a_file_the_import_refuses_is_not_kept(icb, team, other_team, tmp_path):
    """A rejected file changes nothing, the trust it came with included."""
    doc = signed(team, revision=2)
    one(icb, put(tmp_path / "r2.json", doc), accept_keys=[doc["key_fingerprint"]])
    signing.retire(icb, ICB, "CHA", doc["key_fingerprint"])  # no key trusted for CHA now: the next is new
    older = signed(other_team, revision=1)
    got = one(icb, put(tmp_path / "r1.json", older), accept_keys=[older["key_fingerprint"]])
    assert (got.status, got.code) == ("rejected", "older-revision")
    assert signing.locality_of(icb, older["key_fingerprint"]) is None
    assert not [e for e in audit.entries(icb, "signing_keys") if older["key_fingerprint"] in e["summary"]]


def test_import_rotation_is_accepted_and_recorded(icb, team, tmp_path):
    doc = signed(team)
    one(icb, put(tmp_path / "q3.json", doc), accept_keys=[doc["key_fingerprint"]])
    signing.rotate_key(team, TEAM)
    got = one(icb, put(tmp_path / "q2.json", signed(team, period="2025-26-Q2")))
    assert got.status == "imported"
    assert signing.locality_of(icb, signing.own_key(team)["fingerprint"]) == "CHA"
    assert signing.locality_of(icb, doc["key_fingerprint"]) is None  # retired


def test_signing_values_do_not_trip_the_patient_data_check_and_nothing_else_hides_there(icb, team, tmp_path):
    """About one random signature in a few hundred holds a run shaped like a postcode ("LE15WW" between two
    slashes): the file is checked as signed, not refused as patient data. An NHS number is still found there."""
    doc = signed(team)
    one(icb, put(tmp_path / "q3.json", doc), accept_keys=[doc["key_fingerprint"]])
    shaped = "A" * 40 + "/LE15WW/" + "A" * 38 + "=="
    assert signing.is_signing_value("signature", shaped) and free_text.postcode_in(shaped)
    doc = signed(team, period="2025-26-Q2")
    doc["signature"] = shaped
    assert one(icb, put(tmp_path / "shaped.json", doc)).code == "bad-signature"
    doc["signature"] = f"NHS {synthetic_nhs(1)}"
    assert one(icb, put(tmp_path / "nhs.json", doc)).code == "patient-data"


# -- through the export and the CLI (needs the lead's hooks in returns.py and cli.py) ---------------------------
Q = quarters.parse("2025-26-Q4")
ENTERED = {"OUT-01": (41, 900), "OUT-02": (120, 900), "OUT-03": (12, 1000), "OUT-04": (30, None)}


@pytest.fixture
def signed_off(small_world, cha, tmp_path):
    """Charnwood's 2025-26 Q4 return in the small world, signed off: (workspace, return id)."""
    code, mine, _ = cha
    import_extract(
        small_world,
        TEAM,
        code,
        write_csv(tmp_path / "x.csv", [patient(n, mine[0]) for n in range(1, 6)]),
        dt.date(2026, 2, 1),
    )
    loc = small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    return_id, _ = returns.draft(small_world, TEAM, loc, Q, dt.date(2026, 4, 10))
    for kpi, (n, d) in ENTERED.items():
        returns.enter(small_world, TEAM, return_id, kpi, n, d)
    for issue in returns.check(small_world, return_id, dt.date(2026, 4, 10)):
        if issue["kind"] in ("red", "rule", "implausible"):
            returns.comment(small_world, TEAM, return_id, issue["kpi"], "New team; recovery plan agreed.")
    returns.sign_off(small_world, TEAM, return_id, dt.date(2026, 4, 10))
    return small_world, return_id


def test_the_exported_return_is_signed_its_digest_still_that_of_the_content(signed_off, icb, tmp_path):
    db, return_id = signed_off
    out = returns.export(db, TEAM, return_id, tmp_path / "r.json", "0.1.0")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["key_fingerprint"] == signing.own_key(db)["fingerprint"]
    assert (
        doc["sha256"]
        == returns.digest(doc)
        == returns.digest({k: v for k, v in doc.items() if k not in signing.FIELDS})
    )
    got = one(icb, out)
    assert (got.code, doc["key_fingerprint"] in got.reason) == ("new-key", True)
    assert one(icb, out, accept_keys=[doc["key_fingerprint"]]).status == "imported"
    assert one(icb, out).status == "ignored"


def test_cli_key_show_export_import_rotate_and_accept_key(signed_off, tmp_path, capsys):
    db, return_id = signed_off
    db_path = tmp_path / "world.sqlite"
    icb_path = tmp_path / "icb-cli.sqlite"
    assert main(["new", "--db", str(icb_path), "--kind", "commissioner"]) == 0
    capsys.readouterr()
    assert main(["key", "show", "--db", str(db_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    fp = shown["key"]["fingerprint"]
    assert shown["kind"] == "locality" and "private_key" not in json.dumps(shown)

    ret = tmp_path / "ret.json"
    assert (
        main(["return", "export", "--db", str(db_path), "--locality", "CHA", "--quarter", Q.code, "--out", str(ret)])
        == 0
    )
    capsys.readouterr()
    assert main(["return", "import", "--db", str(icb_path), str(ret)]) == 1
    assert "[new-key]" in capsys.readouterr().out
    assert main(["return", "import", "--db", str(icb_path), str(ret), "--accept-key", fp]) == 0
    capsys.readouterr()

    key_file = tmp_path / "cha-key.json"
    assert main(["key", "export", "--db", str(db_path), "--out", str(key_file)]) == 0  # one team: CHA
    assert main(["key", "import", "--db", str(icb_path), str(key_file)]) == 0
    assert "Already trusted" in capsys.readouterr().out
    assert main(["key", "rotate", "--db", str(db_path)]) == 0
    capsys.readouterr()
    forged = json.loads(ret.read_text(encoding="utf-8"))
    forged["revision"] = 2  # a later revision, or the import would refuse it for its number first
    forged = forge(forged)
    assert main(["return", "import", "--db", str(icb_path), str(put(tmp_path / "forged.json", forged))]) == 1
    assert "[bad-signature]" in capsys.readouterr().out
    assert main(["key", "show", "--db", str(icb_path)]) == 0
    assert f"CHA  {fp}  trusted" in capsys.readouterr().out
    assert main(["key", "import", "--db", str(icb_path), str(tmp_path / "missing.json")]) == 1
    assert "Cannot read" in capsys.readouterr().err


# -- the bad-input corpus (tests/corpus_signing.py) -----------------------------------------------------------------
def test_the_committed_signing_corpus_is_what_its_generator_makes():
    for name, data in corpus_signing.files().items():
        assert (corpus_signing.CORPUS / name).read_bytes() == data, f"run `python tests/corpus_signing.py` ({name})"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_signing_corpus_file_is_refused_with_its_code_and_changes_nothing(name, tmp_path, capsys):
    path = tmp_path / "icb.sqlite"
    assert main(["new", "--db", str(path), "--kind", "commissioner"]) == 0
    capsys.readouterr()
    before = snapshot(path, capsys)
    file = corpus_signing.CORPUS / "returns" / name
    assert main(["return", "import", "--db", str(path), str(file), "--json"]) == 1
    [outcome] = json.loads(capsys.readouterr().out)["files"]
    code, words = REFUSED[name]
    assert (outcome["status"], outcome["code"]) == ("rejected", code) and words in outcome["reason"]
    assert snapshot(path, capsys) == before
