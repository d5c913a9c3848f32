"""KPI targets set in the dashboard (kpi/targets.py, the store's kpi_targets): the engine applies them wherever
no targets are passed (kpi_table, the meeting pack, the CLI), a unit's own target to its group, None as "no
target", a reset returns to the registry default, an explicit `targets=` still wins, and a store without the
table reads as before. Then the Targets page (pages/chi_tieu.py): an administrator's change shows in its table,
the audit log and the Overview's status; a unit user sees the table only, and ui.write_target refuses them.

The store: May 2024, Sở A 8 of 10 dossiers on time, Sở B 10 of 10 (whole province 18/20 = 90%, below the
default 98%)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from apptest import ADMIN, app_test
from conftest import PROJECT_ROOT
from kpi_rows import insert, row, small_store, store_file
from streamlit.testing.v1 import AppTest

from kpi import appdb, audit, db, periods, targets
from kpi.engine import Targets, kpi_table, kpi_value
from kpi.formatting import md_escape
from kpi.metrics import METRICS, metric
from kpi.pack import build_pack

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "pages" / "chi_tieu.py"
MAY = periods.month(2024, 5)
MAY_PARAMS = {"ky": "month", "nam": "2024", "so": "5"}
SO_A, SO_B = "Sở A", "Sở B"
DEFAULT = metric("on_time_rate").default_target  # 0.98


def resolved(agency: str, late: bool) -> dict:
    return row("2024-05-02", 10, due="2024-05-10", finished="2024-05-20" if late else "2024-05-06",
               province="Tỉnh Thử", agency_name=agency, agency_level="province")


ROWS = [*(resolved(SO_A, late=i < 2) for i in range(10)), *(resolved(SO_B, late=False) for _ in range(10))]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = small_store(ROWS)
    yield con
    con.close()


def on_time(con: duckdb.DuckDBPyConnection, **options: object) -> dict:
    return kpi_value(con, MAY, "on_time_rate", **options)


def by_agency(con: duckdb.DuckDBPyConnection, **options: object) -> dict[str, tuple[float | None, str | None]]:
    frame = kpi_table(con, MAY, by="agency", metrics=["on_time_rate"], **options)
    return {r["group"]: (r["target"], r["status"]) for r in frame.to_dict("records")}


# --- the engine ---------------------------------------------------------------------------------------------


def test_a_stored_target_changes_the_target_and_status(con):
    before = on_time(con)
    assert (before["value"], before["target"], before["status"]) == (0.9, DEFAULT, "red")
    change = targets.set_target(con, "on_time_rate", 0.9, by=ADMIN)
    assert change == targets.TargetChange("on_time_rate", "", DEFAULT, 0.9)
    after = on_time(con)
    assert (after["value"], after["target"], after["status"]) == (0.9, 0.9, "green")
    targets.set_target(con, "on_time_rate", "93%", by=ADMIN)  # within 5 points above the value: amber
    assert (on_time(con)["target"], on_time(con)["status"]) == (0.93, "amber")
    # the other KPIs keep their defaults
    days = kpi_value(con, MAY, "avg_days_to_resolve")
    assert days["target"] == metric("avg_days_to_resolve").default_target


def test_a_unit_target_applies_to_its_group_only(con):
    assert by_agency(con) == {SO_A: (DEFAULT, "red"), SO_B: (DEFAULT, "green")}
    targets.set_target(con, "on_time_rate", "80%", unit=f"  {SO_A} ", by=ADMIN)  # stored trimmed
    assert by_agency(con) == {SO_A: (0.8, "green"), SO_B: (DEFAULT, "green")}
    assert on_time(con)["target"] == DEFAULT  # the whole province keeps the KPI's target
    targets.set_target(con, "on_time_rate", 0.95, by=ADMIN)  # every unit's, under Sở A's own
    assert by_agency(con) == {SO_A: (0.8, "green"), SO_B: (0.95, "green")}
    assert Targets.from_store(con) == Targets({"on_time_rate": 0.95}, {(SO_A, "on_time_rate"): 0.8})


def test_none_removes_the_target(con):
    targets.set_target(con, "on_time_rate", None, unit=SO_A, by=ADMIN)
    assert by_agency(con) == {SO_A: (None, None), SO_B: (DEFAULT, "green")}
    change = targets.set_target(con, "on_time_rate", None, by=ADMIN)
    assert (change.old, change.new) == (DEFAULT, None)
    assert (on_time(con)["target"], on_time(con)["status"]) == (None, None)
    stored = targets.stored_targets(con)
    assert stored[["metric", "unit", "target", "default", "updated_by"]].to_dict("records") == [
        {"metric": "on_time_rate", "unit": "", "target": None, "default": DEFAULT, "updated_by": ADMIN},
        {"metric": "on_time_rate", "unit": SO_A, "target": None, "default": DEFAULT, "updated_by": ADMIN}]


def test_reset_returns_to_the_default(con):
    targets.set_target(con, "on_time_rate", 0.9, by=ADMIN)
    targets.set_target(con, "on_time_rate", 0.7, unit=SO_A, by=ADMIN)
    change = targets.reset_target(con, "on_time_rate", unit=SO_A, by=ADMIN)
    assert change == targets.TargetChange("on_time_rate", SO_A, 0.7, 0.9)  # back to the KPI's target for all
    change = targets.reset_target(con, "on_time_rate", by=ADMIN)
    assert change == targets.TargetChange("on_time_rate", "", 0.9, DEFAULT)
    assert targets.stored_targets(con).empty
    assert on_time(con)["target"] == DEFAULT and by_agency(con)[SO_A] == (DEFAULT, "red")


def test_an_explicit_targets_argument_wins(con):
    targets.set_target(con, "on_time_rate", 0.9, by=ADMIN)
    assert on_time(con, targets=Targets({"on_time_rate": 0.5}))["target"] == 0.5
    assert on_time(con, targets=Targets())["target"] == DEFAULT  # an explicit empty set: the registry defaults


def test_the_pack_and_followups_apply_the_stored_targets(con):
    targets.set_target(con, "on_time_rate", 0.9, by=ADMIN)
    pack = build_pack(con, MAY, workbook=False)
    headline = pack.headline.set_index("metric")
    assert (headline.at["on_time_rate", "target"], headline.at["on_time_rate", "status"]) == (0.9, "green")
    assert build_pack(con, MAY, targets=Targets(), workbook=False).headline.set_index("metric").at[
        "on_time_rate", "target"] == DEFAULT


def test_no_rows_and_no_table_read_as_the_registry_defaults(con, tmp_path):
    expected = kpi_table(con, MAY, by="agency", targets=Targets())
    pd.testing.assert_frame_equal(kpi_table(con, MAY, by="agency"), expected)  # the table, empty
    assert targets.revision(con) == (0, 0)
    # a store from before the table, opened read-only (as the dashboard's readers open it)
    path = tmp_path / "older.duckdb"
    older = db.connect(path)
    insert(older, ROWS)
    older.execute("DROP TABLE kpi_targets")
    older.close()
    reader = db.connect(path, read_only=True)
    try:
        assert not db.schema_current(reader)
        assert Targets.from_store(reader) == Targets()
        pd.testing.assert_frame_equal(kpi_table(reader, MAY, by="agency"), expected)
        assert targets.revision(reader) == (0, 0) and targets.stored_targets(reader).empty
        assert len(targets.targets_table(reader)) == len(METRICS)
    finally:
        reader.close()
    # asking for the table leaves a writer's transaction usable
    con.execute("DROP TABLE kpi_targets")
    con.execute("BEGIN")
    pd.testing.assert_frame_equal(kpi_table(con, MAY, by="agency"), expected)
    con.execute("COMMIT")


def test_the_revision_changes_with_every_write(con):
    """Every write gives a revision not seen before, unless it returns the targets to an earlier state exactly
    (a reset of the latest row): then the cached results of that state are the right ones."""
    revisions = [targets.revision(con)]
    for day, (metric_id, value) in enumerate([("on_time_rate", 0.9), ("on_time_rate", 0.95),
                                              ("avg_days_to_resolve", 4)], start=1):
        targets.set_target(con, metric_id, value, by=ADMIN, now=datetime(2026, 1, day))
        assert targets.revision(con) not in revisions
        revisions.append(targets.revision(con))
    targets.reset_target(con, "avg_days_to_resolve", by=ADMIN)
    assert targets.revision(con) == revisions[2]  # on_time_rate 0.95 alone, as after the second write
    targets.reset_target(con, "on_time_rate", by=ADMIN)
    assert targets.revision(con) == revisions[0] == (0, 0)


def test_percent_text_and_days_are_read_as_stored(con):
    assert targets.set_target(con, "on_time_rate", "98,5%", by=ADMIN).new == pytest.approx(0.985)
    assert targets.set_target(con, "on_time_rate", " 0.97 ", by=ADMIN).new == 0.97
    assert targets.set_target(con, "avg_days_to_resolve", "4,5", by=ADMIN).new == 4.5
    assert targets.entered("on_time_rate", 98.3) == 0.983 and targets.entered("avg_days_to_resolve", 4) == 4.0
    assert targets.shown("on_time_rate", 0.983) == 98.3 and targets.form_value("progress_766", None) == 0.0


@pytest.mark.parametrize(("metric_id", "value", "unit", "by", "vi"), [
    ("no_such_kpi", 0.9, "", ADMIN, "Không có chỉ số"),
    ("on_time_rate", 98, "", ADMIN, "tỷ lệ từ 0% đến 100%"),  # a percent given as a ratio
    ("on_time_rate", "120%", "", ADMIN, "tỷ lệ từ 0% đến 100%"),
    ("on_time_rate", -0.1, "", ADMIN, "tỷ lệ từ 0% đến 100%"),
    ("on_time_rate", float("nan"), "", ADMIN, "tỷ lệ từ 0% đến 100%"),
    ("on_time_rate", "cao", "", ADMIN, "tỷ lệ từ 0% đến 100%"),
    ("on_time_rate", True, "", ADMIN, "tỷ lệ từ 0% đến 100%"),
    ("avg_days_to_resolve", 0, "", ADMIN, "số ngày lớn hơn 0"),
    ("avg_days_to_resolve", "5%", "", ADMIN, "số ngày lớn hơn 0"),
    ("avg_days_to_resolve", float("inf"), "", ADMIN, "số ngày lớn hơn 0"),
    ("on_time_rate", 0.9, "x" * 201, ADMIN, "dài quá"),
    ("on_time_rate", 0.9, "Sở\x00A", ADMIN, "ký tự điều khiển"),
    ("on_time_rate", 0.9, "", " ", "người thay đổi"),
])
def test_invalid_targets_are_refused_in_both_languages(con, metric_id, value, unit, by, vi):
    with pytest.raises(targets.TargetError) as caught:
        targets.set_target(con, metric_id, value, unit=unit, by=by)
    assert vi in caught.value.vi and caught.value.en and caught.value.en != caught.value.vi
    assert targets.stored_targets(con).empty


def test_the_cli_applies_the_stored_targets_unless_given_a_file(tmp_path):
    path = tmp_path / "cli.duckdb"
    store = db.connect(path)
    insert(store, ROWS)
    targets.set_target(store, "on_time_rate", 0.9, by=ADMIN)
    store.close()
    file = tmp_path / "targets.csv"
    file.write_text("metric,unit,target\non_time_rate,,50%\n", encoding="utf-8")

    def target(*extra: object) -> float | None:
        done = subprocess.run([sys.executable, "-m", "kpi", "kpis", "--db", str(path), "--from", "2024-05-01",
                               "--to", "2024-05-31", "--format", "json", *map(str, extra)], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, encoding="utf-8", timeout=120)
        assert done.returncode == 0, done.stderr
        return next(r for r in json.loads(done.stdout) if r["metric"] == "on_time_rate")["target"]

    assert target() == 0.9
    assert target("--targets", file) == 0.5


# --- the Targets page ---------------------------------------------------------------------------------------


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = store_file(tmp_path / "targets.duckdb", ROWS)
    monkeypatch.setenv(db.DB_ENV, str(path))
    yield path


def targets_shown(at: AppTest) -> list[dict[str, str]]:
    """The targets table's rows as shown (Vietnamese headers)."""
    [table] = [e.value for e in at.dataframe if list(e.value.columns)[:2] == ["Chỉ số", "Áp dụng cho"]]
    return table.to_dict("records")


