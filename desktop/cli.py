"""The command line (DESIGN §12). Exit 0 on success, 1 when input was refused, 2 on usage errors.

The GUI and the CLI call the same desktop.models functions.

One error boundary, in main(): what the user can act on (a refused input, a storage problem from either SQLite
library, an operating-system error such as a full disk or a missing folder, no terminal to ask a passphrase on)
is one line on stderr and exit 1, never a traceback; output piped into a command that stops reading (`| head`)
ends quietly. Every command that writes a file checks the path first (desktop.models.outputs), writes it whole or
not at all, and with --json prints the file written and its size in bytes.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, paths
from .models.errors import DeskError, ValidationError, translate_sqlite_error


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="locality-desk", description="Locality Desk for the LLR locality teams.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the app (the default command)")
    gui.add_argument("--db", type=Path, help="workspace file (default: the one in your user data folder)")

    info = sub.add_parser("info", help="what a workspace holds")
    info.add_argument("--db", type=Path, required=True)
    info.add_argument("--json", action="store_true")

    new = sub.add_parser(
        "new",
        help="an empty workspace: only the 11 localities, ready for the NHS's practice and PCN files "
        "(`reference import`); `demo` builds the invented demo world instead",
        description="Make an empty workspace. It holds only the 11 localities: no practices, PCNs, care homes "
        "or staff until you load them from the NHS's own files with `locality-desk reference import` (in the app: "
        "File → Update reference data from NHS files…). To try Locality Desk on invented data, use "
        "`locality-desk demo`.",
    )
    new.add_argument("--db", type=Path, required=True)
    new.add_argument("--kind", choices=["locality", "commissioner"], required=True)
    new.add_argument("--json", action="store_true", help="print the file written and its size as JSON")

    demo = sub.add_parser("demo", help="build the demo world")
    demo.add_argument("--db", type=Path, required=True)
    demo.add_argument("--seed", type=int, default=None)
    demo.add_argument("--small", action="store_true", help="a reduced world for tests, in a few seconds")
    demo.add_argument(
        "--today",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the day its history runs up to (default: today); same seed and day, same workspace",
    )
    demo.add_argument("--json", action="store_true", help="print the file written and its size as JSON")

    extract = sub.add_parser("demo-extract", help="write a synthetic risk extract CSV")
    extract.add_argument("--locality", required=True, help="a locality code, or ALL for the whole of LLR")
    extract.add_argument("--rows", type=int, required=True)
    extract.add_argument("--out", type=Path, required=True)
    extract.add_argument("--seed", type=int, default=None)
    extract.add_argument(
        "--today",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the day of the demo world it follows on from (default: today); the extract is "
        "dated the latest quarterly extract day on or before it",
    )
    extract.add_argument("--json", action="store_true", help="print the file written and its size as JSON")
    imp = sub.add_parser("import-risk", help="import a risk extract (CSV or Excel workbook) for one locality")
    imp.add_argument("--db", type=Path, required=True)
    imp.add_argument("--locality", required=True)
    imp.add_argument("file", type=Path)
    imp.add_argument("--sheet", default=None, help="the workbook's sheet (default: the first holding an extract)")
    imp.add_argument("--extract-date", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    imp.add_argument(
        "--accept-partial",
        action="store_true",
        help="import a file that does not look like the locality's whole extract (some practices only, most of the "
        "cohort leaving ...); a file covering some practices then changes only those",
    )
    imp.add_argument("--json", action="store_true")
    rollback = sub.add_parser("rollback-import", help="undo the locality's last extract import")
    rollback.add_argument("--db", type=Path, required=True)
    rollback.add_argument("--locality", required=True)
    rollback.add_argument("--json", action="store_true")

    ref = sub.add_parser("reference", help="reference data: practices and PCNs from the NHS's ODS files")
    ref_sub = ref.add_subparsers(dest="reference_command", required=True)
    rfi = ref_sub.add_parser("import", help="update practices and PCNs from ODS epraccur.csv and the ePCN workbook")
    rfi.add_argument("--db", type=Path, required=True)
    rfi.add_argument("files", type=Path, nargs="+", metavar="FILE")
    rfi.add_argument("--dry-run", action="store_true", help="show the preview only; nothing is written")
    rfi.add_argument("--all", action="store_true", help="every active prescribing setting, not only GP practices")
    rfi.add_argument(
        "--commissioner",
        action="append",
        default=[],
        metavar="CODE",
        help="a commissioner (sub-ICB) code the workspace covers; repeat for each (default: the workspace's, "
        "else LLR's 03W, 04C, 04V); the list given is kept in the workspace",
    )
    rfi.add_argument(
        "--pcn-locality",
        action="append",
        default=[],
        metavar="PCN=LOCALITY",
        help="the locality a new PCN belongs to, e.g. U12345=CHA; repeat for each",
    )
    rfi.add_argument("--json", action="store_true")

    kpi = sub.add_parser("kpi", help="the computed KPIs of a locality for a quarter")
    kpi.add_argument("--db", type=Path, required=True)
    kpi.add_argument("--locality", required=True)
    kpi.add_argument("--quarter", required=True, help="e.g. 2025-26-Q3 (Q1 is April to June)")
    kpi.add_argument("--json", action="store_true")

    out = sub.add_parser(
        "outcomes",
        help="did the caseload use hospital care less? the quarter's joiners against matched cohort patients",
        description="The patients who joined the caseload in QUARTER, against cohort patients who did not, "
        "matched on age band, sex, cohort criteria, risk band and the previous year's use: the difference in "
        "differences of each outcome the extracts record, with its 95%% confidence interval and the naive "
        "before/after figure beside it. Observational: read the caveats printed with it.",
    )
    out.add_argument("--db", type=Path, required=True)
    out.add_argument("--locality", required=True, help="a locality code, e.g. CHA")
    out.add_argument(
        "--quarter", required=True, help="the quarter the patients joined the caseload in, e.g. 2025-26-Q2"
    )
    out.add_argument(
        "--follow-up",
        type=int,
        choices=(2, 3, 4),
        default=4,
        help="quarters from joining to the follow-up risk run (default 4)",
    )
    out.add_argument("--json", action="store_true")

    ret = sub.add_parser("return", help="the quarterly KPI return file")
    ret_sub = ret.add_subparsers(dest="return_command", required=True)
    rexp = ret_sub.add_parser("export", help="write a locality's return for a quarter as JSON")
    rexp.add_argument("--db", type=Path, required=True)
    rexp.add_argument("--locality", required=True)
    rexp.add_argument("--quarter", required=True)
    rexp.add_argument("--out", type=Path, required=True)
    rexp.add_argument("--draft", action="store_true", help="allow exporting a draft (the file says so)")
    rexp.add_argument("--json", action="store_true", help="print the file written and its size as JSON")
    rimp = ret_sub.add_parser("import", help="import the teams' return files into a commissioner workspace")
    rimp.add_argument("--db", type=Path, required=True)
    rimp.add_argument("files", type=Path, nargs="+", metavar="FILE")
    rimp.add_argument("--dry-run", action="store_true", help="check and report only; nothing is written")
    rimp.add_argument(
        "--accept-key",
        action="append",
        default=[],
        metavar="FINGERPRINT",
        help="trust this new key of a team, once its fingerprint was compared with the team by phone",
    )
    rimp.add_argument("--json", action="store_true")

    key = sub.add_parser("key", help="the key that signs this workspace's returns, or the teams' keys it trusts")
    key_sub = key.add_subparsers(dest="key_command", required=True)
    kshow = key_sub.add_parser("show", help="this workspace's key and fingerprint, or the keys a commissioner trusts")
    kshow.add_argument("--db", type=Path, required=True)
    kshow.add_argument("--json", action="store_true")
    kexp = key_sub.add_parser("export", help="write this workspace's public key file for the commissioner")
    kexp.add_argument("--db", type=Path, required=True)
    kexp.add_argument("--out", type=Path, required=True)
    kexp.add_argument("--locality", help="the locality the key signs for (needed when the workspace holds several)")
    kexp.add_argument("--json", action="store_true")
    kimp = key_sub.add_parser("import", help="trust a team's key file (commissioner workspace)")
    kimp.add_argument("--db", type=Path, required=True)
    kimp.add_argument("file", type=Path, metavar="FILE")
    kimp.add_argument("--replace", action="store_true", help="retire the locality's other keys (a lost laptop)")
    kimp.add_argument("--json", action="store_true")
    krot = key_sub.add_parser("rotate", help="a new key pair; the next returns are signed by the old key too")
    krot.add_argument("--db", type=Path, required=True)
    krot.add_argument("--json", action="store_true")
    kret = key_sub.add_parser("retire", help="stop trusting one of a locality's keys (commissioner workspace)")
    kret.add_argument("--db", type=Path, required=True)
    kret.add_argument("--locality", required=True)
    kret.add_argument("--fingerprint", required=True)

    report = sub.add_parser("report", help="write a PDF report")
    kinds = report.add_subparsers(dest="report", required=True)
    mdt = kinds.add_parser("mdt", help="the MDT pack of a meeting (OFFICIAL-SENSITIVE; the export is audited)")
    mdt.add_argument("--db", type=Path, required=True)
    mdt.add_argument("--locality", required=True)
    mdt.add_argument("--meeting", default="latest", help="'latest' (default) or a meeting id")
    mdt.add_argument("--out", type=Path, required=True)
    loc = kinds.add_parser("locality", help="the quarterly locality report (aggregate; for the board)")
    loc.add_argument("--db", type=Path, required=True)
    loc.add_argument("--locality", required=True)
    loc.add_argument("--quarter", required=True, help="e.g. 2025-26-Q3")
    loc.add_argument("--out", type=Path, required=True)
    system = kinds.add_parser("system", help="the system report: the 11 teams side by side, for commissioners")
    system.add_argument("--db", type=Path, required=True)
    system.add_argument("--quarter", required=True, help="e.g. 2025-26-Q3")
    system.add_argument(
        "--for-publication",
        action="store_true",
        help="apply NHS Digital small-number suppression and list the cells it altered",
    )
    system.add_argument("--out", type=Path, required=True)
    home = kinds.add_parser("care-home", help="a care home's visit report for a quarter (OFFICIAL-SENSITIVE)")
    home.add_argument("--db", type=Path, required=True)
    home.add_argument("--home", required=True, help="the home's CQC location id, e.g. 1-123456789")
    home.add_argument("--quarter", required=True, help="e.g. 2025-26-Q3")
    home.add_argument("--out", type=Path, required=True)
    monthly = kinds.add_parser("monthly", help="a locality's monthly RAG exception report (one page; aggregate)")
    monthly.add_argument("--db", type=Path, required=True)
    monthly.add_argument("--locality", required=True)
    monthly.add_argument("--month", required=True, help="e.g. 2026-10; this month gives the month to date")
    monthly.add_argument("--out", type=Path, required=True)
    for kind in (mdt, loc, system, home, monthly):
        kind.add_argument("--json", action="store_true", help="print the file written and its size as JSON")
    spc = sub.add_parser("spc", help="the SPC (XmR) engine on any series, Making Data Count rules")
    spc.add_argument("--values", required=True, help="comma-separated numbers, oldest first")
    spc.add_argument("--improvement", choices=["increase", "decrease", "neutral"], default="neutral")
    spc.add_argument("--target", type=float, default=None)
    spc.add_argument("--screened", action="store_true", help="screen moving ranges above 3.267 × the mean")
    spc.add_argument("--json", action="store_true")
    backup = sub.add_parser("backup", help="a checked copy of a workspace, made safely while the app has it open")
    backup.add_argument("--db", type=Path, required=True)
    backup.add_argument("--out", type=Path, required=True, help="the backup file to write")
    backup.add_argument("--json", action="store_true", help="print the file written and its size as JSON")
    syn = sub.add_parser("sync", help="exchange changes with teammates' workspaces as encrypted bundles")
    syn_sub = syn.add_subparsers(dest="sync_command", required=True)
    sexp = syn_sub.add_parser("export", help="write what this workspace changed since it last exchanged")
    sexp.add_argument("--db", type=Path, required=True)
    sexp.add_argument("--out", type=Path, required=True, help="the bundle file to write")
    sexp.add_argument("--json", action="store_true", help="print the file written and its size as JSON")
    simp = syn_sub.add_parser("import", help="apply a teammate's bundle (passphrase: LOCALITY_DESK_PASSPHRASE)")
    simp.add_argument("--db", type=Path, required=True)
    simp.add_argument("file", type=Path, metavar="FILE")
    simp.add_argument("--dry-run", action="store_true", help="report what would change; nothing is written")
    simp.add_argument("--json", action="store_true")
    aud = sub.add_parser("audit", help="the workspace's audit log")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True)
    ver = aud_sub.add_parser(
        "verify", help="check the audit log's hash chain: exit 0 when intact, 1 naming the first broken entry"
    )
    ver.add_argument("--db", type=Path, required=True)
    ver.add_argument("--json", action="store_true")
    return parser


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in the form YYYY-MM-DD") from None


def _not_after_today(day):
    """*day*, or today when it is None; a demo's history cannot run past today."""
    from .models import clock
    from .models.errors import ValidationError

    today = clock.today()
    if day is not None and day > today:
        raise ValidationError(
            f"--today {day.isoformat()} is after today ({today.isoformat()}): a demo world's "
            "history can only run up to today. Give today's date or an earlier one."
        )
    return day or today


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "gui"
    try:
        from .models import clock

        clock.pin_from_environment()
        if command == "gui":
            from .app import run_gui

            return run_gui(getattr(args, "db", None))
        code = COMMANDS[command](args)
        sys.stdout.flush()  # a reader that went away is met here, inside the boundary, rather than at exit
        return code
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        print("locality-desk: stopped.", file=sys.stderr)
        return 130
    except Exception as exc:
        message = _message(exc)
        if message is None:
            raise  # a bug: the traceback is what its report needs
        print(f"locality-desk: {message}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)


# -- the error boundary ------------------------------------------------------------------------------------
def _message(exc: BaseException) -> str | None:
    """What to tell the user about *exc*, or None when it is a bug."""
    if isinstance(exc, DeskError):
        return str(exc)
    if isinstance(exc, sqlite3.Error):
        translated = translate_sqlite_error(exc)
        return str(translated) if isinstance(translated, DeskError) else None
    translated = _apsw_storage_error(exc)
    if translated is not None:
        return str(translated)
    if isinstance(exc, OSError):
        return _os_message(exc)
    if isinstance(exc, EOFError):
        return "There was nothing to read where input was expected (no terminal?); nothing was changed."
    return None


# apsw's exception classes for SQLite's storage problems, by the primary result code they stand for: used when an
# exception carries no code of its own.
_APSW_CODES = {
    "BusyError": sqlite3.SQLITE_BUSY,
    "LockedError": sqlite3.SQLITE_LOCKED,
    "FullError": sqlite3.SQLITE_FULL,
    "ReadOnlyError": sqlite3.SQLITE_READONLY,
    "IOError": sqlite3.SQLITE_IOERR,
    "CorruptError": sqlite3.SQLITE_CORRUPT,
    "NotADBError": sqlite3.SQLITE_NOTADB,
    "CantOpenError": sqlite3.SQLITE_CANTOPEN,
}


def _apsw_storage_error(exc: BaseException) -> DeskError | None:
    """A storage problem apsw (sync's SQLite library) reported, in the words the sqlite3 side uses; None for anything
    else. Mapped through errors.translate_sqlite_error by SQLite's result code, so both libraries say the same."""
    apsw = sys.modules.get("apsw")  # an apsw error can only come from a command that imported it
    if apsw is None or not isinstance(exc, apsw.Error):
        return None
    code = getattr(exc, "result", None)
    if not isinstance(code, int):
        code = _APSW_CODES.get(type(exc).__name__)
    if code is None:
        return None
    stand_in = sqlite3.OperationalError(str(exc))
    stand_in.sqlite_errorcode = code
    translated = translate_sqlite_error(stand_in)
    return translated if isinstance(translated, DeskError) else None


def _os_message(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else "a file"
    code = exc.errno
    if code == errno.ENOSPC:
        return f"The disk is full, so {where} could not be written. Free some space and try again."
    if code in (errno.EACCES, errno.EPERM):
        return (
            f"Permission denied for {where}: it may be open in another program, or in a folder you may not write "
            "to. Close it there, or choose another file or folder."
        )
    if code == errno.EROFS:
        return f"{where} is on a read-only drive. Choose a folder on a drive you may write to."
    if code == errno.EISDIR or isinstance(exc, IsADirectoryError):
        return f"{where} is a folder; give a file name."
    if code == errno.ENOENT:
        return f"{where} does not exist (or the folder it is in does not). Check the path and try again."
    return f"Cannot use {where}: {exc.strerror or exc}. Check the path and the drive, then try again."


def _reader_gone() -> int:
    """Output was piped into a command that stopped reading (`| head`): stop quietly, as Unix tools do.

    stdout is pointed at the null device so that Python's own flush at exit does not report the closed pipe.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # stdout is not a real file (a test's capture): nothing will flush into the pipe at exit
    return 1


# -- what every writing command shares ---------------------------------------------------------------------
def _out(args: argparse.Namespace, *, backup: bool = False) -> Path:
    """--out, refused before anything is written when it would land on the workspace of --db (by any name) or
    anything else outputs.check_output protects."""
    from .models.outputs import check_output

    db = getattr(args, "db", None)
    return check_output(args.out, [db] if db is not None else [], backup=backup)


def _wrote(args: argparse.Namespace, path: Path, message: str, **extra: Any) -> int:
    """Report a file written: *message*, or with --json the file, its size in bytes and *extra*."""
    if getattr(args, "json", False):
        written = {"file": str(Path(os.path.abspath(path))), "bytes": path.stat().st_size, **extra}
        print(json.dumps(written, indent=2, ensure_ascii=False, default=str))
    else:
        print(message)
    return 0


# -- the commands ------------------------------------------------------------------------------------------
def _info(args: argparse.Namespace) -> int:
    from .models.db import open_workspace
    from .models.workspace import info

    db = open_workspace(args.db, create=False)
    summary = info(db)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{args.db}: {summary['kind']} workspace, schema {summary['schema_version']}")
        for loc in summary["localities"]:
            print(
                f"  {loc['code']}  {loc['name']}: {len(loc['practices'])} practices, "
                f"{len(loc['care_homes'])} care homes"
            )
        for table, count in summary["counts"].items():
            print(f"  {table}: {count}")
    return 0


def _new(args: argparse.Namespace) -> int:
    from .models.workspace import create_workspace

    create_workspace(args.db, args.kind).close()
    # Say what it holds and what comes next: an empty workspace is only a start, and the demo is elsewhere.
    next_steps = (
        "Next, trust each team's key (`locality-desk key import`), then import their return files "
        f"(`locality-desk return import --db {args.db} FILE...`)."
        if args.kind == "commissioner"
        else "Next, load the practices and PCNs from the NHS's own files (epraccur and ePCN): "
        f"`locality-desk reference import --db {args.db} FILE...` (in the app: File → Update reference data "
        "from NHS files…). The guide page 'Setting up your team's real workspace' says where to get them."
    )
    return _wrote(
        args,
        args.db,
        f"Created an empty {args.kind} workspace at {args.db}.\n"
        "It holds only the 11 localities: no practices, PCNs, care homes or staff yet.\n"
        f"{next_steps}\nTo try Locality Desk on invented data instead, build the demo world: "
        "`locality-desk demo --db FILE`.",
        kind=args.kind,
        reference="localities",
    )


def _demo(args: argparse.Namespace) -> int:
    from .models.db import open_workspace
    from .models.demo import DEFAULT_SEED, build_demo

    if args.db.exists() and args.db.stat().st_size:
        print(f"locality-desk: {args.db} already exists; give a new file name for the demo world.", file=sys.stderr)
        return 1
    today = _not_after_today(args.today)
    db = open_workspace(args.db)
    try:
        build_demo(db, seed=DEFAULT_SEED if args.seed is None else args.seed, small=args.small, today=today)
    finally:
        db.close()
    return _wrote(
        args,
        args.db,
        f"Built the {'small ' if args.small else ''}demo world at {args.db}, its history up to {today:%d/%m/%Y}",
        small=args.small,
        data_ends=today.isoformat(),
    )


def _demo_extract(args: argparse.Namespace) -> int:
    from .models.demo import DEFAULT_SEED
    from .models.demo.extract import write_extract
    from .models.outputs import atomic_output

    out = _out(args)
    today = _not_after_today(args.today)
    with atomic_output(out) as temp:
        rows = write_extract(
            temp, args.locality, args.rows, seed=DEFAULT_SEED if args.seed is None else args.seed, today=today
        )
    return _wrote(args, out, f"Wrote {rows} rows to {out}", rows=rows)


def _import_risk(args: argparse.Namespace) -> int:
    from .models.clock import Actor
    from .models.cohort.risk_import import import_extract
    from .models.db import open_workspace

    db = open_workspace(args.db, create=False)
    result = import_extract(
        db,
        Actor.local(paths.device_id()),
        args.locality,
        args.file,
        args.extract_date,
        sheet=args.sheet,
        accept=args.accept_partial,
    )
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        c = result.cohort
        print(f"{args.file.name}: {result.imported:,} of {result.rows:,} rows imported, {result.rejected:,} rejected")
        print(
            f"Cohort {c['total']:,} (frailty {c['frailty']:,}, multimorbidity {c['multimorbidity']:,}, "
            f"high cost {c['high_cost']:,}); {result.new:,} new, {result.left:,} left, {result.changed:,} changed"
        )
        if result.partial:
            p = result.partial
            covered, missing = len(p["covered"]), len(p["missing"])
            print(
                f"Partial extract: {covered} practice{'s' * (covered != 1)} changed; the {p['carried']:,} cohort "
                f"patients of the other {missing} practice{'s' * (missing != 1)} kept as they were"
            )
        for finding in result.findings:
            print(f"  accepted: {finding.text}")
        for note in result.notes:
            print(f"  note: {note}")
        for r in result.rejections[:20]:
            print(f"  row {r.row}, {r.column}: {r.reason}")
        if len(result.rejections) > 20:
            print(f"  ... and {len(result.rejections) - 20:,} more (use --json for all)")
    return 0


def _rollback_import(args: argparse.Namespace) -> int:
    from .models.clock import Actor
    from .models.cohort import rollback
    from .models.db import open_workspace

    db = open_workspace(args.db, create=False)
    undone = rollback.roll_back(db, Actor.local(paths.device_id()), args.locality)
    run, back = undone.run, undone.previous
    if args.json:
        print(
            json.dumps(
                {
                    "rolled_back": {k: run[k] for k in ("id", "file_name", "extract_date", "imported_at")},
                    "cohort_removed": run["cohort_total"],
                    "now": {k: back[k] for k in ("id", "file_name", "extract_date", "cohort_total")} if back else None,
                },
                indent=2,
            )
        )
    else:
        print(f"Rolled back {run['file_name']} (extract dated {run['extract_date']}, imported {run['imported_at']})")
        print(
            f"{args.locality.upper()}'s cohort is now the run of {back['extract_date']} ({back['file_name']}, "
            f"{back['cohort_total']:,} patients)"
            if back
            else f"{args.locality.upper()} has no imported cohort now"
        )
    return 0


def _reference_import(args: argparse.Namespace) -> int:
    from .models.clock import Actor
    from .models.db import open_workspace
    from .models.reference_import import import_files

    chosen = {}
    for pair in args.pcn_locality:
        pcn, sep, loc = pair.partition("=")
        if not sep or not pcn.strip() or not loc.strip():
            raise ValidationError(f"--pcn-locality {pair}: give a PCN code and a locality code, e.g. U12345=CHA.")
        chosen[pcn.strip()] = loc.strip()
    db = open_workspace(args.db, create=False)
    planned = import_files(
        db,
        Actor.local(paths.device_id()),
        args.files,
        dry_run=args.dry_run,
        commissioners=tuple(c.strip().upper() for c in args.commissioner) or None,
        all_settings=args.all,
        pcn_localities=chosen,
    )
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, **planned.as_json()}, indent=2, ensure_ascii=False))
        return 0
    if planned.practices_in_area:
        print(
            f"{', '.join(planned.files)}: {planned.practices_in_area} practices in {planned.pcns_in_area} PCNs for "
            f"{', '.join(planned.commissioners)}"
        )
    if planned.local_authorities:
        print(
            f"{', '.join(planned.files)}: {planned.homes_in_area} care homes in {', '.join(planned.local_authorities)}"
        )
    for what, n in planned.counts().items():
        if n:
            print(f"  {what}: {n}")
    for p in planned.new_pcns + planned.new_practices:
        if p["basis"] == "to confirm":
            print(f"  locality to confirm: {p['code']} {p['name']} put in {p['locality']}")
    for r in planned.referenced:
        print(
            f"  kept, still used: {r['code']} {r['name']} ({r['patients']} patients, {r['on_caseload']} on caseload, "
            f"{r['care_homes']} care homes)"
        )
    for h in planned.homes_with_residents:
        print(f"  kept, still used: care home {h['cqc_id']} {h['name']} is deregistered ({h['residents']} residents)")
    if args.dry_run:
        print("Dry run, nothing written.")
    else:
        print("Imported." if planned.writes else "Nothing to change: the workspace already matches these files.")
    return 0


def _kpi(args: argparse.Namespace) -> int:
    from .models import clock, quarters
    from .models.db import open_workspace
    from .models.kpi import locality_figures

    quarter = quarters.parse(args.quarter)
    db = open_workspace(args.db, create=False)
    # Computed from the records as they stand, with the one target's RAG, SPC icons and intervals the reports use.
    figures = locality_figures.gather(db, args.locality, quarter, clock.today(), computed=True)
    if args.json:
        print(json.dumps([r.as_json() for r in figures.rows], indent=2))
        return 0
    print(f"{figures.locality['name']}, {quarter.label}")
    for r in figures.rows:
        shown = "—" if r.value is None else f"{r.value:g}"
        ratio = f" ({r.numerator:g}/{r.denominator:g})" if r.denominator is not None and r.numerator is not None else ""
        target = "" if r.target is None else f"target {r.target:g}"
        assurance = r.assurance or ""
        print(f"  {r.kpi.code:8} {r.rag or ' '}  {shown:>8}{ratio:<16} {target:<13} {assurance:<12} {r.kpi.name}")
    return 0


def _outcomes(args: argparse.Namespace) -> int:
    from .models import quarters
    from .models.db import open_workspace
    from .models.outcomes.from_store import evaluate_locality
    from .models.outcomes.records import LABELS
    from .models.workspace import locality_by_code

    quarter = quarters.parse(args.quarter)
    db = open_workspace(args.db, create=False)
    locality = locality_by_code(db, args.locality)
    result = evaluate_locality(db, locality["id"], quarter, follow_up=args.follow_up)
    if args.json:
        print(json.dumps({"locality": locality["code"], **result.as_json()}, indent=2))
        return 0
    print(f"{locality['name']}: patients who joined the caseload in {quarter.label}, {args.follow_up} quarters on")
    print("  The change in each patient's use over 12 months, joiners minus matched cohort patients who did not join:")
    if not result.outcomes:
        print("  No outcome is recorded in this locality's risk extracts: nothing to evaluate.")
    for r in result.outcomes:
        print(f"  {LABELS[r.outcome]}: {_outcome_line(r.status, r.overall)}")
        for g in r.by_intervention:
            print(f"      {g.intervention}: {_outcome_line(g.as_json()['status'], g.result)}")
    print()
    for caveat in result.as_json()["caveats"]:
        print(f"  {caveat}")
    return 0


def _outcome_line(status: str, e: Any) -> str:
    if status != "estimated":
        return f"{status} ({e.treated} joined with data, {e.matched} matched)" if e.treated else status
    return (
        f"{e.estimate:+.2f} (95% CI {e.ci_low:+.2f} to {e.ci_high:+.2f}); before/after alone {e.naive_estimate:+.2f}; "
        f"{e.matched} matched, {e.unmatched} unmatched"
    )


def _return(args: argparse.Namespace) -> int:
    if args.return_command == "import":
        return _return_import(args)
    from .models import quarters
    from .models.clock import Actor
    from .models.cohort.risk_import import locality_by_code
    from .models.db import open_workspace
    from .models.kpi import returns
    from .models.outputs import atomic_output

    out = _out(args)
    quarter = quarters.parse(args.quarter)
    db = open_workspace(args.db, create=False)
    locality = locality_by_code(db, args.locality)
    actor = Actor.local(paths.device_id())
    found = returns.current(db, locality["id"], quarter)
    if found is None:
        if not args.draft:
            print(
                f"locality-desk: {locality['name']} has no {quarter.label} return yet; start it on the Returns "
                "screen and sign it off, or use --draft for a working copy.",
                file=sys.stderr,
            )
            return 1
        return_id, _ = returns.draft(db, actor, locality["id"], quarter)
    else:
        return_id = found["id"]
    # The audit entry names the file, not its folder, so the hidden folder beside it does not show.
    with atomic_output(out) as temp:
        returns.export(db, actor, return_id, temp, __version__, allow_draft=args.draft)
    status = returns.get(db, return_id)["status"]
    return _wrote(
        args,
        out,
        f"Wrote the {quarter.label} return for {locality['name']} to {out}",
        locality=locality["code"],
        quarter=quarter.code,
        status=status,
    )


def _return_import(args: argparse.Namespace) -> int:
    from .models.clock import Actor
    from .models.db import open_workspace
    from .models.kpi.return_import import import_returns

    db = open_workspace(args.db, create=False)
    outcomes, _ = import_returns(
        db, Actor.local(paths.device_id()), args.files, dry_run=args.dry_run, accept_keys=args.accept_key
    )
    if args.json:
        print(json.dumps({"files": [o.as_json() for o in outcomes]}, indent=2, ensure_ascii=False))
    else:
        for o in outcomes:
            print(f"{o.file}: {o.status}" + (f" [{o.code}] {o.reason}" if o.code else ""))
        counts = {
            s: sum(1 for o in outcomes if o.status == s) for s in ("imported", "superseded", "ignored", "rejected")
        }
        print(
            ("Dry run, nothing written: " if args.dry_run else "")
            + ", ".join(f"{n} {status}" for status, n in counts.items())
        )
    return 1 if any(o.status == "rejected" for o in outcomes) else 0


def _key(args: argparse.Namespace) -> int:
    from .models.clock import Actor
    from .models.db import open_workspace
    from .models.kpi import signing
    from .models.outputs import atomic_output

    out = _out(args) if args.key_command == "export" else None
    db = open_workspace(args.db, create=False)
    actor = Actor.local(paths.device_id())
    if args.key_command == "show":
        shown = signing.describe(db, actor)
        if args.json:
            print(json.dumps(shown, indent=2, ensure_ascii=False))
        elif shown["kind"] == "locality":
            key = shown["key"]
            print(f"This workspace signs its returns with the key {key['fingerprint']} (made {key['made_at'][:10]}).")
            if key["previous"]:
                print(
                    f"  It replaced {key['previous']['fingerprint']}, which co-signs returns until the next rotation."
                )
            print("Read the fingerprint out to the commissioner when they ask, or send them `key export`'s file.")
        else:
            for code, keys in sorted(shown["trusted"].items()):
                for k in keys:
                    state = f"retired {k['retired_at'][:10]}" if k.get("retired_at") else "trusted"
                    since = f"since {k['trusted_at'][:10]}, {k['how']}, by {k['by']}"
                    print(f"  {code}  {k['fingerprint']}  {state} ({since})")
            if not shown["trusted"]:
                print(
                    "No key trusted yet: a team's key is trusted at its first return (once you compared its "
                    "fingerprint with the team) or from its key file."
                )
        return 0
    if args.key_command == "export":
        with atomic_output(out) as temp:
            signing.export_public_key(db, actor, temp, args.locality)
        fp = signing.own_key(db)["fingerprint"]
        return _wrote(args, out, f"Wrote the public key {fp} to {out}", fingerprint=fp)
    if args.key_command == "import":
        entry, new = signing.import_key_file(db, actor, args.file, replace_others=args.replace)
        if args.json:
            print(json.dumps({**entry, "new": new}, indent=2, ensure_ascii=False))
        else:
            print(("Trusted" if new else "Already trusted:") + f" the key {entry['fingerprint']} from {args.file}.")
        return 0
    if args.key_command == "rotate":
        key = signing.rotate_key(db, actor)
        if args.json:
            print(json.dumps(signing.public_summary(key), indent=2, ensure_ascii=False))
        else:
            print(
                f"This workspace now signs with the key {key['fingerprint']}. The next returns are signed by the old "
                "key too, so the commissioner takes the new one on without a phone call."
            )
        return 0
    signing.retire(db, actor, args.locality, args.fingerprint)
    print(f"{args.locality.upper()}'s key {args.fingerprint} is no longer trusted.")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .models import quarters
    from .models.clock import Actor
    from .models.db import open_workspace
    from .models.outputs import whole_or_nothing
    from .reports import care_home_report, mdt_pack

    out = _out(args)
    db = open_workspace(args.db, create=False)
    actor = Actor.local(paths.device_id())
    # The report functions write *out* and then audit it under that path, so they are handed the final name; a
    # failure (a full disk, an audit entry the busy workspace refused) removes what they wrote.
    if args.report == "locality":
        from .reports import locality_report

        quarter = quarters.parse(args.quarter)
        with whole_or_nothing(out):
            locality_report.export(db, actor, args.locality, quarter, out)
        message = f"Wrote the {quarter.label} locality report for {args.locality} to {out}"
        return _wrote(args, out, message, report="locality", locality=args.locality, quarter=quarter.code)
    if args.report == "system":
        from .reports import system_report

        quarter = quarters.parse(args.quarter)
        with whole_or_nothing(out):
            altered = system_report.export(db, actor, quarter, out, for_publication=args.for_publication)
        message = f"Wrote the {quarter.label} system report to {out}" + (
            f" for publication ({altered} cells suppressed or rounded)" if args.for_publication else ""
        )
        extra = {"report": "system", "quarter": quarter.code, "for_publication": args.for_publication}
        return _wrote(args, out, message, **extra, altered=altered)
    if args.report == "monthly":
        from .models.kpi.monthly_figures import parse_month
        from .reports import monthly_report

        month = parse_month(args.month)
        with whole_or_nothing(out):
            monthly_report.export(db, actor, args.locality, month, out)
        message = f"Wrote the {month.label} monthly exception report for {args.locality} to {out}"
        return _wrote(args, out, message, report="monthly", locality=args.locality, month=month.code)
    if args.report == "care-home":
        quarter = quarters.parse(args.quarter)
        with whole_or_nothing(out):
            care_home_report.export(db, actor, args.home, quarter, out)
        message = f"Wrote the {quarter.label} visit report for {args.home} to {out} (OFFICIAL-SENSITIVE)"
        return _wrote(args, out, message, report="care-home", home=args.home, quarter=quarter.code)
    meeting = mdt_pack.resolve_meeting(db, args.locality, args.meeting)
    with whole_or_nothing(out):
        mdt_pack.export(db, actor, meeting["id"], out)
    message = f"Wrote the MDT pack for {meeting['held_on']} to {out} (OFFICIAL-SENSITIVE: handle accordingly)"
    return _wrote(args, out, message, report="mdt", meeting=meeting["id"], held_on=meeting["held_on"])


def _spc(args: argparse.Namespace) -> int:
    from .models.stats import spc

    try:
        values = [float(v) for v in args.values.replace(" ", "").split(",") if v]
    except ValueError:
        print(
            f"locality-desk: --values must be numbers separated by commas, e.g. 5,7,6,8 (got {args.values!r})",
            file=sys.stderr,
        )
        return 1
    try:
        result = spc.analyse(values, args.improvement, args.target, screened=args.screened)
    except ValueError as exc:
        print(f"locality-desk: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
        return 0
    print(
        f"mean {result.mean:g}, upper limit {result.upl:g}, lower limit {result.lpl:g}"
        + (" (trial limits: fewer than 13 points)" if result.trial_limits else "")
    )
    for n, p in enumerate(result.points, start=1):
        print(f"  {n:3}  {p.value:>10g}  {p.point_type}" + (f"  ({', '.join(p.rules)})" if p.rules else ""))
    print(f"variation: {result.variation_icon or '—'}   assurance: {result.assurance_icon or '—'}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from .models.backups import backup
    from .models.clock import Actor

    out = backup(args.db, _out(args, backup=True), actor=Actor.local(paths.device_id()), reason="command line")
    message = f"Backed up {args.db} to {out} ({out.stat().st_size:,} bytes, checked)"
    return _wrote(args, out, message, workspace=str(Path(os.path.abspath(args.db))), checked=True)


def _audit(args: argparse.Namespace) -> int:
    from .models import audit
    from .models.db import open_workspace

    db = open_workspace(args.db, create=False)
    try:
        result = audit.verify(db)
    finally:
        db.close()
    if args.json:
        print(json.dumps({"workspace": str(Path(os.path.abspath(args.db))), **result.as_dict()}, indent=2))
    else:
        print(result.verdict(f"The audit log of {args.db}"))
    return 0 if result.intact else 1


def _passphrase(env: str) -> str:
    """The team's sync passphrase: from *env*, else asked for on the terminal."""
    import getpass

    given = os.environ.get(env)
    if given:
        return given
    try:
        return getpass.getpass("Team sync passphrase: ")
    except EOFError:
        raise ValidationError(
            f"No passphrase was given, and there is no terminal to ask for one on. Set {env} to the team's sync "
            "passphrase for this command (the way for scripts and scheduled tasks); nothing was changed."
        ) from None


def _sync(args: argparse.Namespace) -> int:
    from .models.clock import Actor
    from .models.outputs import whole_or_nothing
    from .models.sync import bundle as sync_bundle
    from .models.sync import merge as sync_merge

    out = _out(args) if args.sync_command == "export" else None
    passphrase = _passphrase(sync_bundle.PASSPHRASE_ENV)
    actor = Actor.local(paths.device_id())
    if out is not None:
        # export_bundle writes the bundle and then audits it; should the audit be refused (a busy workspace), the
        # bundle goes too. Nothing is lost by that: the export's capture and its record of what was sent roll back
        # with it, so the next bundle carries the same changes.
        with whole_or_nothing(out):
            summary = sync_bundle.export_bundle(args.db, out, passphrase, actor=actor)
        message = f"Wrote sync bundle {summary.seq} to {out} ({sum(summary.changes.values()):,} changes)"
        return _wrote(args, out, message, **{k: v for k, v in summary.to_dict().items() if k != "file"})
    summary = sync_merge.import_bundle(args.db, args.file, passphrase, dry_run=args.dry_run, actor=actor)
    if args.json:
        written = {"file": str(Path(os.path.abspath(args.db))), "bytes": Path(args.db).stat().st_size}
        print(json.dumps({**summary.to_dict(), "workspace": written}, indent=2, default=str))
        return 0
    verb = "Would apply" if summary.dry_run else "Applied"
    print(
        f"{verb} bundle {summary.seq} ({sum(summary.changes.values()):,} changes): "
        + (", ".join(f"{n:,} {k}" for k, n in sorted(summary.applied.items())) or "nothing to change")
    )
    for c in summary.conflicts:
        print(f"  conflict: {c.table} {c.id} ({c.kind}): {c.winner} kept; theirs by {c.their_by} at {c.their_at}")
    return 0


COMMANDS = {
    "info": _info,
    "new": _new,
    "demo": _demo,
    "demo-extract": _demo_extract,
    "import-risk": _import_risk,
    "rollback-import": _rollback_import,
    "reference": _reference_import,
    "kpi": _kpi,
    "outcomes": _outcomes,
    "return": _return,
    "key": _key,
    "report": _report,
    "spc": _spc,
    "backup": _backup,
    "sync": _sync,
    "audit": _audit,
}
