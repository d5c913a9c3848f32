"""Build the import-dialect test files of tests/data/ deterministically.

Run `python tests/data/make_files.py` to (re)write them; the produced files are committed next to this
script, and `tests/test_import_dialects.py` checks that running the builders again gives the same bytes.
Every file is tiny (2–6 data rows) and exercises one dialect or defect of DOMAIN.md §3.
The values are invented; the personal-data columns hold made-up names, phones and ID numbers.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Vietnamese tone marks: Windows-1258 stores them as separate combining characters after the base letter.
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    """Encode Vietnamese text as Windows-1258 does: precomposed where the code page has the letter,
    else the base letter (with its circumflex/breve/horn) followed by a combining tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
        tones = "".join(c for c in decomposed if c in _TONE_MARKS)
        out += (base + tones).encode("cp1258")
    return bytes(out)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def lines(*rows: str, newline: str = "\n") -> str:
    return newline.join(rows) + newline


# --- text files ---------------------------------------------------------------------------------------------

COMMA_UTF8 = lines(
    'Mã hồ sơ,Mã TTHC,Tên TTHC,Hình thức nộp,Mức độ DVC,Ngày tiếp nhận,Ngày hẹn trả,Ngày kết thúc xử lý,'
    'Trạng thái,"Phí, lệ phí",Thanh toán trực tuyến,Xã/Phường',
    '000.00.12.H26-240105-0001,1.001230,Đăng ký khai sinh,2,toàn trình,05/01/2024 08:30,10/01/2024 17:00,'
    '09/01/2024 10:15,10,"150,000",Có,Phường Bến Nghé',
    '000.00.12.H26-240105-0002,1.011442.000.00.00.H26,Cấp bản sao trích lục,1,,05/01/2024 09:00,08/01/2024,'
    ',4,0,Không,Phường Đa Kao',
    '000.23.45.H26-240106-0001,2.000986,Chứng thực bản sao,3,Mức độ 3,06/01/2024 14:05:30,,,2,150000,,Xã Tân Phú',
)

SEMICOLON_BOM = lines(
    "Mã hồ sơ;Mã TTHC;Hình thức nộp;Mức độ DVC;Ngày tiếp nhận;Ngày kết thúc xử lý;Trạng thái;Phí, lệ phí;"
    "Số hóa;Xã/Phường",
    "000.00.12.H26-240201-0001;1.000894;Trực tuyến;Mức độ 4;01/02/2024;02/02/2024;Đã trả kết quả;150.000;x;"
    "Phường Bến Thành",
    "000.00.12.H26-240201-0002;1.000894;Bưu chính công ích;một phần;01/02/2024;;Đang xử lý;1.200.000 đ;;"
    "Phường Bến Thành",
    "000.00.12.H26-240202-0001;1.004227;Trực tiếp;Mức độ 2;02/02/2024;;Yêu cầu bổ sung giấy tờ;;x;Xã Bình Chánh",
    newline="\r\n",
)

UTF16_TAB = lines(
    "MaHoSo\tMaTTHC\tTenTTHC\tKenhThucHien\tMucDo\tNgayTiepNhan\tNgayHenTra\tNgayKetThucXuLy\tTrangThaiHoSo\t"
    "DuocThanhToanTrucTuyen\tXaPhuongDiaBan\tMaDonVi",
    "000.00.12.H26-240301-0001\t1.001230\tĐăng ký kết hôn\tonline\tfull_online\t2024-03-01T08:00:00\t"
    "2024-03-05T17:00:00\t2024-03-04T09:30:00\tResolved\ttrue\tXã Đông Hòa\tH26.99",
    "000.00.12.H26-240301-0002\t1.001230\tĐăng ký kết hôn\tdirect\t\t2024-03-01T10:45:00\t\t\tin progress\t"
    "false\tXã Đông Hòa\tH26.99",
    newline="\r\n",
)

UNACCENTED_TSV = lines(
    "Ma ho so\t  MÃ TTHC  \tkênh  nộp\tNGÀY TIẾP NHẬN\ttrang thai\tNgay hen tra\tSO HOA\tKet qua dien tu",
    "000.00.12.H26-240410-0001\t1.000894\t2\t10-04-2024\t9\t15-04-2024 17:00\t1\tyes",
    "000.00.12.H26-240410-0002\t1.000894\t1\t10-04-2024 13:20\t4\t\t0\tno",
)

