"""Imports update the KPI aggregates incrementally (kpi.aggregates.update_aggregates): after any sequence of
imports, with inserts, updates to newer statuses, end dates, terminal statuses and NULL dimensions, every
aggregate table equals a full rebuild from the dossiers; a failed import leaves them exactly as they were; the
same file twice changes nothing; a file changing a large share of the store rebuilds them instead."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from conftest import dossier, write_export
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_aggregates import snapshots_are_running_deltas

from kpi import aggregates, db, importer
from kpi.aggregates import DIMENSION_COLUMNS, TABLES, refresh_aggregates
from kpi.importer import ingest_file

_DAY0 = date(2024, 1, 1)
_CODES = [f"000.00.12.H26-240102-{n:04d}" for n in range(1, 13)]  # few codes: many updates
_files = itertools.count()


def _at(day: int, hour: int) -> str:
    return f"{(_DAY0 + timedelta(days=day)):%d/%m/%Y} {hour:02d}:00"


@st.composite
def export_rows(draw: st.DrawFn) -> dict:
    """One export row: any code of a small pool, dates over ~15 months (end dates before or long after the
    received date too), any status, dimension values often missing."""
    received = draw(st.integers(0, 450))
    moment = lambda: st.one_of(st.none(), st.tuples(st.integers(-5, 80), st.integers(0, 23)).map(  # noqa: E731
        lambda d: _at(received + d[0], d[1])))
    values = {
        "due_at": draw(moment()), "finished_at": draw(moment()), "returned_at": draw(moment()),
        "channel": draw(st.sampled_from(["direct", "online", "postal"])),
        "procedure_code": draw(st.sampled_from(["1.000001", "1.000002"])),
        "province": draw(st.sampled_from(["Thành phố Hà Nội", None])),
        "district": draw(st.sampled_from(["Quận Ba Đình", None])),
        "commune": draw(st.sampled_from(["Phường Láng", "Xã Sóc Sơn", None])),
        "agency_name": draw(st.sampled_from(["Sở A", "UBND xã C", None])),
        "agency_code": draw(st.sampled_from(["000.00.12.H26", None])),
        "agency_level": draw(st.sampled_from(["province", "commune", None])),
        "sector": draw(st.sampled_from(["Hộ tịch", None])),
        "service_level": draw(st.sampled_from(["full_online", "offline", None])),
        "supplement_count": draw(st.sampled_from([None, 0, 2])),
        "fee_vnd": draw(st.sampled_from([None, 0, 50_000])),
        "paid_online": draw(st.sampled_from([None, "true", "false"])),
        "digitized": draw(st.sampled_from([None, "true", "false"])),
        "e_result": draw(st.sampled_from([None, "true", "false"])),
        "rating": draw(st.sampled_from([None, "satisfied", "dissatisfied"])),
    }
    status = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9, 10, 4]))
    return dossier(draw(st.sampled_from(_CODES)), status, received=_at(received, draw(st.integers(0, 23))),
                   **values)


def aggregate_rows(con) -> dict[str, list[tuple]]:
    """Every aggregate table as sorted rows (NULLs sorted as text), all-zero rows left out."""
    rows = {}
    for table in TABLES:
        got = con.execute(f"SELECT * FROM {table}").fetchall()
        rows[table] = sorted((r for r in got if any(v for v in r[len(DIMENSION_COLUMNS) + 1:])),
                             key=lambda r: tuple("\0" if v is None else str(v) for v in r))
    return rows


def state_and_tables(con) -> tuple[tuple, dict[str, list[tuple]]]:
    return con.execute("SELECT * FROM aggregate_state").fetchall(), aggregate_rows(con)


def equals_a_rebuild(con) -> None:
    """The tables as kept equal those a rebuild gives, snapshots up to the rebuild's last month end (a store
    whose latest dossier was updated to an earlier date keeps its later snapshots, still the running totals)."""
    snapshots_are_running_deltas(con)
    kept = aggregate_rows(con)
    count, first, last = con.execute("SELECT dossiers, first_month_end, last_month_end FROM aggregate_state"
                                     ).fetchone()
    con.execute("BEGIN TRANSACTION")
    try:
        refresh_aggregates(con)
        rebuilt = aggregate_rows(con)
        r_count, r_first, r_last = con.execute(
            "SELECT dossiers, first_month_end, last_month_end FROM aggregate_state").fetchone()
    finally:
        con.execute("ROLLBACK")
    assert count == r_count
    if r_last is None:
        assert all(not kept[t] for t in TABLES)
        return
    assert first <= r_first and last >= r_last
    kept["kpi_open_snapshots"] = [r for r in kept["kpi_open_snapshots"] if r[0] <= r_last]
    for table in TABLES:
        assert kept[table] == rebuilt[table], table


@pytest.fixture
def incremental(monkeypatch):
    """Every import updates the aggregates incrementally, however much it changes (except into a store whose
    tables were never built)."""
    monkeypatch.setattr(aggregates, "REBUILD_SHARE", float("inf"))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(export_rows(), min_size=1, max_size=8), min_size=1, max_size=4))
def test_imports_keep_the_aggregates_equal_to_a_rebuild(incremental, tmp_path, files) -> None:
    con = db.connect()
    con.execute("SET threads = 1")
    try:
        ingest_file(con, write_export(tmp_path, [dossier(_CODES[0], 4, received=_at(200, 8))], name="first.csv"))
        for rows in files:
            before = state_and_tables(con)
            result = ingest_file(con, write_export(tmp_path, rows, name=f"f{next(_files)}.csv"))
            if result.inserted or result.updated:
                equals_a_rebuild(con)
            else:
                assert state_and_tables(con) == before
    finally:
        con.close()


def _store_with_data(tmp_path):
    con = db.connect()
    ingest_file(con, write_export(tmp_path, [
        dossier(f"D-{n}", 4 if n % 3 else 10, received=_at(n * 7, 9), due_at=_at(n * 7 + 10, 17),
                finished_at=None if n % 3 else _at(n * 7 + 5, 10), commune=None if n % 2 else "Phường Láng")
        for n in range(40)], name="base.csv"))
    return con


def test_a_failed_import_leaves_the_aggregates_as_they_were(tmp_path, monkeypatch) -> None:
    con = _store_with_data(tmp_path)
    before = state_and_tables(con)
    seen = {}
    real = importer._record_problems

    def failing(cur, *args, **kwargs):  # after the merge and the incremental update, inside the transaction
        seen["state"] = cur.execute("SELECT dossiers FROM aggregate_state").fetchone()[0]
        seen["captured"] = cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name LIKE 'aggregate_%'").fetchone()[0]
        real(cur, *args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_record_problems", failing)
    rows = [dossier("D-1", 9, received=_at(7, 9), finished_at=_at(40, 8)), dossier("D-99", 4, received=_at(500, 9))]
    with pytest.raises(RuntimeError):
        ingest_file(con, write_export(tmp_path, rows, name="late.csv"))
    assert seen == {"state": 41, "captured": 0}  # updated (not rebuilt: 2 of 40 changed), temp tables dropped
    assert state_and_tables(con) == before
    con.close()


def test_the_same_file_twice_changes_nothing(tmp_path) -> None:
    con = _store_with_data(tmp_path)
    path = write_export(tmp_path, [dossier("D-2", 10, received=_at(14, 9), finished_at=_at(30, 8)),
                                   dossier("D-77", 4, received=_at(420, 9), commune=None)], name="again.csv")
    first = ingest_file(con, path)
    assert (first.inserted, first.updated) == (1, 1)
    equals_a_rebuild(con)
    after = state_and_tables(con)
    second = ingest_file(con, path)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 2)
    assert state_and_tables(con) == after
    con.close()


def test_a_large_share_of_the_store_is_rebuilt(tmp_path, monkeypatch) -> None:
    con = _store_with_data(tmp_path)
    calls = []
    real = aggregates.refresh_aggregates
    monkeypatch.setattr(aggregates, "refresh_aggregates", lambda cur: calls.append(1) or real(cur))
    ingest_file(con, write_export(tmp_path, [dossier("D-3", 10, received=_at(21, 9), finished_at=_at(25, 8))],
                                  name="small.csv"))
    assert calls == []  # 1 of 40: updated
    equals_a_rebuild(con)
    ingest_file(con, write_export(tmp_path, [dossier(f"E-{n}", 4, received=_at(n, 9)) for n in range(30)],
                                  name="large.csv"))
    assert calls == [1]  # 30 of 40: rebuilt
    equals_a_rebuild(con)
    con.execute("DELETE FROM dossiers WHERE dossier_code = 'E-1'")  # a write outside the importer
    ingest_file(con, write_export(tmp_path, [dossier("D-4", 7, received=_at(28, 9), finished_at=_at(29, 8))],
                                  name="after.csv"))
    assert calls == [1, 1]  # the tables no longer matched the dossiers: rebuilt
    equals_a_rebuild(con)
    con.close()
