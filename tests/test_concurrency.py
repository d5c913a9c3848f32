"""Imports while people look (issue 6, point 3): the store is written by whole versions (kpi.db.writing), so
readers never wait, never get "database is locked", and see the old totals or the new ones, never a mixture."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from kpi import db, store
from kpi.aggregates import AGGREGATES_DEFINITION, refresh_aggregates
from kpi.engine import dossier_counts, kpi_table
from kpi.periods import Period
from kpi.sample import write_sample

PROJECT_ROOT = Path(__file__).resolve().parent.parent
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))


def totals(version: db.StoreVersion) -> tuple:
    """What a dashboard page asks, in several statements on one cursor: the dossiers stored, the last import,
    the year's received and resolved counts from the aggregates, and its on-time rate's numerator and
    denominator from the KPI engine. A half-imported store would show a mixture of two states."""
    cur = version.cursor()
    try:
        stored = db.dossier_count(cur)
        last_import = cur.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchone()[0]
        counts = dossier_counts(cur, YEAR).iloc[0]
        on_time = kpi_table(cur, YEAR, metrics=["on_time_rate"]).iloc[0]
        return (stored, last_import, int(counts["received"]), int(counts["resolved"]),
                int(on_time["numerator"]), int(on_time["denominator"]))
    finally:
        cur.close()


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> tuple[Path, Path]:
    """Two sample exports of a city: the store's first load, and the next night's export (other dossiers and
    new states of some of the same), big enough for the import to take a while."""
    folder = tmp_path_factory.mktemp("exports")
    return (write_sample(folder / "ngay1.csv", rows=20_000, seed=11),
            write_sample(folder / "ngay2.csv", rows=120_000, seed=12))


@pytest.fixture(scope="module")
def expected(exports, tmp_path_factory) -> tuple[Path, tuple, tuple]:
    """A store holding the first export, and the totals before and after importing the second one (computed
    in a scratch store by the same importer)."""
    folder = tmp_path_factory.mktemp("stores")
    first = folder / "first.duckdb"
    with db.writing(first) as con:
        store.import_uploads(con, [(exports[0].name, exports[0].read_bytes())])
    scratch = folder / "both.duckdb"
    with db.writing(scratch) as con:
        store.import_uploads(con, [(p.name, p.read_bytes()) for p in exports])
    old, new = totals(db.StoreReader(first).current()), totals(db.StoreReader(scratch).current())
    assert old != new and old[0] < new[0]
    return first, old, new


def _copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


def _read_while(busy: Callable[[], bool], reader: db.StoreReader, threads: int = 2) -> list[tuple[int, tuple]]:
    """Ask `totals` of the reader's current version in a loop on `threads` threads while `busy()` is true, and
    a few times after; returns (thread number, totals) of every answer in the order given. An exception in a
    reader fails the test."""
    seen: list[tuple[int, tuple]] = []
    errors: list[BaseException] = []

    def loop(number: int) -> None:
        try:
            after = 0
            while after < 3:
                seen.append((number, totals(reader.current())))
                if not busy():
                    after += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not errors, errors
    return seen


def test_queries_answer_during_a_nightly_import_in_another_process(expected, exports, tmp_path):
    first, old, new = expected
    path = _copy(first, tmp_path / "egov_kpi.duckdb")
    reader = db.StoreReader(path)
    assert totals(reader.current()) == old
    env = {k: v for k, v in os.environ.items() if k != db.DB_ENV}
    nightly = subprocess.Popen([sys.executable, "-m", "kpi", "ingest", str(exports[1]), "--db", str(path)],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = _read_while(lambda: nightly.poll() is None, reader)
    out, err = nightly.communicate(timeout=300)
    assert nightly.returncode == 0, err
    answers = [answer for _, answer in seen]
    assert set(answers) <= {old, new}  # every answer is one whole state
    assert answers.count(old) >= 5  # the readers did work while the import ran: old totals until it committed
    assert answers[-1] == new  # and the new ones once it had
    _never_back(seen, old)
    assert "database is locked" not in err and "Conflicting lock" not in err


def test_an_upload_in_the_dashboard_process_while_others_read(expected, exports, tmp_path):
    first, old, new = expected
    path = _copy(first, tmp_path / "egov_kpi.duckdb")
    reader = db.StoreReader(path)  # what the dashboard's other sessions read through
    outcome: list[object] = []

    def upload() -> None:  # what the Data page does (pages/du_lieu.py through ui.writing)
        with db.writing(path) as con:
            outcome.extend(store.import_uploads(con, [(exports[1].name, exports[1].read_bytes())]))

    writer = threading.Thread(target=upload)
    writer.start()
    seen = _read_while(writer.is_alive, reader)
    writer.join()
    assert outcome and outcome[0].result is not None
    answers = [answer for _, answer in seen]
    assert set(answers) <= {old, new}
    assert old in answers and answers[-1] == new
    _never_back(seen, old)


def _never_back(seen: list[tuple[int, tuple]], old: tuple) -> None:
    """Once a reader has seen the new state it never sees the old one again."""
    for number in {n for n, _ in seen}:
        mine = [answer for n, answer in seen if n == number]
        flips = [i for i in range(1, len(mine)) if mine[i] != mine[i - 1]]
        assert len(flips) <= 1 and (not flips or mine[0] == old), mine


def test_a_reader_on_a_replaced_version_finishes_on_it(expected, exports, tmp_path):
    first, old, new = expected
    path = _copy(first, tmp_path / "egov_kpi.duckdb")
    reader = db.StoreReader(path)
    before = reader.current()
    cur = before.cursor()
    with db.writing(path) as con:
        store.import_uploads(con, [(exports[1].name, exports[1].read_bytes())])
    assert db.dossier_count(cur) == old[0]  # the cursor opened before the write still reads its version
    cur.close()
    assert totals(reader.current()) == new
    assert reader.kept(before.key) is before  # the run that pinned it can finish on it
    with db.writing(path) as con:  # one more version: the oldest is let go, its link removed
        con.execute("SELECT 1")
    reader.current()
    assert reader.kept(before.key) is None
    links = list(path.with_name(f".{path.name}.readers").iterdir())
    assert len(links) == 2


def test_a_failed_write_leaves_the_store_as_it_was(expected, tmp_path):
    first, old, _ = expected
    path = _copy(first, tmp_path / "egov_kpi.duckdb")
    stamp = path.stat().st_mtime_ns
    with pytest.raises(RuntimeError, match="half-way"), db.writing(path) as con:
        con.execute("DELETE FROM dossiers")
        raise RuntimeError("the import died half-way")
    assert path.stat().st_mtime_ns == stamp
    assert totals(db.StoreReader(path).current()) == old
    assert not list(tmp_path.glob("*.next-*"))  # the discarded copy is gone


def test_writers_wait_for_each_other(tmp_path):
    path = tmp_path / "egov_kpi.duckdb"
    with db.writing(path) as con, pytest.raises(db.StoreBusy, match="another import"), \
            db.writing(path, timeout=0.2):
        con.execute("SELECT 1")
    order: list[str] = []

    def second() -> None:
        with db.writing(path) as con:
            found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'marker'").fetchone()[0]
            order.append(f"second saw {found}")

    with db.writing(path) as con:
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        con.execute("CREATE TABLE marker AS SELECT 1 AS v")
        order.append("first")
    thread.join()
    assert order == ["first", "second saw 1"]  # the second writer started from the first one's version


def test_a_write_that_leaves_much_free_space_rewrites_the_file(expected, tmp_path):
    """DuckDB never shrinks a file: rebuilding the aggregates inside it leaves their old blocks free. A writer
    rewrites such a copy into a new file, with every table, constraint and sequence as it was."""
    first, old, _ = expected
    path = _copy(first, tmp_path / "egov_kpi.duckdb")
    size = path.stat().st_size
    with db.writing(path) as con:
        for _ in range(3):
            con.execute("BEGIN TRANSACTION")
            refresh_aggregates(con)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        grown = path.with_name(f"{path.name}.next-{os.getpid()}-{threading.get_ident()}").stat().st_size
        assert grown > 1.3 * size  # the rebuilds' free blocks are in the copy
    assert path.stat().st_size < 1.1 * size
    assert totals(db.StoreReader(path).current()) == old
    with db.writing(path) as con:
        before = con.execute("SELECT max(import_id) FROM imports").fetchone()[0]
        assert con.execute("SELECT nextval('import_id_seq')").fetchone()[0] == before + 1
        with pytest.raises(Exception, match="CHECK"):
            con.execute("UPDATE dossiers SET channel = 'fax' WHERE rowid = 0")
    assert not list(tmp_path.glob("*.compact"))


def test_a_store_with_microsecond_times_is_converted_once(tmp_path):
    """Stores from before the dossiers' times were kept to the second are converted by the first writer; a
    value with a fraction of a second is truncated (as the importer does) and the aggregates are rebuilt."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(db.schema_sql().replace("TIMESTAMP_S", "TIMESTAMP"))
    con.execute("INSERT INTO dossiers (dossier_code, procedure_code, channel, received_at, due_at, status, "
                "import_id) VALUES ('H1', '1.0', 'online', TIMESTAMP '2025-03-31 23:59:59.7', "
                "TIMESTAMP '2025-04-02 08:00:00', 1, 1)")
    con.execute("INSERT INTO aggregate_state (built_at, dossiers, definition) VALUES (now()::TIMESTAMP, 1, $d)",
                {"d": AGGREGATES_DEFINITION})  # matches the dossiers, though built by nobody: only the clear rebuilds
    con.close()
    with db.writing(path) as con:
        types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = "
                                 "'dossiers' AND column_name LIKE '%_at'").fetchall())
        assert set(types.values()) == {"TIMESTAMP_S"}
        assert con.execute("SELECT received_at FROM dossiers").fetchone()[0] == datetime(2025, 3, 31, 23, 59, 59)
    cur = db.StoreReader(path).current().cursor()
    assert cur.execute("SELECT sum(received) FROM kpi_daily WHERE day = DATE '2025-03-31'").fetchone()[0] == 1
