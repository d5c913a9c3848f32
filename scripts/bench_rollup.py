"""National roll-up benchmark (prints figures; not a test): how long the exchange and the national store take
for N provinces (docs/scaling.md).

Exports one provincial store's aggregates (`kpi.rollup.export_aggregates`), makes N copies of the export as N
provinces (the province column renamed in the Parquet files), builds the national store from them
(`kpi.rollup.rollup`) and times every KPI for a month and a year, nationally and by province, cold and warm.

    .venv/bin/python scripts/bench_rollup.py --db /tmp/store_2m.duckdb --provinces 34
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from kpi import db, periods, rollup  # noqa: E402
from kpi.engine import kpi_table  # noqa: E402


def province_copies(export: Path, count: int, folder: Path) -> list[Path]:
    """`count` copies of the export folder, each as another province (its rows' province renamed)."""
    manifest = json.loads((export / rollup.MANIFEST).read_text(encoding="utf-8"))
    con = duckdb.connect()
    copies = []
    for i in range(count):
        name = f"Tỉnh thử {i + 1:02d}"
        target = folder / f"province-{i + 1:02d}"
        target.mkdir(parents=True)
        for file in manifest["files"].values():
            con.sql("SELECT * REPLACE ($name AS province) FROM read_parquet($path)",
                    params={"name": name, "path": str(export / file)}).write_parquet(str(target / file),
                                                                                       compression="zstd")
        (target / rollup.MANIFEST).write_text(json.dumps({**manifest, "provinces": [name]}, ensure_ascii=False),
                                              encoding="utf-8")
        copies.append(target)
    con.close()
    return copies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a provincial store")
    parser.add_argument("--provinces", type=int, default=34)
    parser.add_argument("--dir", type=Path, default=None, help="working folder (default: a temporary one)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="egov-kpi-rollup-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = db.connect(args.db, read_only=True)
    started = time.perf_counter()
    manifest = rollup.export_aggregates(source, folder / "export")
    exported = time.perf_counter() - started
    source.close()
    per = manifest["dossiers"]
    print(f"one province: {per:,} dossiers, store {args.db.stat().st_size / 1e6:,.0f} MB; export "
          f"{manifest['bytes'] / 1e6:,.1f} MB ({manifest['bytes'] / per:.1f} B/dossier) in {exported:.1f} s")
    copies = province_copies(folder / "export", args.provinces, folder / "copies")
    national = folder / "national.duckdb"
    started = time.perf_counter()
    with db.writing(national) as con:
        summary = rollup.rollup(con, copies)
    built = time.perf_counter() - started
    size = national.stat().st_size
    print(f"national store: {len(summary['provinces'])} provinces, {summary['dossiers']:,} dossiers behind it, "
          f"{size / 1e9:.2f} GB ({size / summary['dossiers']:.1f} B/dossier), built in {built:.0f} s")
    con = db.connect(national, read_only=True)
    last = date.fromisoformat(summary["last_month_end"])
    for label, period in (("month", periods.month(last.year, last.month)), ("year", periods.year(last.year - 1))):
        for by in (None, "province"):
            times = []
            for _ in range(3):
                started = time.perf_counter()
                frame = kpi_table(con, period, by=by)
                times.append(time.perf_counter() - started)
            groups = len(frame["group"].drop_duplicates())
            print(f"every KPI, {label} ({period.label('en')}), {'national' if by is None else 'by province'}: "
                  f"cold {times[0]:.2f} s, warm {min(times[1:]):.2f} s ({groups} groups)")
    con.close()
    if args.dir is None:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
