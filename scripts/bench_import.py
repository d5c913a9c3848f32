"""Import throughput benchmark (prints figures; not a test).

Generates a sample export of N dossiers as CSV and as XLSX with the sample generator, then imports
each into a fresh database file in a separate process and prints rows/s and that process's peak memory.

    .venv/bin/python scripts/bench_import.py --rows 1000000 [--formats csv xlsx] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import json, resource, sys, time
from kpi import db
from kpi.importer import ingest_file
con = db.connect(sys.argv[2])
started = time.perf_counter()
result = ingest_file(con, sys.argv[1])
seconds = time.perf_counter() - started
con.close()
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rows_read": result.rows_read, "inserted": result.inserted,
                  "rejected": result.rejected, "peak_rss_mb": peak_mb}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"], choices=["csv", "xlsx", "csv.gz"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="folder for the generated files (default: a temp folder)")
    args = parser.parse_args()

    from kpi.sample import write_sample

    folder = args.keep or Path(tempfile.mkdtemp(prefix="egov-kpi-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"rows={args.rows:,} machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} "
          f"cores")
    print(f"{'format':<8}{'file MB':>10}{'generate s':>12}{'import s':>10}{'rows/s':>12}{'peak MB':>10}"
          f"{'rejected':>10}")
    for fmt in args.formats:
        path = folder / f"bench_{args.rows}.{fmt}"
        started = time.perf_counter()
        if not path.exists():
            write_sample(path, rows=args.rows, seed=args.seed)
        generated = time.perf_counter() - started
        database = folder / f"bench_{fmt}.duckdb"
        database.unlink(missing_ok=True)
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(database)], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        rate = figures["rows_read"] / figures["seconds"]
        print(f"{fmt:<8}{path.stat().st_size / 1e6:>10.1f}{generated:>12.1f}{figures['seconds']:>10.1f}"
              f"{rate:>12,.0f}{figures['peak_rss_mb']:>10.0f}{figures['rejected']:>10}")


if __name__ == "__main__":
    main()
