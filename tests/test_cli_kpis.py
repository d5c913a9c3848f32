"""The KPI commands of the CLI: `kpis` (JSON, CSV, table) and `form06`, against the engine's numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from kpi_rows import insert, row
from openpyxl import load_workbook

from kpi import db
from kpi.engine import kpi_table
from kpi.metrics import METRICS
from kpi.periods import Period, month


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "kpi.duckdb"
    con = db.connect(path)
    ba_vi = {"district": "Huyện Ba Vì", "sector": "Hộ tịch", "agency_name": "UBND huyện Ba Vì",
             "agency_level": "district"}
    insert(con, [
        row("2024-05-02", 10, channel="online", due="2024-05-10", finished="2024-05-08", **ba_vi),
        row("2024-05-03", 10, channel="direct", due="2024-05-04", finished="2024-05-09", **ba_vi),
        row("2024-05-06", 4, channel="online", due="2024-06-10", fee_vnd=50_000, paid_online=True,
            district="Quận Ba Đình", sector="Đất đai"),
        row("2024-05-07", 9, channel="postal", due="2024-05-20", finished="2024-05-10", sector="Đất đai"),
        row("2024-04-06", 10, channel="online", due="2024-04-20", finished="2024-04-10", **ba_vi),
    ])
    con.close()
    return path


def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpi", *map(str, args)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)


def test_kpis_json_without_grouping_equals_the_engine(store_file: Path) -> None:
    done = run("kpis", "--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31", "--format", "json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert [r["metric"] for r in records] == [m.id for m in METRICS]
    assert all("group" not in r and set(r) >= {"metric", "numerator", "denominator", "value"} for r in records)
    con = db.connect(store_file, read_only=True)
    expected = kpi_table(con, month(2024, 5)).set_index("metric")
    for record in records:
        assert record["numerator"] == expected.at[record["metric"], "numerator"]
        assert record["denominator"] == expected.at[record["metric"], "denominator"]
        assert record["value"] == expected.at[record["metric"], "value"]
    on_time = next(r for r in records if r["metric"] == "on_time_rate")
    assert (on_time["numerator"], on_time["denominator"], on_time["value"]) == (2, 3, 2 / 3)
    payment = next(r for r in records if r["metric"] == "online_payment_rate")
    assert (payment["numerator"], payment["denominator"], payment["value"]) == (1, 1, 1.0)


def test_kpis_by_district_has_the_empty_group_as_null_and_filters(store_file: Path) -> None:
    done = run("kpis", "--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31", "--by", "district",
               "--format", "json")
    records = json.loads(done.stdout)
    received = {r["district"]: (r["numerator"], r["denominator"]) for r in records
                if r["metric"] == "online_dossier_rate"}
    assert received == {"Huyện Ba Vì": (1, 2), "Quận Ba Đình": (1, 1), None: (0, 1)}
    done = run("kpis", "--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31", "--by", "sector",
               "--where", "district=Huyện Ba Vì", "--format", "json")
    records = json.loads(done.stdout)
    assert {r["sector"] for r in records} == {"Hộ tịch"}
    resolved = next(r for r in records if r["metric"] == "on_time_rate")
    assert (resolved["numerator"], resolved["denominator"], resolved["previous_value"]) == (1, 2, 1.0)


def test_kpis_by_month_csv_and_table(store_file: Path) -> None:
    done = run("kpis", "--db", store_file, "--from", "2024-04-01", "--to", "2024-05-31", "--by", "month",
               "--format", "csv")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("month,metric,numerator,denominator,value")
    assert any(line.startswith("2024-04,online_dossier_rate,1,1,1.0") for line in lines)
    assert any(line.startswith("2024-05,online_dossier_rate,2,4,0.5") for line in lines)
    table = run("kpis", "--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31").stdout
    assert "Tỷ lệ giải quyết đúng hạn: 66,67% (2/3) [red]" in table
    assert "Tỷ lệ cấp kết quả điện tử: 0,00% (0/3)" in table


def test_district_after_the_reform_is_refused_clearly(store_file: Path) -> None:
    done = run("kpis", "--db", store_file, "--from", "2025-07-01", "--to", "2025-09-30", "--by", "district")
    assert done.returncode == 2
    assert "districts were abolished on 1 July 2025" in done.stderr and "Traceback" not in done.stderr


def test_form06_writes_the_workbook(store_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "bieu06.xlsx"
    done = run("form06", "--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31", "--unit",
               "UBND huyện Ba Vì", "--where", "district=Huyện Ba Vì", "--out", out)
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(out).active
    assert sheet["B11"].value == "Huyện, thị xã, thành phố" and sheet["B12"].value == "Hộ tịch"
    # received: 2 in May + 0 carried over; resolved: 2 (1 early, 1 late)
    assert [sheet.cell(12, c).value for c in range(3, 11)] == [2, 1, 1, 0, 2, 1, 0, 1]
    assert Period(month(2024, 5).start, month(2024, 5).end).label("vi") in sheet["A3"].value


def test_late_lists_both_kinds_by_days_late(store_file: Path) -> None:
    done = run("late", "--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31", "--format", "json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    # resolved late: received 03/05, due 04/05, finished 09/05 (5 days); none overdue in progress on 31/05
    assert [(r["kind"], r["days_late"], r["due_at"], r["finished_at"]) for r in records] == [
        ("resolved_late", 5, "2024-05-04 00:00:00", "2024-05-09 00:00:00")]
    assert set(records[0]) >= {"dossier_code", "procedure_code", "agency_name", "received_at"}
    done = run("late", "--db", store_file, "--from", "2024-06-11", "--to", "2024-06-30")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("dossier_code,procedure_code,procedure_name,sector,agency_name")
    assert len(lines) == 2 and lines[1].endswith(",4,20,overdue_in_progress")  # due 10/06, 20 days at 30/06
