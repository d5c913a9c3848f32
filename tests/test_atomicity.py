"""One transaction per file: a failure, a dying process or a refused file leaves the store as it was."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import PROJECT_ROOT, dossier, snapshot, write_export

from kpi import db, importer
from kpi.importer import ImportRefused, ingest_file, ingest_files

A = "000.00.12.H26-240102-0001"
B = "000.00.12.H26-240102-0002"
C = "000.00.12.H26-240103-0001"
D = "000.00.12.H26-240103-0002"


@pytest.fixture
def filled_db(tmp_path):
    """A database file holding one earlier import (with a rejected row and a warning), closed."""
    path = tmp_path / "store" / "egov.duckdb"
    con = db.connect(path)
    try:
        result = ingest_file(con, write_export(tmp_path, [dossier(A), dossier(B, due_at="??"),
                                                          dossier(C, channel="Fax")], name="t1.csv"))
        assert (result.inserted, result.rejected, result.warnings) == (2, 1, 1)
    finally:
        con.close()
    return path


def second_export(tmp_path):
    """An export that updates A, inserts C and D, and has a rejected row and a warning."""
    rows = [dossier(A, 10, finished_at="05/01/2024", returned_at="06/01/2024"), dossier(C),
            dossier(D, fee_vnd="nhiều"), dossier("X-1", received="31/02/2024")]
    return write_export(tmp_path, rows, name="t2.csv")


def disk_snapshot(path):
    con = db.connect(path, read_only=True)
    try:
        return snapshot(con)
    finally:
        con.close()


def fail_after(monkeypatch, step: str, exc: BaseException, seen: dict) -> None:
    """Make importer.<step> do its work, note what it wrote, then raise."""
    real = getattr(importer, step)

    def failing(cur, *args, **kwargs):
        real(cur, *args, **kwargs)
        seen["dossiers"] = cur.execute("SELECT count(*) FROM dossiers").fetchone()[0]
        seen["rejected_rows"] = cur.execute("SELECT count(*) FROM rejected_rows").fetchone()[0]
        raise exc

    monkeypatch.setattr(importer, step, failing)


@pytest.mark.parametrize(
    ("step", "exc"),
    [("_merge", RuntimeError("disk full")), ("_record_problems", KeyboardInterrupt())],
    ids=["merge-error", "record_problems-interrupt"],
)
def test_failure_mid_file_leaves_database_as_before(filled_db, tmp_path, monkeypatch, step, exc):
    before = disk_snapshot(filled_db)
    export = second_export(tmp_path)
    seen: dict[str, int] = {}
    fail_after(monkeypatch, step, exc, seen)
    con = db.connect(filled_db)
    try:
        with pytest.raises(type(exc)):
            ingest_file(con, export)
        # The failing step had really written inside the transaction...
        assert seen["dossiers"] == 4
        if step == "_record_problems":
            assert seen["rejected_rows"] == 2
        # ...and none of it is visible afterwards, on the same connection or on disk.
        assert snapshot(con) == before
    finally:
        con.close()
    assert disk_snapshot(filled_db) == before

    monkeypatch.undo()
    con = db.connect(filled_db)
    try:
        result = ingest_file(con, export)
        assert (result.inserted, result.updated, result.unchanged, result.rejected, result.warnings) == (2, 1, 0, 1, 1)
        assert len(snapshot(con)["imports"]) == 2
    finally:
        con.close()


DIE_MID_IMPORT = textwrap.dedent("""
    import os, sys
    from kpi import db, importer

    real = importer._record_problems

    def die(cur, *args, **kwargs):
        real(cur, *args, **kwargs)
        # Show the parent that the merge had written rows before the process died.
        print(cur.execute("SELECT count(*) FROM dossiers").fetchone()[0], flush=True)
        os._exit(9)

    importer._record_problems = die
    con = db.connect(sys.argv[1])
    importer.ingest_file(con, sys.argv[2])
""")


def test_process_dying_mid_import_leaves_database_as_before(filled_db, tmp_path):
    before = disk_snapshot(filled_db)
    export = second_export(tmp_path)

    died = subprocess.run([sys.executable, "-c", DIE_MID_IMPORT, str(filled_db), str(export)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)

    assert died.returncode == 9, died.stderr
    assert died.stdout.split() == ["4"]  # 2 stored + 2 inserted, inside the transaction
    assert disk_snapshot(filled_db) == before

    con = db.connect(filled_db)
    try:
        result = ingest_file(con, export)
        assert (result.inserted, result.updated, result.unchanged, result.rejected) == (2, 1, 0, 1)
        assert con.execute("SELECT dossier_code, status FROM dossiers ORDER BY 1").fetchall() == [
            (A, 10), (B, 4), (C, 4), (D, 4)]
        assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 2
    finally:
        con.close()


def test_refused_file_leaves_database_as_before(filled_db, tmp_path):
    before = disk_snapshot(filled_db)
    row = dossier(D)
    del row["channel"]  # a required column missing from the header
    refused = write_export(tmp_path, [row], name="thieu_cot.csv")
    good = write_export(tmp_path, [dossier(D)], name="t3.csv")

    con = db.connect(filled_db)
    try:
        with pytest.raises(ImportRefused) as caught:
            ingest_file(con, refused)
        assert caught.value.file == "thieu_cot.csv"
        assert "channel" in caught.value.message
        assert snapshot(con) == before

        outcomes = ingest_files(con, [refused, good])
        assert [(o.file, o.result is None) for o in outcomes] == [("thieu_cot.csv", True), ("t3.csv", False)]
        assert outcomes[1].result.inserted == 1
    finally:
        con.close()
    after = disk_snapshot(filled_db)
    assert [r[1] for r in after["imports"]] == ["t1.csv", "t3.csv"]
    assert {r[0] for r in after["import_columns"]} == {r[0] for r in after["imports"]}
