"""The meeting pack as an Excel workbook (xlsxwriter): the KPI summary under a cover block, the 766 index, both
rankings, the units below target, the procedures with the most late dossiers, Biểu 06 by sector, by agency and
by locality, the late and the overdue dossiers, and the follow-ups.

Cells hold real numbers, never text: rates as 0-1 fractions shown `0.00%`, counts as integers, days and points
with one or two decimals, dates as Excel dates shown `dd/mm/yyyy`; changes of a rate are percentage points.
Every table has its header row frozen and an autofilter; an empty table has one "Không có dữ liệu" row. Texts
are text cells with formulas neutralised (kpi.exports.neutralise): names and notes come from the data. Sheets
and headers are Vietnamese, or English with lang="en" (Biểu 06 is the official Vietnamese form either way).
Each sheet is a record of `SHEETS`: its names and its columns, each column a key of the pack's frame, its
headers and a kind that says how the value is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpi.exports import WORKBOOK_OPTIONS, column_width, neutralise
from kpi.form06 import write_form06_sheet
from kpi.metrics import metric
from kpi.pack import (
    LEVEL_NAMES,
    REPORT_TITLE,
    Pack,
    cover_facts,
    followup_state,
    status_label,
)

NO_DATA = {"vi": "Không có dữ liệu", "en": "No data"}
STATUS_FILL = {"green": "#c8e6c9", "amber": "#ffe0b2", "red": "#ffcdd2"}
RATE_FORMAT = "0.00%"
DATE_FORMAT = "dd/mm/yyyy"
# Column kinds: how a value is written and shown. "kpi" and "change" follow the row's unit (rate or days).
NUMBER_FORMATS = {"int": "#,##0", "rate": RATE_FORMAT, "days": "0.0", "points": "0.0", "pp": "+0.00;-0.00;0.00",
                  "date": DATE_FORMAT}
# Columns a row's cells read beside their own: the KPI's unit (kpi, change), a follow-up's overdue flag.
ROW_CONTEXT = ("unit", "kpi_unit", "metric", "overdue")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's 1900 date system (from 1 March 1900 on)
TEXT_KINDS = ("text", "status", "metric", "level", "followup_state")


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the frame's column `key`, its headers, and its kind (text, int, rate, days,
    points, pp, date, kpi, change, status, metric, level)."""

    key: str
    label_vi: str
    label_en: str
    kind: str = "text"

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_vi


@dataclass(frozen=True)
class Sheet:
    """A table sheet: its names (Vietnamese ≤ 31 characters, English), the pack's frame it shows and its
    columns."""

    id: str
    name_vi: str
    name_en: str
    frame: Callable[[Pack, str], pd.DataFrame]
    columns: Callable[[Pack], tuple[Column, ...]]

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi


# --- the columns ------------------------------------------------------------------------------------

HEADLINE_COLUMNS = (
    Column("metric", "Mã chỉ số", "KPI id"),
    Column("label", "Chỉ số", "KPI"),
    Column("numerator", "Tử số", "Numerator", "int"),
    Column("denominator", "Mẫu số", "Denominator", "int"),
    Column("value", "Giá trị", "Value", "kpi"),
    Column("target", "Mục tiêu", "Target", "kpi"),
    Column("status", "Đánh giá", "Status", "status"),
    Column("previous_value", "Kỳ trước", "Previous period", "kpi"),
    Column("previous_change_pp", "Thay đổi so với kỳ trước (điểm % / ngày)", "Change on the previous period "
           "(points / days)", "change"),
    Column("year_earlier_value", "Cùng kỳ năm trước", "Same period last year", "kpi"),
    Column("year_earlier_change_pp", "Thay đổi so với cùng kỳ (điểm % / ngày)", "Change on the same period last "
           "year (points / days)", "change"),
)
INDEX766_COLUMNS = (
    Column("label", "Nhóm chỉ số", "Index group"),
    Column("points", "Điểm ước tính", "Estimated points", "points"),
    Column("computable_max", "Điểm tối đa tính được từ dữ liệu hồ sơ", "Maximum computable from dossier data",
           "points"),
    Column("max_points", "Điểm tối đa theo Quyết định 766", "Official maximum (Decision 766)", "points"),
    Column("note_text", "Phần không tính được và lý do", "What is not computable and why"),
)


