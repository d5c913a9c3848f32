"""The official report form Biểu số 06/VPCP/KSTT (Circular 01/2020/TT-VPCP): "Tình hình, kết quả giải
quyết TTHC", one row per sector (or per unit), grouped by level, for any period and scope.

The numbers are the engine's (`kpi.engine.dossier_counts`); this module only arranges them as the form
does and writes the workbook with the form's headings and merged header cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from kpi.engine import Scope, dossier_counts
from kpi.exports import WORKBOOK_OPTIONS, neutralise
from kpi.formatting import format_date
from kpi.periods import Period

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

# The form's levels, in its order; agency_level codes of the store.
LEVELS: tuple[tuple[str, str], ...] = (
    ("province", "Sở, ban, ngành"),
    ("district", "Huyện, thị xã, thành phố"),
    ("commune", "Xã, phường, thị trấn"),
)
ROMAN = ("I", "II", "III", "IV")

# Form column -> how it is computed from the engine's counts.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("received_total", "received + carried_over"),
    ("received_online", "received_online"),
    ("received_direct_or_postal", "received_direct_or_postal"),
    ("carried_over", "carried_over"),
    ("resolved", "resolved"),
    ("resolved_early", "resolved_early"),
    ("resolved_on_due_date", "resolved_on_due_date"),
    ("resolved_late", "resolved_late"),
    ("in_progress", "in_progress"),
    ("in_progress_within_deadline", "in_progress_within_deadline"),
    ("in_progress_overdue", "in_progress_overdue"),
)
NUMBERS = [name for name, _ in COLUMNS]
GROUP_LABELS = {"sector": "Lĩnh vực, công việc giải quyết", "agency": "Cơ quan, đơn vị giải quyết",
                "district": "Quận, huyện, thị xã", "commune": "Xã, phường, thị trấn"}
NO_SECTOR = "(Chưa xác định lĩnh vực)"
NO_GROUP = {"sector": NO_SECTOR, "agency": "(Chưa xác định cơ quan)", "district": "(Chưa xác định quận, huyện)",
            "commune": "(Chưa xác định xã, phường)"}
NO_DATA = "Không có dữ liệu"


def form06_rows(con: duckdb.DuckDBPyConnection, period: Period, *, by: str = "sector",
                where: Mapping[str, object] | None = None, scope: Scope | None = None) -> pd.DataFrame:
    """The form's body: columns level, level_label, group and the form's number columns, one row per
    sector (or unit, by="agency", or locality, by="district"/"commune") of each level that has any dossier
    in the period. Dossiers without a level are reported under a fourth group "Chưa xác định cấp"."""
    if by not in GROUP_LABELS:
        raise ValueError(f"Biểu 06 is by {', '.join(GROUP_LABELS)}, not {by!r}")
    if where and "agency_level" in where:
        raise ValueError("Biểu 06 groups by level itself; filter by another dimension")
    frames = []
    for level, label in (*LEVELS, (None, "Chưa xác định cấp")):
        counts = dossier_counts(con, period, by=by, where={**(where or {}), "agency_level": level}, scope=scope)
        if counts.empty:
            continue
        for name, expression in COLUMNS:
            counts[name] = counts.eval(expression)
        counts = counts[counts[NUMBERS].sum(axis=1) > 0]
        counts.insert(0, "level_label", label)
        counts.insert(0, "level", level)
        frames.append(counts[["level", "level_label", "group", *NUMBERS]])
    if not frames:
        return pd.DataFrame(columns=["level", "level_label", "group", *NUMBERS])
    return pd.concat(frames, ignore_index=True)


FORM_TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"


def write_form06(con: duckdb.DuckDBPyConnection, period: Period, path: str | Path, *, by: str = "sector",
                 where: Mapping[str, object] | None = None, scope: Scope | None = None,
                 reporting_unit: str = "", scope_label: str = "") -> pd.DataFrame:
    """Write Biểu 06 for the period and scope to an .xlsx file; returns the rows written."""
    import xlsxwriter

    rows = form06_rows(con, period, by=by, where=where, scope=scope)
    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    write_form06_sheet(book, book.add_worksheet("Bieu 06"), rows, period, by=by, reporting_unit=reporting_unit,
                       scope_label=scope_label)
    book.close()
    return rows


def write_form06_sheet(book: Workbook, sheet: Worksheet, rows: pd.DataFrame, period: Period, *,
                       by: str = "sector", reporting_unit: str = "", scope_label: str = "") -> None:
    """Write the form (headings, merged header cells, the level groups and their rows of `form06_rows`, the
    total) onto one worksheet of an xlsxwriter workbook: the one Biểu 06 writer, for the form's own file and
    for the meeting pack's workbook. The groups' names come from the data: they are written as text cells with
    formulas neutralised (kpi.exports.neutralise), whatever the workbook's options."""
    def fmt(**options: object) -> Format:
        return book.add_format({"font_name": "Times New Roman", "font_size": 11, **options})

    bold_center = fmt(bold=True, align="center", valign="vcenter", text_wrap=True, border=1)
    title = fmt(bold=True, align="center", font_size=13)
    plain = fmt()
    italic = fmt(italic=True, align="center")
    cell = fmt(border=1, text_wrap=True)
    number = fmt(border=1, num_format="#,##0")
    group_text = fmt(border=1, bold=True)
    group_number = fmt(border=1, bold=True, num_format="#,##0")
    last = 12  # columns A..M
    sheet.write(0, 0, "Biểu số 06/VPCP/KSTT", plain)
    sheet.merge_range(1, 0, 1, last, FORM_TITLE + (f" TẠI {scope_label.upper()}" if scope_label else ""), title)
    sheet.merge_range(2, 0, 2, last, f"Kỳ báo cáo: {period.label('vi')} (từ ngày {format_date(period.start)} "
                                     f"đến ngày {format_date(period.end)})", italic)
    sheet.write(3, 0, f"Đơn vị báo cáo: {reporting_unit}", plain)
    sheet.write(4, 0, "Đơn vị nhận báo cáo: Văn phòng Ủy ban nhân dân tỉnh/thành phố", plain)
    sheet.write(4, last, "Đơn vị tính: Số hồ sơ TTHC", plain)

    top, mid, low, numbers_row = 6, 7, 8, 9
    sheet.merge_range(top, 0, low, 0, "STT", bold_center)
    sheet.merge_range(top, 1, low, 1, GROUP_LABELS[by], bold_center)
    sheet.merge_range(top, 2, top, 5, "Số hồ sơ nhận giải quyết", bold_center)
    sheet.merge_range(top, 6, top, last, "Kết quả giải quyết", bold_center)
    sheet.merge_range(mid, 2, low, 2, "Tổng số", bold_center)
    sheet.merge_range(mid, 3, mid, 5, "Trong đó", bold_center)
    sheet.write(low, 3, "Số mới tiếp nhận trực tuyến", bold_center)
    sheet.write(low, 4, "Số mới tiếp nhận trực tiếp, qua dịch vụ bưu chính", bold_center)
    sheet.write(low, 5, "Số kỳ trước chuyển qua", bold_center)
    sheet.merge_range(mid, 6, mid, 9, "Số hồ sơ đã giải quyết", bold_center)
    sheet.write(low, 6, "Tổng số", bold_center)
    sheet.write(low, 7, "Trả trước hạn", bold_center)
    sheet.write(low, 8, "Trả đúng hạn", bold_center)
    sheet.write(low, 9, "Trả quá hạn", bold_center)
    sheet.merge_range(mid, 10, mid, 12, "Số hồ sơ đang giải quyết", bold_center)
    sheet.write(low, 10, "Tổng số", bold_center)
    sheet.write(low, 11, "Trong hạn", bold_center)
    sheet.write(low, 12, "Quá hạn", bold_center)
    for column in range(last + 1):
        sheet.write(numbers_row, column, f"({column + 1})", italic)

    row = numbers_row + 1
    for index, (level, part) in enumerate(rows.groupby("level_label", sort=False)):
        sheet.write(row, 0, ROMAN[index], group_text)
        sheet.write_string(row, 1, neutralise(str(level)), group_text)
        for offset, name in enumerate(NUMBERS):
            sheet.write_number(row, 2 + offset, int(part[name].sum()), group_number)
        row += 1
        for position, record in enumerate(part.to_dict("records"), start=1):
            sheet.write_number(row, 0, position, number)
            sheet.write_string(row, 1, neutralise(str(record["group"] or NO_GROUP[by])), cell)
            for offset, name in enumerate(NUMBERS):
                sheet.write_number(row, 2 + offset, int(record[name]), number)
            row += 1
    if rows.empty:
        sheet.write(row, 0, "", cell)
        sheet.write(row, 1, NO_DATA, cell)
        row += 1
    sheet.write(row, 0, "", group_text)
    sheet.write(row, 1, "Tổng cộng", group_text)
    for offset, name in enumerate(NUMBERS):
        sheet.write_number(row, 2 + offset, int(rows[name].sum()) if not rows.empty else 0, group_number)

    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 42)
    sheet.set_column(2, last, 12)
    sheet.set_row(low, 60)
    sheet.freeze_panes(numbers_row + 1, 2)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(top, numbers_row)
    sheet.autofilter(numbers_row, 0, row, last)
