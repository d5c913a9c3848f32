"""Time the KPI engine on a synthetic store of N dossiers (default 2,000,000) and print the figures.

    .venv/bin/python scripts/bench_kpi.py --rows 2000000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kpi import db, periods  # noqa: E402
from kpi.engine import dossier_counts, kpi_table  # noqa: E402

FILL = """
INSERT INTO dossiers (dossier_code, procedure_code, sector, agency_name, commune, channel, service_level,
    received_at, due_at, finished_at, status, supplement_count, fee_vnd, paid_online, digitized, e_result,
    rating, import_id)
SELECT 'B-' || i, '1.' || lpad((i % 1500)::VARCHAR, 6, '0'), 'Lĩnh vực ' || (i % 40), 'Đơn vị ' || (i % 180),
    'Xã ' || (i % 126), ['direct', 'online', 'postal'][1 + i % 3],
    ['full_online', 'partial_online', 'offline'][1 + i % 3],
    TIMESTAMP '2024-01-01' + INTERVAL (i % 1000) DAY + INTERVAL (i % 9) HOUR,
    TIMESTAMP '2024-01-01' + INTERVAL (i % 1000 + 5 + i % 7) DAY,
    CASE WHEN i % 10 < 8 THEN TIMESTAMP '2024-01-01' + INTERVAL (i % 1000 + i % 13) DAY END,
    CASE WHEN i % 10 < 8 THEN 9 + i % 2 WHEN i % 10 = 8 THEN 4 ELSE 5 END, i % 3,
    (i % 4) * 50000, i % 5 < 3, i % 7 < 5, i % 2 = 0, CASE WHEN i % 50 = 0 THEN 'dissatisfied' END, 0
FROM range($rows) t(i)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    rows = parser.parse_args().rows
    con = db.connect()
    started = time.perf_counter()
    con.execute(FILL, {"rows": rows})
    print(f"filled {rows:,} dossiers in {time.perf_counter() - started:.1f} s")
    for label, call in (
        ("kpi_table month", lambda: kpi_table(con, periods.month(2025, 5))),
        ("kpi_table year", lambda: kpi_table(con, periods.year(2025))),
        ("kpi_table year by agency", lambda: kpi_table(con, periods.year(2025), by="agency")),
        ("kpi_table year by procedure", lambda: kpi_table(con, periods.year(2025), by="procedure")),
        ("kpi_table year by month", lambda: kpi_table(con, periods.year(2025), by="month")),
        ("dossier_counts quarter by sector", lambda: dossier_counts(con, periods.quarter(2025, 2), by="sector")),
    ):
        started = time.perf_counter()
        frame = call()
        print(f"{label:34s} {time.perf_counter() - started:6.2f} s  ({len(frame):,} rows)")


if __name__ == "__main__":
    main()
