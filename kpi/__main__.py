"""Command line: `python -m kpi ingest|sample ...` (see README)."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

from kpi import db
from kpi.importer import ingest_files


def _ingest(args: argparse.Namespace) -> int:
    try:
        con = db.connect(args.db)
    except duckdb.IOException as exc:  # typically: the dashboard holds the database file open for writing
        print(f"Không mở được cơ sở dữ liệu {args.db} (cannot open the database; is the dashboard using it?): "
              f"{exc}", file=sys.stderr)
        return 3
    try:
        outcomes = ingest_files(con, args.files)
    finally:
        con.close()
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


def build_parser() -> argparse.ArgumentParser:
    """The CLI's commands and options."""
    parser = argparse.ArgumentParser(prog="python -m kpi", description="egov-kpi: dossier store and KPIs")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="import export files (CSV, TXT, XLSX, XLS) into the store")
    ingest.add_argument("files", nargs="+", type=Path, help="files, imported in the order given")
    ingest.add_argument("--db", type=Path, default=None,
                        help=f"database file (default: ${db.DB_ENV} or {db.DEFAULT_DB.relative_to(db.PROJECT_ROOT)})")
    ingest.add_argument("--json", action="store_true", help="print one JSON object with the per-file counts")
    ingest.set_defaults(run=_ingest)

    sample = commands.add_parser("sample", help="write a realistic sample export")
    sample.add_argument("--out", required=True, help="output file: .csv, .csv.gz or .xlsx")
    sample.add_argument("--rows", type=int, default=200_000, help="number of dossiers (default 200000)")
    sample.add_argument("--seed", type=int, default=2025, help="random seed (same seed, same file)")
    sample.set_defaults(run=_sample)
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
