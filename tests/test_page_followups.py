"""Layer 4: follow-ups in the dashboard (AppTest): the Follow-ups page (pages/theo_doi.py) records a follow-up
from its form, lists it and marks it done; the Departments, Localities and Monthly review pages show the unit's
follow-ups with the KPI's movement as the engine computes it.

The store: Sở Xây dựng and Sở Tư pháp in September and October 2026 (after the reform: communes only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from apptest import app_test
from kpi_rows import row, store_file
from streamlit.testing.v1 import AppTest

from kpi import db, periods
from kpi import followups as fu
from kpi.engine import change, kpi_value
from kpi.formatting import format_value
from kpi.metrics import metric

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "pages" / "theo_doi.py"
SEP, OCT = periods.month(2026, 9), periods.month(2026, 10)
HN, BUILDING, JUSTICE = "Thành phố Hà Nội", "Sở Xây dựng", "Sở Tư pháp"
WARD, OTHER_WARD = "Phường Ba Đình", "Phường Hồng Hà"
OCTOBER = {"ky": "month", "nam": "2026", "so": "10"}


def resolved(month: int, *, late: bool, agency: str, commune: str) -> dict:
    finished = f"2026-{month:02d}-20" if late else f"2026-{month:02d}-06"
    return row(f"2026-{month:02d}-02", 10, due=f"2026-{month:02d}-10", finished=finished, province=HN,
               commune=commune, agency_name=agency, agency_level="province",
               sector="Xây dựng" if agency == BUILDING else "Chứng thực")


ROWS = [
    # Sở Xây dựng (Phường Ba Đình): September 2 of 4 on time, October 3 of 4.
    *(resolved(9, late=i < 2, agency=BUILDING, commune=WARD) for i in range(4)),
    *(resolved(10, late=i < 1, agency=BUILDING, commune=WARD) for i in range(4)),
    # Sở Tư pháp (Phường Hồng Hà): September 3 of 3 on time, October 1 of 2.
    *(resolved(9, late=False, agency=JUSTICE, commune=OTHER_WARD) for _ in range(3)),
    *(resolved(10, late=i == 0, agency=JUSTICE, commune=OTHER_WARD) for i in range(2)),
]


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = store_file(tmp_path / "followups.duckdb", ROWS)
    monkeypatch.setenv(db.DB_ENV, str(path))
    yield path


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    return db.connect(path)


def add(path: Path, **values: object) -> int:
    """A follow-up recorded straight in the store (September's meeting, Sở Xây dựng, on-time rate)."""
    base = {"period": SEP, "unit_dimension": "agency", "unit": BUILDING, "metric_id": "on_time_rate",
            "task": "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng", "owner": BUILDING,
            "due_date": date(2026, 11, 30), "now": datetime(2026, 10, 5, 9, 0)}
    con = connect(path)
    try:
        return fu.add_followup(con, **{**base, **values})
    finally:
        con.close()


def stored(path: Path) -> pd.DataFrame:
    con = connect(path)
    try:
        return fu.list_followups(con)
    finally:
        con.close()


def followup_table(at: AppTest, lang: str = "vi") -> pd.DataFrame | None:
    """The follow-ups table on the page (its first header is the number column), None when there is none."""
    first = fu.LABELS["id"][1 if lang == "en" else 0]
    tables = [e.value for e in at.dataframe if list(e.value.columns)[:2] == [first, fu.LABELS["meeting"][
        1 if lang == "en" else 0]]]
    assert len(tables) <= 1
    return tables[0] if tables else None


def expected_cells(path: Path, period: periods.Period, unit_dimension: str, unit: str, metric_id: str,
                   meeting: periods.Period) -> tuple[str, str, str]:
    """Value at the meeting, value now (with its status mark) and change, from the engine."""
    con = connect(path)
    try:
        then = kpi_value(con, meeting, metric_id, where={unit_dimension: unit})
        now = kpi_value(con, period, metric_id, where={unit_dimension: unit})
    finally:
        con.close()
    m = metric(metric_id)
    mark = fu.KPI_STATUS_MARKS[now["status"]]
    return (format_value(then["value"], m.unit), f"{mark} {format_value(now['value'], m.unit)}",
            fu.change_text(change(m, now["value"], then["value"]), m.unit, m.higher_is_better))


# --- the Follow-ups page -----------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "title", "sections", "empty"), [
    ("vi", "Việc giao", ["Ghi việc giao mới", "Danh sách việc giao", "Cập nhật việc giao"], "Chưa có việc giao nào."),
    ("en", "Follow-ups", ["Record a follow-up", "Follow-ups", "Update a follow-up"], "No follow-ups yet."),
])
def test_page_renders_in_both_languages(store_path, lang, title, sections, empty):
    at = app_test(PAGE, lang, **OCTOBER)
    assert not at.exception
    assert at.title[0].value == title
    assert [s.value for s in at.subheader][:3] == sections
    assert empty in [c.value for c in at.caption]
    # the meeting is the sidebar's month; the due date defaults to the end of the next month
    assert at.date_input(key="fu-due").value == date(2026, 11, 30)
    assert at.selectbox(key="fu-dimension").options == [fu.dimension_label(d, lang) for d in
                                                         ("province", "commune", "agency", "sector", "procedure")]


