"""Hostile input (issue 7, point 5): names and notes that a spreadsheet would run as formulas are written inert
to every CSV and Excel file; uploads are limited in size and checked by content; data texts shown in pages
cannot inject Markdown or HTML."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from kpi_rows import row, small_store
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from kpi import drilldown, exports, followups
from kpi.dossier_lists import late_dossiers
from kpi.form06 import write_form06
from kpi.pack import build_pack
from kpi.pack_excel import write_pack_xlsx
from kpi.periods import month

MAY = month(2024, 5)
HOSTILE = ('=HYPERLINK("http://evil.example/","bấm")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1",
           "=cmd|' /C calc'!A0")
AGENCY, SECTOR, PROCEDURE, DISTRICT, COMMUNE, NOTE = HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[3], HOSTILE[4], \
    HOSTILE[6]
TASK = "=1+1"  # a follow-up's texts are stripped when stored: "\r=1+1" would become this


# --- formulas in exports ----------------------------------------------------------------------------


def _hostile_rows() -> list[dict[str, object]]:
    place = {"agency_name": AGENCY, "agency_level": "province", "sector": SECTOR, "district": DISTRICT,
             "commune": COMMUNE, "province": "Tỉnh Phú Thọ"}
    return [
        row("2024-05-02", 10, due="2024-05-10", finished="2024-05-08", procedure_code="=1+2", **place),
        row("2024-05-03", 10, due="2024-05-06", finished="2024-05-13", procedure_code="=1+2", **place),
        row("2024-05-04", 4, due="2024-05-20", procedure_code="-9", **place),
    ]


@pytest.fixture(scope="module")
def hostile() -> duckdb.DuckDBPyConnection:
    """A store whose unit, sector, locality and procedure names and a follow-up's texts are formulas."""
    con = small_store(_hostile_rows())
    con.execute("UPDATE dossiers SET procedure_name = $name", {"name": PROCEDURE})
    followups.add_followup(con, period=month(2024, 4), unit_dimension="agency", unit=AGENCY,
                           metric_id="on_time_rate", task=TASK, owner=HOSTILE[3], due_date=date(2024, 5, 31),
                           note=NOTE)
    yield con
    con.close()


def _is_inert(text: str) -> bool:
    return not text.startswith(exports.FORMULA_STARTS)


def _check_workbook(path: Path) -> list[str]:
    """Every cell of every sheet read back twice: openpyxl sees no formula cell, calamine (which evaluates
    nothing, reading the stored value) sees no text a spreadsheet would run; returns the texts."""
    book = load_workbook(path)
    texts = []
    for sheet in book.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert _is_inert(cell.value), f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                    texts.append(cell.value.replace("_x000D_", "\r"))  # openpyxl leaves Excel's escape of CR
    calamine = CalamineWorkbook.from_path(str(path))
    for name in calamine.sheet_names:
        for values in calamine.get_sheet_by_name(name).to_python():
            assert all(_is_inert(v) for v in values if isinstance(v, str)), (name, values)
    return texts


def test_neutralise_prefixes_formula_texts_only() -> None:
    for text in HOSTILE:
        assert exports.neutralise(text) == "'" + text
    for value in ("Sở Xây dựng", "'=1", "", "1+1", " =1", "a=b", "http://x.vn"):
        assert exports.neutralise(value) == value
    for number in (-3, -2.5, 0, 7):
        assert exports.neutralise(number) == number and type(exports.neutralise(number)) is type(number)
    assert exports.neutralise(None) is None


