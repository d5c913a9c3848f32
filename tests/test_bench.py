"""`python -m kpi bench` runs end to end on a small city and reports every part of its table (the figures
themselves are the benchmark's to print, not a test's to judge: only what does not depend on the machine is
checked here)."""

from __future__ import annotations

from kpi import bench


def test_the_benchmark_reports_every_part(tmp_path):
    report = bench.run(3_000, 7, tmp_path, pages=["pages/phuong_phap.py"])
    rows = {r.what: r for r in report.rows}
    assert "3,000 rows in" in rows["import of the CSV export (new store)"].figure
    assert "0 rejected" in rows["import of the CSV export (new store)"].figure
    assert rows["database size"].figure.endswith("3,000 dossiers)")
    pages = [r for r in report.rows if r.what.startswith("page ")]
    assert [r.what.split(",")[0] for r in pages] == ["page Methodology"] * 2  # a month and a year
    assert all(r.figure.startswith("cold ") and "data calls" in r.figure for r in pages)
    assert all(" (0 data calls)" not in r.figure for r in pages)  # the page ran logged in, past the login
    versus = [r for r in report.rows if "engine vs pandas" in r.what]
    assert len(versus) == 2 * len(bench.GROUPINGS)
    assert all("same figures" in r.figure for r in versus)  # the engine and plain pandas agree
    assert not (tmp_path / "city_3000_7.duckdb").exists()  # the store is not kept without keep=True
    assert not (tmp_path / ".city_3000_7.duckdb.readers").exists()  # nor the readers' links to it
    assert (tmp_path / "city_3000_7.csv").exists()  # the export is, for the next run
