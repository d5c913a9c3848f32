"""The meeting pages' assembly, without Streamlit: the "Báo cáo họp" preview and file downloads, and the
"Trình chiếu" screens (kpi.pack computes the pack; this only picks, pages and enlarges what it gives).

- The files: `pdf_bytes` and `xlsx_bytes` write the pack with kpi.pack_pdf / kpi.pack_excel into a temporary
  folder and return the bytes (a download button's deferred data), stamped with the time they are written. The
  writers, and the PDF and Excel libraries under them, are imported when a file is asked for, not on every run.
- The follow-ups change without an import, so the dashboard caches them apart from the pack (keyed by
  kpi.followups.revision) and puts the current ones in the cached pack (`with_followups`).
- The presentation: `slide_number` (the screen the address or a button asks for, kept within 1..count),
  `counter_text` ("3/15"), `screen_figure` (a chart enlarged for a meeting-room screen) and `screen_table`
  (the first rows of a slide's table, as many as large type fits).
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from kpi import pack as pack_model
from kpi import pack_excel, pack_pdf
from kpi.exports import XLSX_MIME
from kpi.formatting import format_int
from kpi.pack import Pack, Slide

FILE_LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
PDF_MIME = "application/pdf"

# --- the preview ----------------------------------------------------------------------------------


def has_data(pack: Pack) -> bool:
    """Whether the period and scope hold any dossier the KPIs count (some headline denominator above 0)."""
    return bool((pack.headline["denominator"].fillna(0) > 0).any()) if not pack.headline.empty else False


def overdue_units_table(pack: Pack, lang: str = "vi") -> pd.DataFrame:
    """The overdue dossiers in progress at the period end counted per unit (pack.overdue_units), most first,
    as a display table: unit ("(không rõ)" without one) and count."""
    units = pack_model.overdue_units(pack)
    en = lang == "en"
    return pd.DataFrame({
        "Unit" if en else "Đơn vị": [("(unknown)" if en else "(không rõ)") if _missing(a) else str(a)
                                     for a in units["agency_name"]],
        "Overdue dossiers" if en else "Hồ sơ quá hạn": [format_int(v) for v in units["overdue"]],
    })


def with_followups(pack: Pack, followups: pd.DataFrame) -> Pack:
    """The pack with these follow-ups in place of the ones it was built with."""
    return dataclasses.replace(pack, followups=followups)


# --- the files ------------------------------------------------------------------------------------


def _written(write: Callable[..., Path], pack: Pack, suffix: str, lang: str) -> bytes:
    # the pack comes from the cache (same data version, so the same numbers): the file says when it was made
    pack = dataclasses.replace(pack, generated_at=datetime.now())
    with tempfile.TemporaryDirectory(prefix="egov-kpi-pack-") as folder:
        path = Path(write(pack, Path(folder) / f"{pack_model.file_stem(pack)}{suffix}", lang=lang))
        return path.read_bytes()


def pdf_bytes(pack: Pack, lang: str = "vi") -> bytes:
    """The pack's PDF report (kpi.pack_pdf.write_pack_pdf) as bytes."""
    return _written(pack_pdf.write_pack_pdf, pack, ".pdf", lang)


def xlsx_bytes(pack: Pack, lang: str = "vi") -> bytes:
    """The pack's Excel workbook (kpi.pack_excel.write_pack_xlsx) as bytes."""
    return _written(pack_excel.write_pack_xlsx, pack, ".xlsx", lang)


def file_name(pack: Pack, suffix: str, lang: str = "vi") -> str:
    """A file's download name: pack.file_stem, "-en" for the English files, then the suffix (".pdf")."""
    return pack_model.file_stem(pack) + ("-en" if lang == "en" else "") + suffix


# --- the presentation -----------------------------------------------------------------------------

SCREEN_HEIGHT = 600  # a chart's least height on the meeting-room screen (px)
SCREEN_BAR_PX = 30  # a ranking bar's height there: a label in large type needs the room
SCREEN_FONT = 20  # the charts' text (axis labels, bar labels, legend)
SCREEN_INK = "#0d1b2a"  # axis labels dark on white, as the screen's text
SCREEN_TABLE_ROWS = 12  # a table's rows that large type fits on one screen


def slide_number(raw: object, count: int) -> int:
    """The screen to show, 1..count: `raw` as an address gives it ("3") or a number; anything unreadable is
    the first, a number past either end the nearest end."""
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):
        number = 1
    return min(max(number, 1), max(count, 1))


def counter_text(number: int, count: int) -> str:
    """"3/15"."""
    return f"{number}/{count}"


SCREEN_LONG_VALUE = 30  # characters: a longer value (the cover's period with its dates) is set smaller


def is_long_value(slide: Slide) -> bool:
    """Whether the screen's value is too long for the largest type on one line."""
    return len(slide.value_text) > SCREEN_LONG_VALUE


def detail_lines(slide: Slide) -> list[str]:
    """The line under a screen's value, one fact a line (the pack joins them with " · ")."""
    return [part for part in slide.detail_text.split(" · ") if part]


def screen_figure(figure: go.Figure) -> go.Figure:
    """A copy of a dashboard chart for the meeting-room screen: at least SCREEN_HEIGHT tall (a ranking grows
    SCREEN_BAR_PX per bar), every text SCREEN_FONT px, no title (the screen's own title says it)."""
    big = go.Figure(figure)
    bars = max((len(trace.y) for trace in big.data if getattr(trace, "orientation", None) == "h"
                and trace.y is not None), default=0)
    big.update_layout(height=max(SCREEN_HEIGHT, SCREEN_BAR_PX * bars + 120), font={"size": SCREEN_FONT},
                      title=None, hoverlabel={"font_size": SCREEN_FONT}, legend={"font": {"size": SCREEN_FONT}},
                      margin={"l": 20, "r": 20, "t": 40, "b": 40})
    big.update_layout(uniformtext={"minsize": SCREEN_FONT - 2, "mode": "show"})  # bar labels not shrunk to fit
    for axes in (big.update_xaxes, big.update_yaxes):
        axes(tickfont={"size": SCREEN_FONT, "color": SCREEN_INK}, title_font={"size": SCREEN_FONT, "color": SCREEN_INK})
    big.update_traces(textfont_size=SCREEN_FONT, selector={"type": "bar"})
    big.update_annotations(font_size=SCREEN_FONT)
    return big


def screen_table(table: pd.DataFrame | None, rows: int = SCREEN_TABLE_ROWS) -> tuple[pd.DataFrame | None, int]:
    """The first `rows` rows of a slide's table and how many are left out (None: the slide has no table)."""
    if table is None or table.empty:
        return None, 0
    return table.head(rows).reset_index(drop=True), max(len(table) - rows, 0)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


__all__ = ["FILE_LANGUAGES", "PDF_MIME", "SCREEN_HEIGHT", "XLSX_MIME", "counter_text", "detail_lines", "file_name",
           "has_data", "is_long_value", "overdue_units_table", "pdf_bytes", "screen_figure", "screen_table",
           "slide_number", "with_followups", "xlsx_bytes"]