def _ranking_columns(unit_vi: str, unit_en: str) -> tuple[Column, ...]:
    return (
        Column("rank", "Hạng", "Rank", "int"),
        Column("group", unit_vi, unit_en),
        Column("value", "Tỷ lệ đúng hạn", "On-time rate", "rate"),
        Column("numerator", "Tử số", "Numerator", "int"),
        Column("denominator", "Mẫu số", "Denominator", "int"),
        Column("target", "Mục tiêu", "Target", "rate"),
        Column("status", "Đánh giá", "Status", "status"),
        Column("previous_value", "Kỳ trước", "Previous period", "rate"),
        Column("previous_change_pp", "Thay đổi (điểm %)", "Change (points)", "pp"),
        Column("previous_rank", "Hạng kỳ trước", "Previous rank", "int"),
        Column("rank_change", "Thay đổi hạng", "Rank change", "int"),
    )


BELOW_COLUMNS = (
    Column("level", "Cấp", "Level", "level"),
    Column("group", "Đơn vị", "Unit"),
    Column("metric", "Chỉ số", "KPI", "metric"),
    Column("value", "Giá trị", "Value", "kpi"),
    Column("target", "Mục tiêu", "Target", "kpi"),
    Column("gap_pp", "Cách mục tiêu (điểm % / ngày)", "Gap to target (points / days)", "change"),
    Column("status", "Đánh giá", "Status", "status"),
    Column("numerator", "Tử số", "Numerator", "int"),
    Column("denominator", "Mẫu số", "Denominator", "int"),
)
LATE_PROCEDURE_COLUMNS = (
    Column("procedure_code", "Mã TTHC", "Procedure code"),
    Column("procedure_name", "Tên thủ tục", "Procedure"),
    Column("resolved_late", "Hồ sơ giải quyết quá hạn", "Resolved late", "int"),
    Column("resolved", "Hồ sơ đã giải quyết", "Resolved", "int"),
    Column("on_time_rate", "Tỷ lệ đúng hạn", "On-time rate", "rate"),
)
_DOSSIER = (
    Column("agency_name", "Cơ quan", "Agency"),
    Column("dossier_code", "Mã hồ sơ", "Dossier code"),
    Column("procedure_code", "Mã TTHC", "Procedure code"),
    Column("procedure_name", "Tên thủ tục", "Procedure"),
    Column("sector", "Lĩnh vực", "Sector"),
)
LATE_DOSSIER_COLUMNS = (
    *_DOSSIER,
    Column("district", "Quận/Huyện", "District"),
    Column("commune", "Xã/Phường", "Commune"),
    Column("received_at", "Ngày tiếp nhận", "Received", "date"),
    Column("due_at", "Ngày hẹn trả", "Due", "date"),
    Column("finished_at", "Ngày kết thúc", "Finished", "date"),
    Column("days_late", "Số ngày quá hạn", "Days late", "int"),
)
OVERDUE_DOSSIER_COLUMNS = (
    *_DOSSIER,
    Column("received_at", "Ngày tiếp nhận", "Received", "date"),
    Column("due_at", "Ngày hẹn trả", "Due", "date"),
    Column("days_late", "Số ngày quá hạn tại cuối kỳ", "Days overdue at the period end", "int"),
)
FOLLOWUP_COLUMNS = (
    Column("unit", "Đơn vị", "Unit"),
    Column("metric", "Chỉ số", "KPI", "metric"),
    Column("task", "Nhiệm vụ", "Task"),
    Column("owner", "Người phụ trách", "Owner"),
    Column("due_date", "Hạn", "Due", "date"),
    Column("status", "Trạng thái", "State", "followup_state"),
    Column("note", "Ghi chú", "Note"),
    Column("value_then", "Giá trị khi giao", "Value when assigned", "kpi"),
    Column("value_now", "Giá trị hiện nay", "Value now", "kpi"),
    Column("change", "Thay đổi (điểm % / ngày)", "Change (points / days)", "change"),
)