def record(at: AppTest, *, unit: str = BUILDING, task: str = "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng",
           owner: str = BUILDING, note: str = "Báo cáo tại cuộc họp tháng 11") -> AppTest:
    at.selectbox(key="fu-dimension").set_value("agency").run()
    at.selectbox(key="fu-unit").set_value(unit)
    at.selectbox(key="fu-metric").set_value("on_time_rate")
    at.text_area(key="fu-task").input(task)
    at.text_input(key="fu-owner").input(owner)
    at.text_area(key="fu-note").input(note)
    at.button(key="fu-add-submit").click()
    return at.run()


def test_submitting_the_form_records_a_followup_shown_in_the_list(store_path):
    at = record(app_test(PAGE, "vi", **OCTOBER))
    assert not at.exception and not at.error
    [followup] = stored(store_path).to_dict("records")
    assert [s.value for s in at.success] == [f"Đã ghi việc giao số {followup['id']}."]
    assert (followup["period_start"], followup["period_end"], followup["unit_dimension"], followup["unit"],
            followup["metric_id"], followup["task"], followup["owner"], followup["due_date"], followup["note"],
            followup["status"]) == (date(2026, 10, 1), date(2026, 10, 31), "agency", BUILDING, "on_time_rate",
                                    "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng", BUILDING, date(2026, 11, 30),
                                    "Báo cáo tại cuộc họp tháng 11", "open")
    assert at.text_area(key="fu-task").value == ""  # a fresh form for the next task
    shown = followup_table(at)
    assert shown is not None and len(shown) == 1
    cells = shown.iloc[0]
    assert (cells["Số"], cells["Kỳ họp"], cells["Đơn vị"], cells["Chỉ số"], cells["Hạn"], cells["Trạng thái"],
            cells["Ghi chú"]) == (str(followup["id"]), "Tháng 10/2026", BUILDING, "Tỷ lệ giải quyết đúng hạn",
                                  "30/11/2026", "Đang thực hiện", "Báo cáo tại cuộc họp tháng 11")
    # recorded at October's meeting and viewed on October: both values are the engine's October value (3/4)
    then, now, _ = expected_cells(store_path, OCT, "agency", BUILDING, "on_time_rate", OCT)
    assert (cells["Giá trị kỳ họp"], cells["Giá trị kỳ này"]) == (then, now) == ("75,00%", "🔴 75,00%")


def test_a_refused_followup_says_why_and_keeps_the_text(store_path):
    at = record(app_test(PAGE, "vi", **OCTOBER), owner="Ông A 0912 345 678")
    assert not at.exception
    assert [e.value for e in at.error] == ["Đơn vị/người chịu trách nhiệm có số điện thoại hoặc số giấy tờ tùy thân: "
                                           "không lưu dữ liệu cá nhân."]
    assert stored(store_path).empty
    assert at.text_area(key="fu-task").value == "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng"
    at = record(app_test(PAGE, "vi", **OCTOBER), task="   ")
    assert [e.value for e in at.error] == ["Nội dung việc giao không được để trống."]
    assert stored(store_path).empty


def test_marking_done_and_reopening_change_the_status(store_path):
    followup = add(store_path)
    at = app_test(PAGE, "vi", **OCTOBER)
    assert followup_table(at)["Trạng thái"].tolist() == ["Đang thực hiện"]
    assert at.selectbox(key="fu-pick").value == followup
    at.radio(key=f"fu-edit-status-{followup}").set_value("done")
    at.text_area(key=f"fu-edit-note-{followup}").input("Đã giảm còn 1 hồ sơ quá hạn")
    at.button(key="fu-edit-submit").click()
    at.run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [f"Đã lưu việc giao số {followup}."]
    got = stored(store_path).iloc[0]
    assert (got["status"], got["note"]) == ("done", "Đã giảm còn 1 hồ sơ quá hạn") and not pd.isna(got["done_at"])
    assert followup_table(at) is None  # the list shows open follow-ups by default: none left
    at.segmented_control(key="fu-status").set_value("done").run()
    shown = followup_table(at)
    assert shown["Trạng thái"].tolist() == ["✅ Đã xong"]
    assert shown["Ghi chú"].tolist() == ["Đã giảm còn 1 hồ sơ quá hạn"]
    at.radio(key=f"fu-edit-status-{followup}").set_value("open")
    at.button(key="fu-edit-submit").click()
    at.run()
    assert stored(store_path)["status"].tolist() == ["open"]
    assert followup_table(at) is None  # no done follow-up any more


