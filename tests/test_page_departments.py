"""Layer 4: the Departments page (pages/so_nganh.py) over a fixture store, against the KPI engine, and the
drill-down and slowest-procedure functions of kpi/drilldown.py it is built from.

March 2025: two provincial departments (Sở Tư pháp with two sectors, Sở Xây dựng) and a commune People's
Committee, with on-time, late, overdue-open and not-yet-due dossiers, one resolved without a due date and
one resolved only in April."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from apptest import app_test
from kpi_rows import insert, row, small_store
from streamlit.testing.v1 import AppTest

from kpi import db, drilldown, periods, views
from kpi.dossier_lists import late_dossiers
from kpi.engine import kpi_table

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "so_nganh.py")
MARCH = periods.month(2025, 3)
JUSTICE, BUILDING, WARD = "Sở Tư pháp", "Sở Xây dựng", "UBND phường Phúc Xá"
BIRTH, COPY, RECORD, PERMIT = "1.000001", "1.000002", "1.000003", "1.000004"
NAMES = {BIRTH: "Đăng ký khai sinh", COPY: "Chứng thực bản sao", RECORD: "Cấp phiếu lý lịch tư pháp",
         PERMIT: "Cấp giấy phép xây dựng"}
PLACES = {JUSTICE: ("province", {COPY: "Chứng thực", RECORD: "Lý lịch tư pháp"}),
          BUILDING: ("province", {PERMIT: "Xây dựng"}), WARD: ("commune", {BIRTH: "Hộ tịch"})}


def dossier(agency: str, procedure: str, received: str, status: int = 10, **values: object) -> dict:
    level, sectors = PLACES[agency]
    return row(f"2025-{received}", status, agency_name=agency, agency_level=level, sector=sectors[procedure],
               procedure_code=procedure, province="Thành phố Hà Nội", district="Quận Ba Đình",
               commune="Phường Phúc Xá", **values)


ROWS = [
    # Sở Tư pháp: copies 4 days (promised 7) on time, 10 days (promised 2) late; criminal records 7 days
    # (promised 10) on time, one resolved without a due date in 3 days, one open past its due date.
    dossier(JUSTICE, COPY, "03-03", due="2025-03-10", finished="2025-03-07"),
    dossier(JUSTICE, COPY, "03-04", due="2025-03-06", finished="2025-03-14"),
    dossier(JUSTICE, COPY, "03-25", due="2025-04-05", finished="2025-04-02"),  # resolved in April
    dossier(JUSTICE, RECORD, "03-05", due="2025-03-15", finished="2025-03-12"),
    dossier(JUSTICE, RECORD, "03-06", finished="2025-03-09"),
    dossier(JUSTICE, RECORD, "03-05", 4, due="2025-03-12"),
    # Sở Xây dựng: 17 days late and 7 days on time, 14 days promised each.
    dossier(BUILDING, PERMIT, "03-03", due="2025-03-17", finished="2025-03-20"),
    dossier(BUILDING, PERMIT, "03-04", due="2025-03-18", finished="2025-03-11"),
    # The ward: 1 day, 2 promised.
    dossier(WARD, BIRTH, "03-03", due="2025-03-05", finished="2025-03-04"),
]


def fill(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, ROWS)
    for code, name in NAMES.items():
        con.execute("UPDATE dossiers SET procedure_name = $name WHERE procedure_code = $code",
                    {"name": name, "code": code})


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "departments.duckdb"
    con = db.connect(path)
    fill(con)
    con.close()
    monkeypatch.setenv(db.DB_ENV, str(path))
    yield path


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    store = small_store()
    fill(store)
    yield store
    store.close()


def run(lang: str = "vi", **params: str) -> AppTest:
    at = app_test(PAGE, lang, **{"ky": "month", "nam": "2025", "so": "3", **params})
    assert not at.exception, at.exception
    return at


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def ranking_bars(at: AppTest) -> dict[str, float]:
    bars = figures(at)[0]["data"][0]
    return dict(zip(bars["y"], bars["x"], strict=True))


def engine_percent(path: Path, by: str, where: dict | None = None) -> dict[str, float]:
    con = db.connect(path)
    try:
        table = kpi_table(con, MARCH, by=by, where=where, metrics=["on_time_rate"])
    finally:
        con.close()
    return {r.group: r.value * 100 for r in table.itertuples() if r.group is not None and r.value is not None}


def crumbs(at: AppTest) -> list[tuple[str, bool]]:
    return [(b.label, b.disabled) for b in at.button if b.key and b.key.startswith("so-nganh-crumbs")]


def table_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


# --- the page ---------------------------------------------------------------------------------------


def test_ranking_of_departments_equals_the_engine(store_path: Path) -> None:
    at = run()
    assert at.button_group(key="so-nganh-level").value == "province"
    expected = engine_percent(store_path, "agency", {"agency_level": "province"})
    assert expected == pytest.approx({JUSTICE: 75.0, BUILDING: 50.0})  # no due date counts on time
    assert ranking_bars(at) == pytest.approx(expected)
    table = table_with(at, "Hạng")
    assert table[["Đơn vị", "Giá trị", "Tử số", "Mẫu số"]].values.tolist() == [
        [JUSTICE, "75,00%", "3", "4"], [BUILDING, "50,00%", "1", "2"]]
    assert crumbs(at) == [("Toàn tỉnh", True)]

    at.button_group(key="so-nganh-level").set_value(drilldown.ALL_LEVELS).run()
    assert not at.exception
    assert ranking_bars(at) == pytest.approx(engine_percent(store_path, "agency"))
    assert ranking_bars(at)[WARD] == pytest.approx(100.0)


def test_drilling_agency_sector_procedure_to_the_dossiers(store_path: Path) -> None:
    at = run(don_vi=JUSTICE)
    assert at.selectbox(key="filter-agency").value == JUSTICE
    assert ranking_bars(at) == pytest.approx(engine_percent(store_path, "sector", {"agency": JUSTICE}))
    assert ranking_bars(at) == pytest.approx({"Chứng thực": 50.0, "Lý lịch tư pháp": 100.0})
    assert crumbs(at) == [("Toàn tỉnh", False), (JUSTICE, True)]

    at = run(don_vi=JUSTICE, linh_vuc="Lý lịch tư pháp")
    assert ranking_bars(at) == pytest.approx({f"{RECORD} · Cấp phiếu lý lịch tư pháp": 100.0})
    assert crumbs(at) == [("Toàn tỉnh", False), (JUSTICE, False), ("Lĩnh vực Lý lịch tư pháp", True)]

    at = run(don_vi=JUSTICE, linh_vuc="Lý lịch tư pháp", thu_tuc=RECORD)
    assert crumbs(at)[-1] == (f"Thủ tục {RECORD} · Cấp phiếu lý lịch tư pháp", True)
    assert not at.get("plotly_chart")
    assert at.info[0].value.startswith("Không có dữ liệu: không có hồ sơ giải quyết quá hạn")  # none resolved late
    at.button_group(key="so-nganh-dossiers-kind").set_value("overdue_in_progress").run()
    assert not at.exception
    where = {"agency": JUSTICE, "sector": "Lý lịch tư pháp", "procedure": RECORD}
    con = db.connect(store_path)
    expected = late_dossiers(con, MARCH, kind="overdue_in_progress", where=where)
    con.close()
    shown = table_with(at, "Mã hồ sơ")
    assert len(expected) == 1
    assert shown["Mã hồ sơ"].tolist() == expected["dossier_code"].tolist()
    assert shown[["Hạn xử lý", "Số ngày quá hạn"]].values.tolist() == [["12/03/2025", "19"]]


def test_the_breadcrumb_goes_back_to_every_department(store_path: Path) -> None:
    at = run(don_vi=JUSTICE, linh_vuc="Chứng thực")
    at.button(key="so-nganh-crumbs-0").click().run()
    assert not at.exception
    assert crumbs(at) == [("Toàn tỉnh", True)]
    assert set(ranking_bars(at)) == {JUSTICE, BUILDING}


def test_slowest_procedures_against_the_promised_time(store_path: Path) -> None:
    at = run()
    slow = next(f for f in figures(at) if len(f["data"]) == 2)["data"]
    labels = [f"{COPY} · Chứng thực bản sao", f"{PERMIT} · Cấp giấy phép xây dựng",
              f"{RECORD} · Cấp phiếu lý lịch tư pháp"]
    assert slow[0]["y"] == labels
    con = db.connect(store_path)
    days = kpi_table(con, MARCH, by="procedure", metrics=["avg_days_to_resolve"])
    con.close()
    assert slow[0]["x"] == pytest.approx([days.set_index("group").loc[c, "value"] for c in (COPY, PERMIT, RECORD)])
    assert slow[0]["x"] == pytest.approx([7.0, 12.0, 5.0])
    assert slow[1]["x"] == pytest.approx([4.5, 14.0, 10.0])
    table = table_with(at, "Tỷ lệ so với hạn")
    assert table.iloc[0].tolist() == [labels[0], "2", "7,0 ngày", "4,5 ngày", "+2,5 ngày", "1,56×"]
    assert any("ngày hẹn trả" in c.value for c in at.caption)  # the help says how the promise is computed


def test_english(store_path: Path) -> None:
    at = run("en", don_vi=JUSTICE)
    assert at.title[0].value == "Departments"
    assert crumbs(at) == [("Whole province", False), (JUSTICE, True)]
    assert at.subheader[0].value == "On-time resolution rate by sectors"
    assert "Slowest procedures" in [s.value for s in at.subheader]


# --- kpi/drilldown.py -------------------------------------------------------------------------------


def test_unit_path_and_breadcrumb() -> None:
    selection = views.Selection(MARCH)
    assert drilldown.unit_child(selection) == "agency"
    assert drilldown.unit_child(selection.with_filter("agency", JUSTICE)) == "sector"
    assert drilldown.unit_child(selection.with_filter("sector", "Chứng thực")) == "agency"
    deep = drilldown.with_procedure(selection.with_filter("agency", JUSTICE).with_filter("sector", "Chứng thực"),
                                    COPY)
    assert drilldown.unit_child(deep) == drilldown.DOSSIERS
    steps = drilldown.breadcrumb(deep, drilldown.UNIT_PATH, NAMES)
    assert [(s.label_en, s.clears) for s in steps] == [
        ("Whole province", ("agency", "sector", "procedure")), (JUSTICE, ("sector", "procedure")),
        ("Sector Chứng thực", ("procedure",)), (f"Procedure {COPY} · Chứng thực bản sao", ())]
    assert drilldown.agency_levels(["commune", "province"]) == ["all", "province", "commune"]
    assert drilldown.with_agency_level({"agency": JUSTICE}, "province") == {"agency": JUSTICE,
                                                                             "agency_level": "province"}
    assert drilldown.with_agency_level({}, drilldown.ALL_LEVELS) == {}
    assert drilldown.page_count(0, 50) == 1 and drilldown.page_count(101, 50) == 3


def test_promised_days_from_the_due_dates(con: duckdb.DuckDBPyConnection) -> None:
    promised = drilldown.promised_days(con, MARCH).set_index("procedure")
    # resolved in March with a due date only: the April one and the one without a due date are left out
    assert promised.to_dict("index") == {
        BIRTH: {"promised_days": 2.0, "with_due_date": 1}, COPY: {"promised_days": 4.5, "with_due_date": 2},
        RECORD: {"promised_days": 10.0, "with_due_date": 1}, PERMIT: {"promised_days": 14.0, "with_due_date": 2}}
    filtered = drilldown.promised_days(con, MARCH, where={"agency": JUSTICE})
    assert filtered["procedure"].tolist() == [COPY, RECORD]
    assert drilldown.promised_days(con, periods.month(2025, 1)).empty


def test_slowest_procedures_sorted_by_days_over(con: duckdb.DuckDBPyConnection) -> None:
    table = kpi_table(con, MARCH, by="procedure")
    frame = drilldown.slowest_procedures(table, drilldown.promised_days(con, MARCH), NAMES)
    assert frame["key"].tolist() == [COPY, BIRTH, PERMIT, RECORD]
    assert frame["over_days"].tolist() == pytest.approx([2.5, -1.0, -2.0, -5.0])
    assert frame["ratio"].tolist() == pytest.approx([7 / 4.5, 0.5, 12 / 14, 0.5])
    assert frame["resolved"].tolist() == [2, 1, 2, 2]
    assert len(drilldown.slowest_procedures(table, drilldown.promised_days(con, MARCH), top=2)) == 2
    shown = drilldown.slowest_table(frame, "en")
    assert shown.loc[3].tolist()[2:] == ["5,0 days", "10,0 days", "-5,0 days", "0,50×"]
