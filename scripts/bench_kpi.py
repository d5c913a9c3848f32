"""KPI engine benchmark (prints figures; not a test).

Fills a store with N synthetic dossiers over three years (30 districts and 526 communes before the reform,
181 agencies, ~1,500 procedures; see FILL), rebuilds the KPI aggregates as an import does (time and table
sizes), then times every KPI for one month grouped by district, by agency and by commune with the DuckDB
engine (`kpi_table` on the aggregates, with its previous-period and year-earlier comparisons; warm = best of
two runs after the first), once more from the dossiers themselves (`source="dossiers"`), and in plain pandas
(`scripts/pandas_kpis.py`, same three windows, data already in memory), and checks that all three give the
same numerators and denominators.

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
from kpi.aggregates import TABLES, refresh_aggregates  # noqa: E402
from kpi.engine import kpi_table  # noqa: E402

# Synthetic dossiers shaped like a province's one-stop data (as kpi/sample.py draws them): a procedure (1,499,
# the most common few take most dossiers) has one level, sector, fee and service level; a commune belongs to one
# of 30 districts; commune-level dossiers are received by the People's Committee of the commune (126 of the 526
# communes), district-level ones by the district of the applicant's commune, province-level ones by one of 25
# departments (181 agencies in all). Received over three years in random order; 97% resolved (9/10), 2% in
# progress (4), 1% waiting for a supplement (5).
FILL = """
INSERT INTO dossiers (dossier_code, procedure_code, sector, agency_name, agency_level, district, commune,
    channel, service_level, received_at, due_at, finished_at, status, supplement_count, fee_vnd, paid_online,
    digitized, e_result, rating, import_id)
WITH picked AS (
    -- a procedure by a Zipf-like law (the top 15 of 1,499 take ~30% of the dossiers) and a citizen's commune
    SELECT i, hash(i) % 1080 AS day_no,
           floor(1499 * pow((hash(i, 'procedure') % 1000003) / 1000003.0, 4))::INTEGER AS p,
           (hash(i, 'commune') % 526)::INTEGER AS c
    FROM range($rows) t(i)
), placed AS (
    SELECT *, CASE WHEN p % 10 < 3 THEN 'commune' WHEN p % 10 < 5 THEN 'district' ELSE 'province' END AS level,
           CASE WHEN p % 10 < 3 THEN (c % 126) * 4 + 1 ELSE c END AS commune_no
    FROM picked
)
SELECT 'B-' || i, '1.' || lpad(p::VARCHAR, 6, '0'), 'Lĩnh vực ' || (p % 40),
    CASE level WHEN 'province' THEN 'Sở ' || p % 25 WHEN 'district' THEN 'UBND Huyện ' || commune_no % 30
               ELSE 'UBND Xã ' || commune_no END,
    level, 'Huyện ' || commune_no % 30, 'Xã ' || commune_no, ['direct', 'online', 'postal'][1 + (i % 7) % 3],
    ['full_online', 'partial_online', 'offline'][1 + (p % 11) % 3],
    TIMESTAMP '2023-01-01' + to_days(CAST(day_no AS INTEGER)) + to_hours(CAST(i % 9 AS INTEGER)),
    TIMESTAMP '2023-01-01' + to_days(CAST(day_no + 5 + i % 7 AS INTEGER)),
    CASE WHEN i % 100 < 97 THEN TIMESTAMP '2023-01-01' + to_days(CAST(day_no + i % 13 AS INTEGER)) END,
    CASE WHEN i % 100 < 97 THEN 9 + i % 2 WHEN i % 100 < 99 THEN 4 ELSE 5 END, i % 3,
    (p % 4) * 50000, i % 5 < 3, i % 7 < 5, i % 2 = 0, CASE WHEN i % 50 = 0 THEN 'dissatisfied' END, 0
FROM placed
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
    # as an import does it: the KPI tables rebuilt from the dossiers in the writing transaction
    started = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    sizes = refresh_aggregates(con)
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    refreshed = time.perf_counter() - started
    period = periods.month(2025, 5)
    windows = [(p.start, p.end) for p in (period.previous(), period.year_earlier())]
    started = time.perf_counter()
    frame = con.execute("SELECT " + ", ".join(pandas_kpis.COLUMNS) + ", district, commune, agency_name "
                        "FROM dossiers").df()
    prepared = pandas_kpis.prepare(frame)
    loaded = time.perf_counter() - started
    print(f"\n{rows:,} dossiers: filled in {filled:.1f} s; KPI aggregates rebuilt in {refreshed:.1f} s "
          f"(refresh_aggregates {sizes['seconds']:.1f} s + commit, checkpoint); pandas load + prepare "
          f"{loaded:.1f} s (not counted)")
    print("aggregate rows: " + ", ".join(f"{table} {sizes[table]:,}" for table in TABLES))
    print(f"{'all KPIs, May 2025, by':<24}{'engine s':>10}{'from dossiers s':>17}{'pandas s':>10}"
          f"{'vs pandas':>11}{'groups':>8}  same")
    for by, column in BY.items():
        timings = []
        for _ in range(3):  # the later runs are the warm ones a dashboard user sees
            started = time.perf_counter()
            engine = kpi_table(con, period, by=by)
            timings.append(time.perf_counter() - started)
        warm = min(timings[1:])
        started = time.perf_counter()
        reference = kpi_table(con, period, by=by, source="dossiers")  # the per-dossier path, for comparison
        dossiers_s = time.perf_counter() - started
        started = time.perf_counter()
        pandas = pandas_kpis.kpi_frame(prepared, period.start, period.end, column, windows)
        pandas_s = time.perf_counter() - started
        current = pandas[pandas["role"] == "current"].set_index(["group", "metric"])
        mine = engine.set_index(["group", "metric"])[["numerator", "denominator"]]
        same = mine.merge(current[["numerator", "denominator"]], left_index=True, right_index=True, how="outer",
                          suffixes=("", "_pandas")).fillna(0)
        equal = bool((same["numerator"] == same["numerator_pandas"]).all()
                     and (same["denominator"] == same["denominator_pandas"]).all()
                     and engine.equals(reference))
        print(f"{by:<24}{warm:>10.3f}{dossiers_s:>17.2f}{pandas_s:>10.2f}{pandas_s / warm:>10.1f}×"
              f"{engine['group'].nunique():>8}  {'yes' if equal else 'NO'}   (cold {timings[0]:.3f} s)")
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