CP1258_CSV = lines(
    "Mã hồ sơ,Mã TTHC,Tên TTHC,Hình thức nộp,Ngày tiếp nhận,Ngày kết thúc xử lý,Trạng thái,Xã/Phường",
    "000.00.12.H26-240501-0001,1.001193,Đăng ký kết hôn,Trực tiếp,02/05/2024,03/05/2024,Đã xử lý xong,Xã Hòa Phú",
    "000.00.12.H26-240501-0002,1.001193,Đăng ký kết hôn,Trực tuyến,02/05/2024,,Đang xử lý,Phường Quảng Ngãi",
    newline="\r\n",
)

NFD_CSV = nfd(lines(
    "Mã hồ sơ,Mã thủ tục,Thủ tục,Kênh nộp,Ngày nhận,Tình trạng,Lĩnh vực,Xã/Phường",
    "000.00.12.H26-240601-0001,1.001193,Đăng ký kết hôn,Trực tuyến,03/06/2024,Đã tiếp nhận,Hộ tịch,Phường Hòa Cường",
    "000.00.12.H26-240601-0002,1.001193,Đăng ký kết hôn,Bưu điện,03/06/2024,Đang giải quyết,Hộ tịch,Xã Hòa Tiến",
))

GZIPPED_CSV = lines(
    "Mã hồ sơ,Mã TTHC,Hình thức nộp,Ngày tiếp nhận,Trạng thái",
    "000.00.12.H26-240701-0001,1.001230,2,01/07/2024 07:45,1",
    "000.00.12.H26-240701-0002,1.001230,3,01/07/2024 08:10,3",
)

# Line numbers, as a spreadsheet shows them: 1-2 titles, 3 blank, 4 header, 5 good, 6 blank line, 7 good,
# 8 a row of empty cells, 9 channel "Fax" (rejected), 10 good, 11 total row.
TITLE_TOTAL_BLANK = lines(
    "BÁO CÁO DANH SÁCH HỒ SƠ;;;;",
    "Từ ngày 01/01/2024 đến ngày 31/01/2024;;;;",
    "",
    "Mã hồ sơ;Mã TTHC;Hình thức nộp;Ngày tiếp nhận;Trạng thái",
    "000.00.12.H26-240110-0001;1.001230;2;10/01/2024;4",
    "",
    "000.00.12.H26-240110-0002;1.001230;1;10/01/2024;9",
    ";;;;",
    "000.00.12.H26-240111-0001;1.001230;Fax;11/01/2024;4",
    "000.00.12.H26-240111-0002;1.001230;3;11/01/2024;2",
    "Tổng cộng;;;;4",
    newline="\r\n",
)

PERSONAL_DATA = lines(
    "STT,Mã hồ sơ,Họ tên,Số điện thoại,Địa chỉ,Số CCCD,Mã TTHC,Hình thức nộp,Ngày tiếp nhận,Trạng thái",
    "1,000.00.12.H26-240801-0001,Nguyễn Văn Ất,0912345678,12 Đường Lê Lợi Phường Bến Nghé,079085001234,"
    "1.001230,2,01/08/2024,4",
    "2,000.00.12.H26-240801-0002,Trần Thị Bính,0987654321,34 Đường Hai Bà Trưng Phường Đa Kao,079190005678,"
    "1.001230,1,01/08/2024,2",
)

# One received date per row in a different format; due dates in the other formats.
DATES_TEXT = lines(
    "Mã hồ sơ,Mã TTHC,Hình thức nộp,Ngày tiếp nhận,Ngày hẹn trả,Trạng thái",
    "000.00.12.H26-240105-0101,1.001230,1,05/01/2024,2024-01-08T17:00:00,4",
    "000.00.12.H26-240105-0102,1.001230,1,05/01/2024 08:30,2024-01-08T10:00:00+07:00,4",
    "000.00.12.H26-240105-0103,1.001230,1,05/01/2024 08:30:15,2024-01-08T03:00:00Z,4",
    "000.00.12.H26-240105-0104,1.001230,1,05-01-2024,45299.75,4",
    "000.00.12.H26-240105-0105,1.001230,1,2024-01-05T14:00:00,08/01/2024,4",
    "000.00.12.H26-240105-0106,1.001230,1,45296.5,,4",
)

