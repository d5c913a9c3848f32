"""Layer 4: the Overview page (pages/tong_quan.py) over a fixture store, against the KPI engine.

The store holds two districts over five months (May 2023, January, March, April and May 2024) with
different mixes of on-time, late and open dossiers, online submission, fees paid online and digitised
dossiers, so every headline KPI differs between districts and between months."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from apptest import app_test
from kpi_rows import insert, row
from streamlit.testing.v1 import AppTest

from kpi import db, overview, periods
from kpi.engine import dossier_counts, kpi_table
from kpi.formatting import format_decimal, format_int, format_value
from kpi.index766 import estimate_766
from kpi.metrics import metric
from kpi.views import HEADLINE_METRICS

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "tong_quan.py")
MAY, APRIL = periods.month(2024, 5), periods.month(2024, 4)

# (district, commune, year, month): on time, late, open and overdue, online, fee paid online, digitised
UNIT_MONTHS = {
    ("Huyện A", "Xã A1", 2023, 5): (4, 2, 1, 2, 1, 3),
    ("Huyện A", "Xã A1", 2024, 1): (5, 1, 0, 3, 2, 4),
    ("Huyện A", "Xã A1", 2024, 3): (3, 3, 1, 1, 0, 2),
    ("Huyện A", "Xã A1", 2024, 4): (6, 1, 1, 4, 2, 5),
    ("Huyện A", "Xã A1", 2024, 5): (7, 2, 2, 6, 3, 6),
    ("Huyện B", "Xã B1", 2024, 4): (2, 3, 0, 1, 0, 1),
    ("Huyện B", "Xã B1", 2024, 5): (9, 0, 1, 2, 2, 8),
}


def unit_month(district: str, commune: str, year: int, month: int, on_time: int, late: int, open_: int,
               online: int, paid: int, digitised: int) -> list[dict[str, object]]:
    """Dossiers of one district and month: resolved on time, resolved late (the first rated dissatisfied),
    then in progress and overdue at the month's end; the first `online` were filed online under a
    full-online service (the rest under a partly-online one), every second one bears a fee, the first
    `paid` fee-bearing ones were paid online, the first `digitised` are digitised."""
    ym = f"{year}-{month:02d}"
    out, fee_bearing = [], 0
    for i in range(on_time + late + open_):
        kind = "on_time" if i < on_time else ("late" if i < on_time + late else "open")
        has_fee = i % 2 == 0
        fee_bearing += has_fee
        values: dict[str, object] = {
            "province": "Tỉnh Thử", "district": district, "commune": commune, "agency_name": f"UBND {district}",
            "procedure_code": f"1.00000{i % 4}", "channel": "online" if i < online else "direct",
            "service_level": "full_online" if i < online else "partial_online",
            "fee_vnd": 50000 if has_fee else 0, "paid_online": has_fee and fee_bearing <= paid,
            "digitized": i < digitised, "due": f"{ym}-12" if kind == "on_time" else f"{ym}-05",
        }
        if kind == "open":
            out.append(row(f"{ym}-03", 4, **values))
        else:
            rating = "dissatisfied" if kind == "late" and i == on_time else None
            out.append(row(f"{ym}-03", 10, finished=f"{ym}-{10 if kind == 'on_time' else 20}", rating=rating,
                           **values))
    return out


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "overview.duckdb"
    con = db.connect(path)
    insert(con, [r for key, counts in UNIT_MONTHS.items() for r in unit_month(*key, *counts)])
    con.close()
    monkeypatch.setenv(db.DB_ENV, str(path))
    yield path


def engine(path: Path) -> duckdb.DuckDBPyConnection:
    return db.connect(path)  # the same configuration as the app's connection in this process


def run_page(lang: str = "vi", **params: str) -> AppTest:
    return app_test(PAGE, lang, **params)


def expected_tiles(path: Path, period: periods.Period, where: dict[str, str] | None = None) -> list[dict]:
    con = engine(path)
    try:
        frame = kpi_table(con, period, where=where, metrics=HEADLINE_METRICS)
    finally:
        con.close()
    return frame.to_dict("records")


def shown_tiles(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def assert_tiles_match(at: AppTest, rows: list[dict], lang: str = "vi") -> None:
    assert not at.exception
    expected = [((metric(r["metric"]).label_en if lang == "en" else metric(r["metric"]).label_vi),
                 format_value(r["value"], r["unit"], lang)) for r in rows]
    assert shown_tiles(at) == expected
    fractions = [c.value for c in at.caption if " / " in c.value and "/" not in c.value.replace(" / ", "")]
    assert fractions == [f"{format_int(r['numerator'])} / {format_int(r['denominator'])}" for r in rows]


def test_tiles_equal_the_engine_for_the_url_period_and_district(store_path: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5", huyen="Huyện A")
    rows = expected_tiles(store_path, MAY, {"district": "Huyện A"})
    assert_tiles_match(at, rows)
    # the URL pre-filled the filters
    assert at.selectbox(key="filter-number").value == 5
    assert at.selectbox(key="filter-district").value == "Huyện A"
    # the fixture makes the district differ from the whole province, so the filter was applied
    whole = expected_tiles(store_path, MAY)
    assert [r["value"] for r in rows] != [r["value"] for r in whole]
    # the comparison with the previous period is the engine's (st.metric's delta), in percentage points
    on_time = next(r for r in rows if r["metric"] == "on_time_rate")
    assert on_time["previous_change_pp"] is not None
    change = on_time["previous_change_pp"]
    assert at.metric[0].delta.startswith(("+" if change > 0 else "") + format_decimal(change, 2))


def test_tiles_follow_a_change_of_period_and_locality(store_path: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5", huyen="Huyện A")
    may = shown_tiles(at)
    at.selectbox(key="filter-number").set_value(4).run()
    april_rows = expected_tiles(store_path, APRIL, {"district": "Huyện A"})
    assert_tiles_match(at, april_rows)
    assert shown_tiles(at) != may
    at.selectbox(key="filter-district").set_value("Huyện B").run()
    assert_tiles_match(at, expected_tiles(store_path, APRIL, {"district": "Huyện B"}))


def test_commune_filter_and_quarter_from_the_url(store_path: Path) -> None:
    quarter = periods.quarter(2024, 2)
    at = run_page(ky="quarter", nam="2024", so="2", xa="Xã B1")
    assert_tiles_match(at, expected_tiles(store_path, quarter, {"commune": "Xã B1"}))


def test_sparklines_are_the_engine_months_without_gaps_filled(store_path: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5", huyen="Huyện A")
    assert not at.exception
    con = engine(store_path)
    try:
        months = kpi_table(con, overview.months_ending(MAY, 12), by="month", where={"district": "Huyện A"})
    finally:
        con.close()
    sparks = [base64.b64decode(re.search(r"base64,([^\"]+)", element.proto.body)[1]).decode("utf-8")
              for element in at.get("html")]
    assert len(sparks) == len(HEADLINE_METRICS)
    for svg, metric_id in zip(sparks, HEADLINE_METRICS, strict=True):
        m = metric(metric_id)
        values = months[months["metric"] == metric_id].sort_values("group")["value"].tolist()
        assert len(values) == 12
        shown = "; ".join("–" if v is None else format_value(v, m.unit, "vi") for v in values)
        assert f'aria-label="{m.label_vi}, 12 tháng: {shown}"' in svg
        drawn = sum(len(line.split()) for line in re.findall(r'<polyline points="([^"]*)"', svg))
        lone = [v for i, v in enumerate(values) if v is not None and (i == 0 or values[i - 1] is None)
                and (i == 11 or values[i + 1] is None)]  # a month with no neighbour draws no line
        assert drawn == sum(v is not None for v in values) - len(lone)
    # the months without dossiers (June 2023 to December 2023, February 2024) break the line, not drawn as 0
    first = months[months["metric"] == HEADLINE_METRICS[0]].sort_values("group")["value"].tolist()
    assert sum(v is not None for v in first) == 4 and "–; –" in sparks[0]


@pytest.mark.parametrize("where", [{}, {"district": "Huyện A"}])
def test_the_monthly_frame_is_kpi_table_by_month(store_path: Path, where: dict[str, str]) -> None:
    con = engine(store_path)
    try:
        span = overview.months_ending(MAY, 12)
        expected = kpi_table(con, span, by="month", where=where)
        got = overview.monthly_table(con, MAY, where)
    finally:
        con.close()
    order = ["group", "metric"]
    pd.testing.assert_frame_equal(got.sort_values(order).reset_index(drop=True),
                                  expected.sort_values(order).reset_index(drop=True))


def test_counts_trend_and_766_estimate_are_the_engine_numbers(store_path: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5", huyen="Huyện A")
    assert not at.exception
    where = {"district": "Huyện A"}
    con = engine(store_path)
    try:
        counts = dossier_counts(con, MAY, where=where).iloc[0]
        trend = kpi_table(con, overview.months_ending(MAY, 12), by="month", where=where, metrics=["on_time_rate"])
        estimate = estimate_766(con, MAY, where=where)
    finally:
        con.close()
    line = next(m.value for m in at.markdown if m.value.startswith("Tiếp nhận"))
    assert line == (f"Tiếp nhận **{counts['received']}** · Đã giải quyết **{counts['resolved']}** · "
                    f"Đang giải quyết cuối kỳ **{counts['in_progress']}** · "
                    f"trong đó quá hạn **{counts['in_progress_overdue']}**")
    tables = {tuple(d.value.columns)[0]: d.value for d in at.dataframe}
    shown = tables["Tháng"]
    assert shown["Tháng"].tolist()[-1] == "05/2024" and len(shown) == 12
    assert shown["Giá trị"].tolist() == [format_value(v, "rate") for v in trend.sort_values("group")["value"]]
    assert shown["Tử số"].tolist() == [format_int(v) for v in trend.sort_values("group")["numerator"]]
    assert "không có dữ liệu" in shown["Giá trị"].tolist()  # a month without dossiers, not 0%
    index = tables["Nhóm chỉ số"]
    groups = estimate[estimate["index_group"] != "total"]
    assert index["Nhóm chỉ số"].tolist() == groups["label_vi"].tolist()
    progress = groups[groups["index_group"] == "progress"].iloc[0]
    assert index.loc[index["Nhóm chỉ số"] == progress["label_vi"], "Điểm ước tính"].item() == \
        f"{progress['points']:.1f}".replace(".", ",")
    assert any("ước tính từ dữ liệu hồ sơ" in m.value for m in at.markdown)


def test_trend_follows_the_chosen_kpi_and_span(store_path: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5")
    at.selectbox(key="overview-trend-metric").set_value("digitization_rate").run()
    at.radio(key="overview-trend-months").set_value(24).run()
    assert not at.exception
    con = engine(store_path)
    try:
        trend = kpi_table(con, overview.months_ending(MAY, 24), by="month", metrics=["digitization_rate"])
    finally:
        con.close()
    shown = {tuple(d.value.columns)[0]: d.value for d in at.dataframe}["Tháng"]
    assert len(shown) == 24 and shown["Tháng"].tolist()[0] == "06/2022"
    assert shown["Giá trị"].tolist() == [format_value(v, "rate") for v in trend.sort_values("group")["value"]]


def test_english(store_path: Path) -> None:
    at = run_page("en", ky="month", nam="2024", so="5", huyen="Huyện A")
    assert at.title[0].value == "Overview"
    assert_tiles_match(at, expected_tiles(store_path, MAY, {"district": "Huyện A"}), "en")
    assert any(m.value.startswith("Received **") for m in at.markdown)
    assert any("estimated from dossier data" in m.value for m in at.markdown)
    assert "Month" in {tuple(d.value.columns)[0] for d in at.dataframe}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_period_after_the_newest_data_says_no_data(store_path: Path, lang: str) -> None:
    at = run_page(lang, ky="month", nam="2024", so="7")
    assert not at.exception
    assert not at.metric and not at.dataframe
    assert at.info[0].value.startswith("Không có dữ liệu" if lang == "vi" else "No data")
    assert "03/05/2024" in at.info[0].value  # the newest received day, said in the reason


def test_a_period_before_the_first_data_says_no_data(store_path: Path) -> None:
    at = run_page(ky="month", nam="2023", so="1")
    assert not at.exception
    assert not at.metric
    assert at.info[0].value.startswith("Không có dữ liệu: kỳ đã chọn kết thúc trước ngày có dữ liệu đầu tiên")
