"""The meeting pack's workbook, read back with openpyxl: every sheet is there with its Vietnamese (or English)
title, cells are real numbers equal to the engine's (rates as fractions shown as percentages, counts as
integers, dates as dates), header rows frozen and filters set, empty tables say so."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_pack import MAY, dossiers, sample_store_path

from kpi import db, periods
from kpi.engine import kpi_table
from kpi.form06 import NUMBERS, form06_rows
from kpi.metrics import metric
from kpi.pack import build_pack, cover_facts
from kpi.pack_excel import sheet_names, write_pack_xlsx

VI_SHEETS = ["Tổng hợp chỉ số", "Chỉ số 766 theo nhóm", "Xếp hạng sở, ngành", "Xếp hạng địa bàn",
             "Đơn vị chưa đạt mục tiêu", "Thủ tục trễ hạn nhiều nhất", "Biểu 06 - Lĩnh vực", "Biểu 06 - Cơ quan",
             "Biểu 06 - Quận, huyện", "Hồ sơ trễ hạn", "Hồ sơ quá hạn", "Theo dõi kết luận"]
EN_SHEETS = ["KPI summary", "Index 766 by group", "Departments ranking", "Localities ranking", "Below target",
             "Late procedures", "Form 06 - Sectors", "Form 06 - Agencies", "Form 06 - Districts", "Late dossiers",
             "Overdue dossiers", "Follow-ups"]
HEADER = 8  # the summary's table header row (under the title and the five cover lines)


@pytest.fixture(scope="module")
def small_pack():
    from kpi_rows import small_store

    con = small_store(dossiers())
    con.execute("UPDATE dossiers SET procedure_name = 'Thủ tục ' || procedure_code")
    return con, build_pack(con, MAY)


@pytest.fixture(scope="module")
def workbook(small_pack, tmp_path_factory):
    _, pack = small_pack
    path = write_pack_xlsx(pack, tmp_path_factory.mktemp("xlsx") / "pack.xlsx")
    return load_workbook(path)


def _same(cells: list[object], values: list[object]) -> bool:
    """Cells equal the values; floats to the 15 significant digits an .xlsx keeps."""
    pairs = zip(cells, values, strict=True) if len(cells) == len(values) else None
    return pairs is not None and all(c == pytest.approx(v, rel=1e-14) if isinstance(v, float) else c == v
                                     for c, v in pairs)


def _table(sheet, first_row: int = 1) -> tuple[list[str], list[list[object]]]:
    rows = list(sheet.iter_rows(min_row=first_row, values_only=True))
    return list(rows[0]), [list(r) for r in rows[1:]]


def _column(sheet, header: str, first_row: int = 1) -> list[object]:
    headers, rows = _table(sheet, first_row)
    index = headers.index(header)
    return [r[index] for r in rows]


def _format_of(sheet, header: str, first_row: int = 1) -> set[str]:
    headers = [c.value for c in sheet[first_row]]
    col = headers.index(header) + 1
    return {sheet.cell(r, col).number_format for r in range(first_row + 1, sheet.max_row + 1)
            if sheet.cell(r, col).value is not None}


def test_sheets_have_vietnamese_titles_frozen_headers_and_filters(small_pack, workbook) -> None:
    _, pack = small_pack
    assert workbook.sheetnames == VI_SHEETS == sheet_names(pack, "vi")
    assert all(len(name) <= 31 for name in VI_SHEETS)
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes is not None, sheet.title
        assert sheet.auto_filter.ref, sheet.title
    assert workbook["Tổng hợp chỉ số"].freeze_panes == f"A{HEADER + 1}"
    assert workbook["Xếp hạng sở, ngành"].freeze_panes == "A2"
    assert workbook["Xếp hạng sở, ngành"].auto_filter.ref == "A1:K3"
    assert workbook["Biểu 06 - Lĩnh vực"].freeze_panes == "C11"


def test_summary_has_the_cover_and_the_engines_numbers(small_pack, workbook) -> None:
    con, pack = small_pack
    sheet = workbook["Tổng hợp chỉ số"]
    assert sheet["A1"].value == "Báo cáo kết quả thực hiện các chỉ số cải cách hành chính"
    assert [(sheet.cell(r, 1).value, sheet.cell(r, 2).value) for r in range(2, 7)] == cover_facts(pack, "vi")
    assert sheet["A2"].value == "Kỳ báo cáo" and "Tháng 05/2024" in sheet["B2"].value
    assert sheet["B3"].value == "Toàn tỉnh" and sheet["A5"].value == "Dữ liệu"
    headers, rows = _table(sheet, HEADER)
    assert headers[:7] == ["Mã chỉ số", "Chỉ số", "Tử số", "Mẫu số", "Giá trị", "Mục tiêu", "Đánh giá"]
    engine = kpi_table(con, MAY)
    assert [r[0] for r in rows] == engine["metric"].tolist()
    for r, expected in zip(rows, engine.to_dict("records"), strict=True):
        assert r[1] == metric(expected["metric"]).label_vi
        assert (r[2], r[3]) == (expected["numerator"], expected["denominator"])
        assert isinstance(r[2], int) and isinstance(r[3], int)
        assert _same([r[4], r[5]], [expected["value"], expected["target"]])
    on_time = rows[0]
    assert on_time[0] == "on_time_rate" and on_time[4] == pytest.approx(4 / 6) and on_time[6] == "Chưa đạt"
    for r in range(HEADER + 1, sheet.max_row + 1):
        unit = metric(sheet.cell(r, 1).value).unit
        if sheet.cell(r, 5).value is not None:
            assert sheet.cell(r, 5).number_format == ("0.00%" if unit == "rate" else "0.0")


def test_rankings_and_lists_are_numbers(small_pack, workbook) -> None:
    _, pack = small_pack
    departments = workbook["Xếp hạng sở, ngành"]
    headers, rows = _table(departments)
    assert headers[:5] == ["Hạng", "Cơ quan, đơn vị", "Tỷ lệ đúng hạn", "Tử số", "Mẫu số"]
    assert [r[:5] for r in rows] == [[1, "Sở B", pytest.approx(2 / 3), 2, 3], [2, "Sở A", 0.5, 1, 2]]
    assert _format_of(departments, "Tỷ lệ đúng hạn") == {"0.00%"} and _format_of(departments, "Tử số") == {"#,##0"}
    localities = workbook["Xếp hạng địa bàn"]
    assert _column(localities, "Quận, huyện") == pack.localities["group"].tolist()
    assert _same(_column(localities, "Tỷ lệ đúng hạn"), pack.localities["value"].tolist())

    procedures = workbook["Thủ tục trễ hạn nhiều nhất"]
    assert _table(procedures)[1] == [["P1", "Thủ tục P1", 2, 3, pytest.approx(1 / 3)]]
    assert _format_of(procedures, "Tỷ lệ đúng hạn") == {"0.00%"}

    late = workbook["Hồ sơ trễ hạn"]
    assert _column(late, "Mã hồ sơ") == pack.late["dossier_code"].tolist()
    assert _column(late, "Số ngày quá hạn") == [10, 3]
    received = _column(late, "Ngày tiếp nhận")
    assert all(isinstance(v, datetime) for v in received)
    assert [v.date() for v in received] == [v.date() for v in pack.late["received_at"]]
    assert _format_of(late, "Ngày tiếp nhận") == {"dd/mm/yyyy"}

    overdue = workbook["Hồ sơ quá hạn"]
    assert _column(overdue, "Cơ quan") == ["Sở A", "Sở B"]
    assert _column(overdue, "Số ngày quá hạn tại cuối kỳ") == [11, 6]
    assert [v.date().isoformat() for v in _column(overdue, "Ngày hẹn trả")] == ["2024-05-20", "2024-05-25"]

    below = workbook["Đơn vị chưa đạt mục tiêu"]
    assert len(_table(below)[1]) == len(pack.below_target)
    assert _same(_column(below, "Giá trị"), pack.below_target["value"].tolist())
    assert _column(below, "Đánh giá") == ["Chưa đạt" if s == "red" else "Gần đạt" for s in pack.below_target["status"]]

    index = workbook["Chỉ số 766 theo nhóm"]
    assert _same(_column(index, "Điểm ước tính"), pack.index766["points"].tolist())


def test_form06_sheets_are_the_forms_rows(small_pack, workbook) -> None:
    con, _ = small_pack
    for title, by in (("Biểu 06 - Lĩnh vực", "sector"), ("Biểu 06 - Cơ quan", "agency"),
                      ("Biểu 06 - Quận, huyện", "district")):
        sheet = workbook[title]
        rows = form06_rows(con, MAY, by=by)
        assert sheet["A1"].value == "Biểu số 06/VPCP/KSTT"
        total = [sheet.cell(sheet.max_row, c).value for c in range(2, 14)]
        assert total == ["Tổng cộng", *(int(rows[n].sum()) for n in NUMBERS)]
    agencies = workbook["Biểu 06 - Cơ quan"]
    names = [agencies.cell(r, 2).value for r in range(11, agencies.max_row)]
    assert {"Sở A", "Sở B", "UBND Xã Hai"} <= set(names)


def test_empty_tables_say_so(small_pack, tmp_path) -> None:
    con, _ = small_pack
    pack = build_pack(con, periods.month(2023, 1))
    book = load_workbook(write_pack_xlsx(pack, tmp_path / "empty.xlsx"))
    assert book.sheetnames == VI_SHEETS
    for title in ("Xếp hạng sở, ngành", "Thủ tục trễ hạn nhiều nhất", "Hồ sơ trễ hạn", "Hồ sơ quá hạn",
                  "Theo dõi kết luận"):
        assert book[title]["A2"].value == "Không có dữ liệu", title
        assert book[title].max_row == 2
    assert "Không có dữ liệu" in [c.value for c in book["Biểu 06 - Lĩnh vực"]["B"]]


def test_english_workbook(small_pack, tmp_path) -> None:
    _, pack = small_pack
    book = load_workbook(write_pack_xlsx(pack, tmp_path / "en.xlsx", lang="en"))
    assert book.sheetnames == EN_SHEETS == sheet_names(pack, "en")
    summary = book["KPI summary"]
    assert summary["A1"].value == "Administrative reform KPI report" and summary["B2"].value.startswith("May 2024")
    assert _column(summary, "Status", HEADER)[0] == "Below target"
    assert _column(summary, "KPI", HEADER)[0] == metric("on_time_rate").label_en
    assert _same(_column(book["Departments ranking"], "On-time rate"), pack.departments["value"].tolist())
    assert book["Form 06 - Sectors"]["A1"].value == "Biểu số 06/VPCP/KSTT"  # the official form stays Vietnamese


def test_sample_workbook_equals_the_engine(tmp_path_factory) -> None:
    copy = tmp_path_factory.mktemp("pack-xlsx") / "sample.duckdb"
    shutil.copy(sample_store_path(tmp_path_factory), copy)
    con = db.connect(copy)
    try:
        period = periods.quarter(2025, 3)
        pack = build_pack(con, period)
        path: Path = write_pack_xlsx(pack, copy.parent / "sample.xlsx")
        book = load_workbook(path, read_only=True)
        engine = kpi_table(con, period)
        summary = list(book["Tổng hợp chỉ số"].iter_rows(min_row=HEADER + 1, values_only=True))
        assert [(r[0], r[2], r[3]) for r in summary] == list(zip(
            engine["metric"], engine["numerator"], engine["denominator"], strict=True))
        assert _same([r[4] for r in summary], engine["value"].tolist())
        localities = list(book["Xếp hạng địa bàn"].iter_rows(min_row=2, values_only=True))
        assert [(r[1], r[0]) for r in localities] == list(zip(pack.localities["group"], pack.localities["rank"],
                                                              strict=True))
        assert _same([r[2] for r in localities], pack.localities["value"].tolist())
        overdue = list(book["Hồ sơ quá hạn"].iter_rows(min_row=2, values_only=True))
        assert [r[1] for r in overdue] == pack.overdue["dossier_code"].tolist()
        assert "Biểu 06 - Xã, phường" in book.sheetnames
        book.close()
    finally:
        con.close()
