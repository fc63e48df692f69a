"""The bad-input corpus (tests/data/bad/): what a workspace holds, as a digest to compare before and after a
refused input, and the generator of the committed corpus files (so that they can be rebuilt, and a test can
check that the committed copies are what this module makes).

Run `python tests/corpus_helpers.py` from the repository root to rewrite tests/data/bad/ after a change to
the return format or the catalogue; the README there lists each file and what it should produce.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_helpers import HEADER, patient
from return_files import as_json as _json
from return_files import return_doc

from desktop.models.kpi import returns

CORPUS = Path(__file__).resolve().parent / "data" / "bad"
# Practices of Charnwood in the small demo world (tests/unit/conftest.py `cha` finds them the same way).
CHA_PRACTICES = ("Z82001", "Z82002")


def content_digest(db_path: str | Path) -> str:
    """A SHA-256 over every row of every table but SQLite's own, in a fixed order: equal digests mean the
    workspace holds the same content (the file's bytes may differ by free pages or the WAL)."""
    conn = sqlite3.connect(f"file:{Path(db_path)}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for table in tables:
            h.update(f"\x00table {table}\x00".encode())
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                h.update(repr(row).encode("utf-8", "backslashreplace"))
                h.update(b"\n")
        return h.hexdigest()
    finally:
        conn.close()


def info_json(db_path: str | Path, capsys) -> dict:
    """`locality-desk info --json` of the workspace, as parsed JSON (stdout and stderr are consumed)."""
    from desktop.cli import main

    capsys.readouterr()
    assert main(["info", "--db", str(db_path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def snapshot(db_path: str | Path, capsys) -> tuple[dict, str]:
    return info_json(db_path, capsys), content_digest(db_path)


# -- the corpus --------------------------------------------------------------------------------------------


def refused_return(commissioner_path: str | Path, capsys, path: Path, dry_run: bool) -> dict:
    """`return import` of the one file *path* into the commissioner workspace: the outcome, once the command has
    exited 1 without a traceback and left the workspace as it was (with --dry-run or without)."""
    from desktop.cli import main

    before = snapshot(commissioner_path, capsys)
    code = main(["return", "import", "--db", str(commissioner_path), str(path), "--json"] + (["--dry-run"] * dry_run))
    out = capsys.readouterr()
    assert code == 1 and "Traceback" not in out.err
    (got,) = json.loads(out.out)["files"]
    assert snapshot(commissioner_path, capsys) == before
    return got


def _csv(rows: list[dict[str, str]], header: list[str] | None = None, newline: str = "\r\n") -> str:
    header = header or HEADER
    lines = [",".join(header)] + [",".join(_quote(row.get(h, "")) for h in header) for row in rows]
    return newline.join(lines) + newline


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def _good(n: int, **overrides) -> dict[str, str]:
    return patient(n, CHA_PRACTICES[n % 2], **overrides)


def risk_files() -> dict[str, bytes]:
    rng = random.Random(10)
    good = _csv([_good(1), _good(2)])
    return {
        "utf16.csv": good.encode("utf-16"),
        "binary.csv": b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(400)),
        "excel_workbook.csv": b"PK\x03\x04\x14\x00\x06\x00" + bytes(rng.randrange(256) for _ in range(200)),
        "empty.csv": b"",
        "blank_lines.csv": b"\r\n  \r\n\r\n",
        "header_only.csv": _csv([]).encode(),
        "missing_column.csv": _csv([_good(1)], [h for h in HEADER if h not in ("ltc_count", "expected_cost")]).encode(),
        "duplicated_column.csv": _csv([_good(1)], HEADER + ["NHS Number"]).encode(),
        "excel_scientific.csv": _csv(
            [_good(n, nhs_number=v) for n, v in enumerate(("9.99E+09", "9.99901E+09", "1E+10"), start=1)]
        ).encode(),
        "impossible_dates.csv": _csv(
            [
                _good(n, date_of_birth=v)
                for n, v in enumerate(
                    ("31/02/1950", "29/02/1951", "1899-03-01", "00/00/0000", "32/13/1940", "14/03/2090"), start=1
                )
            ]
        ).encode(),
        "not_a_number.csv": _csv(
            [
                _good(1, efi_score="nan"),
                _good(2, predicted_cost="inf"),
                _good(3, expected_cost="1e999"),
                _good(4, prob_unplanned_admission="NaN"),
            ]
        ).encode(),
        "unclosed_quote.csv": (
            _csv([_good(1)]).rstrip("\r\n") + '\r\n"' + "9990000026,Given,Fam" * 3 + "\r\n"
        ).encode(),
        "formula_injection.csv": _csv(
            [
                _good(1, given_name='=HYPERLINK("http://x","click")', family_name="+cmd|' /C calc'!A0"),
                _good(2, given_name="@SUM(1+1)", family_name="-2+3"),
                _good(3, given_name="\t=1+1", family_name="=1+1"),
            ]
        ).encode(),
    }


def _doc(change=None, redigest: bool = True) -> dict:
    doc = return_doc()
    if change is not None:
        change(doc)
    if redigest:
        doc["sha256"] = returns.digest(doc)
    return doc


def _value(kpi: str, key: str, value):
    def change(doc):
        next(v for v in doc["values"] if v["kpi"] == kpi)[key] = value

    return change


def return_files() -> dict[str, bytes]:
    whole = _json(_doc())
    # Digested as the reader will see them, so that the figure, not the digest, is what the reader refuses.
    infinite = _json(_doc(_value("COH-01", "numerator", float("inf")))).replace(b"Infinity", b"1e999")
    surrogate = _doc(_value("COH-01", "comment", "MARKER"))
    return {
        "truncated.json": whole[: len(whole) // 2],
        "wrong_types.json": _json(_doc(lambda d: d.__setitem__("revision", "one"))),
        "wrong_value_type.json": _json(_doc(_value("COH-02", "numerator", "many"))),
        "huge_number.json": _json(_doc(_value("COH-01", "numerator", 1e12))),
        "huge_integer.json": _json(_doc(_value("COH-01", "numerator", 10**400))),
        "huge_revision.json": _json(_doc(lambda d: d.__setitem__("revision", 2**70))),
        "infinity.json": infinite,
        "nan.json": _json(_doc(_value("COH-01", "numerator", 7.0))).replace(b'"numerator": 7.0', b'"numerator": NaN'),
        "negative_count.json": _json(_doc(_value("COH-01", "numerator", -4.0))),
        "unknown_field.json": _json(_doc(lambda d: d.__setitem__("notes", "extra"))),
        "tampered_digest.json": _json(_doc(_value("COH-01", "numerator", 41.0), redigest=False)),
        "patient_fields.json": _json(
            _doc(
                lambda d: d["values"][0].__setitem__("patients", [{"nhs_number": "9990000018", "given_name": "Given1"}])
            )
        ),
        "patient_in_comment.json": _json(_doc(_value("COH-02", "comment", "Delayed review of 999 000 0018"))),
        "lone_surrogate.json": _json(surrogate).replace(b'"MARKER"', b'"\\ud800"'),
        "deeply_nested.json": b"[" * 5000 + b"]" * 5000,
        "not_utf8.json": json.dumps(_doc(_value("COH-01", "comment", "café")), ensure_ascii=False).encode("cp1252"),
        "not_json.json": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }


def settings_files() -> dict[str, bytes]:
    rng = random.Random(14)
    return {
        "wrong_types.ini": (
            b"[settings]\r\nuser_name=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x10garbage)\r\n"
            b"recent_workspaces=@ByteArray(\\xff\\xfe)\r\nlast_locality=1, 2, 3\r\n"
            b"[state]\r\nwindow_geometry=not base64 at all!\r\nsplitter=@Rect(1 2 3 4)\r\n"
            b"cohort_columns=QUJD=\r\nlast_screen=@Invalid()\r\n"
        ),
        "unknown_keys.ini": (
            b"[settings]\r\nuser_name=Dr A Example\r\nsound_theme=chimes\r\n"
            b"[elsewhere]\r\nanything=1\r\n[state]\r\nlast_screen=cohort\r\n"
        ),
        "garbage.ini": bytes(rng.randrange(256) for _ in range(600)),
        "truncated.ini": b"[settings]\r\nuser_name=Dr A Exa\r\nrecent_workspaces=/a.sqlite, /b.sq\r\n[sta",
    }


def mapping_files() -> dict[str, bytes]:
    return {
        "not_json.txt": b"{nhs_number: NHS No,",
        "a_list.json": b'["nhs_number", "date_of_birth"]',
        "non_string_values.json": b'{"NHS No": ["nhs_number"], "DOB": 5, "Practice": null}',
        "unknown_targets.json": b'{"nhs_number": "drop table patients", "date_of_birth": "dob; --"}',
        "swapped_columns.json": b'{"nhs_number": "date_of_birth", "date_of_birth": "nhs_number"}',
    }


def corpus() -> dict[str, bytes]:
    """Every committed corpus file, by its path under tests/data/bad/."""
    out: dict[str, bytes] = {}
    for folder, files in (
        ("risk", risk_files()),
        ("returns", return_files()),
        ("settings", settings_files()),
        ("mapping", mapping_files()),
    ):
        out.update({f"{folder}/{name}": data for name, data in files.items()})
    # Issue 19's cases, each made beside the tests that run it (they import this module, hence imported here).
    import corpus_cli
    import corpus_extracts
    import corpus_returns
    import corpus_risk
    import corpus_signing
    import corpus_sync

    for module in (corpus_risk, corpus_returns, corpus_sync, corpus_cli, corpus_signing, corpus_extracts):
        out.update(module.files())
    return out


def write_corpus(dest: Path = CORPUS) -> None:
    for name, data in corpus().items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_bytes(data)


if __name__ == "__main__":
    write_corpus()
    print(f"Wrote {len(corpus())} files under {CORPUS}")