# --- the frames each sheet shows ---------------------------------------------------------------------


def _headline(pack: Pack, lang: str) -> pd.DataFrame:
    frame = pack.headline.copy()
    frame["label"] = [metric(m).label_en if lang == "en" else metric(m).label_vi for m in frame["metric"]]
    return frame


def _index766(pack: Pack, lang: str) -> pd.DataFrame:
    frame = pack.index766.copy()
    frame["label"] = frame["label_en" if lang == "en" else "label_vi"]
    frame["note_text"] = frame["note" if lang == "en" else "note_vi"]
    return frame


def _locality_columns(pack: Pack) -> tuple[Column, ...]:
    vi, en = LEVEL_NAMES[pack.localities_level]
    return _ranking_columns(vi, en)


SHEETS: tuple[Sheet, ...] = (
    Sheet("index766", "Chỉ số 766 theo nhóm", "Index 766 by group", _index766, lambda p: INDEX766_COLUMNS),
    Sheet("departments", "Xếp hạng sở, ngành", "Departments ranking", lambda p, lang: p.departments,
          lambda p: _ranking_columns("Cơ quan, đơn vị", "Agency")),
    Sheet("localities", "Xếp hạng địa bàn", "Localities ranking", lambda p, lang: p.localities, _locality_columns),
    Sheet("below_target", "Đơn vị chưa đạt mục tiêu", "Below target", lambda p, lang: p.below_target,
          lambda p: BELOW_COLUMNS),
    Sheet("late_procedures", "Thủ tục trễ hạn nhiều nhất", "Late procedures", lambda p, lang: p.late_procedures,
          lambda p: LATE_PROCEDURE_COLUMNS),
)
DOSSIER_SHEETS: tuple[Sheet, ...] = (
    Sheet("late", "Hồ sơ trễ hạn", "Late dossiers", lambda p, lang: p.late, lambda p: LATE_DOSSIER_COLUMNS),
    Sheet("overdue", "Hồ sơ quá hạn", "Overdue dossiers", lambda p, lang: p.overdue,
          lambda p: OVERDUE_DOSSIER_COLUMNS),
    Sheet("followups", "Theo dõi kết luận", "Follow-ups", lambda p, lang: p.followups, lambda p: FOLLOWUP_COLUMNS),
)
SUMMARY_NAME = {"vi": "Tổng hợp chỉ số", "en": "KPI summary"}
# Biểu 06 by level: the pack's form06 key -> sheet names.
FORM06_NAMES = {"sector": ("Biểu 06 - Lĩnh vực", "Form 06 - Sectors"),
                "agency": ("Biểu 06 - Cơ quan", "Form 06 - Agencies"),
                "district": ("Biểu 06 - Quận, huyện", "Form 06 - Districts"),
                "commune": ("Biểu 06 - Xã, phường", "Form 06 - Communes")}


def sheet_names(pack: Pack, lang: str = "vi") -> list[str]:
    """The workbook's sheet names in order."""
    en = lang == "en"
    return [SUMMARY_NAME["en" if en else "vi"], *(s.name(lang) for s in SHEETS),
            *(FORM06_NAMES[by][1 if en else 0] for by in pack.form06), *(s.name(lang) for s in DOSSIER_SHEETS)]


# --- writing ----------------------------------------------------------------------------------------


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


