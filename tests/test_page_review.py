"""The monthly review page (AppTest) and its assembly (kpi.review) over a small hand-made store: the table
shows the engine's values, changes and rank changes for the month and filters the URL chooses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from apptest import app_test
from kpi_rows import insert, row
from streamlit.testing.v1 import AppTest

from kpi import db, periods, review
from kpi.dossier_lists import count_late_dossiers, late_dossiers
from kpi.engine import dossier_counts, kpi_table, rank_groups
from kpi.formatting import format_value
from kpi.metrics import metric
from kpi.views import HEADLINE_METRICS

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "danh_gia_thang.py")
PROVINCE = "Tỉnh Thử"
# district -> its communes, and the district's agency
DISTRICTS = {"Huyện Một": ("Xã 1A", "Xã 1B"), "Huyện Hai": ("Xã 2A",), "Huyện Ba": ("Xã 3A",)}
AGENCY = {"Huyện Một": "UBND huyện Một", "Huyện Hai": "UBND huyện Hai", "Huyện Ba": "UBND huyện Ba"}
# (district, month) -> (resolved, of which late): on-time rates move so that ranks change
RESOLVED = {("Huyện Một", 4): (10, 1), ("Huyện Hai", 4): (10, 0), ("Huyện Ba", 4): (10, 3),
            ("Huyện Một", 5): (10, 0), ("Huyện Hai", 5): (10, 2), ("Huyện Ba", 5): (12, 3)}
# district -> dossiers in progress and overdue at the end of May (due 10 May)
OVERDUE_MAY = {"Huyện Một": 3, "Huyện Hai": 1}


def dossiers() -> list[dict]:
    rows = []
    for (district, month), (resolved, late) in RESOLVED.items():
        communes = DISTRICTS[district]
        for i in range(resolved):
            finished = f"2024-{month:02d}-20" if i < late else f"2024-{month:02d}-08"
            rows.append(row(f"2024-{month:02d}-02", 10, due=f"2024-{month:02d}-10", finished=finished,
                            province=PROVINCE, district=district, commune=communes[i % len(communes)],
                            agency_name=AGENCY[district], agency_level="district",
                            channel="online" if i % (2 + month - 4) == 0 else "direct",
                            service_level="full_online" if i % 3 == 0 else "partial_online",
                            fee_vnd=10000 if i % 2 else 0, paid_online=i % 4 == 1, digitized=i % 3 != 2,
                            rating="dissatisfied" if i == resolved - 1 and month == 5 else None))
    for district, count in OVERDUE_MAY.items():
        for _ in range(count):
            rows.append(row("2024-05-03", 4, due="2024-05-10", province=PROVINCE, district=district,
                            commune=DISTRICTS[district][0], agency_name=AGENCY[district], agency_level="district"))
    # a provincial department (no district, no commune), to compare departments
    for i in range(6):
        rows.append(row("2024-05-02", 10, due="2024-05-10", finished="2024-05-20" if i == 0 else "2024-05-06",
                        province=PROVINCE, agency_name="Sở Tư pháp", agency_level="province"))
    return rows


@pytest.fixture
def review_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "review.duckdb"
    con = db.connect(path)
    insert(con, dossiers())
    con.close()
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path


def run_page(lang: str = "vi", *, tables: bool = True, **params: str) -> AppTest:
    return app_test(PAGE, lang, tables=tables, **params)


def table(at: AppTest, first_header: str, second_header: str | None = None) -> pd.DataFrame:
    """The dataframe whose first columns are these headers."""
    for element in at.dataframe:
        columns = list(element.value.columns)
        if columns[0] == first_header and (second_header is None or columns[1] == second_header):
            return element.value
    raise AssertionError(f"no table starting with {first_header!r}, {second_header!r}: "
                         f"{[list(e.value.columns)[:2] for e in at.dataframe]}")


def expected_rows(path: Path, month: periods.Period, by: str, where: dict | None = None) -> dict[str, dict]:
    """What the review table must show per unit, from the engine: value with status mark, change, rank."""
    con = db.connect(path)
    try:
        frame = kpi_table(con, month, by=by, where=where, metrics=HEADLINE_METRICS)
    finally:
        con.close()
    out: dict[str, dict] = {}
    for m in HEADLINE_METRICS:
        ranks = rank_groups(frame, m).set_index("group")
        part = frame[(frame["metric"] == m) & frame["group"].notna()]
        for _, r in part.iterrows():
            value = format_value(r["value"], "rate")
            mark = review.STATUS_MARKS.get(r["status"])
            rank = ranks.at[r["group"], "rank"]
            moved = ranks.at[r["group"], "rank_change"]
            out.setdefault(r["group"], {})[m] = (
                f"{mark} {value}" if mark and r["value"] is not None else value,
                review.change_text(r["previous_change_pp"], "rate"),
                "" if pd.isna(rank) else (f"{rank} ({review.rank_change_text(moved)})" if not pd.isna(moved)
                                          else str(rank)),
            )
    return out


def shown_rows(at: AppTest, lang: str = "vi") -> dict[str, dict]:
    wide = table(at, "Đơn vị" if lang == "vi" else "Unit")
    out = {}
    for _, r in wide.iterrows():
        cells = {}
        for m_id in HEADLINE_METRICS:
            m = metric(m_id)
            label = m.label_en if lang == "en" else m.label_vi
            change = " ± pts" if lang == "en" else " ± điểm %"
            rank = " · rank (± on previous month)" if lang == "en" else " · hạng (± so với tháng trước)"
            cells[m_id] = (r[label], r[label + change], r[label + rank])
        out[r.iloc[0]] = cells
    return out


def test_review_table_equals_the_engine_for_the_url_month(review_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5")
    assert not at.exception
    assert at.title[0].value == "Đánh giá tháng"
    assert "Tháng 05/2024 so với Tháng 04/2024" in [h.value for h in at.subheader]
    assert at.radio(key="review-by").value == "district"  # one province: compared by its districts
    shown = shown_rows(at)
    expected = expected_rows(review_db, periods.month(2024, 5), "district")
    assert {k: v for k, v in shown.items() if k in expected} == expected
    # the department's dossiers have no district: their own row, unranked
    assert list(shown) == ["Toàn bộ lựa chọn", "Huyện Một", "Huyện Hai", "Huyện Ba", "(Không rõ đơn vị)"]
    # hand-checked: on time Một 9/10 -> 10/10 (rank 2 -> 1), Hai 10/10 -> 8/10 (1 -> 2), Ba 7/10 -> 9/12 (3 -> 3)
    assert shown["Huyện Một"]["on_time_rate"] == ("🟢 100,00%", "+10,00", "1 (▲ 1)")
    assert shown["Huyện Hai"]["on_time_rate"] == ("🔴 80,00%", "-20,00", "2 (▼ 1)")
    assert shown["Huyện Ba"]["on_time_rate"] == ("🔴 75,00%", "+5,00", "3 (=)")
    # the whole selection: 32/38 in May (with the department 5/6) against 26/30 in April
    assert shown["Toàn bộ lựa chọn"]["on_time_rate"] == ("🔴 84,21%", "-2,46", "")


def test_url_month_prefills_and_changes_the_numbers(review_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="4")
    assert not at.exception
    assert at.selectbox(key="filter-number").value == 4
    assert "Tháng 04/2024 so với Tháng 03/2024" in [h.value for h in at.subheader]
    shown = shown_rows(at)
    expected = expected_rows(review_db, periods.month(2024, 4), "district")
    assert {k: v for k, v in shown.items() if k in expected} == expected
    assert shown["Huyện Một"]["on_time_rate"][0] == "🔴 90,00%"
    assert shown["Huyện Một"]["on_time_rate"][1] == ""  # March has no dossier: no change, not +90


def test_a_period_longer_than_a_month_reviews_its_last_month(review_db: Path) -> None:
    at = run_page(ky="quarter", nam="2024", so="2")
    assert not at.exception
    # the quarter's last month with data (nothing was received after May): says which month it reviews
    assert any("Quý II/2024" in i.value and "Tháng 05/2024" in i.value for i in at.info)
    assert "Tháng 05/2024 so với Tháng 04/2024" in [h.value for h in at.subheader]
    shown = shown_rows(at)
    expected = expected_rows(review_db, periods.month(2024, 5), "district")
    assert {k: v for k, v in shown.items() if k in expected} == expected


def test_locality_filter_compares_its_communes(review_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5", huyen="Huyện Một")
    assert not at.exception
    assert at.radio(key="review-by").value == "commune"
    shown = shown_rows(at)
    expected = expected_rows(review_db, periods.month(2024, 5), "commune", {"district": "Huyện Một"})
    assert set(expected) == {"Xã 1A", "Xã 1B"}
    assert {k: v for k, v in shown.items() if k in expected} == expected


def test_departments_switch(review_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5")
    at.radio(key="review-by").set_value("agency").run()
    assert not at.exception
    shown = shown_rows(at)
    expected = expected_rows(review_db, periods.month(2024, 5), "agency")
    assert set(expected) == {"Sở Tư pháp", *AGENCY.values()}
    assert {k: v for k, v in shown.items() if k in expected} == expected


def test_overdue_dossiers_to_chase(review_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5")
    assert not at.exception
    overdue = table(at, "Đơn vị", "Đang giải quyết cuối tháng")
    assert dict(zip(overdue["Đơn vị"], overdue["Trong đó quá hạn"], strict=True)) == {"Huyện Một": "3",
                                                                                     "Huyện Hai": "1"}
    con = db.connect(review_db)
    counts = dossier_counts(con, periods.month(2024, 5), by="district").set_index("group")
    expected_codes = late_dossiers(con, periods.month(2024, 5), kind="overdue_in_progress",
                                   where={"district": "Huyện Một"})["dossier_code"].tolist()
    listed_count = count_late_dossiers(con, periods.month(2024, 5), kind="overdue_in_progress",
                                       where={"district": "Huyện Một"})
    con.close()
    assert listed_count == 3  # the list the page pages through is as long as the count it shows
    assert counts.at["Huyện Một", "in_progress_overdue"] == 3
    assert at.selectbox(key="review-unit").value == "Huyện Một"
    listed = table(at, "Mã hồ sơ")
    assert listed["Mã hồ sơ"].tolist() == expected_codes and len(expected_codes) == 3
    assert set(listed["Số ngày quá hạn"]) == {"21"}  # due 10 May, month end 31 May
    assert any(c.value.startswith("3 hồ sơ, trang 1/1") for c in at.caption)
    at.selectbox(key="review-unit").set_value("Huyện Hai").run()
    assert len(table(at, "Mã hồ sơ")) == 1


def test_below_target_and_movers_shown(review_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5")
    below = table(at, "Đơn vị", "Giá trị")
    assert below["Đơn vị"].tolist() == ["Huyện Ba", "Huyện Hai"]  # red on on-time, furthest first
    assert below["Giá trị"].tolist() == ["75,00%", "80,00%"]
    assert below["Cách mục tiêu (điểm %)"].tolist() == ["-23,00", "-18,00"]
    at.number_input(key="review-min-denominator").set_value(11).run()
    assert any("mẫu số ≥ 11" in c.value for c in at.caption)
    # only Huyện Ba resolved 12 in May, but 10 in April: nobody reaches 11 in both months
    assert [i.value for i in at.info if "ngưỡng" in i.value]


def test_url_kpi_prefills_the_chosen_kpi(review_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="5", chi_so="online_dossier_rate")
    assert not at.exception
    assert at.selectbox(key="review-metric").value == "online_dossier_rate"
    con = db.connect(review_db)
    frame = kpi_table(con, periods.month(2024, 5), by="district", metrics=["online_dossier_rate"])
    con.close()
    below = frame[frame["status"].isin(["red", "amber"]) & frame["group"].notna()].sort_values("value")
    shown = table(at, "Đơn vị", "Giá trị")
    assert shown["Đơn vị"].tolist() == below["group"].tolist() and len(below) == 3
    assert shown["Giá trị"].tolist() == [format_value(v, "rate") for v in below["value"]]
    at.selectbox(key="review-metric").set_value("digitization_rate").run()
    assert at.query_params["chi_so"] == "digitization_rate"


def test_english(review_db: Path) -> None:
    at = run_page("en", ky="month", nam="2024", so="5")
    assert not at.exception
    assert at.title[0].value == "Monthly review"
    shown = shown_rows(at, "en")
    assert shown["Huyện Hai"]["on_time_rate"] == ("🔴 80,00%", "-20,00", "2 (▼ 1)")
    assert "Biggest improvers and decliners" in [tab.label for tab in at.tabs]


def test_only_the_open_section_is_drawn(review_db: Path) -> None:
    at = run_page(tables=False, ky="month", nam="2024", so="5")
    assert not at.exception
    assert len(at.dataframe) == 1  # the units × KPIs table, the first tab
    at.session_state["review-section"] = "Hồ sơ quá hạn cần đôn đốc"  # what a click on the tab sets
    at.run()
    assert not at.exception
    assert at.selectbox(key="review-unit").options and len(at.dataframe) == 2  # overdue by unit, then the list


def test_month_without_data_says_so(review_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="3")  # before the first dossier
    assert not at.exception
    assert any(i.value.startswith("Không có dữ liệu") for i in at.info)
    assert not at.dataframe


# --- kpi.review without Streamlit -------------------------------------------------------------------


def test_review_month() -> None:
    assert review.review_month(periods.month(2024, 5)) == (periods.month(2024, 5), False)
    assert review.review_month(periods.year(2026), date(2026, 10, 15)) == (periods.month(2026, 10), True)
    assert review.review_month(periods.quarter(2024, 2), date(2026, 1, 1)) == (periods.month(2024, 6), True)
    assert review.review_month(periods.custom(date(2024, 1, 10), date(2024, 3, 5))) == (periods.month(2024, 3), True)


def test_movers_respect_the_minimum_denominator() -> None:
    con = db.connect()
    insert(con, dossiers())
    frame = review.review_table(con, periods.month(2024, 5), by="district")
    ranks = rank_groups(kpi_table(con, periods.month(2024, 5), by="district"), "on_time_rate")
    con.close()
    up, down = review.movers(frame, "on_time_rate", min_denominator=10)
    assert up["group"].tolist() == ["Huyện Một", "Huyện Ba"]  # +10 and +5 points
    assert down["group"].tolist() == ["Huyện Hai"]
    assert up["change_pp"].round(6).tolist() == [10.0, 5.0]
    up, down = review.movers(frame, "on_time_rate", min_denominator=11)  # Ba has 12 now but 10 before
    assert up.empty and down.empty
    merged = frame[frame["metric"] == "on_time_rate"].set_index("group")
    assert merged.loc[ranks["group"], "rank_change"].tolist() == ranks["rank_change"].tolist()



def test_chase_list_pages_and_counts() -> None:
    con = db.connect()
    insert(con, dossiers())
    may = periods.month(2024, 5)
    overdue = review.overdue_by_unit(con, may, by="district")
    where = review.unit_where({}, "district", "Huyện Một")
    whole = review.chase_list(con, may, where=where, limit=100)
    pages = [review.chase_list(con, may, where=where, limit=2, offset=o)["dossier_code"].tolist() for o in (0, 2)]
    assert review.overdue_count(overdue, "Huyện Một") == len(whole) == 3
    assert pages[0] + pages[1] == whole["dossier_code"].tolist() and len(pages[1]) == 1
    assert "kind" not in whole.columns
    assert review.overdue_count(overdue, "Huyện Ba") == 0  # nothing overdue: not in the frame
    # the dossiers without a district: where {district: [None]} selects them
    assert review.unit_where({"province": PROVINCE}, "district", None) == {"province": PROVINCE, "district": [None]}
    con.close()