MONEY_BOOL_LEVEL = lines(
    "Mã hồ sơ;Mã TTHC;Hình thức nộp;Mức độ DVC;Ngày tiếp nhận;Trạng thái;Phí, lệ phí;Thanh toán trực tuyến;"
    "Số hóa;Kết quả điện tử",
    "000.00.12.H26-240902-0001;1.001230;2;toàn trình;02/09/2024;4;150.000;Có;x;1",
    "000.00.12.H26-240902-0002;1.001230;2;Mức độ 4;02/09/2024;4;150,000;Không;;0",
    "000.00.12.H26-240902-0003;1.001230;2;một phần;02/09/2024;4;150000;true;yes;Có",
    "000.00.12.H26-240902-0004;1.001230;1;Mức độ 3;02/09/2024;4;1.200.000 đ;false;no;không",
    "000.00.12.H26-240902-0005;1.001230;1;;02/09/2024;4;;;;",
)

# The unit comes from the "Mã đơn vị" column when it is filled, else from the dossier code; a code that is
# not in the Circular 01/2018 form gives none.
AGENCY_COLUMN = lines(
    "Mã hồ sơ,Mã đơn vị,Mã TTHC,Hình thức nộp,Ngày tiếp nhận,Trạng thái",
    "000.00.12.H26-241001-0001,000.00.31.H26,1.001230,1,01/10/2024,4",
    "000.00.12.H26-241001-0002,,1.001230,1,01/10/2024,4",
    "HS-2024-0001,,1.001230,1,01/10/2024,4",
)

AGENCY_FROM_CODE = lines(
    "Mã hồ sơ,Mã TTHC,Hình thức nộp,Ngày tiếp nhận,Trạng thái",
    "000.00.12.H26-230516-0001,1.001230,1,16/05/2023,4",
    "HS-2023-0001,1.001230,1,16/05/2023,4",
)

# Row 2 and 7 are good; 3 lacks the dossier code, 4 has an impossible date, 5 channel "Fax", 6 an unknown status.
BAD_REQUIRED = lines(
    "Mã hồ sơ,Mã TTHC,Hình thức nộp,Ngày tiếp nhận,Trạng thái",
    "000.00.12.H26-241101-0001,1.001230,1,01/11/2024,4",
    ",1.001230,1,01/11/2024,4",
    "000.00.12.H26-241101-0003,1.001230,1,31/02/2024,4",
    "000.00.12.H26-241101-0004,1.001230,Fax,01/11/2024,4",
    "000.00.12.H26-241101-0005,1.001230,1,01/11/2024,Chờ phê duyệt",
    "000.00.12.H26-241101-0006,1.001230,2,01/11/2024,2",
)

# Every row is kept; unreadable optional values are stored empty with one warning each.
BAD_OPTIONAL = lines(
    "Mã hồ sơ,Mã TTHC,Hình thức nộp,Ngày tiếp nhận,Ngày hẹn trả,Trạng thái,Phí,Thanh toán trực tuyến",
    "000.00.12.H26-241201-0001,1.001230,1,02/12/2024,31/02/2024,4,150.000,Có",
    "000.00.12.H26-241201-0002,1.001230,1,02/12/2024,05/12/2024,4,một trăm nghìn,Có",
    "000.00.12.H26-241201-0003,1.001230,1,02/12/2024,05/12/2024,4,50000,có lẽ",
    "000.00.12.H26-241201-0004,1.001230,2,02/12/2024,05/12/2024,4,0,Không",
)

MISSING_COLUMN = lines(
    "Mã hồ sơ,Mã TTHC,Ngày tiếp nhận,Họ tên",
    "000.00.12.H26-241201-0001,1.001230,02/12/2024,Nguyễn Văn Ất",
)


def _gzip(text: str) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as handle:
        handle.write(text.encode("utf-8"))
    return buffer.getvalue()


# --- workbooks ----------------------------------------------------------------------------------------------

EXCEL_HEADER = ["STT", "Mã hồ sơ", "Họ tên", "Mã TTHC", "Hình thức nộp", "Mức độ DVC", "Ngày tiếp nhận",
                "Ngày hẹn trả", "Trạng thái", "Phí, lệ phí", "Xã/Phường"]
