"""Follow-ups (kpi/followups.py): recording, listing, updating and closing the committee's tasks, their
validation, the KPI's movement against the engine's values for the unit, the meeting pack's scoping, and their
durability: re-imports, aggregate rebuilds, restarts and stores from before the table."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date, datetime

import duckdb
import pandas as pd
import pytest
from conftest import dossier as export_row
from conftest import write_export
from kpi_rows import insert, row

from kpi import db, periods
from kpi import followups as fu
from kpi.aggregates import refresh_aggregates
from kpi.engine import change, kpi_value
from kpi.importer import ingest_file
from kpi.metrics import metric

MAY_2025, SEP = periods.month(2025, 5), periods.month(2026, 9)
OCT, NOV = periods.month(2026, 10), periods.month(2026, 11)
HN = "Thành phố Hà Nội"
BUILDING, JUSTICE = "Sở Xây dựng", "Sở Tư pháp"
WARD = "Phường Ba Đình"
AT = datetime(2026, 11, 5, 9, 30)


def resolved(month: int, *, late: bool, agency: str, year: int = 2026, district: str | None = None,
             commune: str = WARD, days: int = 4, online: bool = False) -> dict:
    """A dossier received on the 2nd and due on the 10th, resolved `days` after receipt (late: on the 20th)."""
    finished = f"{year}-{month:02d}-20" if late else f"{year}-{month:02d}-{2 + days:02d}"
    return row(f"{year}-{month:02d}-02", 10, due=f"{year}-{month:02d}-10", finished=finished, province=HN,
               district=district, commune=commune, agency_name=agency, agency_level="province",
               sector="Xây dựng" if agency == BUILDING else "Chứng thực", channel="online" if online else "direct")


ROWS = [
    # Sở Xây dựng: September 2 of 4 on time (50%), October 3 of 4 (75%).
    *(resolved(9, late=i < 2, agency=BUILDING) for i in range(4)),
    *(resolved(10, late=i < 1, agency=BUILDING, days=6) for i in range(4)),
    # Sở Tư pháp: September 2 of 2 on time, October 1 of 2; in another commune.
    *(resolved(9, late=False, agency=JUSTICE, commune="Phường Hồng Hà", online=True) for _ in range(2)),
    *(resolved(10, late=i == 0, agency=JUSTICE, commune="Phường Hồng Hà") for i in range(2)),
    # May 2025, before the reform: Quận Ba Đình 1 online of 3.
    *(resolved(5, late=False, agency=JUSTICE, year=2025, district="Quận Ba Đình", commune="Phường Phúc Xá",
               online=i == 0) for i in range(3)),
]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    store = db.connect()
    store.execute("SET threads = 1")
    insert(store, ROWS)
    yield store
    store.close()


def add(con: duckdb.DuckDBPyConnection, **values: object) -> int:
    """add_followup with a valid follow-up of Sở Xây dựng at the September meeting, `values` overriding."""
    base = {"period": SEP, "unit_dimension": "agency", "unit": BUILDING, "metric_id": "on_time_rate",
            "task": "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng", "owner": BUILDING, "due_date": date(2026, 11, 30),
            "note": "", "now": AT}
    return fu.add_followup(con, **{**base, **values})


# --- recording, listing, updating, closing ------------------------------------------------------------


def test_add_then_list_gives_back_what_was_recorded(con):
    decomposed = unicodedata.normalize("NFD", BUILDING)  # as some tools write accents
    first = add(con, unit=decomposed, note="  Báo cáo tại cuộc họp tháng 11  ")
    second = add(con, unit=JUSTICE, metric_id="online_dossier_rate", task="Tăng hồ sơ trực tuyến",
                 owner="Văn phòng UBND", due_date=date(2026, 10, 31))
    assert second == first + 1
    frame = fu.list_followups(con)
    assert list(frame.columns) == list(fu.TABLE_COLUMNS)
    assert frame["id"].tolist() == [second, first]  # open ones by due date: 31/10 before 30/11
    got = frame.set_index("id").loc[first]
    assert (got["period_start"], got["period_end"], got["unit_dimension"], got["unit"], got["metric_id"]) == (
        date(2026, 9, 1), date(2026, 9, 30), "agency", BUILDING, "on_time_rate")
    assert got["unit"] == unicodedata.normalize("NFC", BUILDING)
    assert (got["task"], got["owner"], got["due_date"], got["note"], got["status"]) == (
        "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng", BUILDING, date(2026, 11, 30), "Báo cáo tại cuộc họp tháng 11",
        "open")
    assert got["created_at"] == got["updated_at"] == pd.Timestamp(AT) and pd.isna(got["done_at"])


def test_list_by_status_and_scope(con):
    building = add(con)
    justice = add(con, unit=JUSTICE)
    ward = add(con, unit_dimension="commune", unit=WARD, metric_id="avg_days_to_resolve")
    district = add(con, period=MAY_2025, unit_dimension="district", unit="Quận Ba Đình", due_date=date(2025, 6, 30))
    sector = add(con, unit_dimension="sector", unit="Xây dựng")
    province = add(con, unit_dimension="province", unit=HN)
    fu.mark_done(con, justice)
    ids = lambda **kw: sorted(fu.list_followups(con, **kw)["id"].tolist())  # noqa: E731
    assert ids() == sorted([building, justice, ward, district, sector, province])
    assert ids(status="open") == sorted([building, ward, district, sector, province])
    assert ids(status="done") == [justice]
    assert ids(where={"agency": BUILDING}) == [building]
    assert ids(where={"agency": [BUILDING, JUSTICE]}, status="open") == [building]
    # a page drilled to a district and a commune shows both units' follow-ups
    assert ids(where={"district": "Quận Ba Đình", "commune": WARD}) == sorted([district, ward])
    # filters that name no unit (a level, a channel) leave every follow-up in scope
    assert ids(where={"agency_level": "province"}) == ids()
    # the province: its own follow-ups and those of the units with dossiers in it
    assert ids(where={"province": HN}) == ids()
    assert ids(where={"province": "Tỉnh Khác"}) == []
    with pytest.raises(ValueError, match="Unknown status"):
        fu.list_followups(con, status="closed")


def test_update_changes_only_the_given_fields(con):
    followup = add(con)
    later = datetime(2026, 11, 20, 8, 0)
    fu.update_followup(con, followup, due_date=date(2026, 12, 15), note="Gia hạn theo đề nghị của Sở", now=later)
    got = fu.list_followups(con).iloc[0]
    assert (got["due_date"], got["note"], got["task"], got["owner"], got["status"]) == (
        date(2026, 12, 15), "Gia hạn theo đề nghị của Sở", "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng", BUILDING,
        "open")
    assert got["updated_at"] == pd.Timestamp(later) and got["created_at"] == pd.Timestamp(AT)
    with pytest.raises(fu.FollowupError, match="must not be empty"):
        fu.update_followup(con, followup, task="   ")
    assert fu.list_followups(con).iloc[0]["task"] == "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng"


def test_mark_done_and_reopen(con):
    followup = add(con)
    done_at = datetime(2026, 11, 25, 10, 0)
    fu.mark_done(con, followup, note="Đã giảm còn 3 hồ sơ quá hạn", now=done_at)
    got = fu.list_followups(con).iloc[0]
    assert (got["status"], got["done_at"], got["note"]) == ("done", pd.Timestamp(done_at),
                                                            "Đã giảm còn 3 hồ sơ quá hạn")
    fu.mark_done(con, followup, now=datetime(2026, 11, 26))  # done again: the first done time stays
    got = fu.list_followups(con).iloc[0]
    assert (got["done_at"], got["note"]) == (pd.Timestamp(done_at), "Đã giảm còn 3 hồ sơ quá hạn")
    fu.mark_done(con, followup, done=False, note="Mở lại: số liệu tháng 11 chưa đạt")
    got = fu.list_followups(con).iloc[0]
    assert (got["status"], got["note"]) == ("open", "Mở lại: số liệu tháng 11 chưa đạt") and pd.isna(got["done_at"])
    with pytest.raises(fu.FollowupError, match="no follow-up number 999"):
        fu.mark_done(con, 999)


@pytest.mark.parametrize(("change_", "english"), [
    ({"unit_dimension": "channel"}, "Unknown unit dimension 'channel'"),
    ({"unit_dimension": "month"}, "Unknown unit dimension 'month'"),
    ({"metric_id": "speed"}, "Unknown KPI 'speed'"),
    ({"task": ""}, "The task must not be empty"),
    ({"owner": "  "}, "The owner must not be empty"),
    ({"unit": ""}, "The unit must not be empty"),
    ({"due_date": None}, "The due date is missing"),
    ({"due_date": date(2026, 8, 31)}, "The due date 31/08/2026 is before the meeting's period"),
    ({"period": None}, "The meeting's period is missing"),
    ({"unit_dimension": "district", "unit": "Quận Ba Đình"}, "districts were abolished on 1 July 2025"),
    ({"owner": "Anh Nam 0912 345 678"}, "The owner holds a phone or ID number"),
    ({"note": "CCCD 001203004567"}, "The note holds a phone or ID number"),
    ({"task": "x" * 501}, "The task is longer than 500 characters"),
])
def test_invalid_followups_are_refused_in_both_languages(con, change_, english):
    with pytest.raises(fu.FollowupError) as error:
        add(con, **change_)
    assert english in error.value.en and english in str(error.value)
    assert error.value.vi and error.value.vi in str(error.value) and error.value.vi != error.value.en
    assert isinstance(error.value, ValueError)
    assert fu.list_followups(con).empty


def test_vietnamese_messages_name_the_problem(con):
    with pytest.raises(fu.FollowupError) as error:
        add(con, task="")
    assert error.value.vi == "Nội dung việc giao không được để trống."
    with pytest.raises(fu.FollowupError) as error:
        add(con, due_date=date(2026, 8, 31))
    assert error.value.vi == "Hạn hoàn thành 31/08/2026 trước kỳ của cuộc họp (Tháng 09/2026)."


def test_dossier_codes_and_procedure_codes_are_not_taken_for_personal_numbers(con):
    followup = add(con, task="Xử lý hồ sơ 000.00.12.H26-260902-0001 thủ tục 1.001234 trước 30/11/2026")
    assert fu.list_followups(con)["id"].tolist() == [followup]


# --- movement ------------------------------------------------------------------------------------------


def engine(con, period, followup: dict) -> dict:
    return kpi_value(con, period, followup["metric"], where={followup["unit_dimension"]: followup["unit"]})


def test_movement_equals_the_engine_for_the_unit_in_both_periods(con):
    add(con)
    add(con, unit=JUSTICE, metric_id="online_dossier_rate")
    add(con, unit_dimension="commune", unit=WARD, metric_id="avg_days_to_resolve", due_date=date(2026, 10, 15))
    add(con, unit_dimension="sector", unit="Chứng thực")
    add(con, period=MAY_2025, unit_dimension="district", unit="Quận Ba Đình", metric_id="online_dossier_rate",
        due_date=date(2025, 6, 30))
    frame = fu.movement(con, fu.list_followups(con), OCT, today=date(2026, 11, 22))
    assert list(frame.columns) == list(fu.REPORT_COLUMNS) and len(frame) == 5
    for r in frame.to_dict("records"):
        then = engine(con, periods.Period(r["period_start"], r["period_end"]), r)
        assert (r["value_then"], r["numerator_then"], r["denominator_then"]) == (
            then["value"], then["numerator"], then["denominator"]), r
        if r["unit_dimension"] == "district":  # no district after 1 July 2025: no value now, not an error
            assert r["value_now"] is None and pd.isna(r["denominator_now"]) and r["change"] is None
            continue
        now = engine(con, OCT, r)
        assert (r["value_now"], r["numerator_now"], r["denominator_now"], r["target"], r["kpi_status"]) == (
            now["value"], now["numerator"], now["denominator"], now["target"], now["status"]), r
        assert r["change"] == change(metric(r["metric"]), now["value"], then["value"])
    by_unit = frame.set_index("unit")
    # hand-checked: Sở Xây dựng 2/4 on time in September, 3/4 in October: +25 points, red against 98%
    assert (by_unit.at[BUILDING, "value_then"], by_unit.at[BUILDING, "value_now"]) == (0.5, 0.75)
    assert by_unit.at[BUILDING, "change"] == pytest.approx(25.0) and by_unit.at[BUILDING, "kpi_status"] == "red"
    # the ward's days to resolve: September 2 late (18 days) and 2 in 4 days = 11; October 1 x 18 and 3 x 6 = 9
    assert (by_unit.at[WARD, "value_then"], by_unit.at[WARD, "value_now"], by_unit.at[WARD, "change"]) == (11, 9, -2)
    # Quận Ba Đình in May 2025: 1 of 3 dossiers online
    assert by_unit.at["Quận Ba Đình", "value_then"] == pytest.approx(1 / 3)
    # overdue: open past the due date (the ward's 15/10 and the district's 30/06/2025), as of 22/11/2026
    assert set(frame.loc[frame["overdue"], "unit"]) == {"Quận Ba Đình", WARD}


def test_movement_of_a_unit_without_dossiers_has_no_value(con):
    add(con, unit="Sở Nội vụ")
    frame = fu.movement(con, fu.list_followups(con), OCT, today=date(2026, 11, 1))
    r = frame.iloc[0]
    assert (r["value_then"], r["value_now"], r["change"], r["denominator_then"], r["denominator_now"]) == (
        None, None, None, 0, 0)
    assert r["target"] == 0.98 and r["kpi_status"] is None and not r["overdue"]


def test_done_followups_are_never_overdue(con):
    followup = add(con, due_date=date(2026, 10, 1))
    assert fu.movement(con, fu.list_followups(con), OCT, today=date(2026, 11, 1))["overdue"].tolist() == [True]
    fu.mark_done(con, followup)
    assert fu.movement(con, fu.list_followups(con), OCT, today=date(2026, 11, 1))["overdue"].tolist() == [False]


# --- the meeting pack ----------------------------------------------------------------------------------


def test_for_report_takes_up_earlier_meetings_in_the_scope(con):
    september = add(con)
    justice = add(con, unit=JUSTICE, metric_id="online_dossier_rate")
    october = add(con, period=OCT, task="Duy trì tỷ lệ đúng hạn")
    quarter = add(con, period=periods.quarter(2026, 3), unit_dimension="commune", unit=WARD)
    fu.mark_done(con, justice)
    report = fu.for_report(con, OCT, {}, today=date(2026, 11, 22))
    assert list(report.columns)[:13] == ["id", "unit_dimension", "unit", "metric", "task", "owner", "due_date",
                                         "status", "note", "value_then", "value_now", "change", "overdue"]
    # October's meeting takes up September's and the third quarter's follow-ups, not its own; open ones first
    assert report["id"].tolist() == [september, quarter, justice]
    assert report["status"].tolist() == ["open", "open", "done"]
    assert fu.for_report(con, NOV, {}, today=date(2026, 11, 22))["id"].tolist() == [september, october, quarter,
                                                                                       justice]
    # a department's own meeting sees its own follow-ups only
    assert fu.for_report(con, NOV, {"agency": BUILDING})["id"].tolist() == [september, october]
    assert fu.for_report(con, NOV, {"commune": WARD})["id"].tolist() == [quarter]
    assert fu.for_report(con, SEP, {}).empty and list(fu.for_report(con, SEP, {}).columns) == list(fu.REPORT_COLUMNS)
    # movement from the meeting's period to the report's
    row_ = report.set_index("id").loc[september]
    assert (row_["value_then"], row_["value_now"]) == (kpi_value(con, SEP, "on_time_rate", where={"agency": BUILDING})
                                                       ["value"], kpi_value(con, OCT, "on_time_rate",
                                                                            where={"agency": BUILDING})["value"])


# --- durability ----------------------------------------------------------------------------------------


def stored_followups(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT * FROM followups ORDER BY id").fetchall()


CODES = [f"000.00.12.H26-2609{d:02d}-0001" for d in range(1, 5)]


def first_export() -> list[dict]:
    return [export_row(code, "Đang xử lý", received=f"{i + 1:02d}/09/2026 08:00", agency_name=BUILDING,
                       due_at="20/09/2026") for i, code in enumerate(CODES)]


def changed_export() -> list[dict]:
    """The same dossiers resolved, one late, and a new one: a later monthly export."""
    rows = [export_row(code, "Đã trả kết quả", received=f"{i + 1:02d}/09/2026 08:00", agency_name=BUILDING,
                       due_at="20/09/2026", finished_at="25/09/2026" if i == 0 else "15/09/2026",
                       returned_at="26/09/2026") for i, code in enumerate(CODES)]
    rows.append(export_row("000.00.12.H26-261001-0001", "Đang xử lý", received="01/10/2026 08:00",
                           agency_name=BUILDING, due_at="20/10/2026"))
    return rows


def test_followups_survive_reimports_and_aggregate_rebuilds(tmp_path):
    store = db.connect(tmp_path / "store.duckdb")
    try:
        path = write_export(tmp_path, first_export(), name="thang09.csv")
        ingest_file(store, path)
        ids = [add(store), add(store, unit=JUSTICE)]
        fu.mark_done(store, ids[1], note="Đã hoàn thành")
        before = stored_followups(store)
        assert len(before) == 2

        same = ingest_file(store, path)
        assert (same.inserted, same.updated, same.unchanged) == (0, 0, 4)
        assert stored_followups(store) == before

        changed = ingest_file(store, write_export(tmp_path, changed_export(), name="thang10.csv"))
        assert (changed.inserted, changed.updated) == (1, 4)
        assert stored_followups(store) == before

        refresh_aggregates(store)
        assert stored_followups(store) == before
        # and the movement reads the re-imported data: 3 of 4 resolved on time in September
        report = fu.for_report(store, OCT, {"agency": BUILDING})
        assert report["id"].tolist() == [ids[0]] and report["value_then"].tolist() == [0.75]
    finally:
        store.close()


def test_followups_survive_a_restart(tmp_path):
    path = tmp_path / "store.duckdb"
    store = db.connect(path)
    insert(store, ROWS)
    first = add(store)
    fu.mark_done(store, first, note="Đã xong trước hạn")
    second = add(store, unit=JUSTICE)
    before = stored_followups(store)
    store.close()

    store = db.connect(path)  # a restart of the dashboard: the schema is applied again
    try:
        assert stored_followups(store) == before
        assert add(store, unit="Sở Y tế") == second + 1  # ids continue, never reused
        assert fu.list_followups(store, status="done")["note"].tolist() == ["Đã xong trước hạn"]
    finally:
        store.close()


def test_a_store_from_before_followups_gets_the_table_on_connect(tmp_path):
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute(db.schema_sql())  # the store as it was, then without the follow-ups
    old.execute("DROP TABLE followups")
    old.execute("DROP SEQUENCE followup_id_seq")
    insert(old, ROWS)
    old.close()

    read_only = db.connect(path, read_only=True)  # the CLI's connection: no schema applied, nothing to show
    try:
        assert not fu.has_table(read_only)
        assert fu.list_followups(read_only).empty
        assert list(fu.for_report(read_only, OCT, {}).columns) == list(fu.REPORT_COLUMNS)
        assert fu.revision(read_only) == (0, 0)
    finally:
        read_only.close()

    store = db.connect(path)
    try:
        assert fu.has_table(store)
        assert store.execute("SELECT count(*) FROM dossiers").fetchone()[0] == len(ROWS)
        followup = add(store)
        assert followup == 1 and fu.list_followups(store)["id"].tolist() == [1]
    finally:
        store.close()


def test_revision_changes_with_every_write(con):
    seen = {fu.revision(con)}
    followup = add(con)
    seen.add(fu.revision(con))
    fu.update_followup(con, followup, note="Ghi chú mới", now=datetime(2026, 11, 6))
    seen.add(fu.revision(con))
    fu.mark_done(con, followup, now=datetime(2026, 11, 7))
    seen.add(fu.revision(con))
    assert len(seen) == 4


# --- display -------------------------------------------------------------------------------------------


def test_display_writes_vietnamese_and_english(con):
    add(con)
    add(con, unit_dimension="commune", unit=WARD, metric_id="avg_days_to_resolve", due_date=date(2026, 10, 15))
    add(con, unit_dimension="sector", unit="Chứng thực")
    frame = fu.movement(con, fu.list_followups(con), OCT, today=date(2026, 11, 22))
    shown = fu.display(frame).set_index("unit")
    assert list(fu.display(frame).columns) == list(fu.SHOWN_COLUMNS)
    building = shown.loc[BUILDING]
    assert (building["meeting"], building["metric"], building["due_date"], building["status"]) == (
        "Tháng 09/2026", "Tỷ lệ giải quyết đúng hạn", "30/11/2026", "Đang thực hiện")
    assert (building["value_then"], building["value_now"], building["change"]) == ("50,00%", "🔴 75,00%",
                                                                                  "▲ +25,00 điểm %")
    ward = shown.loc[WARD]  # fewer days is better: a fall is an improvement
    assert (ward["value_then"], ward["value_now"], ward["change"], ward["status"]) == (
        "11,0 ngày", "9,0 ngày", "▲ -2,0 ngày", "⚠️ Quá hạn")
    assert "Lĩnh vực Chứng thực" in shown.index
    english = fu.display(frame, "en").set_index("unit")
    assert (english.loc[BUILDING, "meeting"], english.loc[BUILDING, "change"], english.loc[WARD, "status"]) == (
        "September 2026", "▲ +25,00 pts", "⚠️ Overdue")
    assert english.loc["Sector Chứng thực", "value_now"] == "🔴 50,00%"


def test_form_helpers():
    assert fu.default_due_date(OCT) == date(2026, 11, 30)  # the "hạn 30/11"
    assert fu.default_due_date(periods.month(2026, 1)) == date(2026, 2, 28)
    assert fu.default_due_date(periods.quarter(2026, 4)) == date(2027, 1, 31)
    assert fu.dimension_choices(MAY_2025) == list(fu.UNIT_DIMENSIONS)
    assert fu.dimension_choices(OCT) == ["province", "commune", "agency", "sector", "procedure"]
    assert fu.scope_names_units({"agency": BUILDING, "sector": "Xây dựng"}, ("agency",)) == {"agency": BUILDING}
    assert fu.scope_names_units({"sector": "Xây dựng"}, ("agency",)) is None
    assert fu.scope_names_units({}, None) == {}


def test_option_labels_and_by_id(con):
    followup = add(con)
    frame = fu.list_followups(con)
    assert fu.option_labels(frame) == {followup: f"#{followup} · {BUILDING} · Giảm hồ sơ quá hạn lĩnh vực cấp phép "
                                                 "xây dựng (Đang thực hiện)"}
    assert fu.by_id(frame, followup)["task"] == "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng"
    with pytest.raises(fu.FollowupError):
        fu.by_id(frame, followup + 1)