def shown_row(at: AppTest, unit: str = "Toàn tỉnh") -> dict[str, str]:
    return next(r for r in targets_shown(at) if r["Chỉ số"] == "Tỷ lệ giải quyết đúng hạn (%)"
                and r["Áp dụng cho"] == unit)


def save(at: AppTest, value: float | None, unit: str = "") -> AppTest:
    at.selectbox(key="tg-metric").set_value("on_time_rate")
    at.selectbox(key="tg-unit").set_value(unit).run()
    if value is None:
        at.checkbox(key="tg-none").check()
    else:
        at.number_input(key="tg-value").set_value(value)
    at.button(key="tg-save").click()
    return at.run()


def overview_badges(path: Path) -> list[str]:
    """The Overview's on-time tile: its status and target badge (st.badge, Markdown), none without a target."""
    at = app_test(ROOT / "pages" / "tong_quan.py", **MAY_PARAMS)
    assert not at.exception, at.exception
    [tile] = [c for c in at.columns if [m.label for m in c.metric] == [metric("on_time_rate").label_vi]]
    return [m.value for m in tile.markdown if "-badge[" in m.value]


def test_an_administrator_sets_a_target_shown_audited_and_applied(store_path):
    assert overview_badges(store_path) == [":red-badge[Chưa đạt · Mục tiêu 98,00%]"]  # 90% against 98%
    at = app_test(PAGE, **MAY_PARAMS)
    assert not at.exception, at.exception
    assert at.title[0].value == "Chỉ tiêu"
    assert (shown_row(at)["Chỉ tiêu"], shown_row(at)["Người thay đổi"]) == ("≥ 98,00%", "")
    assert at.selectbox(key="tg-unit").options == ["Toàn tỉnh", SO_A, SO_B]
    assert at.number_input(key="tg-value").value == 98.0
    at = save(at, 90.0)
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    change = targets.TargetChange("on_time_rate", "", DEFAULT, 0.9)
    assert [s.value for s in at.success] == [md_escape("Đã lưu: " + targets.change_text(change))]
    assert (shown_row(at)["Chỉ tiêu"], shown_row(at)["Mặc định"], shown_row(at)["Người thay đổi"]) == (
        "≥ 90,00%", "≥ 98,00%", ADMIN)
    [event] = audit.events(appdb.app_db_path(store_path), action="target_change").to_dict("records")
    assert (event["actor"], event["target"], event["outcome"]) == (ADMIN, "on_time_rate", "ok")
    assert json.loads(event["detail"]) == {"change": "set_target", "old": DEFAULT, "new": 0.9}
    # the Overview's cached figures follow the new target at once
    assert overview_badges(store_path) == [":green-badge[Đạt · Mục tiêu 90,00%]"]
    # a unit's own target, then none for the whole province, then back to the default
    at = save(at, 80.0, unit=SO_A)
    assert shown_row(at, SO_A)["Chỉ tiêu"] == "≥ 80,00%"
    at = save(at, None)
    assert shown_row(at)["Chỉ tiêu"] == "Không có chỉ tiêu"
    assert overview_badges(store_path) == []
    at.selectbox(key="tg-unit").set_value("").run()
    at.button(key="tg-reset").click().run()
    assert not at.exception and shown_row(at)["Chỉ tiêu"] == "≥ 98,00%"
    con = db.connect(store_path, read_only=True)
    try:
        assert Targets.from_store(con) == Targets({}, {(SO_A, "on_time_rate"): 0.8})
    finally:
        con.close()
    events = audit.events(appdb.app_db_path(store_path), action="target_change")
    assert events["target"].tolist() == ["on_time_rate", "on_time_rate", f"on_time_rate · {SO_A}", "on_time_rate"]


