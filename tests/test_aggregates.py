"""The pre-aggregated KPI tables (kpi.aggregates): the engine reading them gives exactly what it computes from
the dossiers themselves (source="dossiers", the per-dossier states), on random stores, for every grouping,
period shape, on-time rule, filter and scope; imports keep them current, and a failed import leaves them as
they were."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from conftest import dossier, snapshot, write_export
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_rows import insert, row, small_store

from kpi import db, importer, periods
from kpi.aggregates import (
    AGGREGATES_DEFINITION,
    DIMENSION_COLUMNS,
    OPEN_MEASURES,
    TABLES,
    AggregateState,
    aggregate_state,
    ensure_aggregates,
    refresh_aggregates,
)
from kpi.engine import Scope, dossier_counts, kpi_table
from kpi.importer import ingest_file
from kpi.metrics import METRICS

_DAY0 = date(2024, 1, 1)
_SPAN = (date(2025, 10, 31) - _DAY0).days  # both locality eras (the reform is on 1 July 2025)


def _at(day: int, hour: int) -> str:
    return f"{(_DAY0 + timedelta(days=day)).isoformat()} {hour:02d}:00"


@st.composite
def dossiers(draw: st.DrawFn) -> dict:
    # mostly around the periods tested (spring 2024, summer 2025), some anywhere in the two years
    received = draw(st.one_of(st.integers(30, 215), st.integers(490, 640), st.integers(0, _SPAN)))
    near = st.integers(-6, 45)  # end dates may come before the received date
    moment = lambda: st.one_of(st.none(), st.tuples(near, st.integers(0, 23)).map(  # noqa: E731
        lambda d: _at(received + d[0], d[1])))
    after_reform = _DAY0 + timedelta(days=received) >= date(2025, 7, 1)
    return row(
        _at(received, draw(st.integers(0, 23))), draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9, 10, 4])),
        due=draw(moment()), finished=draw(moment()), returned=draw(moment()),
        province=draw(st.sampled_from(["Thành phố Hà Nội", None])),
        district=None if after_reform else draw(st.sampled_from(["Quận Ba Đình", "Huyện Sóc Sơn", None, " "])),
        commune=draw(st.sampled_from(["Phường Láng", "Xã Sóc Sơn", "Phường Bồ Đề", None])),
        agency_name=draw(st.sampled_from(["Sở A", "Sở B", "UBND xã C", None, "  "])),
        agency_level=draw(st.sampled_from(["province", "commune", None])),
        sector=draw(st.sampled_from(["Hộ tịch", "Đất đai", None])),
        procedure_code=draw(st.sampled_from(["1.000001", "1.000002", "1.000003", "2.000001"])),
        channel=draw(st.sampled_from(["direct", "online", "postal"])),
        service_level=draw(st.sampled_from(["full_online", "partial_online", "offline", None])),
        supplement_count=draw(st.one_of(st.none(), st.integers(0, 3))),
        fee_vnd=draw(st.sampled_from([None, 0, 50_000])),
        paid_online=draw(st.sampled_from([None, True, False])),
        digitized=draw(st.sampled_from([None, True, False])), e_result=draw(st.sampled_from([None, True, False])),
        rating=draw(st.sampled_from([None, "very_satisfied", "satisfied", "dissatisfied"])),
    )


BEFORE = [periods.month(2024, 5), periods.quarter(2024, 2), periods.custom(date(2024, 3, 7), date(2024, 4, 19)),
          periods.year(2024), periods.custom(date(2025, 2, 27), date(2025, 3, 1))]
ANY = [periods.month(2025, 8), periods.custom(date(2025, 6, 15), date(2025, 9, 2)), periods.half_year(2025, 2)]
WHERE = [None, {"channel": "online"}, {"agency": [None, "Sở B"]}, {"commune": "Phường Láng", "sector": "Hộ tịch"}]
SCOPES = [None, Scope(agencies={"Sở A"}, communes={"Xã Sóc Sơn"}), Scope(districts={"Quận Ba Đình"})]


def snapshots_are_running_deltas(con) -> None:
    """kpi_open_snapshots (built from the dossiers' intervals) holds, at every month end it covers, the running
    totals of kpi_open_deltas, the rule the engine counts by."""
    state = con.execute("SELECT first_month_end, last_month_end FROM aggregate_state").fetchone()
    if state[0] is None:
        assert con.execute("SELECT count(*) FROM kpi_open_snapshots").fetchone()[0] == 0
        return
    dims = ", ".join(DIMENSION_COLUMNS)
    sums = ", ".join(f"sum({m})::INTEGER" for m in OPEN_MEASURES)
    nonzero = " OR ".join(f"sum({m}) <> 0" for m in OPEN_MEASURES)
    running = (
        "WITH ends AS (SELECT last_day(unnest(range(date_trunc('month', $first), "
        "date_trunc('month', $last) + INTERVAL 1 MONTH, INTERVAL 1 MONTH)))::DATE AS month_end) "
        f"SELECT e.month_end, {dims}, {sums} FROM ends e JOIN kpi_open_deltas d ON d.day <= e.month_end "
        f"GROUP BY e.month_end, {dims} HAVING {nonzero}"
    )
    stored = "SELECT * FROM kpi_open_snapshots"
    differ = con.execute(f"SELECT count(*) FROM (({running}) EXCEPT ALL ({stored})) UNION ALL "
                         f"SELECT count(*) FROM (({stored}) EXCEPT ALL ({running}))",
                         {"first": state[0], "last": state[1]}).fetchall()
    assert differ == [(0,), (0,)]


def same_frames(con, period, **options) -> None:
    mine = kpi_table(con, period, **options)
    reference = kpi_table(con, period, source="dossiers", **options)
    pd.testing.assert_frame_equal(mine, reference)
    assert mine.attrs == reference.attrs
    counts_options = {k: v for k, v in options.items() if k != "metrics"}
    pd.testing.assert_frame_equal(dossier_counts(con, period, **counts_options),
                                  dossier_counts(con, period, source="dossiers", **counts_options))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(dossiers(), max_size=25),
    st.sampled_from([(p, by) for p in BEFORE for by in (None, "district", "former_district", "month")]
                    + [(p, by) for p in BEFORE + ANY for by in ("commune", "agency", "procedure", "month")]),
    st.sampled_from(["day", "timestamp"]),
    st.sampled_from(WHERE),
    st.sampled_from(SCOPES),
)
def test_aggregates_equal_the_dossiers(scratch, rows, case, on_time_by, where, scope) -> None:
    scratch.execute("DELETE FROM dossiers")
    insert(scratch, rows)  # rebuilds the aggregates
    snapshots_are_running_deltas(scratch)
    period, by = case
    same_frames(scratch, period, by=by, on_time_by=on_time_by, where=where, scope=scope)


def test_interval_edges_at_month_ends_and_before_the_data() -> None:
    """Received on a month end, ended on the next month's first day, ended before it was received, a terminal
    dossier without end date, a supplement wait: counted at day and month boundaries as by the dossiers."""
    con = small_store([
        row("2024-04-30 23:00", 9, due="2024-05-01 08:00", finished="2024-05-01 07:00"),
        row("2024-05-31 10:00", 10, due="2024-05-31 09:00", returned="2024-06-01 08:00"),
        row("2024-05-20", 7, finished="2024-05-10"),  # ended before received: never in progress
        row("2024-05-02", 8),  # terminal without end date: in progress for ever
        row("2024-03-01", 5, supplement_count=2, due="2024-12-31"),  # overdue whatever its due date
        row("2024-05-15", 4, due="2024-05-31 17:00"),  # due on the last day: overdue by timestamp only at June 1
    ])
    snapshots_are_running_deltas(con)
    days = [date(2024, 2, 1), date(2024, 4, 30), date(2024, 5, 1), date(2024, 5, 31), date(2024, 6, 1),
            date(2030, 1, 1)]
    for start in days:
        for end in days:
            if start <= end:
                for on_time_by in ("day", "timestamp"):
                    options = {"on_time_by": on_time_by}
                    period = periods.custom(start, end)
                    pd.testing.assert_frame_equal(dossier_counts(con, period, **options),
                                                  dossier_counts(con, period, source="dossiers", **options))
    same_frames(con, periods.custom(date(2024, 4, 30), date(2024, 5, 31)), by="month")


def test_snapshot_before_a_day() -> None:
    state = AggregateState(date(2024, 1, 31), date(2024, 6, 30))
    assert state.snapshot_before(date(2024, 5, 31)) == date(2024, 5, 31)
    assert state.snapshot_before(date(2024, 5, 30)) == date(2024, 4, 30)
    assert state.snapshot_before(date(2024, 3, 1)) == date(2024, 2, 29)
    assert state.snapshot_before(date(2024, 1, 30)) is None  # before the first snapshot: deltas only
    assert state.snapshot_before(date(2031, 1, 1)) == date(2024, 6, 30)  # after the last: deltas after it
    assert AggregateState(None, None).snapshot_before(date(2024, 5, 31)) is None


def test_in_progress_rows_need_no_procedure() -> None:
    """The engine sums in-progress rows per group, channel and service level (procedure_code NULL): fine as
    long as distinct procedures are only counted among received dossiers."""
    for m in METRICS:
        for sql in (m.numerator_sql, m.denominator_sql):
            if "procedure_code" in sql:
                assert "list(procedure_code) FILTER (WHERE received > 0" in sql, m.id


# --- maintenance ------------------------------------------------------------------------------------------


def aggregate_tables(con) -> dict[str, list[tuple]]:
    tables = snapshot(con)
    return {t: tables[t] for t in (*TABLES, "aggregate_state")}


def test_imports_refresh_the_aggregates(store, tmp_path) -> None:
    may = periods.month(2024, 5)
    first = [dossier("D-1", 4, received="02/05/2024 08:00", due_at="10/05/2024"),
             dossier("D-2", 4, received="03/05/2024 08:00", due_at="20/05/2024"),
             dossier("D-3", 9, received="28/04/2024 08:00", due_at="10/05/2024", finished_at="06/05/2024")]
    ingest_file(store, write_export(tmp_path, first, name="t1.csv"))
    assert aggregate_state(store) is not None
    before = kpi_table(store, may).set_index("metric")
    assert before.at["on_time_rate", "denominator"] == 1 and before.at["progress_766", "denominator"] == 3
    # a later export: D-1 resolved late, D-2 withdrawn, a new dossier
    later = [dossier("D-1", 10, received="02/05/2024 08:00", due_at="10/05/2024", finished_at="14/05/2024"),
             dossier("D-2", 7, received="03/05/2024 08:00", due_at="20/05/2024", finished_at="04/05/2024"),
             dossier("D-4", 4, received="30/05/2024 08:00", due_at="05/06/2024")]
    ingest_file(store, write_export(tmp_path, later, name="t2.csv"))
    after = kpi_table(store, may).set_index("metric")
    assert (after.at["on_time_rate", "numerator"], after.at["on_time_rate", "denominator"]) == (1, 2)
    assert after.at["progress_766", "denominator"] == 3  # 2 resolved + D-4 in progress
    same_frames(store, may)
    same_frames(store, may, by="agency")
    tables = aggregate_tables(store)
    # the same file again changes no dossier, so the aggregates are not even rewritten
    ingest_file(store, write_export(tmp_path, later, name="t2.csv"))
    assert aggregate_tables(store) == tables


def test_failed_import_leaves_the_aggregates_unchanged(store, tmp_path, monkeypatch) -> None:
    ingest_file(store, write_export(tmp_path, [dossier("D-1", 4, received="02/05/2024 08:00")], name="t1.csv"))
    before = aggregate_tables(store)
    seen = {}
    real = importer._record_problems

    def failing(cur, *args, **kwargs):  # after the merge and the refresh, inside the transaction
        seen["daily"] = cur.execute("SELECT sum(received) FROM kpi_daily").fetchone()[0]
        real(cur, *args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_record_problems", failing)
    with pytest.raises(RuntimeError):
        ingest_file(store, write_export(tmp_path, [dossier("D-2", 4, received="03/05/2024 08:00")], name="t2.csv"))
    assert seen["daily"] == 2  # the refresh had run
    assert aggregate_tables(store) == before


def test_a_store_without_aggregates_gets_them_once(tmp_path) -> None:
    path = tmp_path / "old.duckdb"
    con = db.connect(path)
    insert(con, [row("2024-05-02", 10, due="2024-05-10", finished="2024-05-08"), row("2024-05-03")])
    for table in (*TABLES, "aggregate_state"):  # as a database from before the aggregate tables
        con.execute(f"DROP TABLE {table}")
    con.close()
    may = periods.month(2024, 5)
    read_only = db.connect(path, read_only=True)  # cannot build them: computed from the dossiers
    assert ensure_aggregates(read_only) is None
    expected = kpi_table(read_only, may)
    read_only.close()
    con = db.connect(path)  # opening applies the schema: empty tables, never built
    assert aggregate_state(con) is None
    pd.testing.assert_frame_equal(kpi_table(con, may), expected)
    assert aggregate_state(con) is not None
    assert con.execute("SELECT count(*) FROM aggregate_state").fetchone()[0] == 1
    con.execute("INSERT INTO dossiers SELECT * REPLACE ('X-1' AS dossier_code) FROM dossiers LIMIT 1")
    assert aggregate_state(con) is None  # the dossier count moved: rebuilt on the next query
    assert kpi_table(con, may).set_index("metric").at["online_dossier_rate", "denominator"] == 3
    refreshed = refresh_aggregates(con)
    assert refreshed["kpi_daily"] >= 1 and set(refreshed) >= set(TABLES)


def test_tables_built_under_older_rules_are_rebuilt(tmp_path) -> None:
    """A store whose aggregates were built before the current AGGREGATES_DEFINITION (before the column, or under
    another number) is rebuilt on first use: there, a terminal dossier resolved after the period end counted
    as "terminal without end date"."""
    path = tmp_path / "older.duckdb"
    con = db.connect(path)
    insert(con, [row("2024-05-20", 9, finished="2024-06-03", due="2024-06-30"),  # resolved in June
                 row("2024-05-04", 9, due="2024-06-30")])  # resolved status, no end date: the data to fix
    may = periods.month(2024, 5)
    assert kpi_table(con, may).attrs["data_quality"]["terminal_without_end_date"] == 1
    # as the older build left them: the June dossier counted, the column missing
    con.execute("UPDATE kpi_open_deltas SET open_terminal = open_terminal + 1 WHERE open = 1 AND day = '2024-05-20'")
    con.execute("UPDATE kpi_open_snapshots SET open_terminal = open_terminal + 1 WHERE month_end = '2024-05-31'")
    con.execute("ALTER TABLE aggregate_state DROP COLUMN definition")
    con.close()
    con = db.connect(path)  # opening adds the column, empty: not the current rules
    assert aggregate_state(con) is None
    assert kpi_table(con, may).attrs["data_quality"]["terminal_without_end_date"] == 1  # rebuilt
    assert con.execute("SELECT definition FROM aggregate_state").fetchone()[0] == AGGREGATES_DEFINITION
    con.close()


def test_a_store_of_an_earlier_definition_is_rebuilt_without_the_retired_column(tmp_path) -> None:
    """A store whose aggregate tables still have definition 2's agency_code column: the first writer rebuilds
    them under the current definition (the column dropped), and the engine's figures equal the dossiers'."""
    path = tmp_path / "old.duckdb"
    con = db.connect(path)
    for table in ("kpi_daily", "kpi_monthly", "kpi_open_deltas", "kpi_open_snapshots"):
        con.execute(f"ALTER TABLE {table} ADD COLUMN agency_code VARCHAR")  # as definition 2 built them
    con.execute("INSERT INTO dossiers (dossier_code, procedure_code, agency_name, agency_code, channel, received_at, "
                "due_at, finished_at, status, import_id) VALUES ('A-1', '1.0', 'Sở A', 'S.A', 'online', "
                "TIMESTAMP '2025-03-03 08:00', TIMESTAMP '2025-03-10 17:00', TIMESTAMP '2025-03-05 09:00', 10, 1)")
    con.execute("INSERT INTO aggregate_state (built_at, dossiers, definition) VALUES (now()::TIMESTAMP, 1, 2)")
    con.close()
    with db.writing(path):
        pass
    con = db.connect(path, read_only=True)
    columns = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'kpi_daily'")
               .fetchall()}
    assert "agency_code" not in columns and "agency_name" in columns
    on_time = kpi_table(con, periods.month(2025, 3), by="agency", metrics=["on_time_rate"])
    assert on_time[["group", "numerator", "denominator"]].values.tolist() == [["Sở A", 1, 1]]
    con.close()
