"""Downloads of what a page shows: CSV (UTF-8 with BOM, so Excel opens Vietnamese text correctly) and
Excel workbooks, written in memory."""

from __future__ import annotations

import io
from collections.abc import Iterable

import pandas as pd

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV bytes with a BOM."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "Du lieu") -> bytes:
    """The frame as a one-sheet .xlsx workbook (header row frozen, columns sized to their text)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet[:31])
        sheet_ = writer.sheets[sheet[:31]]
        sheet_.freeze_panes(1, 0)
        for i, column in enumerate(frame.columns):
            sheet_.set_column(i, i, column_width(column, frame[column].head(200)))
    return buffer.getvalue()


def column_width(header: object, values: Iterable[object], cap: int = 60) -> int:
    """A column's width in characters: its longest text (the header or a value) plus 2, at most `cap`."""
    return min(max([len(str(header)), *(len(str(v)) for v in values)]) + 2, cap)
