"""Issue 20, point 6: a sync passphrase of at least 12 characters (or four words) for every new bundle, its key
derived with Scrypt N = 2^17, and bundles made before (N = 2^15, any passphrase) still opened and applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus_helpers import content_digest
from worlds import copy_world

from desktop.cli import main
from desktop.models import reference
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.sync import base as sync_base
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import merge as sync_merge

PASS = "correct horse battery staple"


def _actor(user: str) -> Actor:
    return Actor(user, f"laptop-{user}", fixed_time="2026-11-20T09:00:00+00:00")


@pytest.fixture
def team(small_world_template, tmp_path) -> dict[str, Path]:
    """Two laptops' copies of one workspace, made after the team id was set."""
    a = copy_world(small_world_template, tmp_path / "a.sqlite")
    sync_bundle.ensure_team_id(a)
    return {"a": a, "b": copy_world(a, tmp_path / "b.sqlite")}


def _rename_a_practice(path: Path, name: str) -> str:
    db = open_workspace(path)
    try:
        row = next(iter(db.query("SELECT * FROM practices ORDER BY ods_code LIMIT 1")))
        reference.save(db, _actor("ann"), "practices", {**row, "name": name}, row["id"])
        return row["id"]
    finally:
        db.close()


def _practice_name(path: Path, row_id: str) -> str:
    db = open_workspace(path)
    try:
        return reference.get(db, "practices", row_id)["name"]
    finally:
        db.close()


def _envelope(bundle: Path) -> dict:
    return json.loads(bundle.read_bytes()[len(sync_bundle.MAGIC) :])


# ---------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    "weak",
    ["a", "secret", "letmein2026", "   secret   ", "Leicester1!", "ab cd ef gh", "LLR ILT 26"],
)
def test_a_short_passphrase_is_refused_saying_the_rule(weak):
    problem = sync_bundle.passphrase_problem(weak)
    assert problem is not None
    assert "at least 12 characters, or four words of three letters or more" in problem
    assert len(weak.strip()) < 4 or weak.strip() not in problem  # the message never repeats the secret
    with pytest.raises(ValidationError, match="at least 12 characters"):
        sync_bundle.check_new_passphrase(weak)


@pytest.mark.parametrize(
    "strong",
    [PASS, "twelve chars", "LeicesterILT", "Zażółć gęślą", "  twelve chars  ", "red fox big sky", "ёж кот сом лис"],
)
def test_twelve_characters_or_four_words_are_enough(strong):
    assert sync_bundle.passphrase_problem(strong) is None
    assert sync_bundle.check_new_passphrase(strong) == strong


def test_four_words_count_only_words_of_three_letters():
    assert sync_bundle.passphrase_problem("ox by us we") is not None  # four words, but of two letters
    assert sync_bundle.passphrase_problem("cat dog owl bee") is None


def test_export_with_a_short_passphrase_writes_nothing_and_changes_nothing(team):
    a = team["a"]
    out = a.parent / "weak.ldsync"
    before = content_digest(a)
    with pytest.raises(ValidationError, match="too short for a new bundle") as caught:
        sync_bundle.export_bundle(a, out, "secret", actor=_actor("ann"))
    assert "Nothing was written" in str(caught.value)
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
    assert not sync_base.base_path(a).exists()
    assert content_digest(a) == before  # no bundle number, no team change, no audit row