def test_a_refused_value_says_why_and_stores_nothing(store_path):
    at = app_test(PAGE, **MAY_PARAMS)
    at.selectbox(key="tg-metric").set_value("avg_days_to_resolve").run()
    assert at.checkbox(key="tg-none").value  # no default target for this KPI
    assert at.number_input(key="tg-value").value == 0.0
    at.checkbox(key="tg-none").uncheck()
    at.button(key="tg-save").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [md_escape("Thời gian giải quyết trung bình (avg_days_to_resolve): chỉ tiêu "
                                                     "là số ngày lớn hơn 0, không phải 0.0.")]
    assert audit.events(appdb.app_db_path(store_path), action="target_change").empty


def test_english_labels(store_path):
    at = app_test(PAGE, "en", **MAY_PARAMS)
    assert not at.exception
    assert at.title[0].value == "Targets"
    assert at.selectbox(key="tg-unit").options[0] == "Every unit"


UNIT = "so-a@egov-kpi.test"


def test_a_unit_user_sees_the_table_but_cannot_change_targets(store_path, tmp_path):
    at = app_test(PAGE, user=UNIT, role="unit", units=(SO_A,), **MAY_PARAMS)
    assert not at.exception, at.exception
    assert shown_row(at)["Chỉ tiêu"] == "≥ 98,00%"
    assert not [s for s in at.selectbox if s.key and s.key.startswith("tg-")] and not at.number_input
    assert any("Chỉ quản trị viên" in c.value for c in at.caption)
    # ui.write_target itself refuses them (a widget reached another way), and the refusal is recorded
    script = tmp_path / "write.py"
    script.write_text("import streamlit as st\nfrom kpi import targets, ui\nui.caller()\n"
                      "change, error = ui.write_target(targets.set_target, 'on_time_rate', 0.5)\n"
                      "st.text(error or 'saved')\n", encoding="utf-8")
    at = app_test(script, user=UNIT, role="unit", units=(SO_A,))
    assert not at.exception, at.exception
    assert "thay đổi chỉ tiêu" in at.text[0].value
    con = db.connect(store_path, read_only=True)
    try:
        assert targets.stored_targets(con).empty
    finally:
        con.close()
    events = audit.events(appdb.app_db_path(store_path), actor=UNIT)
    assert "target_change" not in set(events["action"])
    assert ("refused", "set_target") in set(zip(events["action"], events["target"], strict=True))
