"""`python -m kpi ingest FILE... [--db PATH] [--json]` run as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT, dossier, write_export

from kpi import db

A = "000.00.12.H26-240102-0001"
B = "000.00.12.H26-240102-0002"
C = "000.00.12.H26-240103-0001"

COUNTS = ("rows_read", "inserted", "updated", "unchanged", "rejected", "warnings")


def run_cli(*args: object, env_db: object | None = None, console: str | None = None) -> subprocess.CompletedProcess:
    """Run the CLI from the project root; `console` imitates a terminal or pipe with that code page."""
    env = {k: v for k, v in os.environ.items() if k not in (db.DB_ENV, "PYTHONIOENCODING")}
    if env_db is not None:
        env[db.DB_ENV] = str(env_db)
    if console is not None:
        env["PYTHONIOENCODING"] = console
    return subprocess.run([sys.executable, "-m", "kpi", "ingest", *map(str, args)], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


@pytest.fixture
def exports(tmp_path):
    """a.csv: 3 rows, one rejected, one warning; tháng02.csv: A returned (update), B again (unchanged), C new;
    missing.csv: no channel column (refused)."""
    a = write_export(tmp_path, [dossier(A), dossier(B, due_at="??"), dossier(C, channel="Fax")], name="a.csv")
    b = write_export(tmp_path, [dossier(A, 10, finished_at="05/01/2024", returned_at="06/01/2024"),
                                dossier(B, due_at="??"), dossier(C)], name="tháng02.csv")
    row = dossier(C)
    del row["channel"]
    missing = write_export(tmp_path, [row], name="missing.csv")
    return a, b, missing


EXPECTED_A = {"file": "a.csv", "rows_read": 3, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 1,
              "warnings": 1}
EXPECTED_B = {"file": "tháng02.csv", "rows_read": 3, "inserted": 1, "updated": 1, "unchanged": 1, "rejected": 0,
              "warnings": 1}


def counts_of(record: dict) -> dict:
    return {k: record[k] for k in ("file", *COUNTS)}


def stored_statuses(path) -> list[tuple[str, int]]:
    con = db.connect(path, read_only=True)
    try:
        return con.execute("SELECT dossier_code, status FROM dossiers ORDER BY 1").fetchall()
    finally:
        con.close()


def test_json_output_per_file_in_order_with_db_from_environment(tmp_path, exports):
    a, b, _ = exports
    path = tmp_path / "from-env" / "kpi.duckdb"

    done = run_cli(a, b, "--json", env_db=path)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert list(report) == ["files"]
    assert [counts_of(f) for f in report["files"]] == [EXPECTED_A, EXPECTED_B]
    assert path.is_file()
    assert stored_statuses(path) == [(A, 10), (B, 4), (C, 4)]


def test_refused_file_gives_non_zero_status_and_the_others_import(tmp_path, exports):
    a, b, missing = exports
    path, env_path = tmp_path / "kpi.duckdb", tmp_path / "env.duckdb"

    # A Windows pipe (cp1252) cannot encode Vietnamese: the output is UTF-8 all the same.
    done = run_cli(a, missing, b, "--db", path, "--json", env_db=env_path, console="cp1252")

    assert done.returncode != 0
    files = json.loads(done.stdout)["files"]
    assert [f["file"] for f in files] == ["a.csv", "missing.csv", "tháng02.csv"]
    assert counts_of(files[0]) == EXPECTED_A
    assert counts_of(files[2]) == EXPECTED_B
    assert files[1]["refused"] is True
    assert counts_of(files[1]) == {"file": "missing.csv", **dict.fromkeys(COUNTS, 0)}
    assert "channel" in files[1]["error"]
    assert "Thiếu (missing)" in files[1]["error"]
    assert stored_statuses(path) == [(A, 10), (B, 4), (C, 4)]
    assert not env_path.exists()  # --db wins over the environment


def test_human_readable_output(tmp_path, exports):
    a, b, missing = exports

    done = run_cli(a, missing, b, "--db", tmp_path / "kpi.duckdb", console="cp1252")

    assert done.returncode != 0
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("a.csv: ")
    assert "đọc 3 dòng (rows read), thêm mới 2 (inserted), cập nhật 0 (updated), không đổi 0 (unchanged), " \
           "bị loại 1 (rejected), cảnh báo 1 (warnings)" in lines[0]
    assert lines[1].startswith("tháng02.csv: ")
    assert "thêm mới 1 (inserted), cập nhật 1 (updated), không đổi 1 (unchanged)" in lines[1]
    assert "REFUSED missing.csv" in done.stderr
    assert "channel" in done.stderr
    with pytest.raises(json.JSONDecodeError):
        json.loads(done.stdout)


def test_a_store_the_dashboard_reads_is_imported_into(tmp_path, exports):
    store_path = tmp_path / "read.duckdb"
    with db.writing(store_path) as con:
        con.execute("SELECT 1")
    reader = db.StoreReader(store_path)  # the dashboard has the store open (read-only) while the nightly job runs
    before = reader.current()
    done = run_cli(exports[0], "--db", store_path)
    assert done.returncode == 0, done.stderr
    cur = before.cursor()
    assert db.dossier_count(cur) == 0  # a cursor on the version it opened reads it to the end
    cur.close()
    cur = reader.current().cursor()
    assert db.dossier_count(cur) == 2  # its next question reads the new version
    cur.close()


def test_a_store_another_import_writes_gives_a_clear_message(tmp_path, exports):
    with db.writing(tmp_path / "held.duckdb"):  # another import holds the writer's lock
        done = run_cli(exports[0], "--db", tmp_path / "held.duckdb", "--wait", "0.3")
    assert done.returncode == 3
    assert "một lần nhập khác đang ghi vào kho dữ liệu" in done.stderr and "another import" in done.stderr
    assert "Traceback" not in done.stderr
    assert db.dossier_count(db.connect(tmp_path / "held.duckdb", read_only=True)) == 0
