"""Downloads of what a page shows: CSV (UTF-8 with BOM, so Excel opens Vietnamese text correctly) and
Excel workbooks, written in memory.

Every text cell of every CSV and Excel file the package writes passes through `neutralise`: exported texts
come from the data (unit, procedure and sector names, follow-up notes typed by users), and a spreadsheet
runs a cell that starts with `=`, `+`, `-` or `@` as a formula (OWASP "CSV injection": `=HYPERLINK(...)`
sends the reader to a site, `=cmd|...` asks Excel to start a program).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pandas as pd

from kpi.formatting import map_texts

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a spreadsheet takes as the start of a formula (OWASP adds tab and carriage return: Excel trims them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# xlsxwriter's write() turns "=..." into a formula and "http://..." into a link unless told not to: every
# workbook of the package is made with these options, so a text is a text even where write() is called.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def neutralise(value: object) -> object:
    """A text that a spreadsheet would run as a formula, with an apostrophe in front ("=1+1" -> "'=1+1");
    anything else unchanged (numbers stay numbers: -3 is a number, not a text).

    The apostrophe is part of the value, in CSV and in Excel alike: a workbook cell "'=1+1" stays inert
    when someone edits it, copies it elsewhere or saves the sheet as CSV, where Excel's own quote prefix
    (a cell format) would be lost. The cost is a visible apostrophe before such texts, which are rare in
    the data (a name or note that starts with a dash)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with `neutralise` applied to its column names and to every text cell."""
    return map_texts(frame, neutralise)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV bytes with a BOM, formulas neutralised. Lines end with CRLF (RFC 4180), which also makes
    the writer quote a cell holding a lone carriage return: unquoted, Excel would start a new row there, and the
    rest of the cell would be read as a cell of its own, formula and all."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "Du lieu") -> bytes:
    """The frame as a one-sheet .xlsx workbook (header row frozen, columns sized to their text), every text a
    text cell with formulas neutralised."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": WORKBOOK_OPTIONS}) as writer:
        neutralise_frame(frame).to_excel(writer, index=False, sheet_name=sheet[:31])
        sheet_ = writer.sheets[sheet[:31]]
        sheet_.freeze_panes(1, 0)
        for i, column in enumerate(frame.columns):
            sheet_.set_column(i, i, column_width(column, frame[column].head(200)))
    return buffer.getvalue()


def column_width(header: object, values: Iterable[object], cap: int = 60) -> int:
    """A column's width in characters: its longest text (the header or a value) plus 2, at most `cap`."""
    return min(max([len(str(header)), *(len(str(v)) for v in values)]) + 2, cap)
