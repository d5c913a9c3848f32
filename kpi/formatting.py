"""Vietnamese number and date formats (`98,23%`, `1.234.567`, `16/05/2023`), used by every display."""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Mapping

import pandas as pd

from kpi.fields import term_label

NO_DATA = {"vi": "không có dữ liệu", "en": "no data"}


class BilingualError(ValueError):
    """A request the package refuses, with the reason in Vietnamese and in English (`vi`, `en`): the pages show
    the reader's language, the CLI and logs both."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


# The ASCII marks that start or close Markdown anywhere in a line, as Streamlit reads it: emphasis, code, links and
# images, HTML and autolinks (<...>), headings, tables, entities, LaTeX, e-mail autolinks and directive attributes.
MARKDOWN_MARKS = frozenset("\\`*_[]<>#~$|&@{}")
_LINE_START = re.compile(r"(^|\n)([ \t]*)([-+=:])")  # a list item, a heading's underline, a block directive
_ORDERED = re.compile(r"(^|\n)([ \t]*\d+)([.)])")  # "1." or "1)": an ordered list item
_AUTOLINK = re.compile(r"\b(www)\.", re.IGNORECASE)


def md_escape(text: object) -> str:
    """Text from the data (a unit's, procedure's or file's name, a note typed by a user) as st.markdown and every
    Streamlit label that reads Markdown (captions, alerts, tabs, expanders, buttons, st.table cells) will show it:
    literally. MARKDOWN_MARKS are escaped with a backslash (CommonMark allows one before any ASCII mark), and so
    are a list's, a heading underline's or a directive's mark at the start of a line and the autolinks GFM finds
    in plain text ("http://", "www."). No link, image, HTML tag or formatting can come from the data, and
    ordinary text (numbers, dates, times, dashes inside a name) reads as it is."""
    out = "".join("\\" + c if c in MARKDOWN_MARKS else c for c in str(text))
    out = _ORDERED.sub(r"\1\2\\\3", out)
    out = _LINE_START.sub(r"\1\2\\\3", out)
    return _AUTOLINK.sub(r"\1\\.", out).replace("://", ":\\/\\/")


def map_texts(frame: pd.DataFrame, function: Callable[[str], object]) -> pd.DataFrame:
    """A copy of `frame` with `function` applied to its text column names and to every text cell (numbers, dates
    and empty cells as they are)."""
    def text(value: object) -> object:
        return function(value) if isinstance(value, str) else value

    out = frame.rename(columns=text)
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series) \
                or isinstance(series.dtype, pd.CategoricalDtype):
            out.isetitem(position, series.map(text))
    return out


def markdown_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a display frame for st.table, which reads Markdown in its headers and cells: every text escaped
    with md_escape."""
    return map_texts(frame, md_escape)


def html_escape(text: object) -> str:
    """Text from the data for HTML (st.html) and for Plotly's labels, titles and hover text, which read a few tags
    (<a href>, <b>, <br>): &, < and > as entities. Quotes stay as they are: Plotly decodes &lt;, &gt; and &amp;
    but would show &quot; as written (no value written by the package sits in an HTML attribute)."""
    return html.escape(str(text), quote=False)


def format_int(value: float | int | None) -> str:
    """1234567 -> "1.234.567" (dot as the thousands separator, as Vietnamese documents write it)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{round(value):,}".replace(",", ".")


def format_decimal(value: float | None, digits: int = 1) -> str:
    """12.345 -> "12,3" (comma as the decimal separator)."""
    if value is None or math.isnan(value):
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_percent(rate: float | None, digits: int = 2, lang: str = "vi") -> str:
    """0.9823 -> "98,23%"; a rate without a value (denominator 0) is "không có dữ liệu", never 0%."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return NO_DATA.get(lang, NO_DATA["vi"])
    return format_decimal(rate * 100, digits) + "%"


def format_value(value: float | None, unit: str, lang: str = "vi", *, signed: bool = False) -> str:
    """A KPI value in its unit: rates as "98,23%", days as "4,2 ngày"; `signed` writes "+" before positive
    values (changes); no value is "không có dữ liệu"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_DATA.get(lang, NO_DATA["vi"])
    sign = "+" if signed and value > 0 else ""
    if unit == "rate":
        return sign + format_percent(value, 2, lang)
    return sign + format_decimal(value, 1) + (" ngày" if lang != "en" else " days")


def format_change(change: float | None, unit: str, lang: str = "vi") -> str | None:
    """A change as the reports write it: "+0,40 điểm %" for rates (percentage points), "-1,2 ngày" for
    days; None without a comparison value. The dashboard's tiles and the meeting pack share it."""
    if change is None or pd.isna(change):
        return None
    sign = "+" if change > 0 else ""
    if unit == "rate":
        return sign + format_decimal(float(change), 2) + (" pts" if lang == "en" else " điểm %")
    return sign + format_decimal(float(change), 1) + (" days" if lang == "en" else " ngày")


def format_date(value: dt.date | dt.datetime | None) -> str:
    """16/05/2023 (day first, always)."""
    if value is None:
        return "–"
    return value.strftime("%d/%m/%Y")


def format_datetime(value: dt.datetime | None) -> str:
    """16/05/2023 08:30."""
    if value is None:
        return "–"
    return value.strftime("%d/%m/%Y %H:%M")


def format_month(value: dt.date | dt.datetime) -> str:
    """05/2023."""
    return value.strftime("%m/%Y")


def display_frame(frame: pd.DataFrame, terms: Mapping[str, str] | None = None, lang: str = "vi") -> pd.DataFrame:
    """A copy of `frame` as display text: Vietnamese thousands and decimals, dates day first (with the
    time only where a value has one), vocabulary codes as labels (`terms`: column -> vocabulary), and
    empty for missing values. Downloads keep the raw frame; this is for the eye."""
    out = pd.DataFrame(index=frame.index)
    for column, series in frame.items():
        if terms and column in terms:
            out[column] = [term_label(terms[column], v, lang) if v is not None and v == v else "" for v in series]
        elif pd.api.types.is_bool_dtype(series):
            out[column] = series.map({True: "Có" if lang == "vi" else "Yes", False: "Không" if lang == "vi" else "No"})
        elif pd.api.types.is_integer_dtype(series):
            out[column] = [format_int(v) if pd.notna(v) else "" for v in series]
        elif pd.api.types.is_float_dtype(series):
            out[column] = [format_decimal(v, 1) if pd.notna(v) else "" for v in series]
        elif pd.api.types.is_datetime64_any_dtype(series):
            with_time = bool((series.dropna() != series.dropna().dt.normalize()).any())
            show = format_datetime if with_time else format_date
            out[column] = [show(v.to_pydatetime()) if pd.notna(v) else "" for v in series]
        else:
            out[column] = [("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)) for v in series]
    return out
