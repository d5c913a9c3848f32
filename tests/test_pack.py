"""The meeting pack's model: every frame is the engine's (kpi_table, rank_groups, dossier_counts, the dossier
lists, estimate_766, form06_rows) for the same period and scope, on hand-counted rows and on the bundled
sample; the slides carry the same numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from kpi_rows import row, small_store

from kpi import db, followups, periods, review, views
from kpi.dossier_lists import count_late_dossiers, late_dossiers
from kpi.engine import dossier_counts, kpi_table, rank_groups
from kpi.form06 import form06_rows
from kpi.formatting import format_int, format_value
from kpi.importer import ingest_files
from kpi.index766 import estimate_766
from kpi.metrics import METRICS
from kpi.pack import (
    OVERDUE_COLUMNS,
    RANKING_COLUMNS,
    build_pack,
    figures,
    file_stem,
    localities_level,
    overdue_units,
    slides,
    with_workbook,
)
from kpi.pack_excel import write_pack_xlsx

MAY = periods.month(2024, 5)
SAMPLE_FILES = ("ho_so_2025_q1.csv.gz", "ho_so_2025_q2.csv.gz", "ho_so_2025_q3.csv.gz", "ho_so_2025_q4.csv.gz")


# --- a hand-made store ------------------------------------------------------------------------------

SO_A = {"agency_name": "Sở A", "agency_level": "province", "district": "Huyện Một", "commune": "Xã Một"}
SO_B = {"agency_name": "Sở B", "agency_level": "province", "district": "Huyện Hai", "commune": "Xã Hai"}
UB_X = {"agency_name": "UBND Xã Hai", "agency_level": "commune", "district": "Huyện Hai", "commune": "Xã Hai"}


def dossiers() -> list[dict[str, object]]:
    return [
        # Sở A: one on time, one 3 days late (procedure P1), one in progress and overdue at 31/05 (11 days)
        row("2024-05-02", 10, due="2024-05-10", finished="2024-05-08", procedure_code="P1", **SO_A),
        row("2024-05-03", 10, due="2024-05-10", finished="2024-05-13", procedure_code="P1", **SO_A),
        row("2024-05-04", 4, due="2024-05-20", procedure_code="P2", **SO_A),
        # Sở B: two on time (P2), one 10 days late (P1), one carried over from April, overdue at 31/05 (6 days)
        row("2024-05-05", 10, due="2024-05-15", finished="2024-05-14", procedure_code="P2", **SO_B),
        row("2024-05-06", 10, due="2024-05-10", finished="2024-05-20", procedure_code="P1", **SO_B),
        row("2024-05-07", 10, due="2024-05-10", finished="2024-05-09", procedure_code="P2", **SO_B),
        row("2024-04-20", 4, due="2024-05-25", procedure_code="P1", **SO_B),
        # a commune's own agency: on time, and one in progress within its deadline
        row("2024-05-10", 10, due="2024-05-20", finished="2024-05-15", procedure_code="P3", **UB_X),
        row("2024-05-28", 4, due="2024-06-05", procedure_code="P3", **UB_X),
    ]


@pytest.fixture(scope="module")
def small() -> duckdb.DuckDBPyConnection:
    con = small_store(dossiers())
    con.execute("UPDATE dossiers SET procedure_name = 'Thủ tục ' || procedure_code")
    return con


def test_small_store_by_hand(small) -> None:
    pack = build_pack(small, MAY)
    on_time = pack.headline.set_index("metric").loc["on_time_rate"]
    assert (on_time["numerator"], on_time["denominator"]) == (4, 6)  # r1, r4, r6, r8 of six resolved
    # departments: the province-level agencies only (as the Departments page ranks them by default)
    assert pack.departments.attrs["agency_level"] == "province"
    assert pack.departments[["group", "numerator", "denominator", "rank"]].values.tolist() == [
        ["Sở B", 2, 3, 1], ["Sở A", 1, 2, 2]]
    assert pack.localities_level == "district"
    assert pack.localities[["group", "numerator", "denominator", "rank"]].values.tolist() == [
        ["Huyện Hai", 3, 4, 1], ["Huyện Một", 1, 2, 2]]
    assert pack.late_procedures.values.tolist() == [["P1", "Thủ tục P1", 2, 3, pytest.approx(1 / 3)]]
    assert list(pack.overdue.columns) == list(OVERDUE_COLUMNS)
    assert pack.overdue[["agency_name", "procedure_code", "days_late"]].values.tolist() == [
        ["Sở A", "P2", 11], ["Sở B", "P1", 6]]
    assert sorted(pack.late["days_late"]) == [3, 10]
    assert pack.scope_vi == "Toàn tỉnh" and pack.scope_en == "Whole province"
    assert file_stem(pack) == "bao-cao-cchc_2024-05_toan-tinh"
    assert set(pack.form06) == {"sector", "agency", "district"}


def test_headline_rankings_and_lists_are_the_engines(small) -> None:
    pack = build_pack(small, MAY)
    _assert_pack_is_the_engines(small, pack, MAY, {})


def test_without_the_workbook_frames_until_asked(small, tmp_path: Path) -> None:
    full = build_pack(small, MAY)
    light = build_pack(small, MAY, workbook=False)
    assert light.late is None and light.form06 is None
    assert light.late_count == full.late_count == len(full.late) == count_late_dossiers(small, MAY,
                                                                                         kind="resolved_late")
    with pytest.raises(ValueError, match="workbook"):
        write_pack_xlsx(light, tmp_path / "light.xlsx")
    completed = with_workbook(small, light)
    pd.testing.assert_frame_equal(completed.late, full.late)
    assert completed.form06.keys() == full.form06.keys()
    for by, rows in full.form06.items():
        pd.testing.assert_frame_equal(completed.form06[by], rows)
    pd.testing.assert_frame_equal(completed.headline, full.headline)


def test_scope_by_district_and_by_agency(small) -> None:
    district = build_pack(small, MAY, {"district": "Huyện Hai"})
    assert district.scope_vi == "Huyện Hai" and district.filters_vi == "Quận/Huyện: Huyện Hai"
    assert district.departments.attrs["agency_level"] is None  # a district's pack ranks every agency there
    assert district.departments["group"].tolist() == ["UBND Xã Hai", "Sở B"]
    assert district.localities_level == "commune" and district.localities["group"].tolist() == ["Xã Hai"]
    assert district.overdue["dossier_code"].tolist() == late_dossiers(
        small, MAY, kind="overdue_in_progress", where={"district": "Huyện Hai"})["dossier_code"].tolist()
    _assert_pack_is_the_engines(small, district, MAY, {"district": "Huyện Hai"})

    agency = build_pack(small, MAY, {"agency": "Sở A"})
    assert agency.scope_vi == "Sở A" and file_stem(agency) == "bao-cao-cchc_2024-05_so-a"
    assert agency.departments["group"].tolist() == ["Sở A"]
    assert agency.late_procedures["resolved_late"].tolist() == [1]
    _assert_pack_is_the_engines(small, agency, MAY, {"agency": "Sở A"})


def test_a_district_after_the_reform_is_refused(small) -> None:
    with pytest.raises(ValueError, match="district"):
        build_pack(small, periods.month(2025, 8), {"district": "Huyện Hai"})
    with pytest.raises(ValueError, match="unknown filter"):
        build_pack(small, MAY, {"month": "2024-05"})


def test_an_empty_period_gives_empty_frames(small) -> None:
    pack = build_pack(small, periods.month(2023, 1))
    assert pack.departments.empty and pack.localities.empty and pack.late_procedures.empty
    assert pack.overdue.empty and pack.late.empty and pack.below_target.empty
    assert pack.headline["value"].isna().all() and len(pack.headline) == len(METRICS)
    assert figures(pack) == {}
    kinds = [s.kind for s in slides(pack)]
    assert kinds[0] == "cover" and kinds.count("kpi") == len(views.HEADLINE_METRICS)


def test_followups_are_for_report(small) -> None:
    con = small_store(dossiers())
    followups.add_followup(con, period=periods.month(2024, 4), unit_dimension="agency", unit="Sở A",
                           metric_id="on_time_rate", task="Giảm hồ sơ trễ hạn", owner="Phó giám đốc",
                           due_date=periods.month(2024, 6).end)
    pack = build_pack(con, MAY)
    expected = followups.for_report(con, MAY, {})
    assert len(pack.followups) == 1
    pd.testing.assert_frame_equal(pack.followups, expected)
    assert pack.followups.iloc[0]["value_now"] == pytest.approx(0.5)  # Sở A: 1 of 2 on time in May
    screen = next(s for s in slides(pack) if s.kind == "followups")
    assert screen.values["tasks"] == 1 and "Sở A" in screen.table.iloc[:, 0].tolist()


def test_slides_carry_the_packs_numbers(small) -> None:
    pack = build_pack(small, MAY)
    screens = slides(pack)
    assert [s.kind for s in screens] == ["cover", *["kpi"] * len(views.HEADLINE_METRICS), "index766", "departments",
                                         "localities", "below_target", "late_procedures", "overdue", "followups"]
    _assert_slides(pack, screens, "vi")
    english = slides(pack, "en")
    assert english[1].title == METRICS[0].label_en and "Numerator" in english[1].detail_text
    _assert_slides(pack, english, "en")


def _assert_slides(pack, screens, lang: str) -> None:
    headline = pack.headline.set_index("metric")
    for screen, metric_id in zip(screens[1:], views.HEADLINE_METRICS, strict=False):
        assert screen.metric_id == metric_id
        row_ = headline.loc[metric_id]
        assert screen.values["value"] == row_["value"] and screen.values["numerator"] == row_["numerator"]
        assert screen.value_text == format_value(row_["value"], row_["unit"], lang)
        assert f"{format_int(row_['numerator'])} / {format_int(row_['denominator'])}" in screen.detail_text
    by_kind = {s.kind: s for s in screens}
    assert by_kind["departments"].values["units"] == len(pack.departments)
    assert by_kind["departments"].values["best"] == pack.departments.iloc[0]["group"]
    assert len(by_kind["departments"].table) == len(pack.departments)
    assert by_kind["overdue"].values["overdue"] == len(pack.overdue)
    units = overdue_units(pack)
    assert by_kind["overdue"].table.iloc[:, 1].tolist() == [format_int(v) for v in units["overdue"]]
    assert by_kind["late_procedures"].values["late"] == int(pack.late_procedures["resolved_late"].sum())
    assert by_kind["below_target"].values["red"] == int((pack.below_target["status"] == "red").sum())
    assert set(figures(pack, lang)) <= {"departments", "localities", "index766"}
    if not pack.departments.empty:
        assert list(by_kind["departments"].figure.data[0].y)[-1] == pack.departments.iloc[-1]["group"]


# --- the engine, for any pack -----------------------------------------------------------------------


def _assert_pack_is_the_engines(con, pack, period, where) -> None:
    pd.testing.assert_frame_equal(pack.headline, kpi_table(con, period, where=where))
    pd.testing.assert_frame_equal(pack.index766, estimate_766(con, period, where=where))
    level = pack.departments.attrs["agency_level"]
    agency_where = {**where, "agency_level": level} if level else where
    for frame, by, rank_where in ((pack.departments, "agency", agency_where),
                                  (pack.localities, pack.localities_level, where)):
        table = kpi_table(con, period, by=by, where=rank_where, metrics=views.HEADLINE_METRICS)
        ranks = rank_groups(table, "on_time_rate")
        ranks = ranks[ranks["rank"].notna()].reset_index(drop=True)
        assert list(frame.columns) == list(RANKING_COLUMNS)
        assert frame["group"].tolist() == ranks["group"].tolist()
        assert frame["rank"].tolist() == ranks["rank"].tolist()
        assert frame["value"].tolist() == ranks["value"].tolist()
        rows = table[table["metric"] == "on_time_rate"].set_index("group")
        assert frame["numerator"].tolist() == [rows.loc[g, "numerator"] for g in frame["group"]]
        assert frame["denominator"].tolist() == [rows.loc[g, "denominator"] for g in frame["group"]]
        assert frame["status"].tolist() == [rows.loc[g, "status"] for g in frame["group"]]
        below = review.below_target(table)
        mine = pack.below_target[pack.below_target["level"] == by].drop(columns="level").reset_index(drop=True)
        assert mine[["group", "metric", "value", "status"]].values.tolist() == \
            below[["group", "metric", "value", "status"]].values.tolist()
    assert localities_level(period, where) == pack.localities_level

    counts = dossier_counts(con, period, by="procedure", where=where).set_index("group")
    for record in pack.late_procedures.to_dict("records"):
        code = record["procedure_code"]
        assert record["resolved_late"] == counts.loc[code, "resolved_late"]
        assert record["resolved_late"] == count_late_dossiers(con, period, where={**where, "procedure": code})
        assert record["resolved"] == counts.loc[code, "resolved"]
    late = counts["resolved_late"].sort_values(ascending=False)
    assert pack.late_procedures["resolved_late"].tolist() == late[late > 0].head(15).tolist()

    total = dossier_counts(con, period, where=where).iloc[0]
    overdue = late_dossiers(con, period, kind="overdue_in_progress", where=where, limit=10**9)
    assert len(pack.overdue) == total["in_progress_overdue"] == len(overdue)
    assert sorted(pack.overdue["dossier_code"]) == sorted(overdue["dossier_code"])
    assert pack.overdue["agency_name"].fillna("\uffff").is_monotonic_increasing
    per_unit = overdue_units(pack).set_index("agency_name")["overdue"]
    engine = dossier_counts(con, period, by="agency", where=where).set_index("group")["in_progress_overdue"]
    assert {k: v for k, v in per_unit.items() if k is not None} == \
        {k: v for k, v in engine.items() if v > 0 and k is not None}
    assert len(pack.late) == total["resolved_late"]
    late_list = late_dossiers(con, period, kind="resolved_late", where=where, limit=10**9)
    assert pack.late["dossier_code"].tolist() == late_list["dossier_code"].tolist()
    for by, rows in pack.form06.items():
        pd.testing.assert_frame_equal(rows, form06_rows(con, period, by=by, where=where))


# --- the bundled sample -----------------------------------------------------------------------------


def sample_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four 2025 sample exports (before, across and after the reform) imported once per test session;
    each caller copies it."""
    path = tmp_path_factory.getbasetemp() / "pack-sample.duckdb"
    if not path.exists():
        building = path.with_suffix(".building")
        con = db.connect(building)
        try:
            outcomes = ingest_files(con, [db.SAMPLE_DIR / name for name in SAMPLE_FILES])
        finally:
            con.close()
        assert all(o.result is not None for o in outcomes)
        building.rename(path)
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    copy = tmp_path_factory.mktemp("pack") / "sample.duckdb"
    shutil.copy(sample_store_path(tmp_path_factory), copy)
    con = db.connect(copy)
    yield con
    con.close()


