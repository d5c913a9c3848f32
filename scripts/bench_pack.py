"""Meeting-pack benchmark (prints figures; not a test): how long `build_pack`, the workbook
(`write_pack_xlsx`) and the PDF (`write_pack_pdf`, when kpi/pack_pdf.py is there) take for the whole province
over the newest full month, quarter, 6 months, 9 months and year of data, on a store of N
dossiers. Target: the whole pack (all three) under 20 s at 2,000,000 dossiers.

    .venv/bin/python scripts/bench_pack.py                         # a store of 2,000,000 sample dossiers
    .venv/bin/python scripts/bench_pack.py --rows 200000
    .venv/bin/python scripts/bench_pack.py --db /tmp/store.duckdb  # an existing store, opened read-only

Without --db the store is built (and reused) in bench-output/ by scripts/bench_pages.py's build_store.
The files are written to a temporary folder and removed, unless --keep DIR.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from kpi import db, periods, views  # noqa: E402
from kpi.pack import build_pack, file_stem  # noqa: E402
from kpi.pack_excel import write_pack_xlsx  # noqa: E402
from kpi.pack_pdf import write_pack_pdf  # noqa: E402
from kpi.periods import Period  # noqa: E402


def bench_periods(last_day: date) -> list[Period]:
    """The newest full month, quarter, 6 months, 9 months and year of data: the periods a committee meets on."""
    end = last_day if (last_day + timedelta(days=1)).day == 1 else last_day.replace(day=1) - timedelta(days=1)
    y, m = end.year, end.month
    quarter = periods.quarter(y, m // 3) if m >= 3 else periods.quarter(y - 1, 4)
    half = periods.half_year(y, m // 6) if m >= 6 else periods.half_year(y - 1, 2)
    nine = periods.nine_months(y if m >= 9 else y - 1)
    year = periods.year(y if m == 12 else y - 1)
    return [periods.month(y, m), quarter, half, nine, year]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an existing store, opened read-only (default: build one)")
    parser.add_argument("--rows", type=int, default=2_000_000, help="dossiers of the built store (default 2000000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-output", help="where a built store is kept")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi")
    parser.add_argument("--where", nargs="*", default=[], metavar="DIMENSION=VALUE", help="the pack's scope")
    parser.add_argument("--keep", type=Path, help="keep the files in this folder")
    args = parser.parse_args()
    if args.db is None:
        from bench_pages import build_store  # scripts/bench_pages.py

        args.db = build_store(args.rows, args.seed, args.out)
    where = dict(w.split("=", 1) for w in args.where)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-pack-"))
    folder.mkdir(parents=True, exist_ok=True)
    con = db.connect(args.db, read_only=True)
    try:
        span = views.data_span(con)
        print(f"store: {args.db} ({span['dossiers']:,} dossiers, {span['first_day']} to {span['last_day']}); "
              f"scope: {where or 'whole province'}")
        print(f"{'period':<34}{'build_pack':>11}{'workbook':>10}{'PDF':>8}{'total':>8}   rows (late / overdue / "
              "localities / below target), files")
        for period in bench_periods(span["last_day"]):
            started = time.perf_counter()
            pack = build_pack(con, period, where)
            built = time.perf_counter()
            xlsx = write_pack_xlsx(pack, folder / f"{file_stem(pack)}.xlsx", lang=args.lang)
            written = time.perf_counter()
            pdf = write_pack_pdf(pack, folder / f"{file_stem(pack)}.pdf", lang=args.lang)
            done = time.perf_counter()
            sizes = f"{xlsx.stat().st_size / 1e6:.1f} MB xlsx, {Path(pdf).stat().st_size / 1e6:.1f} MB pdf"
            print(f"{period.label('en'):<34}{built - started:>11.2f}{written - built:>10.2f}{done - written:>8.2f}"
                  f"{done - started:>8.2f}   {len(pack.late):,} / {len(pack.overdue):,} / {len(pack.localities):,} / "
                  f"{len(pack.below_target):,}, {sizes}")
    finally:
        con.close()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