class _Writer:
    """The workbook's formats, made once, and the table writer."""

    def __init__(self, book: object, lang: str) -> None:
        self.book, self.lang = book, lang
        base = {"font_name": "Arial", "font_size": 10}
        self.header = book.add_format({**base, "bold": True, "text_wrap": True, "valign": "top", "bg_color": "#e3f2fd",
                                       "border": 1})
        self.text = book.add_format(base)
        self.numbers = {kind: book.add_format({**base, "num_format": f}) for kind, f in NUMBER_FORMATS.items()}
        self.numbers["days_change"] = book.add_format({**base, "num_format": "+0.0;-0.0;0.0"})
        self.status = {s: book.add_format({**base, "bg_color": c}) for s, c in STATUS_FILL.items()}
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.label = book.add_format({**base, "bold": True})
        self.italic = book.add_format({**base, "italic": True})

    def _units(self, frame: pd.DataFrame) -> list[str]:
        """Each row's KPI unit (rate or days): the frame's `kpi_unit` or `unit` column when it holds units (a
        follow-up's `unit` is the unit's name), else its metric's unit."""
        for key in ("kpi_unit", "unit"):
            if key in frame.columns and frame[key].isin(["rate", "days"]).all():
                return frame[key].tolist()
        if "metric" in frame.columns:
            return [metric(str(m)).unit if isinstance(m, str) and m else "rate" for m in frame["metric"]]
        return ["rate"] * len(frame)

    def _cells(self, frame: pd.DataFrame, column: Column, units: list[str]) -> tuple[bool, list, list]:
        """One column ready to write: whether it is text, its values (None: an empty cell) and each cell's
        format, converted once for the whole column."""
        lang, kind = self.lang, column.kind
        series = frame[column.key] if column.key in frame.columns else pd.Series([None] * len(frame), dtype=object)
        missing = series.isna().tolist()
        if kind == "date":
            stamps = pd.to_datetime(series, errors="coerce")
            if getattr(stamps.dt, "tz", None) is not None:
                stamps = stamps.dt.tz_localize(None)
            serial = ((stamps - EXCEL_EPOCH) / pd.Timedelta(days=1)).tolist()  # Excel's day number, time as fraction
            return False, [None if m else v for v, m in zip(serial, missing, strict=True)], \
                [self.numbers["date"]] * len(serial)
        if kind in NUMBER_FORMATS or kind in ("kpi", "change"):
            if kind == "int":
                values = [None if m else int(v) for v, m in zip(series.tolist(), missing, strict=True)]
            else:
                values = [None if m else float(v) for v, m in zip(series.tolist(), missing, strict=True)]
            if kind == "kpi":
                formats = [self.numbers["rate" if u == "rate" else "days"] for u in units]
            elif kind == "change":
                formats = [self.numbers["pp" if u == "rate" else "days_change"] for u in units]
            else:
                formats = [self.numbers[kind]] * len(values)
            return False, values, formats
        raw = series.tolist()
        if kind == "status":
            texts = [status_label(str(v), lang) for v in raw]
            formats = [self.status.get(str(v), self.text) for v in raw]
        elif kind == "metric":
            texts = ["" if m else metric(str(v)).label_en if lang == "en" else metric(str(v)).label_vi
                     for v, m in zip(raw, missing, strict=True)]
            formats = [self.text] * len(raw)
        elif kind == "followup_state":
            overdue = frame["overdue"].tolist() if "overdue" in frame.columns else [False] * len(raw)
            texts = [followup_state(v, o, lang) for v, o in zip(raw, overdue, strict=True)]
            formats = [self.text] * len(raw)
        elif kind == "level":
            texts = [LEVEL_NAMES.get(str(v), (str(v), str(v)))[1 if lang == "en" else 0] for v in raw]
            formats = [self.text] * len(raw)
        else:
            texts = [str(v) for v in raw]
            formats = [self.text] * len(raw)
        return True, [None if m else neutralise(t) for t, m in zip(texts, missing, strict=True)], formats

    def table(self, sheet: object, frame: pd.DataFrame, columns: tuple[Column, ...], first_row: int = 0) -> int:
        """Header at `first_row`, the rows below (or one "no data" row), header frozen, autofilter on the
        whole table, columns sized; returns the last row written."""
        for col, column in enumerate(columns):
            sheet.write_string(first_row, col, neutralise(column.label(self.lang)), self.header)
        row = first_row
        if frame.empty:
            row += 1
            sheet.write_string(row, 0, NO_DATA["en" if self.lang == "en" else "vi"], self.italic)
        else:
            units = self._units(frame)
            prepared = [self._cells(frame, column, units) for column in columns]
            for col, (is_text, values, formats) in enumerate(prepared):
                write = sheet.write_string if is_text else sheet.write_number
                for offset, (value, fmt) in enumerate(zip(values, formats, strict=True), start=first_row + 1):
                    if value is not None:
                        write(offset, col, value, fmt)
            row = first_row + len(frame)
        sheet.freeze_panes(first_row + 1, 0)
        sheet.autofilter(first_row, 0, row, len(columns) - 1)
        for col, column in enumerate(columns):
            sheet.set_column(col, col, self.width(frame, column))
        return row

    def width(self, frame: pd.DataFrame, column: Column) -> int:
        """Text columns fit their longest text (kpi.exports.column_width over the first 200 rows); number
        columns fit their numbers, the header wrapping above."""
        header = column.label(self.lang)
        if column.kind in ("text",) and column.key in frame.columns:
            return column_width(header, (v for v in frame[column.key].head(200) if not _missing(v)))
        if column.kind in TEXT_KINDS:
            return 24
        return max(12, min(column_width(header, ()), 18))


