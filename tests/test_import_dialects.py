"""Layer-2 import tests (STYLE.md): one tiny file per dialect and defect of DOMAIN.md §3, each with the exact
rows it must store, or the exact rejected rows, warnings or refusal it must give.

The files live in tests/data/ and are built by tests/data/make_files.py (checked here to be reproducible);
a few single-purpose files are written into tmp_path by the tests themselves.
"""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import unicodedata
from pathlib import Path

import pytest

from kpi.db import connect
from kpi.fields import FIELDS
from kpi.importer import ImportResult, ingest_file
from kpi.sources import ImportRefused

DATA = Path(__file__).resolve().parent / "data"
T = dt.datetime
TABLES = ("imports", "import_columns", "dossiers", "rejected_rows", "import_warnings")
FAX_REASON_VALUES = ("Trực tiếp", "Trực tuyến", "Bưu chính công ích", "direct", "online", "postal")

# A stored row with nothing but the required values: blank service level means offline, a blank yes/no means no.
BLANK_ROW: dict[str, object] = {f.name: None for f in FIELDS} | {
    "service_level": "offline", "paid_online": False, "digitized": False, "e_result": False}


def row(code: str, **values: object) -> dict[str, object]:
    """The expected stored row of a dossier; the unit is parsed from a Circular 01/2018 code unless given."""
    agency = code.rsplit("-", 2)[0] if code.count("-") == 2 and not code.startswith("HS-") else None
    return BLANK_ROW | {"dossier_code": code, "agency_code": agency} | values


@pytest.fixture
def con():
    connection = connect(None)
    yield connection
    connection.close()


def ingest(con, name: str | Path) -> ImportResult:
    return ingest_file(con, name if isinstance(name, Path) else DATA / name)


def stored(con) -> list[dict[str, object]]:
    """Every dossier, all canonical columns, in dossier-code order."""
    cursor = con.execute(f"SELECT {', '.join(f.name for f in FIELDS)} FROM dossiers ORDER BY dossier_code")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def problems(con, table: str) -> list[tuple[int, str, str | None, str | None, str]]:
    return con.execute(
        f"SELECT row_number, column_name, header, value, reason FROM {table} ORDER BY row_number, column_name"
    ).fetchall()


def counts(result: ImportResult) -> dict[str, object]:
    keys = ("rows_read", "inserted", "updated", "unchanged", "rejected", "warnings", "skipped", "header_row",
            "file_format", "encoding", "delimiter", "sheet_name")
    return {k: getattr(result, k) for k in keys}


def snapshot(con) -> dict[str, list[tuple]]:
    """The full contents of every table of the store."""
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
    assert set(TABLES) <= set(tables)
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def text_cells(con) -> list[str]:
    """Every non-null VARCHAR value of every table of the store."""
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND data_type = 'VARCHAR' ORDER BY 1, 2").fetchall()
    assert {t for t, _ in columns} >= set(TABLES)
    values: list[str] = []
    for table, column in columns:
        values += [v for (v,) in con.execute(f'SELECT "{column}" FROM {table} WHERE "{column}" IS NOT NULL').fetchall()]
    return values


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# --- separators and encodings -----------------------------------------------------------------------------


def test_comma_utf8_codes_stay_text_and_units_come_from_the_dossier_code(con):
    result = ingest(con, "comma_utf8.csv")
    assert counts(result) == dict(rows_read=3, inserted=3, updated=0, unchanged=0, rejected=0, warnings=0, skipped=0,
                                  header_row=1, file_format="csv", encoding="utf-8", delimiter=",", sheet_name=None)
    assert stored(con) == [
        row("000.00.12.H26-240105-0001", procedure_code="1.001230", procedure_name="Đăng ký khai sinh",
            channel="online", service_level="full_online", received_at=T(2024, 1, 5, 8, 30),
            due_at=T(2024, 1, 10, 17), finished_at=T(2024, 1, 9, 10, 15), status=10, fee_vnd=150000,
            paid_online=True, commune="Phường Bến Nghé"),
        row("000.00.12.H26-240105-0002", procedure_code="1.011442", procedure_name="Cấp bản sao trích lục",
            channel="direct", received_at=T(2024, 1, 5, 9), due_at=T(2024, 1, 8), status=4, fee_vnd=0,
            commune="Phường Đa Kao"),
        row("000.23.45.H26-240106-0001", procedure_code="2.000986", procedure_name="Chứng thực bản sao",
            channel="postal", service_level="partial_online", received_at=T(2024, 1, 6, 14, 5, 30), status=2,
            fee_vnd=150000, commune="Xã Tân Phú"),
    ]
    assert problems(con, "rejected_rows") == [] and problems(con, "import_warnings") == []


