"""Command line: `python -m kpi ingest|sample|kpis|form06|late|pack|bench|export-aggregates|rollup|users ...`
(see README)."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import pandas as pd

from kpi import access, db
from kpi.engine import DIMENSIONS
from kpi.exports import neutralise_frame
from kpi.importer import ingest_files
from kpi.periods import Period

REFUSED_EXIT = 4  # a request the --user account's role or scope does not allow


def _caller(args: argparse.Namespace) -> access.Caller:
    """Who the command acts as: the account named by --user (its role and units, kpi.access), else the server's
    operator (a shell on the server is an administrator's), named cli:<OS login> in the audit log."""
    email = getattr(args, "user", None)
    if not email:
        return access.operator(f"cli:{_os_login()}")
    from kpi import accounts, appdb

    try:
        account = accounts.get_user(appdb.app_db_path(args.db or db.default_db_path()), email)
    except accounts.AccountError as exc:
        raise SystemExit(f"Từ chối (refused): {exc}") from exc
    if account is None or account.disabled:
        raise SystemExit(f"Từ chối (refused): không có tài khoản đang hoạt động {email!r} "
                         f"(no active account {email!r}; see python -m kpi users list)")
    return access.Caller(account.email, account.role, account.units)


def _acting(action: str, permission: str | None = None) -> Callable:
    """Run a command as `_caller(args)` (`args.caller`): the permission checked, every query under the caller's
    scope (the command's own code uses access.run where comparisons are allowed), the outcome recorded in the
    audit log as `action`; a refusal exits REFUSED_EXIT with its message."""
    def wrap(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        @functools.wraps(command)
        def run(args: argparse.Namespace) -> int:
            from kpi import appdb, audit

            args.caller = caller = _caller(args)
            path = appdb.app_db_path(args.db or db.default_db_path())
            target = " ".join(str(getattr(args, a)) for a in ("from_", "to", "where", "by", "kind", "files")
                              if getattr(args, a, None))
            record = {"actor": caller.name, "role": caller.role, "action": action, "target": target[:500],
                      "scope": caller.units_text()}
            try:
                if permission:
                    caller.require(permission)
                caller.check_where(_where(getattr(args, "where", None)))
                with access.scoped(caller):
                    code = command(args)
            except access.AccessRefused as refused:
                print(f"Từ chối (refused): {refused}", file=sys.stderr)
                audit.record(path, **record, outcome="refused", detail={"reason": str(refused)[:300]})
                return REFUSED_EXIT
            audit.record(path, **record, outcome="ok" if code == 0 else "error")
            return code

        return run

    return wrap


@_acting("import", permission="import")
def _ingest(args: argparse.Namespace) -> int:
    # Into a new version of the store, put in place when every file is done (kpi.db.writing): the dashboard
    # keeps reading the old one meanwhile and shows the new data on its next query.
    path = args.db or db.default_db_path()
    try:
        with db.writing(path, timeout=args.wait) as con:
            outcomes = ingest_files(con, args.files)
    except db.StoreBusy as exc:
        print(str(exc), file=sys.stderr)
        return 3
    except duckdb.IOException as exc:
        print(f"Không mở được cơ sở dữ liệu {path} (cannot open the database): {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps({"files": [o.summary() for o in outcomes]}, ensure_ascii=False))
    else:
        for outcome in outcomes:
            if outcome.result is None:
                print(f"TỪ CHỐI / REFUSED {outcome.file}:\n{outcome.error}", file=sys.stderr)
                continue
            r = outcome.result
            print(f"{r.file}: đọc {r.rows_read} dòng (rows read), thêm mới {r.inserted} (inserted), cập nhật "
                  f"{r.updated} (updated), không đổi {r.unchanged} (unchanged), bị loại {r.rejected} (rejected), "
                  f"cảnh báo {r.warnings} (warnings) — import #{r.import_id}")
    return 0 if all(o.result is not None for o in outcomes) else 2


def _sample(args: argparse.Namespace) -> int:
    from kpi.sample import write_sample

    path = write_sample(Path(args.out), rows=args.rows, seed=args.seed)
    print(f"{path}: {args.rows} hồ sơ (dossiers), seed {args.seed}")
    return 0


BY_CHOICES = tuple(d.id for d in DIMENSIONS)  # the engine's registry
WHERE_CHOICES = tuple(d.id for d in DIMENSIONS if d.sql is not None)  # month is a period, not a filter


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}") from None


def _condition(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or name.strip() not in WHERE_CHOICES:
        raise argparse.ArgumentTypeError(
            f"expected DIMENSION=VALUE with DIMENSION one of {', '.join(WHERE_CHOICES)}, not {text!r}")
    return name.strip(), value.strip()


def _where(conditions: Sequence[tuple[str, str]] | None) -> dict[str, list[str]]:
    """--where dim=value ...; the same dimension twice means either value."""
    where: dict[str, list[str]] = {}
    for name, value in conditions or ():
        where.setdefault(name, []).append(value)
    return where


def _open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    if not Path(path).is_file():
        raise SystemExit(f"Không tìm thấy cơ sở dữ liệu (database not found): {path}")
    try:
        return db.connect(path, read_only=True)
    except duckdb.IOException as exc:
        raise SystemExit(f"Không mở được cơ sở dữ liệu {path} (cannot open the database): {exc}") from exc


def _period(args: argparse.Namespace) -> Period:
    if args.to < args.from_:
        raise SystemExit("--to must not be before --from")
    return Period(args.from_, args.to)


@_acting("report")
def _kpis(args: argparse.Namespace) -> int:
    from kpi.engine import Targets, kpi_table

    con = _open_read_only(args.db)
    targets = Targets.from_file(args.targets) if args.targets else None
    try:  # a comparison (the province's totals, a ranking of units) may reach beyond a unit's scope
        frame = access.run(args.caller, kpi_table, con, _period(args), by=args.by, where=_where(args.where),
                           targets=targets, on_time_by=args.on_time_by)
    except ValueError as exc:
        print(f"Lỗi (error): {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    columns = ["group", "metric", "numerator", "denominator", "value", "target", "status", "previous_value",
               "previous_change_pp", "year_earlier_value", "year_earlier_change_pp", "hierarchy"]
    records = []
    for row in frame[columns].to_dict("records"):
        group = row.pop("group")
        record = {args.by: group} if args.by else {}
        record.update({k: _plain(v) for k, v in row.items()})
        records.append(record)
    if args.format == "json":
        print(json.dumps(records, ensure_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(neutralise_frame(pd.DataFrame(records)).to_csv(index=False))
    else:
        print(_kpi_text(frame, args.by))
    return 0


def _plain(value: object) -> object:
    """JSON-ready: numpy and pandas scalars to Python, missing to None."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def _kpi_text(frame: pd.DataFrame, by: str | None) -> str:
    """A readable table: Vietnamese number formats, numerator/denominator beside every value."""
    from kpi.formatting import format_decimal, format_int, format_percent
    from kpi.metrics import metric

    lines = []
    for row in frame.to_dict("records"):
        m = metric(row["metric"])
        shown = (format_percent(row["value"]) if m.unit == "rate" else
                 ("không có dữ liệu" if row["value"] is None else format_decimal(row["value"], 1) + " ngày"))
        group = f"{row['group'] or '(trống)'} | " if by else ""
        lines.append(f"{group}{m.label_vi}: {shown} ({format_int(row['numerator'])}/{format_int(row['denominator'])})"
                     + (f" [{row['status']}]" if row["status"] else ""))
    return "\n".join(lines)


@_acting("report")
def _form06(args: argparse.Namespace) -> int:
    from kpi.form06 import write_form06

    con = _open_read_only(args.db)
    try:
        rows = write_form06(con, _period(args), args.out, by=args.by, where=_where(args.where),
                            reporting_unit=args.unit, scope_label=args.unit)
    except ValueError as exc:
        print(f"Lỗi (error): {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print(f"{args.out}: Biểu 06, {len(rows)} dòng (rows)")
    return 0


LATE_PAGE = 10_000


@_acting("download")
def _late(args: argparse.Namespace) -> int:
    """Stream the dossier lists page by page: never the whole list in memory."""
    from kpi.dossier_lists import LIST_KINDS, late_dossiers

    kinds = [k.id for k in LIST_KINDS] if args.kind == "all" else [args.kind]
    con = _open_read_only(args.db)
    period, where = _period(args), _where(args.where)
    written, first = 0, True
    try:
        if args.format == "json":
            sys.stdout.write("[")
        for kind in kinds:
            offset = args.offset
            while args.limit is None or written < args.limit:
                size = LATE_PAGE if args.limit is None else min(LATE_PAGE, args.limit - written)
                page = late_dossiers(con, period, kind=kind, where=where, on_time_by=args.on_time_by,
                                     limit=size, offset=offset)
                if page.empty:
                    break
                if args.format == "json":
                    for record in page.to_dict("records"):
                        sys.stdout.write(("" if first else ",") + json.dumps(
                            {k: _json_value(v) for k, v in record.items()}, ensure_ascii=False))
                        first = False
                else:
                    sys.stdout.write(neutralise_frame(page).to_csv(index=False, header=first,
                                                                   date_format="%Y-%m-%d %H:%M:%S"))
                    first = False
                written += len(page)
                offset += len(page)
                if len(page) < size:
                    break
        if args.format == "json":
            sys.stdout.write("]\n")
    except ValueError as exc:
        print(f"Lỗi (error): {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    return 0


@_acting("pack")
def _pack(args: argparse.Namespace) -> int:
    """The meeting pack: the workbook first, then the PDF (kpi.pack_pdf), both named by pack.file_stem."""
    from kpi.pack import build_pack, file_stem
    from kpi.pack_excel import write_pack_xlsx
    from kpi.pack_pdf import write_pack_pdf

    where: dict[str, str] = {}
    for name, values in _where(args.where).items():
        if len(values) > 1:
            print(f"Lỗi (error): a pack is for one scope, one value per filter; --where {name}= was given "
                  f"{len(values)} times", file=sys.stderr)
            return 2
        where[name] = values[0]
    args.caller.require_own_unit(where)
    period = _period(args)
    con = _open_read_only(args.db)
    try:
        pack = build_pack(con, period, where)
    except ValueError as exc:
        print(f"Lỗi (error): {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    stem = file_stem(pack)
    print(write_pack_xlsx(pack, args.out / f"{stem}.xlsx", lang=args.lang))
    print(write_pack_pdf(pack, args.out / f"{stem}.pdf", lang=args.lang))
    return 0


def _json_value(value: object) -> object:
    """Timestamps as ISO text, the rest as plain JSON values."""
    value = _plain(value)
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime | pd.Timestamp) else value


def _add_query_options(parser: argparse.ArgumentParser, *, by: bool) -> None:
    parser.add_argument("--db", type=Path, default=None,
                        help=f"database file (default: ${db.DB_ENV} or {db.DEFAULT_DB.relative_to(db.PROJECT_ROOT)})")
    parser.add_argument("--from", dest="from_", type=_day, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", type=_day, required=True, help="last day (inclusive), YYYY-MM-DD")
    parser.add_argument("--where", type=_condition, nargs="+", action="extend", metavar="DIMENSION=VALUE",
                        help="filters, e.g. --where district='Huyện Thạch Thất' sector='Đất đai'")
    if by:
        parser.add_argument("--by", choices=BY_CHOICES, help="group by this dimension")
    _add_user_option(parser)


def _add_user_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", metavar="EMAIL",
                        help="act as this dashboard account: its role and units apply (README, Accounts and roles); "
                             "default: the server's operator, who sees everything")


def _export_aggregates(args: argparse.Namespace) -> int:
    from kpi import rollup

    con = _open_read_only(args.db)
    try:
        manifest = rollup.export_aggregates(con, args.out)
    except rollup.RollupError as error:
        print(f"Không xuất được (cannot export): {error}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print(f"{args.out}: {', '.join(manifest['provinces'])}, {manifest['dossiers']} hồ sơ (dossiers), "
          f"{manifest['bytes'] / 1e6:.1f} MB")
    return 0


def _rollup(args: argparse.Namespace) -> int:
    from kpi import rollup

    try:
        with db.writing(args.db) as con:
            summary = rollup.rollup(con, args.exports)
    except rollup.RollupError as error:
        print(f"Không tổng hợp được (cannot roll up): {error}", file=sys.stderr)
        return 2
    print(f"{args.db}: {len(summary['provinces'])} tỉnh (provinces), {summary['dossiers']} hồ sơ (dossiers), "
          f"{summary['first_month_end']} .. {summary['last_month_end']}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from kpi import bench

    report = bench.run(args.dossiers, args.seed, args.dir, pages=args.page or None, keep=args.keep)
    return 0 if report.rows else 1


def _users(args: argparse.Namespace) -> int:
    # Accounts live in the app database beside the store (kpi.appdb); every change is audited as cli:<OS login>.
    from kpi import accounts, appdb, audit

    path = appdb.app_db_path(args.db)
    actor = f"cli:{_os_login()}"
    name = getattr(args, "name", "")
    try:
        if args.users_command == "list":
            print(_users_table(accounts.list_users(path)))
            return 0
        kind = "group" if getattr(args, "group", False) else "user"
        if args.users_command == "add":
            password = _read_password() if args.password_stdin else None
            account = accounts.add_user(path, name, args.role, args.unit or (), password, created_by=actor,
                                        by_role="cli", kind=kind)
            for unit in _units_not_in_store(args.db, account.units):
                print(f"Cảnh báo (warning): không thấy đơn vị {unit!r} trong dữ liệu (unit not found in the data)",
                      file=sys.stderr)
            print(f"Đã thêm (added) {account.kind} {account.email}: {account.role}"
                  + (f" — {'; '.join(account.units)}" if account.units else ""))
        elif args.users_command == "remove":
            accounts.remove_user(path, name, by=actor, by_role="cli", kind=kind)
            print(f"Đã xoá (removed) {name.strip() if kind == 'group' else name.strip().lower()}")
        elif args.users_command == "passwd":
            accounts.set_password(path, name, _read_password(), by=actor, by_role="cli")
            print(f"Đã đặt mật khẩu (password set) {name.strip().lower()}")
        else:  # disable / enable
            accounts.set_disabled(path, name, args.users_command == "disable", by=actor, by_role="cli")
            print(f"Đã {'vô hiệu hoá (disabled)' if args.users_command == 'disable' else 'kích hoạt (enabled)'} "
                  f"{name.strip().lower()}")
    except accounts.AccountError as exc:
        print(f"Từ chối (refused): {exc}", file=sys.stderr)
        audit.record(path, actor=actor, role="cli", action="users_change", target=name, outcome="refused",
                     detail={"change": args.users_command, "error": str(exc)})
        return 2
    except appdb.AppDbBusy as exc:
        print(str(exc), file=sys.stderr)
        return 3
    return 0


def _os_login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without an entry in /etc/passwd)
        return "unknown"


def _read_password() -> str:
    """One line from stdin (a pipe), or typed without echo at a terminal."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Mật khẩu (password): ")
    return sys.stdin.readline().rstrip("\r\n")


def _units_not_in_store(store: Path, units: Sequence[str]) -> list[str]:
    """The units that no dossier of the store names as its district, commune or agency (a typo, most likely);
    nothing when the store cannot be read."""
    if not units or not Path(store).is_file():
        return []
    try:
        con = db.connect(store, read_only=True)
    except duckdb.Error:
        return []
    try:
        found = {u for (u,) in con.execute(
            "SELECT DISTINCT u FROM (SELECT unnest([district, commune, agency_name]) AS u FROM dossiers) "
            "WHERE list_contains($units, u)", {"units": list(units)}).fetchall()}
    except duckdb.Error:
        return []
    finally:
        con.close()
    return [u for u in units if u not in found]


def _users_table(users: Sequence) -> str:
    """A plain table of the accounts, one per line."""
    from kpi.formatting import format_datetime

    now = dt.datetime.now()
    header = ("tên (name)", "loại (kind)", "vai trò (role)", "đơn vị (units)", "mật khẩu (password)",
              "khoá đến (locked until)", "đăng nhập (last login)")
    rows = [header] + [
        (u.email + (" [vô hiệu / disabled]" if u.disabled else ""), u.kind, u.role, "; ".join(u.units) or "–",
         "có (yes)" if u.has_password else "không (no)",
         format_datetime(u.locked_until) if u.locked_until and u.locked_until > now else "–",
         format_datetime(u.last_login_at))
        for u in users]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def build_parser() -> argparse.ArgumentParser:
    """The CLI's commands and options."""
    parser = argparse.ArgumentParser(prog="python -m kpi", description="egov-kpi: dossier store and KPIs")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="import export files (CSV, TXT, XLSX, XLS) into the store")
    ingest.add_argument("files", nargs="+", type=Path, help="files, imported in the order given")
    ingest.add_argument("--db", type=Path, default=None,
                        help=f"database file (default: ${db.DB_ENV} or {db.DEFAULT_DB.relative_to(db.PROJECT_ROOT)})")
    ingest.add_argument("--json", action="store_true", help="print one JSON object with the per-file counts")
    ingest.add_argument("--wait", type=float, default=db.LOCK_TIMEOUT_S, metavar="SECONDS",
                        help="how long to wait for another import writing the same store (default %(default)s)")
    _add_user_option(ingest)
    ingest.set_defaults(run=_ingest)

    export = commands.add_parser("export-aggregates", help="write the store's KPI aggregates as Parquet for a "
                                 "national roll-up (no dossier leaves the store)")
    export.add_argument("--db", type=Path, default=None, help="the province's store (default as for ingest)")
    export.add_argument("--out", type=Path, required=True, help="folder for the Parquet files and manifest.json")
    export.set_defaults(run=_export_aggregates)

    roll = commands.add_parser("rollup", help="build a national store from provincial aggregate exports; "
                               "then `kpis --db NATIONAL --by province`")
    roll.add_argument("exports", nargs="+", type=Path, help="folders written by export-aggregates")
    roll.add_argument("--db", type=Path, required=True, help="the national store (a file of its own)")
    roll.set_defaults(run=_rollup)

    bench = commands.add_parser("bench", help="scale benchmark: generate, import, time every page and the engine "
                                "against pandas; prints one table (see kpi/bench.py)")
    bench.add_argument("--dossiers", type=int, required=True, help="dossiers to generate (e.g. 1000000, 10000000)")
    bench.add_argument("--seed", type=int, default=2025, help="sample seed (default 2025)")
    bench.add_argument("--dir", type=Path, default=db.PROJECT_ROOT / "bench-output",
                       help="where the export and the store go (default bench-output/; the export is reused)")
    bench.add_argument("--page", action="append", metavar="FILE",
                       help="only this page (pages/tong_quan.py or tong_quan; repeatable)")
    bench.add_argument("--keep", action="store_true", help="keep the store after the run")
    bench.set_defaults(run=_bench)

    sample = commands.add_parser("sample", help="write a realistic sample export")
    sample.add_argument("--out", required=True, help="output file: .csv, .csv.gz or .xlsx")
    sample.add_argument("--rows", type=int, default=200_000, help="number of dossiers (default 200000)")
    sample.add_argument("--seed", type=int, default=2025, help="random seed (same seed, same file)")
    sample.set_defaults(run=_sample)

    kpis = commands.add_parser("kpis", help="every KPI for a period, optionally grouped and filtered")
    _add_query_options(kpis, by=True)
    kpis.add_argument("--format", choices=("json", "csv", "table"), default="table")
    kpis.add_argument("--targets", type=Path, help="targets file (.toml or .csv) overriding the defaults")
    kpis.add_argument("--on-time-by", choices=("day", "timestamp"), default="day",
                      help="compare finish and due by date (default, as provincial reports do) or timestamp")
    kpis.set_defaults(run=_kpis)

    form06 = commands.add_parser("form06", help="write the official form Biểu 06/VPCP/KSTT as .xlsx")
    _add_query_options(form06, by=False)
    form06.add_argument("--by", choices=("sector", "agency"), default="sector", help="one row per sector or unit")
    form06.add_argument("--unit", default="", help="reporting unit's name for the form's heading")
    form06.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    form06.set_defaults(run=_form06)

    late = commands.add_parser("late", help="dossiers resolved late and in progress overdue, by days late")
    _add_query_options(late, by=False)
    late.add_argument("--kind", choices=("resolved_late", "overdue_in_progress", "all"), default="all")
    late.add_argument("--format", choices=("csv", "json"), default="csv")
    late.add_argument("--limit", type=int, default=None, help="at most this many dossiers (default: all)")
    late.add_argument("--offset", type=int, default=0, help="skip this many dossiers of each list")
    late.add_argument("--on-time-by", choices=("day", "timestamp"), default="day")
    late.set_defaults(run=_late)

    pack = commands.add_parser("pack", help="the meeting pack: workbook (.xlsx) and report (.pdf) for a period")
    _add_query_options(pack, by=False)
    pack.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the pack (default vi)")
    pack.add_argument("--out", type=Path, required=True, help="directory for the two files")
    pack.set_defaults(run=_pack)

    users = commands.add_parser("users", help="accounts and groups of the dashboard (kept beside the store)")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    db_help = f"the store, beside which the accounts are kept (default: ${db.DB_ENV} or {db.DEFAULT_DB.name})"
    add = user_commands.add_parser("add", help="add an account (an e-mail) or, with --group, an identity-provider "
                                   "group")
    add.add_argument("name", metavar="EMAIL", help="the official's e-mail, or with --group the group's name")
    add.add_argument("--role", required=True, metavar="admin|province|unit",  # checked by kpi.accounts, in Vietnamese
                     help="admin (imports, targets, users), province (everything, read-only), unit (its units)")
    add.add_argument("--unit", action="append", metavar="NAME",
                     help="a unit as named in the data, e.g. 'Huyện Yên Lập' (role unit; repeatable)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from one line of stdin (without it: single sign-on only)")
    add.add_argument("--group", action="store_true", help="EMAIL is an identity-provider group (single sign-on)")
    remove = user_commands.add_parser("remove", help="remove an account or, with --group, a group")
    remove.add_argument("name", metavar="EMAIL")
    remove.add_argument("--group", action="store_true", help="EMAIL is an identity-provider group")
    passwd = user_commands.add_parser("passwd", help="set an account's password (also lifts a lockout)")
    passwd.add_argument("name", metavar="EMAIL")
    passwd.add_argument("--password-stdin", action="store_true", required=True,
                        help="read the password from one line of stdin")
    disable = user_commands.add_parser("disable", help="stop an account from logging in")
    disable.add_argument("name", metavar="EMAIL")
    enable = user_commands.add_parser("enable", help="let a disabled account log in again (also lifts a lockout)")
    enable.add_argument("name", metavar="EMAIL")
    listing = user_commands.add_parser("list", help="every account and group")
    for sub in (add, remove, passwd, disable, enable, listing):
        sub.add_argument("--db", type=Path, default=None, help=db_help)
    users.set_defaults(run=_users)
    return parser


def _utf8_output() -> None:
    """Write UTF-8 whatever the console's code page: the messages and file names are Vietnamese, and a
    cp1252 pipe on Windows would otherwise crash the report after the import has been committed."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    _utf8_output()
    args = build_parser().parse_args(argv)
    if getattr(args, "db", "unset") is None:
        args.db = db.default_db_path()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