def test_table_download_csv_is_inert_and_keeps_numbers() -> None:
    frame = pd.DataFrame({"=Đơn vị": list(HOSTILE), "Thay đổi": [-1, -2, 3, -4, 5, -6, 7],
                          "Tỷ lệ": [-0.5, 0.25, None, 1.0, -0.125, 0.0, 2.5],
                          "Trộn": ["-5", -5, None, "@a", "ok", pd.NA, "+"]})
    frame["Nhóm"] = pd.Categorical(["-x", "a", "a", "a", "a", "a", "a"])
    body = exports.csv_bytes(frame)
    assert body.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert records[0] == ["'=Đơn vị", "Thay đổi", "Tỷ lệ", "Trộn", "Nhóm"]
    assert [r[0] for r in records[1:]] == ["'" + t for t in HOSTILE]  # the text kept, after the apostrophe
    assert [r[1] for r in records[1:]] == ["-1", "-2", "3", "-4", "5", "-6", "7"]  # negative numbers stay numbers
    assert [r[2] for r in records[1:]] == ["-0.5", "0.25", "", "1.0", "-0.125", "0.0", "2.5"]
    assert [r[3] for r in records[1:]] == ["'-5", "-5", "", "'@a", "ok", "", "'+"]
    assert [r[4] for r in records[1:]] == ["'-x", "a", "a", "a", "a", "a", "a"]
    assert all(_is_inert(cell) for r in records for cell in r if not _is_number(cell))
    assert frame.columns[0] == "=Đơn vị" and frame.iloc[0, 0] == HOSTILE[0]  # the caller's frame untouched


def test_csv_keeps_a_line_break_inside_its_cell() -> None:
    """A carriage return inside a text is quoted with it: Excel would start a new row at a bare one, and read the
    rest as a cell of its own ("=1+1" there would run)."""
    body = exports.csv_bytes(pd.DataFrame({"a": ["x\r=1+1", "y\n=1+1", "z"], "b": [1, 2, 3]}))
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines == ["a,b", '"x\r=1+1",1', '"y\n=1+1",2', "z,3", ""]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_table_download_xlsx_has_no_formula_and_keeps_numbers(hostile, tmp_path: Path) -> None:
    frame = drilldown.dossier_table(late_dossiers(hostile, MAY, kind="resolved_late"))
    frame = pd.concat([frame, pd.DataFrame({"Thay đổi": [-3] * len(frame)})], axis=1)
    frame["ghi chú"] = NOTE
    path = tmp_path / "table.xlsx"
    path.write_bytes(exports.xlsx_bytes(frame.rename(columns={"ghi chú": "=ghi chú"})))
    texts = _check_workbook(path)
    for text in (AGENCY, SECTOR, PROCEDURE, DISTRICT, COMMUNE, NOTE, "=ghi chú", "=1+2"):
        assert "'" + text in texts, text
    sheet = load_workbook(path).active
    headers = [c.value for c in sheet[1]]
    changes = [r[0].value for r in sheet.iter_rows(min_row=2, min_col=headers.index("Thay đổi") + 1,
                                                   max_col=headers.index("Thay đổi") + 1)]
    assert changes == [-3] * len(frame) and all(isinstance(v, int) for v in changes)
    assert "http://evil.example/" not in {link.target for link in sheet._hyperlinks}
    assert not sheet._hyperlinks  # strings_to_urls is off: a URL in a name is no link


def test_meeting_pack_workbook_has_no_formula(hostile, tmp_path: Path) -> None:
    pack = build_pack(hostile, MAY, workbook=True, where={"agency": AGENCY})
    assert len(pack.late) and len(pack.followups)  # the hostile names reach the dossier and follow-up sheets
    texts = _check_workbook(write_pack_xlsx(pack, tmp_path / "pack.xlsx"))
    for text in (AGENCY, SECTOR, PROCEDURE, DISTRICT, COMMUNE, NOTE, TASK):
        assert "'" + text in texts, text
    numbers = load_workbook(tmp_path / "pack.xlsx")["Biểu 06 - Lĩnh vực"]
    assert [c.value for c in numbers[11]][2:] == [3, 0, 3, 0, 2, 1, 0, 1, 1, 0, 1]  # Biểu 06's counts stay numbers


def test_form06_workbook_has_no_formula(hostile, tmp_path: Path) -> None:
    for by, name in (("sector", SECTOR), ("agency", AGENCY), ("district", DISTRICT), ("commune", COMMUNE)):
        path = tmp_path / f"form06-{by}.xlsx"
        write_form06(hostile, MAY, path, by=by, reporting_unit=AGENCY, scope_label=AGENCY)
        texts = _check_workbook(path)
        assert "'" + name in texts, by
