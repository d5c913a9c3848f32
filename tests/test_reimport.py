"""The re-import rule of DOMAIN §3: re-imports never roll back, and the import's own bookkeeping."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from conftest import BOOKKEEPING_TABLES, dossier, snapshot, table_names, table_rows, write_export

from kpi.importer import ImportResult, ingest_file

A = "000.00.12.H26-240102-0001"
B = "000.00.12.H26-240102-0002"
C = "000.00.12.H26-240103-0001"
D = "000.00.12.H26-240103-0002"

COUNTS = ("rows_read", "inserted", "updated", "unchanged", "rejected", "warnings")


def counts(result: ImportResult) -> dict[str, int]:
    return {k: getattr(result, k) for k in COUNTS}


def stored(con, code: str) -> dict[str, object]:
    cur = con.execute("SELECT * FROM dossiers WHERE dossier_code = ?", [code])
    rows = cur.fetchall()
    assert len(rows) == 1, f"{code}: {len(rows)} stored rows"
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True))


def store_tables(con) -> dict[str, list[tuple]]:
    """Every table except the import bookkeeping."""
    return {t: table_rows(con, t) for t in table_names(con) if t not in BOOKKEEPING_TABLES}


def newer_export_rows() -> list[dict]:
    return [
        # returned after being resolved: terminal, later date than the older export's resolved row
        dossier(A, "Đã trả kết quả", finished_at="05/01/2024 16:00", returned_at="06/01/2024 09:00",
                rating="Rất hài lòng", e_result="Có"),
        # stopped (terminal) after being in progress
        dossier(B, "Dừng xử lý", finished_at="04/01/2024"),
        # resolved, identical in both exports
        dossier(C, "Đã xử lý xong", received="03/01/2024 10:00", finished_at="08/01/2024"),
    ]


def older_export_rows() -> list[dict]:
    return [
        dossier(A, "Đã xử lý xong", finished_at="05/01/2024 16:00"),
        dossier(B, "Đang xử lý"),
        dossier(C, "Đã xử lý xong", received="03/01/2024 10:00", finished_at="08/01/2024"),
    ]


def test_older_export_after_newer_changes_nothing(store, tmp_path):
    newer = ingest_file(store, write_export(tmp_path, newer_export_rows(), name="thang02.csv"))
    assert counts(newer) == {"rows_read": 3, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 0,
                             "warnings": 0}
    before = snapshot(store)["dossiers"]

    older = ingest_file(store, write_export(tmp_path, older_export_rows(), name="thang01.csv"))

    assert counts(older) == {"rows_read": 3, "inserted": 0, "updated": 0, "unchanged": 3, "rejected": 0,
                             "warnings": 0}
    assert snapshot(store)["dossiers"] == before
    a, b = stored(store, A), stored(store, B)
    assert (a["status"], a["returned_at"], a["rating"], a["e_result"]) == (
        10, dt.datetime(2024, 1, 6, 9, 0), "very_satisfied", True)
    assert (b["status"], b["finished_at"]) == (8, dt.datetime(2024, 1, 4))
    import_ids = {r[0] for r in store.execute("SELECT DISTINCT import_id FROM dossiers").fetchall()}
    assert import_ids == {newer.import_id} != {older.import_id}


def test_same_file_twice_changes_nothing_at_all(store, tmp_path):
    rows = [
        dossier(A, 10, finished_at="05/01/2024", returned_at="06/01/2024", fee_vnd="150.000",
                paid_online="x", digitized="Có", e_result="Có", rating="Hài lòng", sector="Xây dựng",
                agency_level="Cấp tỉnh", province="Hà Nội", service_level="Toàn trình", supplement_count="1"),
        dossier(B),  # most optional cells empty: NULLs must compare equal
        dossier(C, 4, due_at="khong ro"),  # unreadable optional value: stored empty, a warning
        dossier(D, 4, channel="Fax"),  # rejected
    ]
    path = write_export(tmp_path, rows)
    first = ingest_file(store, path)
    assert counts(first) == {"rows_read": 4, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 1,
                             "warnings": 1}
    before = store_tables(store)

    second = ingest_file(store, path)

    assert counts(second) == {"rows_read": 4, "inserted": 0, "updated": 0, "unchanged": 3, "rejected": 1,
                              "warnings": 1}
    assert store_tables(store) == before
    assert {r[0] for r in store.execute("SELECT import_id FROM dossiers").fetchall()} == {first.import_id}


def test_newer_status_replaces_older(store, tmp_path):
    first = ingest_file(store, write_export(tmp_path, [dossier(A, "Đang xử lý"), dossier(B)], name="t1.csv"))
    newer = dossier(A, "Đã trả kết quả", finished_at="05/01/2024 10:30", returned_at="06/01/2024 08:15",
                    rating="Không hài lòng", fee_vnd="50,000", paid_online="Có")

    second = ingest_file(store, write_export(tmp_path, [newer], name="t2.csv"))

    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 0)
    a = stored(store, A)
    assert (a["status"], a["finished_at"], a["returned_at"], a["rating"], a["fee_vnd"], a["paid_online"]) == (
        10, dt.datetime(2024, 1, 5, 10, 30), dt.datetime(2024, 1, 6, 8, 15), "dissatisfied", 50000, True)
    assert a["import_id"] == second.import_id != first.import_id
    assert stored(store, B)["import_id"] == first.import_id
    assert store.execute("SELECT count(*) FROM dossiers").fetchone()[0] == 2


TERMINAL_EARLY = dossier(A, "Đã xử lý xong", finished_at="05/01/2024")
# Not terminal, yet its latest date (finish 20/01) is later than the terminal row's (05/01).
PENDING_LATE = dossier(A, "Yêu cầu bổ sung", finished_at="20/01/2024")


def test_stored_terminal_beats_incoming_non_terminal_with_later_date(store, tmp_path):
    first = ingest_file(store, write_export(tmp_path, [TERMINAL_EARLY], name="t1.csv"))
    second = ingest_file(store, write_export(tmp_path, [PENDING_LATE], name="t2.csv"))
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 1)
    a = stored(store, A)
    assert (a["status"], a["finished_at"], a["import_id"]) == (9, dt.datetime(2024, 1, 5), first.import_id)


def test_incoming_terminal_beats_stored_non_terminal_with_later_date(store, tmp_path):
    ingest_file(store, write_export(tmp_path, [PENDING_LATE], name="t1.csv"))
    second = ingest_file(store, write_export(tmp_path, [TERMINAL_EARLY], name="t2.csv"))
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 0)
    a = stored(store, A)
    assert (a["status"], a["finished_at"], a["import_id"]) == (9, dt.datetime(2024, 1, 5), second.import_id)


@pytest.mark.parametrize(
    ("stored_row", "incoming_row"),
    [
        pytest.param(dossier(A, 4, procedure_name="Tên cũ"), dossier(A, 4, procedure_name="Tên mới"),
                     id="non-terminal, same received date"),
        pytest.param(dossier(A, 9, finished_at="05/01/2024", procedure_name="Tên cũ"),
                     dossier(A, 10, returned_at="05/01/2024", procedure_name="Tên mới"),
                     id="terminal, finished and returned the same moment"),
    ],
)
def test_tie_goes_to_incoming_row(store, tmp_path, stored_row, incoming_row):
    ingest_file(store, write_export(tmp_path, [stored_row], name="t1.csv"))
    second = ingest_file(store, write_export(tmp_path, [incoming_row], name="t2.csv"))
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 0)
    a = stored(store, A)
    assert (a["procedure_name"], a["status"], a["import_id"]) == ("Tên mới", incoming_row["status"],
                                                                  second.import_id)


def test_stored_later_date_beats_incoming_of_same_class(store, tmp_path):
    first = ingest_file(store, write_export(tmp_path, [dossier(A, 9, finished_at="09/01/2024")], name="t1.csv"))
    second = ingest_file(store, write_export(
        tmp_path, [dossier(A, 10, finished_at="07/01/2024", returned_at="08/01/2024")], name="t2.csv"))
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 1)
    a = stored(store, A)
    assert (a["status"], a["returned_at"], a["import_id"]) == (9, None, first.import_id)


ADVANCED = dossier(A, "Đã trả kết quả", finished_at="05/01/2024", returned_at="06/01/2024")
PENDING = dossier(A, "Đang xử lý")


@pytest.mark.parametrize("rows", [[PENDING, ADVANCED], [ADVANCED, PENDING]], ids=["advanced last", "advanced first"])
def test_same_dossier_twice_in_one_file_more_advanced_wins(store, tmp_path, rows):
    result = ingest_file(store, write_export(tmp_path, [*rows, dossier(B)]))
    assert counts(result) == {"rows_read": 3, "inserted": 2, "updated": 0, "unchanged": 1, "rejected": 0,
                              "warnings": 0}
    a = stored(store, A)
    assert (a["status"], a["returned_at"]) == (10, dt.datetime(2024, 1, 6))


def test_same_dossier_twice_in_one_file_tie_goes_to_later_row(store, tmp_path):
    rows = [dossier(A, 4, procedure_name="Dòng trên"), dossier(A, 4, procedure_name="Dòng dưới")]
    result = ingest_file(store, write_export(tmp_path, rows))
    assert (result.inserted, result.updated, result.unchanged) == (1, 0, 1)
    assert stored(store, A)["procedure_name"] == "Dòng dưới"


def test_same_dossier_twice_in_one_file_against_the_store(store, tmp_path):
    ingest_file(store, write_export(tmp_path, [PENDING], name="t1.csv"))
    result = ingest_file(store, write_export(tmp_path, [ADVANCED, PENDING], name="t2.csv"))
    assert (result.rows_read, result.inserted, result.updated, result.unchanged) == (2, 0, 1, 1)
    assert stored(store, A)["status"] == 10


def test_rows_read_is_inserted_updated_unchanged_rejected_for_every_import(store, tmp_path):
    files = [
        [dossier(A), dossier(B), dossier(C, received="31/02/2024"), {"dossier_code": "Tổng cộng"}],
        [dossier(A, 10, returned_at="06/01/2024"), dossier(A), dossier(B), dossier(D, due_at="??"),
         dossier(C, channel="Fax"), dossier(C, status=None)],
        [dossier(A, 4), dossier(B, 7, finished_at="03/01/2024"), dossier(B, 4), dossier(C)],
    ]
    results = [ingest_file(store, write_export(tmp_path, rows, name=f"f{i}.csv")) for i, rows in enumerate(files)]

    assert [counts(r) for r in results] == [
        {"rows_read": 3, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 1, "warnings": 0},
        {"rows_read": 6, "inserted": 1, "updated": 1, "unchanged": 2, "rejected": 2, "warnings": 1},
        {"rows_read": 4, "inserted": 1, "updated": 1, "unchanged": 2, "rejected": 0, "warnings": 0},
    ]
    assert results[0].skipped == 1  # the total row is neither read nor rejected
    recorded = store.execute(
        "SELECT rows_read, inserted, updated, unchanged, rejected FROM imports ORDER BY import_id").fetchall()
    assert len(recorded) == 3
    for rows_read, inserted, updated, unchanged, rejected in recorded:
        assert rows_read == inserted + updated + unchanged + rejected


def test_imports_row_records_the_file(store, tmp_path):
    path = write_export(tmp_path, [dossier(A), dossier(B, 10, returned_at="05/01/2024"), dossier(C, channel="Fax")],
                        name="DanhSachHoSo_T01.csv")
    result = ingest_file(store, path)

    cur = store.execute("SELECT * FROM imports")
    rows = cur.fetchall()
    assert len(rows) == 1
    row = dict(zip([d[0] for d in cur.description], rows[0], strict=True))
    assert row["import_id"] == result.import_id
    assert row["file_name"] == "DanhSachHoSo_T01.csv"
    assert row["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (row["file_format"], row["encoding"], row["delimiter"], row["header_row"]) == ("csv", "utf-8", ";", 1)
    assert row["started_at"] is not None and row["finished_at"] is not None
    assert row["started_at"] <= row["finished_at"]
    assert {k: row[k] for k in COUNTS} == {"rows_read": 3, "inserted": 2, "updated": 0, "unchanged": 0,
                                           "rejected": 1, "warnings": 0}
    assert row["skipped"] == 0
    rejected = store.execute("SELECT import_id, row_number, column_name, header, value FROM rejected_rows").fetchall()
    assert rejected == [(result.import_id, 4, "channel", "Hình thức nộp", "Fax")]