@pytest.mark.parametrize(("period", "where"), [
    (periods.month(2025, 5), {}),
    (periods.quarter(2025, 3), {}),
    (periods.half_year(2025, 1), {"district": "Huyện Ba Vì"}),
    (periods.year(2025), {"agency": "Sở Xây dựng"}),
    (periods.quarter(2025, 4), {"commune": "Xã Trung Giã"}),
])
def test_sample_pack_is_the_engines(sample, period, where) -> None:
    pack = build_pack(sample, period, where)
    assert not pack.headline["value"].isna().all() and not pack.late.empty
    _assert_pack_is_the_engines(sample, pack, period, where)
    _assert_slides(pack, slides(pack), "vi")
    assert file_stem(pack).isascii()


def test_sample_rankings_levels(sample) -> None:
    before = build_pack(sample, periods.quarter(2025, 2))
    assert before.localities_level == "district" and len(before.localities) == 30
    assert before.departments.attrs["agency_level"] == "province" and len(before.departments) == 15
    after = build_pack(sample, periods.quarter(2025, 3))
    assert after.localities_level == "commune" and set(after.form06) == {"sector", "agency", "commune"}
    assert set(figures(after)) == {"departments", "localities", "index766"}
    assert len(figures(after)["localities"].data[0].y) == min(len(after.localities), 40)
