"""The command line (DESIGN §12). Exit 0 on success, 1 when input was refused, 2 on usage errors.

The GUI and the CLI call the same desktop.models functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, paths
from .models.errors import DeskError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="locality-desk", description="Locality Desk for the LLR locality teams.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the app (the default command)")
    gui.add_argument("--db", type=Path, help="workspace file (default: the one in your user data folder)")

    info = sub.add_parser("info", help="what a workspace holds")
    info.add_argument("--db", type=Path, required=True)
    info.add_argument("--json", action="store_true")

    new = sub.add_parser("new", help="an empty workspace with the LLR reference data")
    new.add_argument("--db", type=Path, required=True)
    new.add_argument("--kind", choices=["locality", "commissioner"], required=True)

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
    imp = sub.add_parser("import-risk", help="import a risk extract CSV for one locality")
    imp.add_argument("--db", type=Path, required=True)
    imp.add_argument("--locality", required=True)
    imp.add_argument("file", type=Path)
    imp.add_argument("--extract-date", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    imp.add_argument("--json", action="store_true")

    kpi = sub.add_parser("kpi", help="the computed KPIs of a locality for a quarter")
    kpi.add_argument("--db", type=Path, required=True)
    kpi.add_argument("--locality", required=True)
    kpi.add_argument("--quarter", required=True, help="e.g. 2025-26-Q3 (Q1 is April to June)")
    kpi.add_argument("--json", action="store_true")

    ret = sub.add_parser("return", help="the quarterly KPI return file")
    ret_sub = ret.add_subparsers(dest="return_command", required=True)
    rexp = ret_sub.add_parser("export", help="write a locality's return for a quarter as JSON")
    rexp.add_argument("--db", type=Path, required=True)
    rexp.add_argument("--locality", required=True)
    rexp.add_argument("--quarter", required=True)
    rexp.add_argument("--out", type=Path, required=True)
    rexp.add_argument("--draft", action="store_true", help="allow exporting a draft (the file says so)")
    rimp = ret_sub.add_parser("import", help="import the teams' return files into a commissioner workspace")
    rimp.add_argument("--db", type=Path, required=True)
    rimp.add_argument("files", type=Path, nargs="+", metavar="FILE")
    rimp.add_argument("--dry-run", action="store_true", help="check and report only; nothing is written")
    rimp.add_argument("--json", action="store_true")

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
    spc = sub.add_parser("spc", help="the SPC (XmR) engine on any series, Making Data Count rules")
    spc.add_argument("--values", required=True, help="comma-separated numbers, oldest first")
    spc.add_argument("--improvement", choices=["increase", "decrease", "neutral"], default="neutral")
    spc.add_argument("--target", type=float, default=None)
    spc.add_argument("--screened", action="store_true", help="screen moving ranges above 3.267 × the mean")
    spc.add_argument("--json", action="store_true")
    backup = sub.add_parser("backup", help="a checked copy of a workspace, made safely while the app has it open")
    backup.add_argument("--db", type=Path, required=True)
    backup.add_argument("--out", type=Path, required=True, help="the backup file to write")
    syn = sub.add_parser("sync", help="exchange changes with teammates' workspaces as encrypted bundles")
    syn_sub = syn.add_subparsers(dest="sync_command", required=True)
    sexp = syn_sub.add_parser("export", help="write what this workspace changed since it last exchanged")
    sexp.add_argument("--db", type=Path, required=True)
    sexp.add_argument("--out", type=Path, required=True, help="the bundle file to write")
    simp = syn_sub.add_parser("import", help="apply a teammate's bundle (passphrase: LOCALITY_DESK_PASSPHRASE)")
    simp.add_argument("--db", type=Path, required=True)
    simp.add_argument("file", type=Path, metavar="FILE")
    simp.add_argument("--dry-run", action="store_true", help="report what would change; nothing is written")
    simp.add_argument("--json", action="store_true")
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
        return COMMANDS[command](args)
    except DeskError as exc:
        print(f"locality-desk: {exc}", file=sys.stderr)
        return exc.exit_code


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

    create_workspace(args.db, args.kind)
    print(f"Created an empty {args.kind} workspace at {args.db}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .models.db import open_workspace
    from .models.demo import DEFAULT_SEED, build_demo

    if args.db.exists() and args.db.stat().st_size:
        print(f"locality-desk: {args.db} already exists; give a new file name for the demo world.", file=sys.stderr)
        return 1
    today = _not_after_today(args.today)
    db = open_workspace(args.db)
    build_demo(db, seed=DEFAULT_SEED if args.seed is None else args.seed, small=args.small, today=today)
    print(f"Built the {'small ' if args.small else ''}demo world at {args.db}, its history up to {today:%d/%m/%Y}")
    return 0


def _demo_extract(args: argparse.Namespace) -> int:
    from .models.demo import DEFAULT_SEED
    from .models.demo.extract import write_extract

    rows = write_extract(
        args.out,
        args.locality,
        args.rows,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        today=_not_after_today(args.today),
    )
    print(f"Wrote {rows} rows to {args.out}")
    return 0


def _import_risk(args: argparse.Namespace) -> int:
    from .models.clock import Actor
    from .models.cohort.risk_import import import_extract
    from .models.db import open_workspace

    db = open_workspace(args.db, create=False)
    result = import_extract(db, Actor.local(paths.device_id()), args.locality, args.file, args.extract_date)
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        c = result.cohort
        print(f"{args.file.name}: {result.imported:,} of {result.rows:,} rows imported, {result.rejected:,} rejected")
        print(
            f"Cohort {c['total']:,} (frailty {c['frailty']:,}, multimorbidity {c['multimorbidity']:,}, "
            f"high cost {c['high_cost']:,}); {result.new:,} new, {result.left:,} left, {result.changed:,} changed"
        )
        for r in result.rejections[:20]:
            print(f"  row {r.row}, {r.column}: {r.reason}")
        if len(result.rejections) > 20:
            print(f"  ... and {len(result.rejections) - 20:,} more (use --json for all)")
    return 0


def _kpi(args: argparse.Namespace) -> int:
    from .models import quarters
    from .models.cohort.risk_import import locality_by_code
    from .models.db import open_workspace
    from .models.kpi import catalogue as kpi_catalogue
    from .models.kpi import compute as kpi_compute

    quarter = quarters.parse(args.quarter)
    db = open_workspace(args.db, create=False)
    locality = locality_by_code(db, args.locality)
    figures = kpi_compute.compute(db, locality["id"], quarter)
    if args.json:
        print(json.dumps([f.as_json() for f in figures], indent=2))
        return 0
    names = kpi_catalogue.by_code()
    print(f"{locality['name']}, {quarter.label}")
    for f in figures:
        shown = "—" if f.value is None else f"{f.value:g}"
        ratio = f" ({f.numerator:g}/{f.denominator:g})" if f.denominator is not None and f.numerator is not None else ""
        print(f"  {f.kpi:7} {f.rag or ' '}  {shown:>8}{ratio:<16} {names[f.kpi].name}")
    return 0


def _return(args: argparse.Namespace) -> int:
    if args.return_command == "import":
        return _return_import(args)
    from .models import quarters
    from .models.clock import Actor
    from .models.cohort.risk_import import locality_by_code
    from .models.db import open_workspace
    from .models.kpi import returns

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
    returns.export(db, actor, return_id, args.out, __version__, allow_draft=args.draft)
    print(f"Wrote the {quarter.label} return for {locality['name']} to {args.out}")
    return 0


def _return_import(args: argparse.Namespace) -> int:
    from .models.clock import Actor
    from .models.db import open_workspace
    from .models.kpi.return_import import import_returns

    db = open_workspace(args.db, create=False)
    outcomes, _ = import_returns(db, Actor.local(paths.device_id()), args.files, dry_run=args.dry_run)
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


def _report(args: argparse.Namespace) -> int:
    from .models import quarters
    from .models.clock import Actor
    from .models.db import open_workspace
    from .reports import care_home_report, mdt_pack

    db = open_workspace(args.db, create=False)
    actor = Actor.local(paths.device_id())
    if args.report == "locality":
        from .reports import locality_report

        quarter = quarters.parse(args.quarter)
        locality_report.export(db, actor, args.locality, quarter, args.out)
        print(f"Wrote the {quarter.label} locality report for {args.locality} to {args.out}")
        return 0
    if args.report == "system":
        from .reports import system_report

        quarter = quarters.parse(args.quarter)
        altered = system_report.export(db, actor, quarter, args.out, for_publication=args.for_publication)
        print(
            f"Wrote the {quarter.label} system report to {args.out}"
            + (f" for publication ({altered} cells suppressed or rounded)" if args.for_publication else "")
        )
        return 0
    if args.report == "care-home":
        quarter = quarters.parse(args.quarter)
        care_home_report.export(db, actor, args.home, quarter, args.out)
        print(f"Wrote the {quarter.label} visit report for {args.home} to {args.out} (OFFICIAL-SENSITIVE)")
        return 0
    meeting = mdt_pack.resolve_meeting(db, args.locality, args.meeting)
    mdt_pack.export(db, actor, meeting["id"], args.out)
    print(f"Wrote the MDT pack for {meeting['held_on']} to {args.out} (OFFICIAL-SENSITIVE: handle accordingly)")
    return 0


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

    out = backup(args.db, args.out, actor=Actor.local(paths.device_id()), reason="command line")
    print(f"Backed up {args.db} to {out} ({out.stat().st_size:,} bytes, checked)")
    return 0


def _sync(args: argparse.Namespace) -> int:
    import getpass
    import os

    from .models.clock import Actor
    from .models.sync import bundle as sync_bundle
    from .models.sync import merge as sync_merge

    passphrase = os.environ.get(sync_bundle.PASSPHRASE_ENV) or getpass.getpass("Team sync passphrase: ")
    actor = Actor.local(paths.device_id())
    if args.sync_command == "export":
        summary = sync_bundle.export_bundle(args.db, args.out, passphrase, actor=actor)
        print(f"Wrote sync bundle {summary.seq} to {args.out} ({sum(summary.changes.values()):,} changes)")
        return 0
    summary = sync_merge.import_bundle(args.db, args.file, passphrase, dry_run=args.dry_run, actor=actor)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, default=str))
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
    "kpi": _kpi,
    "return": _return,
    "report": _report,
    "spc": _spc,
    "backup": _backup,
    "sync": _sync,
}