# Rows 1-2 titles, 3 blank, 4 header, 5-6 good (real date cells), 7 blank, 8 serial numbers in number cells,
# 9 a missing received date (rejected), 10 total row.
EXCEL_ROWS: list[list[object]] = [
    [1, "000.00.12.H26-240105-0201", "Lê Văn Cảnh", "1.001230", 2, "toàn trình",
     dt.datetime(2024, 1, 5, 8, 30), dt.datetime(2024, 1, 10), 10, 150000, "Phường Bến Nghé"],
    [2, "000.00.12.H26-240105-0202", "Phạm Thị Dung", "1.011442.000.00.00.H26", 1, None,
     dt.datetime(2024, 1, 5, 14, 0), None, 4, 0, "Phường Đa Kao"],
    None,
    [3, "000.00.12.H26-240106-0201", "Hoàng Văn Em", "2.000986", 3, "một phần",
     45297.375, 45299.0, "Đang xử lý", None, "Xã Tân Phú"],
    [4, "000.00.12.H26-240106-0202", "Võ Thị Giang", "2.000986", 2, None, None, None, 4, None, "Xã Tân Phú"],
    ["Tổng cộng", None, None, None, None, None, None, None, None, 150000, None],
]
EXCEL_TITLES = ["BÁO CÁO DANH SÁCH HỒ SƠ", "Từ ngày 01/01/2024 đến ngày 31/01/2024"]
EXCEL_NOTE_SHEET = [["Ghi chú"], ["Dữ liệu xuất từ Hệ thống thông tin giải quyết TTHC tỉnh"], ["Người xuất: cán bộ"]]
FIXED_TIME = dt.datetime(2024, 1, 31, 12, 0, 0)


def xlsx_bytes() -> bytes:
    """First sheet: notes without a header; second sheet: titles, header on row 4, dates as real dates and
    serial numbers, a blank row and a total row."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"created": FIXED_TIME})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    notes = workbook.add_worksheet("Ghi chú")
    for r, row in enumerate(EXCEL_NOTE_SHEET):
        notes.write_row(r, 0, row)
    sheet = workbook.add_worksheet("Danh sách hồ sơ")
    for r, title in enumerate(EXCEL_TITLES):
        sheet.write_string(r, 0, title)
    sheet.write_row(3, 0, EXCEL_HEADER)
    for r, row in enumerate(EXCEL_ROWS, start=4):
        for c, value in enumerate(row or []):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)  # codes stay text ("1.001230")
            else:
                sheet.write_number(r, c, value)
    workbook.close()
    return buffer.getvalue()


def xls_bytes() -> bytes:
    """The same second sheet as a legacy .xls (BIFF8) workbook, on its first sheet."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("Danh sach")
    date_style = xlwt.easyxf(num_format_str="dd/mm/yyyy hh:mm")
    for r, title in enumerate(EXCEL_TITLES):
        sheet.write(r, 0, title)
    for c, header in enumerate(EXCEL_HEADER):
        sheet.write(3, c, header)
    for r, row in enumerate(EXCEL_ROWS, start=4):
        for c, value in enumerate(row or []):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


BUILDERS: dict[str, Callable[[], bytes]] = {
    "comma_utf8.csv": lambda: COMMA_UTF8.encode("utf-8"),
    "semicolon_bom.csv": lambda: SEMICOLON_BOM.encode("utf-8-sig"),
    "unicode_text_utf16.txt": lambda: UTF16_TAB.encode("utf-16"),  # BOM + little-endian, as Excel writes
    "unaccented_headers.tsv": lambda: UNACCENTED_TSV.encode("utf-8"),
    "windows1258.csv": lambda: cp1258(CP1258_CSV),
    "nfd_accents.csv": lambda: NFD_CSV.encode("utf-8"),
    "gzipped.csv.gz": lambda: _gzip(GZIPPED_CSV),
    "title_total_blank.csv": lambda: TITLE_TOTAL_BLANK.encode("utf-8-sig"),
    "personal_data.csv": lambda: PERSONAL_DATA.encode("utf-8"),
    "dates_text.csv": lambda: DATES_TEXT.encode("utf-8"),
    "money_bool_level.csv": lambda: MONEY_BOOL_LEVEL.encode("utf-8"),
    "agency_column.csv": lambda: AGENCY_COLUMN.encode("utf-8"),
    "agency_from_code.csv": lambda: AGENCY_FROM_CODE.encode("utf-8"),
    "bad_required.csv": lambda: BAD_REQUIRED.encode("utf-8"),
    "bad_optional.csv": lambda: BAD_OPTIONAL.encode("utf-8"),
    "missing_column.csv": lambda: MISSING_COLUMN.encode("utf-8"),
    "empty.csv": lambda: b"",
    "unsupported.pdf": lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    "title_rows.xlsx": xlsx_bytes,
    "legacy.xls": xls_bytes,
}


def main(folder: Path = HERE) -> None:
    for name, build in BUILDERS.items():
        (folder / name).write_bytes(build())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