def test_the_list_keeps_to_the_sidebar_department(store_path):
    add(store_path)
    justice = add(store_path, unit=JUSTICE, owner=JUSTICE, task="Duy trì tỷ lệ đúng hạn")
    at = app_test(PAGE, "vi", **OCTOBER, don_vi=JUSTICE)
    shown = followup_table(at)
    assert shown["Số"].tolist() == [str(justice)] and shown["Đơn vị"].tolist() == [JUSTICE]


# --- the unit pages and the monthly review -----------------------------------------------------------


def test_departments_page_shows_the_agency_followups_with_the_engine_movement(store_path):
    building = add(store_path)
    add(store_path, unit=JUSTICE, owner=JUSTICE)
    page = ROOT / "pages" / "so_nganh.py"
    at = app_test(page, "vi", **OCTOBER, don_vi=BUILDING)
    assert not at.exception
    assert "Việc giao của đơn vị" in [s.value for s in at.subheader]
    shown = followup_table(at)
    assert shown["Số"].tolist() == [str(building)]
    expected = expected_cells(store_path, OCT, "agency", BUILDING, "on_time_rate", SEP)
    assert tuple(shown.iloc[0][["Giá trị kỳ họp", "Giá trị kỳ này", "Thay đổi"]]) == expected
    assert expected == ("50,00%", "🔴 75,00%", "▲ +25,00 điểm %")  # hand-checked: 2/4 then 3/4
    # the whole list of departments: no unit chosen, no follow-ups panel
    at = app_test(page, "vi", **OCTOBER)
    assert not at.exception
    assert "Việc giao của đơn vị" not in [s.value for s in at.subheader] and followup_table(at) is None


def test_localities_page_shows_the_commune_followups(store_path):
    ward = add(store_path, unit_dimension="commune", unit=WARD, owner=f"UBND {WARD.lower()}")
    add(store_path, unit_dimension="commune", unit=OTHER_WARD, owner="UBND phường Hồng Hà")
    at = app_test(ROOT / "pages" / "dia_ban.py", "en", **OCTOBER, xa=WARD)
    assert not at.exception
    assert "Follow-ups of the unit" in [s.value for s in at.subheader]
    shown = followup_table(at, "en")
    assert shown["No."].tolist() == [str(ward)]
    then, now, moved = expected_cells(store_path, OCT, "commune", WARD, "on_time_rate", SEP)
    assert (shown.iloc[0]["Value at the meeting"], shown.iloc[0]["Value now"]) == (then, now)
    assert shown.iloc[0]["Change"] == moved.replace("điểm %", "pts")


def test_monthly_review_takes_up_followups_from_earlier_meetings(store_path):
    september = add(store_path)
    done = add(store_path, unit=JUSTICE, owner=JUSTICE, due_date=date(2026, 10, 15))
    add(store_path, period=OCT, task="Giữ tỷ lệ đúng hạn tháng 11")  # October's own: taken up next month
    con = connect(store_path)
    fu.mark_done(con, done, note="Đã hoàn thành")
    con.close()
    at = app_test(ROOT / "pages" / "danh_gia_thang.py", "vi", **OCTOBER)
    assert not at.exception
    assert "Việc giao từ cuộc họp trước" in [tab.label for tab in at.tabs]
    shown = followup_table(at).set_index("Số")
    assert shown.index.tolist() == [str(september), str(done)]  # open first, then done
    assert tuple(shown.loc[str(september), ["Giá trị kỳ họp", "Giá trị kỳ này", "Thay đổi"]]) == expected_cells(
        store_path, OCT, "agency", BUILDING, "on_time_rate", SEP)
    justice = expected_cells(store_path, OCT, "agency", JUSTICE, "on_time_rate", SEP)
    assert tuple(shown.loc[str(done), ["Giá trị kỳ họp", "Giá trị kỳ này", "Thay đổi"]]) == justice
    assert justice == ("100,00%", "🔴 50,00%", "▼ -50,00 điểm %")
    assert shown.loc[str(done), "Trạng thái"] == "✅ Đã xong"
