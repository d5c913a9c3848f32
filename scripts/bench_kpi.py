"""KPI engine benchmark (prints figures; not a test).

Fills a store with N synthetic dossiers over three years (districts and communes of Hà Nội before the
reform, ~180 agencies, ~1,500 procedures), then times every KPI for one month grouped by district, by
agency and by commune with the DuckDB engine (`kpi_table`, with its previous-period and year-earlier
comparisons), next to the same computation in plain pandas (`scripts/pandas_kpis.py`, same three windows,
data already in memory), and checks that both give the same numerators and denominators.

    .venv/bin/python scripts/bench_kpi.py --rows 1000000 10000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas_kpis  # noqa: E402

from kpi import db, periods  # noqa: E402
from kpi.engine import kpi_table  # noqa: E402

FILL = """
INSERT INTO dossiers (dossier_code, procedure_code, sector, agency_name, agency_level, district, commune,
    channel, service_level, received_at, due_at, finished_at, status, supplement_count, fee_vnd, paid_online,
    digitized, e_result, rating, import_id)
SELECT 'B-' || i, '1.' || lpad((i % 1499)::VARCHAR, 6, '0'), 'Lĩnh vực ' || (i % 40),
    'Đơn vị ' || (i % 181), ['province', 'district', 'commune'][1 + i % 3],
    'Huyện ' || (i % 30), 'Xã ' || (i % 526), ['direct', 'online', 'postal'][1 + (i % 7) % 3],
    ['full_online', 'partial_online', 'offline'][1 + (i % 11) % 3],
    TIMESTAMP '2023-01-01' + to_days(CAST(hash(i) % 1080 AS INTEGER)) + to_hours(CAST(i % 9 AS INTEGER)),
    TIMESTAMP '2023-01-01' + to_days(CAST(hash(i) % 1080 + 5 + i % 7 AS INTEGER)),
    CASE WHEN i % 100 < 97 THEN TIMESTAMP '2023-01-01' + to_days(CAST(hash(i) % 1080 + i % 13 AS INTEGER)) END,
    CASE WHEN i % 100 < 97 THEN 9 + i % 2 WHEN i % 100 < 99 THEN 4 ELSE 5 END, i % 3,
    (i % 4) * 50000, i % 5 < 3, i % 7 < 5, i % 2 = 0, CASE WHEN i % 50 = 0 THEN 'dissatisfied' END, 0
FROM range($rows) t(i)
"""
BY = {"district": "district", "agency": "agency_name", "commune": "commune"}


def run(rows: int, folder: Path) -> None:
    path = folder / f"bench_{rows}.duckdb"
    path.unlink(missing_ok=True)
    con = db.connect(path)
    started = time.perf_counter()
    con.execute(FILL, {"rows": rows})
    con.execute("CHECKPOINT")
    filled = time.perf_counter() - started
    period = periods.month(2025, 5)
    windows = [(p.start, p.end) for p in (period.previous(), period.year_earlier())]
    started = time.perf_counter()
    frame = con.execute("SELECT " + ", ".join(pandas_kpis.COLUMNS) + ", district, commune, agency_name "
                        "FROM dossiers").df()
    prepared = pandas_kpis.prepare(frame)
    loaded = time.perf_counter() - started
    print(f"\n{rows:,} dossiers: filled in {filled:.1f} s; pandas load + prepare {loaded:.1f} s (not counted)")
    print(f"{'all KPIs, May 2025, by':<24}{'DuckDB engine s':>16}{'pandas s':>10}{'speed-up':>10}{'groups':>8}  same")
    for by, column in BY.items():
        timings = []
        for _ in range(2):  # the second run is the warm one a dashboard user sees
            started = time.perf_counter()
            engine = kpi_table(con, period, by=by)
            timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        reference = pandas_kpis.kpi_frame(prepared, period.start, period.end, column, windows)
        pandas_s = time.perf_counter() - started
        current = reference[reference["role"] == "current"].set_index(["group", "metric"])
        mine = engine.set_index(["group", "metric"])[["numerator", "denominator"]]
        same = mine.merge(current[["numerator", "denominator"]], left_index=True, right_index=True, how="outer",
                          suffixes=("", "_pandas")).fillna(0)
        equal = bool((same["numerator"] == same["numerator_pandas"]).all()
                     and (same["denominator"] == same["denominator_pandas"]).all())
        print(f"{by:<24}{timings[-1]:>16.2f}{pandas_s:>10.2f}{pandas_s / timings[-1]:>9.1f}×"
              f"{engine['group'].nunique():>8}  {'yes' if equal else 'NO'}   (cold {timings[0]:.2f} s)")
    con.close()
    path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--folder", type=Path, default=None, help="where the database files go (temp by default)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="egov-kpi-bench-"))
    for rows in args.rows:
        run(rows, folder)


if __name__ == "__main__":
    main()