def test_semicolon_with_utf8_bom_and_vietnamese_labels(con):
    assert (DATA / "semicolon_bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    result = ingest(con, "semicolon_bom.csv")
    assert counts(result) == dict(rows_read=3, inserted=3, updated=0, unchanged=0, rejected=0, warnings=0, skipped=0,
                                  header_row=1, file_format="csv", encoding="utf-8-sig", delimiter=";",
                                  sheet_name=None)
    assert stored(con) == [
        row("000.00.12.H26-240201-0001", procedure_code="1.000894", channel="online", service_level="full_online",
            received_at=T(2024, 2, 1), finished_at=T(2024, 2, 2), status=10, fee_vnd=150000, digitized=True,
            commune="Phường Bến Thành"),
        row("000.00.12.H26-240201-0002", procedure_code="1.000894", channel="postal",
            service_level="partial_online", received_at=T(2024, 2, 1), status=4, fee_vnd=1200000,
            commune="Phường Bến Thành"),
        row("000.00.12.H26-240202-0001", procedure_code="1.004227", channel="direct", service_level="offline",
            received_at=T(2024, 2, 2), status=5, digitized=True, commune="Xã Bình Chánh"),
    ]
    # The BOM is not part of the first header.
    headers = con.execute("SELECT header FROM import_columns ORDER BY position").fetchall()
    assert headers[0] == ("Mã hồ sơ",)


def test_utf16_unicode_text_with_igate_camelcase_headers_and_a_unit_column(con):
    assert (DATA / "unicode_text_utf16.txt").read_bytes().startswith(b"\xff\xfe")
    result = ingest(con, "unicode_text_utf16.txt")
    assert counts(result) == dict(rows_read=2, inserted=2, updated=0, unchanged=0, rejected=0, warnings=0, skipped=0,
                                  header_row=1, file_format="csv", encoding="utf-16", delimiter="\t", sheet_name=None)
    assert stored(con) == [
        row("000.00.12.H26-240301-0001", procedure_code="1.001230", procedure_name="Đăng ký kết hôn",
            agency_code="H26.99", channel="online", service_level="full_online", received_at=T(2024, 3, 1, 8),
            due_at=T(2024, 3, 5, 17), finished_at=T(2024, 3, 4, 9, 30), status=9, paid_online=True,
            commune="Xã Đông Hòa"),
        row("000.00.12.H26-240301-0002", procedure_code="1.001230", procedure_name="Đăng ký kết hôn",
            agency_code="H26.99", channel="direct", received_at=T(2024, 3, 1, 10, 45), status=4, paid_online=False,
            commune="Xã Đông Hòa"),
    ]
    mapping = con.execute("SELECT header, canonical FROM import_columns ORDER BY position").fetchall()
    assert mapping == [
        ("MaHoSo", "dossier_code"), ("MaTTHC", "procedure_code"), ("TenTTHC", "procedure_name"),
        ("KenhThucHien", "channel"), ("MucDo", "service_level"), ("NgayTiepNhan", "received_at"),
        ("NgayHenTra", "due_at"), ("NgayKetThucXuLy", "finished_at"), ("TrangThaiHoSo", "status"),
        ("DuocThanhToanTrucTuyen", "paid_online"), ("XaPhuongDiaBan", "commune"), ("MaDonVi", "agency_code"),
    ]


def test_tab_separated_with_unaccented_upper_case_and_padded_headers(con):
    result = ingest(con, "unaccented_headers.tsv")
    # Status 9 without a finish date is kept with a warning (it cannot be placed in a period).
    assert counts(result) == dict(rows_read=2, inserted=2, updated=0, unchanged=0, rejected=0, warnings=1, skipped=0,
                                  header_row=1, file_format="csv", encoding="utf-8", delimiter="\t", sheet_name=None)
    assert stored(con) == [
        row("000.00.12.H26-240410-0001", procedure_code="1.000894", channel="online", received_at=T(2024, 4, 10),
            due_at=T(2024, 4, 15, 17), status=9, digitized=True, e_result=True),
        row("000.00.12.H26-240410-0002", procedure_code="1.000894", channel="direct",
            received_at=T(2024, 4, 10, 13, 20), status=4, digitized=False, e_result=False),
    ]
    mapping = dict(con.execute("SELECT header, canonical FROM import_columns").fetchall())
    assert mapping == {"Ma ho so": "dossier_code", "MÃ TTHC": "procedure_code", "kênh  nộp": "channel",
                       "NGÀY TIẾP NHẬN": "received_at", "trang thai": "status", "Ngay hen tra": "due_at",
                       "SO HOA": "digitized", "Ket qua dien tu": "e_result"}
    assert problems(con, "import_warnings")[0][:2] == (2, "finished_at")


def test_windows_1258_is_decoded_and_stored_as_nfc(con):
    raw = (DATA / "windows1258.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\xf2" in raw  # a separate combining dot below, as Windows-1258 writes "ệ"/"ị"/"ộ"
    result = ingest(con, "windows1258.csv")
    assert counts(result) == dict(rows_read=2, inserted=2, updated=0, unchanged=0, rejected=0, warnings=0, skipped=0,
                                  header_row=1, file_format="csv", encoding="cp1258", delimiter=",", sheet_name=None)
    assert stored(con) == [
        row("000.00.12.H26-240501-0001", procedure_code="1.001193", procedure_name="Đăng ký kết hôn",
            channel="direct", received_at=T(2024, 5, 2), finished_at=T(2024, 5, 3), status=9, commune="Xã Hòa Phú"),
        row("000.00.12.H26-240501-0002", procedure_code="1.001193", procedure_name="Đăng ký kết hôn",
            channel="online", received_at=T(2024, 5, 2), status=4, commune="Phường Quảng Ngãi"),
    ]
    assert all(is_nfc(v) for v in text_cells(con))


def test_decomposed_accents_in_headers_and_values_are_stored_composed(con):
    raw = (DATA / "nfd_accents.csv").read_text(encoding="utf-8")
    assert not is_nfc(raw) and "Mã hồ sơ" not in raw
    result = ingest(con, "nfd_accents.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.warnings) == (2, 2, 0, 0)
    assert stored(con) == [
        row("000.00.12.H26-240601-0001", procedure_code="1.001193", procedure_name="Đăng ký kết hôn",
            sector="Hộ tịch", channel="online", received_at=T(2024, 6, 3), status=2, commune="Phường Hòa Cường"),
        row("000.00.12.H26-240601-0002", procedure_code="1.001193", procedure_name="Đăng ký kết hôn",
            sector="Hộ tịch", channel="postal", received_at=T(2024, 6, 3), status=4, commune="Xã Hòa Tiến"),
    ]
    headers = [h for (h,) in con.execute("SELECT header FROM import_columns ORDER BY position").fetchall()]
    assert headers == ["Mã hồ sơ", "Mã thủ tục", "Thủ tục", "Kênh nộp", "Ngày nhận", "Tình trạng", "Lĩnh vực",
                       "Xã/Phường"]
    assert all(is_nfc(v) for v in text_cells(con))


def test_gzipped_csv(con):
    assert (DATA / "gzipped.csv.gz").read_bytes()[:2] == b"\x1f\x8b"
    result = ingest(con, "gzipped.csv.gz")
    assert counts(result) == dict(rows_read=2, inserted=2, updated=0, unchanged=0, rejected=0, warnings=0, skipped=0,
                                  header_row=1, file_format="csv", encoding="utf-8", delimiter=",", sheet_name=None)
    assert stored(con) == [
        row("000.00.12.H26-240701-0001", procedure_code="1.001230", channel="online",
            received_at=T(2024, 7, 1, 7, 45), status=1),
        row("000.00.12.H26-240701-0002", procedure_code="1.001230", channel="postal",
            received_at=T(2024, 7, 1, 8, 10), status=3),
    ]


# --- layout: titles, blank and total rows, personal data ----------------------------------------------------


def test_title_rows_blank_rows_and_total_row_are_skipped_and_row_numbers_match_the_file(con):
    result = ingest(con, "title_total_blank.csv")
    # Lines 6 (empty) and 8 (empty cells) and 11 (Tổng cộng) are skipped; line 9 is rejected.
    assert counts(result) == dict(rows_read=4, inserted=3, updated=0, unchanged=0, rejected=1, warnings=1, skipped=3,
                                  header_row=4, file_format="csv", encoding="utf-8-sig", delimiter=";",
                                  sheet_name=None)
    assert stored(con) == [
        row("000.00.12.H26-240110-0001", procedure_code="1.001230", channel="online", received_at=T(2024, 1, 10),
            status=4),
        row("000.00.12.H26-240110-0002", procedure_code="1.001230", channel="direct", received_at=T(2024, 1, 10),
            status=9),
        row("000.00.12.H26-240111-0002", procedure_code="1.001230", channel="postal", received_at=T(2024, 1, 11),
            status=2),
    ]
    [rejected] = problems(con, "rejected_rows")
    assert rejected[:4] == (9, "channel", "Hình thức nộp", "Fax")
    [warning] = problems(con, "import_warnings")
    assert warning[:4] == (7, "finished_at", None, None)
    assert "resolved status without a finish or return date" in warning[4]
    imports = con.execute("SELECT header_row, rows_read, rejected, skipped FROM imports").fetchall()
    assert imports == [(4, 4, 1, 3)]


PERSONAL_VALUES = ("Nguyễn Văn Ất", "0912345678", "12 Đường Lê Lợi Phường Bến Nghé", "079085001234",
                   "Trần Thị Bính", "0987654321", "34 Đường Hai Bà Trưng Phường Đa Kao", "079190005678")
EXCEL_PERSONAL_VALUES = ("Lê Văn Cảnh", "Phạm Thị Dung", "Hoàng Văn Em", "Võ Thị Giang")


def assert_no_personal_data(con, secrets: tuple[str, ...]) -> None:
    """None of the values is (part of) any text cell of any table."""
    cells = text_cells(con)
    assert len(cells) > 20, "the import stored almost nothing"
    assert [(s, c) for s in secrets for c in cells if s in c] == []


def test_personal_data_columns_are_recorded_by_name_only_and_their_values_nowhere(con):
    raw = (DATA / "personal_data.csv").read_bytes()
    assert all(s.encode() in raw for s in PERSONAL_VALUES)  # the file really carries them
    ingest(con, "personal_data.csv")
    assert_no_personal_data(con, PERSONAL_VALUES)
    ignored = con.execute("SELECT header FROM import_columns WHERE canonical IS NULL ORDER BY position").fetchall()
    assert ignored == [("STT",), ("Họ tên",), ("Số điện thoại",), ("Địa chỉ",), ("Số CCCD",)]
    assert stored(con) == [
        row("000.00.12.H26-240801-0001", procedure_code="1.001230", channel="online", received_at=T(2024, 8, 1),
            status=4),
        row("000.00.12.H26-240801-0002", procedure_code="1.001230", channel="direct", received_at=T(2024, 8, 1),
            status=2),
    ]


# --- values ---------------------------------------------------------------------------------------------------


def test_text_dates_in_every_field_format(con):
    result = ingest(con, "dates_text.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.warnings) == (6, 6, 0, 0)
    got = [(d["dossier_code"][-4:], d["received_at"], d["due_at"]) for d in stored(con)]
    assert got == [
        ("0101", T(2024, 1, 5), T(2024, 1, 8, 17)),             # dd/mm/yyyy; ISO with T
        ("0102", T(2024, 1, 5, 8, 30), T(2024, 1, 8, 10)),      # dd/mm/yyyy HH:MM; ISO +07:00 (Vietnam time)
        ("0103", T(2024, 1, 5, 8, 30, 15), T(2024, 1, 8, 10)),  # dd/mm/yyyy HH:MM:SS; ISO Z = UTC, 03:00 -> 10:00
        ("0104", T(2024, 1, 5), T(2024, 1, 8, 18)),             # dd-mm-yyyy; Excel serial 45299.75 as text
        ("0105", T(2024, 1, 5, 14), T(2024, 1, 8)),             # ISO with T; dd/mm/yyyy (day first)
        ("0106", T(2024, 1, 5, 12), None),                      # Excel serial 45296.5 as text; blank
    ]


def test_money_booleans_and_service_levels(con):
    result = ingest(con, "money_bool_level.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.warnings) == (5, 5, 0, 0)
    got = [(d["fee_vnd"], d["paid_online"], d["digitized"], d["e_result"], d["service_level"]) for d in stored(con)]
    assert got == [
        (150000, True, True, True, "full_online"),        # 150.000; Có, x, 1; toàn trình
        (150000, False, False, False, "full_online"),     # 150,000; Không, blank, 0; Mức độ 4
        (150000, True, True, True, "partial_online"),     # 150000; true, yes, Có; một phần
        (1200000, False, False, False, "partial_online"),  # 1.200.000 đ; false, no, không; Mức độ 3
        (None, False, False, False, "offline"),           # blanks: no fee, no, offline
    ]


STATUS_SPELLINGS = [(str(code), code) for code in range(1, 11)] + [
    ("Mới đăng ký", 1), ("Được tiếp nhận", 2), ("Không được tiếp nhận", 3), ("Đang xử lý", 4),
    ("Yêu cầu bổ sung giấy tờ", 5), ("Yêu cầu thực hiện nghĩa vụ tài chính", 6), ("Công dân yêu cầu rút hồ sơ", 7),
    ("Dừng xử lý", 8), ("Đã xử lý xong", 9), ("Đã trả kết quả", 10),
    ("registered", 1), ("withdrawn", 7), ("Stopped", 8), ("RESOLVED", 9), ("da tra ket qua", 10),
]
CHANNEL_SPELLINGS = [
    ("1", "direct"), ("2", "online"), ("3", "postal"),
    ("Trực tiếp", "direct"), ("Trực tuyến", "online"), ("Bưu chính công ích", "postal"), ("BCCI", "postal"),
    ("direct", "direct"), ("Online", "online"), ("postal", "postal"), ("truc tuyen", "online"),
]


def vocabulary_file(folder: Path, name: str, *, channels: list[str], statuses: list[str]) -> Path:
    """A tiny export whose rows differ only in their channel and status spellings."""
    lines = ["Mã hồ sơ,Mã TTHC,Hình thức nộp,Ngày tiếp nhận,Ngày kết thúc xử lý,Trạng thái"]
    lines += [f'000.00.12.H26-240101-{n:04d},1.001230,"{channel}",01/01/2024,02/01/2024,"{status}"'
              for n, (channel, status) in enumerate(zip(channels, statuses, strict=True), start=1)]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def chunks(pairs: list[tuple[str, object]], size: int = 6) -> list[list[tuple[str, object]]]:
    return [pairs[i:i + size] for i in range(0, len(pairs), size)]


@pytest.mark.parametrize("spellings", chunks(STATUS_SPELLINGS), ids=lambda c: c[0][0])
def test_status_codes_and_labels(con, tmp_path, spellings):
    path = vocabulary_file(tmp_path, "statuses.csv", channels=["1"] * len(spellings),
                           statuses=[s for s, _ in spellings])
    result = ingest(con, path)
    assert (result.inserted, result.rejected) == (len(spellings), 0)
    assert [d["status"] for d in stored(con)] == [code for _, code in spellings]


@pytest.mark.parametrize("spellings", chunks(CHANNEL_SPELLINGS), ids=lambda c: c[0][0])
def test_channel_codes_labels_and_english_words(con, tmp_path, spellings):
    path = vocabulary_file(tmp_path, "channels.csv", channels=[s for s, _ in spellings],
                           statuses=["4"] * len(spellings))
    result = ingest(con, path)
    assert (result.inserted, result.rejected) == (len(spellings), 0)
    assert [d["channel"] for d in stored(con)] == [code for _, code in spellings]


def test_agency_code_from_the_unit_column_else_from_the_dossier_code(con):
    ingest(con, "agency_column.csv")
    got = [(d["dossier_code"], d["agency_code"]) for d in stored(con)]
    assert got == [("000.00.12.H26-241001-0001", "000.00.31.H26"),  # the column wins
                   ("000.00.12.H26-241001-0002", "000.00.12.H26"),  # empty cell: parsed from the code
                   ("HS-2024-0001", None)]                          # not a Circular 01/2018 code


def test_agency_code_parsed_from_the_dossier_code_without_a_unit_column(con):
    ingest(con, "agency_from_code.csv")
    assert [(d["dossier_code"], d["agency_code"]) for d in stored(con)] == [
        ("000.00.12.H26-230516-0001", "000.00.12.H26"), ("HS-2023-0001", None)]


# --- bad rows ---------------------------------------------------------------------------------------------------


def test_bad_required_values_reject_their_row_only(con):
    result = ingest(con, "bad_required.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.warnings, result.skipped) == (6, 2, 4, 0, 0)
    assert [d["dossier_code"] for d in stored(con)] == ["000.00.12.H26-241101-0001", "000.00.12.H26-241101-0006"]
    rejected = problems(con, "rejected_rows")
    assert [r[:4] for r in rejected] == [
        (3, "dossier_code", "Mã hồ sơ", None),
        (4, "received_at", "Ngày tiếp nhận", "31/02/2024"),
        (5, "channel", "Hình thức nộp", "Fax"),
        (6, "status", "Trạng thái", "Chờ phê duyệt"),
    ]
    assert "required value missing" in rejected[0][4]
    assert "unreadable date" in rejected[1][4]
    assert "value outside the vocabulary" in rejected[2][4]
    assert all(word in rejected[2][4] for word in FAX_REASON_VALUES)
    assert all(label in rejected[3][4] for label in ("Đang xử lý", "Đã trả kết quả", "(10)"))


def test_bad_optional_values_are_stored_empty_with_a_warning(con):
    result = ingest(con, "bad_optional.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.warnings) == (4, 4, 0, 3)
    base = dict(procedure_code="1.001230", channel="direct", received_at=T(2024, 12, 2), status=4)
    assert stored(con) == [
        row("000.00.12.H26-241201-0001", **base, due_at=None, fee_vnd=150000, paid_online=True),
        row("000.00.12.H26-241201-0002", **base, due_at=T(2024, 12, 5), fee_vnd=None, paid_online=True),
        row("000.00.12.H26-241201-0003", **base, due_at=T(2024, 12, 5), fee_vnd=50000, paid_online=None),
        row("000.00.12.H26-241201-0004", **(base | {"channel": "online"}), due_at=T(2024, 12, 5), fee_vnd=0),
    ]
    warnings = problems(con, "import_warnings")
    assert [w[:4] for w in warnings] == [
        (2, "due_at", "Ngày hẹn trả", "31/02/2024"),
        (3, "fee_vnd", "Phí", "một trăm nghìn"),
        (4, "paid_online", "Thanh toán trực tuyến", "có lẽ"),
    ]
    assert "unreadable date" in warnings[0][4] and "unreadable amount" in warnings[1][4]
    assert "Có / Yes" in warnings[2][4] and problems(con, "rejected_rows") == []


# --- workbooks ----------------------------------------------------------------------------------------------------

EXCEL_ROWS = [
    row("000.00.12.H26-240105-0201", procedure_code="1.001230", channel="online", service_level="full_online",
        received_at=T(2024, 1, 5, 8, 30), due_at=T(2024, 1, 10), status=10, fee_vnd=150000,
        commune="Phường Bến Nghé"),
    row("000.00.12.H26-240105-0202", procedure_code="1.011442", channel="direct", received_at=T(2024, 1, 5, 14),
        status=4, fee_vnd=0, commune="Phường Đa Kao"),
    row("000.00.12.H26-240106-0201", procedure_code="2.000986", channel="postal", service_level="partial_online",
        received_at=T(2024, 1, 6, 9), due_at=T(2024, 1, 8), status=4, commune="Xã Tân Phú"),
]


@pytest.mark.parametrize(("name", "file_format", "sheet"), [
    ("title_rows.xlsx", "xlsx", "Danh sách hồ sơ"),  # second sheet: the first one has no header
    ("legacy.xls", "xls", "Danh sach"),
])
def test_workbook_with_titles_real_dates_serials_blank_and_total_rows(con, name, file_format, sheet):
    result = ingest(con, name)
    assert counts(result) == dict(rows_read=4, inserted=3, updated=0, unchanged=0, rejected=1, warnings=1, skipped=2,
                                  header_row=4, file_format=file_format, encoding=None, delimiter=None,
                                  sheet_name=sheet)
    assert stored(con) == EXCEL_ROWS
    assert_no_personal_data(con, EXCEL_PERSONAL_VALUES)  # row 9 is rejected: its name must not leak either
    assert [r[:4] for r in problems(con, "rejected_rows")] == [(9, "received_at", "Ngày tiếp nhận", None)]
    # Status 10 without a finish or return date (row 5) is kept and flagged.
    assert [w[:2] for w in problems(con, "import_warnings")] == [(5, "finished_at")]


def test_workbook_refusal_describes_the_sheet_that_looks_like_data(con, tmp_path):
    import xlsxwriter

    path = tmp_path / "no_status.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("Ghi chú").write_row(0, 0, ["Ghi chú", "Xuất ngày 31/01/2024"])
    data = workbook.add_worksheet("Danh sách")
    data.write_row(0, 0, ["BÁO CÁO DANH SÁCH HỒ SƠ"])
    data.write_row(2, 0, ["Mã hồ sơ", "Mã TTHC", "Kênh nộp", "Ngày tiếp nhận", "Họ tên"])
    data.write_row(3, 0, ["000.00.12.H26-240105-0001", "1.001230", "1", "05/01/2024", "Nguyễn Văn Ất"])
    workbook.close()
    with pytest.raises(ImportRefused) as caught:
        ingest(con, path)
    message = caught.value.message
    assert '"Mã hồ sơ", "Mã TTHC", "Kênh nộp", "Ngày tiếp nhận", "Họ tên"' in message
    assert "(status)" in message and '"TrangThaiHoSo"' in message
    assert "(channel)" not in message and "Nguyễn Văn Ất" not in message


# --- refused files -------------------------------------------------------------------------------------------------


def test_missing_required_column_is_refused_with_columns_found_missing_and_spellings(con):
    with pytest.raises(ImportRefused) as caught:
        ingest(con, "missing_column.csv")
    assert caught.value.file == "missing_column.csv"
    message = caught.value.message
    assert 'columns found): "Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận", "Họ tên"' in message
    missing = [line for line in message.splitlines() if line.startswith("  - ")]
    assert len(missing) == 2
    assert "(channel)" in missing[0] and '"Hình thức nộp", "Kênh nộp"' in missing[0] and '"KenhThucHien"' in missing[0]
    assert "(status)" in missing[1] and '"Trạng thái", "Trạng thái hồ sơ", "TrangThaiHoSo"' in missing[1]


def _refused_files(folder: Path) -> dict[str, Path]:
    whitespace = folder / "blank_lines.csv"
    whitespace.write_bytes(b"\r\n  \r\n\r\n")
    broken = folder / "broken.csv.gz"
    broken.write_bytes(gzip.compress(b"Ma ho so,Ma TTHC\n", mtime=0)[:12])
    header_only_titles = folder / "titles_only.csv"
    header_only_titles.write_text("BÁO CÁO DANH SÁCH HỒ SƠ\nTừ ngày 01/01/2024 đến ngày 31/01/2024\n", encoding="utf-8")
    not_a_workbook = folder / "fake.xlsx"
    not_a_workbook.write_bytes(b"Ma ho so,Ma TTHC\n")
    return {
        "missing_column.csv": DATA / "missing_column.csv",
        "empty.csv": DATA / "empty.csv",
        "unsupported.pdf": DATA / "unsupported.pdf",
        "blank_lines.csv": whitespace,
        "broken.csv.gz": broken,
        "titles_only.csv": header_only_titles,
        "fake.xlsx": not_a_workbook,
        "absent.csv": folder / "absent.csv",
    }


REFUSAL_REASONS = {
    "missing_column.csv": "no header row names every required column",
    "empty.csv": "the file is empty",
    "unsupported.pdf": "unsupported file type",
    "blank_lines.csv": "the file is empty",
    "broken.csv.gz": "corrupt gzip file",
    "titles_only.csv": "no header row names every required column",
    "fake.xlsx": "unreadable workbook",
    "absent.csv": "file not found",
}


@pytest.fixture(scope="module")
def populated():
    """A store holding dossiers, import records, columns, a warning and rejected rows; shared by the refusal
    cases, which each check that it is left exactly as they found it."""
    connection = connect(None)
    ingest(connection, "bad_required.csv")
    ingest(connection, "title_total_blank.csv")
    yield connection
    connection.close()


@pytest.mark.parametrize("name", sorted(REFUSAL_REASONS))
def test_a_refused_file_leaves_the_database_exactly_as_before(populated, tmp_path, name):
    before = snapshot(populated)
    assert [len(before[t]) for t in TABLES] == [2, 10, 5, 5, 1]
    with pytest.raises(ImportRefused) as caught:
        ingest(populated, _refused_files(tmp_path)[name])
    assert REFUSAL_REASONS[name] in caught.value.message
    assert snapshot(populated) == before


def test_importing_the_same_file_twice_changes_nothing(con):
    ingest(con, "unicode_text_utf16.txt")
    before = snapshot(con)["dossiers"]
    again = ingest(con, "unicode_text_utf16.txt")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert snapshot(con)["dossiers"] == before


# --- the files themselves ----------------------------------------------------------------------------------------


def workbook_cells(path: Path) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return {name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in workbook.sheet_names}


def make_files():
    """tests/data/make_files.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_files", DATA / "make_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_files_are_what_make_files_builds(tmp_path):
    """Text files byte for byte; workbooks cell for cell (their bytes depend on the writer's version)."""
    module = make_files()
    for name, build in module.BUILDERS.items():
        if name.endswith(".xls") and importlib.util.find_spec("xlwt") is None:
            continue  # xlwt is only needed to rebuild the legacy workbook
        if name.endswith((".xlsx", ".xls")):
            (tmp_path / name).write_bytes(build())
            assert workbook_cells(DATA / name) == workbook_cells(tmp_path / name), f"{name}: rerun make_files.py"
        else:
            assert (DATA / name).read_bytes() == build(), f"{name} differs from make_files.py; rerun it"


def test_line_break_inside_a_quoted_value_next_to_a_short_row(con, tmp_path):
    """DuckDB's parallel reader cannot pad short rows when quoted values hold line breaks: the importer
    reads such a file serially; the multi-line cell is one spreadsheet row."""
    path = tmp_path / "multiline.csv"
    path.write_text(
        "Mã hồ sơ,Mã TTHC,Tên TTHC,Hình thức nộp,Ngày tiếp nhận,Trạng thái\n"
        'A-240105-0001,1.001234,"Tên\nhai dòng",2,05/01/2024,4\n'
        "A-240105-0002,1.001234\n"
        "A-240105-0003,1.001234,x,2,05/01/2024,4\n",
        encoding="utf-8",
    )
    result = ingest_file(con, path)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    assert con.execute("SELECT procedure_name FROM dossiers ORDER BY dossier_code").fetchall() == [
        ("Tên\nhai dòng",), ("x",)]
    assert problems(con, "rejected_rows") == [
        (3, "channel", "Hình thức nộp", None, "thiếu giá trị bắt buộc (required value missing)"),
        (3, "received_at", "Ngày tiếp nhận", None, "thiếu giá trị bắt buộc (required value missing)"),
        (3, "status", "Trạng thái", None, "thiếu giá trị bắt buộc (required value missing)"),
    ]


def test_windows_1258_detected_beyond_an_ascii_head(con, tmp_path):
    """The encoding is guessed from the head; a body that is not UTF-8 after all is re-read as Windows-1258."""
    lines = ["MaHoSo;MaTTHC;DonViXuLy;KenhThucHien;NgayTiepNhan;TrangThaiHoSo"]
    lines += [f"X-240105-{i:04d};1.001234;So Tu phap;2;05/01/2024;4" for i in range(1, 1501)]
    lines.append("X-240106-0001;1.001234;Sở Tư pháp;2;06/01/2024;4")
    path = tmp_path / "ascii_head_cp1258.csv"
    path.write_bytes(make_files().cp1258("\r\n".join(lines) + "\r\n"))
    assert path.read_bytes()[: 1 << 16].isascii()
    result = ingest_file(con, path)
    assert (result.encoding, result.rows_read, result.inserted, result.rejected) == ("cp1258", 1501, 1501, 0)
    name = con.execute("SELECT agency_name FROM dossiers WHERE dossier_code = 'X-240106-0001'").fetchone()[0]
    assert name == "Sở Tư pháp" and is_nfc(name)


def test_workbook_starting_below_row_one_reports_spreadsheet_rows(con, tmp_path):
    """A sheet whose first rows are empty: the reader starts at the first stored row, the row numbers in
    messages still are the spreadsheet's."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Hồ sơ"
    sheet["A3"] = "BÁO CÁO DANH SÁCH HỒ SƠ"
    sheet.append([])
    sheet.append(["Mã hồ sơ", "Mã TTHC", "Hình thức nộp", "Ngày tiếp nhận", "Trạng thái"])
    sheet.append(["000.00.12.H26-240105-0001", "1.001230", "Trực tuyến", dt.datetime(2024, 1, 5, 8, 30), 10])
    sheet.append(["000.00.12.H26-240105-0002", "1.001230", "Fax", dt.datetime(2024, 1, 5, 9, 0), 4])
    path = tmp_path / "starts_at_row_3.xlsx"
    book.save(path)
    result = ingest_file(con, path)
    assert (result.header_row, result.sheet_name, result.inserted, result.rejected) == (5, "Hồ sơ", 1, 1)
    assert [(r[0], r[1]) for r in problems(con, "rejected_rows")] == [(7, "channel")]
    assert con.execute("SELECT procedure_code, received_at FROM dossiers").fetchall() == [
        ("1.001230", dt.datetime(2024, 1, 5, 8, 30))]
