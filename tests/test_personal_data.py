"""Personal data in an export (citizen name, phone, address, ID number) never reaches the store."""

from __future__ import annotations

from conftest import dossier, write_export

from kpi import db
from kpi.importer import ingest_file

PERSONAL_COLUMNS = ("Họ tên người nộp", "Số điện thoại", "Địa chỉ", "Số CCCD")
PEOPLE = [
    ("Nguyễn Thị Hoa", "0912345678", "Số 12 ngõ 34 phố Huế, Hai Bà Trưng", "001203004567"),
    ("Trần Văn Bình", "0987654321", "Thôn Đông Lạc, xã Tân Dân", "034196007788"),
    ("Lê Minh Châu", "0356789012", "45 Nguyễn Trãi, phường Bến Thành", "079301002233"),
    ("Phạm Quốc Dũng", "0779123456", "Tổ 5, phường Quang Trung", "025088009911"),
]
PERSONAL_VALUES = [value for person in PEOPLE for value in person]
COLUMNS = ["Họ tên người nộp", "dossier_code", "Số điện thoại", "procedure_code", "procedure_name", "channel",
           "received_at", "due_at", "finished_at", "returned_at", "status", "Địa chỉ", "Số CCCD"]


def export_rows() -> list[dict]:
    rows = [
        dossier("000.00.12.H26-240102-0001", 4),
        dossier("000.00.12.H26-240102-0002", 10, finished_at="05/01/2024", returned_at="06/01/2024"),
        dossier("000.00.12.H26-240102-0003", 4, channel="Fax"),  # rejected, personal cells filled
        dossier("000.00.12.H26-240102-0004", 4, due_at="sáng thứ hai"),  # stored with a warning
    ]
    for row, person in zip(rows, PEOPLE, strict=True):
        row.update(zip(PERSONAL_COLUMNS, person, strict=True))
    return rows


def text_columns(con) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND data_type = 'VARCHAR' ORDER BY ALL"
    ).fetchall()


def occurrences(con, values: list[str]) -> dict[str, list[tuple[str, str]]]:
    """For each of `values` found anywhere inside a stored text value, the (table, column) pairs holding it."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column in text_columns(con):
        hits = con.execute(
            f'SELECT DISTINCT v.value FROM "{table}" t, (SELECT unnest($values) AS value) v '
            f'WHERE contains(t."{column}", v.value) ORDER BY 1',
            {"values": values},
        ).fetchall()
        for (value,) in hits:
            found.setdefault(value, []).append((table, column))
    return found


def test_personal_values_are_not_stored(tmp_path):
    path = tmp_path / "egov.duckdb"
    con = db.connect(path)
    try:
        result = ingest_file(con, write_export(tmp_path, export_rows(), columns=COLUMNS))
        assert (result.rows_read, result.inserted, result.rejected, result.warnings) == (4, 3, 1, 1)

        searched = text_columns(con)
        assert {("dossiers", "dossier_code"), ("rejected_rows", "value"), ("import_warnings", "value"),
                ("import_columns", "header"), ("imports", "file_name")} <= set(searched)
        # The search finds what is stored: the rejected value, the unreadable optional value, the headers.
        controls = occurrences(con, ["Fax", "sáng thứ hai", "Số điện thoại"])
        assert controls == {"Fax": [("rejected_rows", "value")], "sáng thứ hai": [("import_warnings", "value")],
                            "Số điện thoại": [("import_columns", "header")]}  # the column's name only

        assert occurrences(con, PERSONAL_VALUES) == {}
        con.execute("CHECKPOINT")
    finally:
        con.close()

    stored_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("egov.duckdb*"))
    assert stored_bytes
    for person in PEOPLE:
        phone, id_number = person[1].encode(), person[3].encode()
        assert phone not in stored_bytes
        assert id_number not in stored_bytes
