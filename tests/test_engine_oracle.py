"""The engine against an independent plain-pandas implementation of DOMAIN §6 (scripts/pandas_kpis.py)
on a few thousand varied dossiers: every numerator and denominator, several periods and groupings."""

from __future__ import annotations

import sys

import pytest
from conftest import PROJECT_ROOT

from kpi import db, periods
from kpi.aggregates import refresh_aggregates
from kpi.engine import kpi_table

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import bench_kpi  # noqa: E402
import pandas_kpis  # noqa: E402


@pytest.fixture(scope="module")
def store():
    con = db.connect()
    con.execute(bench_kpi.FILL, {"rows": 6000})
    # a few awkward ones: no due date, status 10 with only a return date, terminal without any end date
    con.execute("UPDATE dossiers SET due_at = NULL WHERE dossier_code LIKE 'B-%7'")
    con.execute("UPDATE dossiers SET returned_at = finished_at + INTERVAL 1 DAY, finished_at = NULL "
                "WHERE dossier_code LIKE 'B-%3' AND status = 10")
    con.execute("UPDATE dossiers SET finished_at = NULL WHERE dossier_code LIKE 'B-%11' AND status = 9")
    refresh_aggregates(con)  # the store was written with SQL, not by the importer
    frame = con.execute("SELECT " + ", ".join(pandas_kpis.COLUMNS) + ", district, commune, agency_name "
                        "FROM dossiers").df()
    return con, pandas_kpis.prepare(frame)


@pytest.mark.parametrize("period", [periods.month(2024, 2), periods.quarter(2024, 4), periods.year(2024),
                                    periods.custom(periods.month(2023, 12).start, periods.month(2024, 1).end)])
@pytest.mark.parametrize(("by", "column"), [(None, None), ("district", "district"), ("agency", "agency_name")])
def test_engine_equals_plain_pandas(store, period, by, column) -> None:
    con, prepared = store
    engine = kpi_table(con, period, by=by).set_index(["group", "metric"])[["numerator", "denominator"]]
    reference = pandas_kpis.kpi_frame(prepared, period.start, period.end, column)
    reference = reference.set_index(["group", "metric"])[["numerator", "denominator"]]
    # The engine lists the groups with a dossier relevant to the period; pandas lists every group (zeros).
    both = engine.merge(reference, left_index=True, right_index=True, how="outer", suffixes=("", "_pandas"))
    assert both.fillna(0).astype("int64").eval("numerator == numerator_pandas and "
                                               "denominator == denominator_pandas").all()
    assert both["numerator"].notna().sum() > 0 and engine["denominator"].sum() > 0