def _summary(writer: _Writer, book: object, pack: Pack, lang: str) -> None:
    sheet = book.add_worksheet(SUMMARY_NAME["en" if lang == "en" else "vi"])
    sheet.write_string(0, 0, REPORT_TITLE["en" if lang == "en" else "vi"], writer.title)
    facts = cover_facts(pack, lang)
    for row, (label, text) in enumerate(facts, start=1):
        sheet.write_string(row, 0, neutralise(label), writer.label)
        sheet.write_string(row, 1, neutralise(text), writer.text)
    writer.table(sheet, _headline(pack, lang), HEADLINE_COLUMNS, first_row=len(facts) + 2)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 1, 60)


def write_pack_xlsx(pack: Pack, path: str | Path, *, lang: str = "vi") -> Path:
    """Write the pack's workbook to `path` (sheets in `sheet_names` order) and return the path. The pack must
    hold its workbook frames (`build_pack(..., workbook=True)` or `pack.with_workbook`)."""
    import xlsxwriter

    if pack.late is None or pack.form06 is None:
        raise ValueError("the pack has no workbook frames: build it with workbook=True or pass it through "
                         "kpi.pack.with_workbook first")

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    writer = _Writer(book, lang)
    _summary(writer, book, pack, lang)
    for spec in SHEETS:
        writer.table(book.add_worksheet(spec.name(lang)), spec.frame(pack, lang), spec.columns(pack))
    scope = pack.scope_vi if pack.where else ""
    for by, rows in pack.form06.items():
        name = FORM06_NAMES[by][1 if lang == "en" else 0]
        write_form06_sheet(book, book.add_worksheet(name), rows, pack.period, by=by, reporting_unit=pack.scope_vi,
                           scope_label=scope)
    for spec in DOSSIER_SHEETS:
        writer.table(book.add_worksheet(spec.name(lang)), spec.frame(pack, lang), spec.columns(pack))
    book.close()
    return path


__all__ = ["DOSSIER_SHEETS", "FORM06_NAMES", "NO_DATA", "SHEETS", "SUMMARY_NAME", "Column", "Sheet", "sheet_names",
           "write_pack_xlsx"]