def test_the_command_line_refuses_a_short_passphrase_with_exit_1(team, monkeypatch, capsys):
    a = team["a"]
    out = a.parent / "cli.ldsync"
    monkeypatch.setenv(sync_bundle.PASSPHRASE_ENV, "secret")
    assert main(["sync", "export", "--db", str(a), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "at least 12 characters, or four words" in err and "Traceback" not in err
    assert not out.exists()


# ---------------------------------------------------------------- the cost, and bundles made before


def test_scrypt_costs_at_least_2_17_within_its_memory_limit():
    assert sync_bundle.SCRYPT_N >= 2**17 and (sync_bundle.SCRYPT_R, sync_bundle.SCRYPT_P) == (8, 1)
    needed = sync_bundle.kdf_memory(sync_bundle.SCRYPT_N, sync_bundle.SCRYPT_R, sync_bundle.SCRYPT_P)
    assert needed <= sync_bundle.MAX_KDF_MEMORY


def test_a_new_bundle_records_n_2_17_and_applies(team):
    a, b = team["a"], team["b"]
    row = _rename_a_practice(a, "Renamed on A")
    out = a.parent / "new.ldsync"
    sync_bundle.export_bundle(a, out, PASS, actor=_actor("ann"))
    kdf = _envelope(out)["kdf"]
    assert (kdf["n"], kdf["r"], kdf["p"]) == (2**17, 8, 1)
    sync_merge.import_bundle(b, out, PASS, actor=_actor("bob"))
    assert _practice_name(b, row) == "Renamed on A"


def test_a_bundle_made_with_the_old_parameters_and_passphrase_still_applies(team, monkeypatch):
    a, b = team["a"], team["b"]
    row = _rename_a_practice(a, "Renamed before the upgrade")
    out = a.parent / "old.ldsync"
    with monkeypatch.context() as before_issue_20:  # as the version before made bundles: N = 2^15, any passphrase
        before_issue_20.setattr(sync_bundle, "SCRYPT_N", sync_bundle.LEGACY_SCRYPT_N)
        before_issue_20.setattr(sync_bundle, "passphrase_problem", lambda _p: None)
        sync_bundle.export_bundle(a, out, "secret", actor=_actor("ann"))
    assert _envelope(out)["kdf"]["n"] == 2**15
    sync_bundle._derive.cache_clear()  # the key is derived afresh, from the parameters the bundle records
    with pytest.raises(ValidationError, match="passphrase does not open"):
        sync_merge.import_bundle(b, out, "secret2", actor=_actor("bob"), dry_run=True)
    summary = sync_merge.import_bundle(b, out, "secret", actor=_actor("bob"))
    assert summary.applied.get("updated", 0) >= 1
    assert _practice_name(b, row) == "Renamed before the upgrade"


def test_opening_one_bundle_twice_derives_its_key_once(team):
    a, b = team["a"], team["b"]
    out = a.parent / "twice.ldsync"
    sync_bundle.export_bundle(a, out, PASS, actor=_actor("ann"))
    sync_bundle._derive.cache_clear()
    sync_merge.import_bundle(b, out, PASS, actor=_actor("bob"), dry_run=True)
    sync_merge.import_bundle(b, out, PASS, actor=_actor("bob"))
    info = sync_bundle._derive.cache_info()
    assert info.misses == 1 and info.hits >= 1


@pytest.mark.parametrize(
    ("kdf", "message"),
    [
        ({"n": 2**22}, "stronger key derivation"),  # 4 GiB: refused before any is allocated
        ({"n": 2**17, "r": 32}, "stronger key derivation"),
        ({"n": 3}, "damaged or was altered"),  # not a power of two
        ({"n": 0}, "damaged or was altered"),
    ],
)
def test_a_bundle_asking_for_absurd_key_parameters_is_refused_quickly(team, monkeypatch, kdf, message):
    monkeypatch.setattr(sync_bundle, "SCRYPT_N", 2**10)
    a, b = team["a"], team["b"]
    out = a.parent / "bundle.ldsync"
    sync_bundle.export_bundle(a, out, PASS, actor=_actor("ann"))
    envelope = _envelope(out)
    envelope["kdf"].update(kdf)
    out.write_bytes(sync_bundle.MAGIC + json.dumps(envelope).encode("utf-8"))
    before = content_digest(b)
    with pytest.raises(ValidationError, match=message):
        sync_merge.import_bundle(b, out, PASS, actor=_actor("bob"))
    assert content_digest(b) == before
