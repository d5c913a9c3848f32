"""The meeting pack as an A4 PDF (issue 5): cover, headline KPIs, the estimated 766 index, the rankings with the
dashboard's own charts, units below target, the procedures with the most late dossiers, the overdue dossiers per
unit, the follow-ups and an appendix defining every KPI.

Every number is the pack's (kpi.pack, from the KPI engine), written with kpi.formatting; nothing is computed
here. The text is set in the bundled DejaVu Sans (kpi/fonts, embedded as subsets), which carries every
Vietnamese letter and stacked tone mark. Charts are the figures of `kpi.pack.figures` (the dashboard's
kpi.charts functions) exported as PNG at 3× by Kaleido, which drives a Chromium: one browser for the process,
started on first use (or early by `warm_up`) and kept open, exporting while the pages are laid out. Without a
browser the PDF is still written, with a note in place of each chart.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import io
import os
import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import plotly.graph_objects as go
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    LongTable,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)

from kpi import drilldown, overview
from kpi import pack as pack_model
from kpi.charts import STATUS_HEX
from kpi.formatting import format_date, format_datetime, format_decimal, format_int, format_value
from kpi.index766 import ESTIMATE_LABEL, TOTAL_ID
from kpi.metrics import METRICS, metric
from kpi.pack import Pack

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {
    "PackSans": "DejaVuSans.ttf", "PackSans-Bold": "DejaVuSans-Bold.ttf",
    "PackSansCond": "DejaVuSansCondensed.ttf", "PackSansCond-Bold": "DejaVuSansCondensed-Bold.ttf",
}
CHART_WIDTH_PX = 800  # CSS pixels: Plotly's 12 px text comes out at about 7.7 pt across the A4 text width
CHART_SCALE = 3  # device pixels per CSS pixel: about 340 dpi in print
CHART_TIMEOUT_S = 60
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

PAGE_W, PAGE_H = A4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 15 * mm, 18 * mm, 16 * mm
TEXT_W = PAGE_W - 2 * MARGIN_X
TEXT_H = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM
_TOTAL_PAGES_FORM = "packTotalPages"  # "Trang N/M": M is a form drawn on every page, defined once at the end

INK, MUTED, RULE, HEAD_BG, ZEBRA, GROUP_BG = (colors.HexColor(c) for c in
                                             ("#263238", "#607d8b", "#b0bec5", "#1f3b57", "#f3f6f8", "#dfe7ee"))
_STATUS_INK = {"green": colors.white, "red": colors.white, "amber": colors.HexColor("#212121")}


def _text(vi: str, en: str, lang: str) -> str:
    return en if lang == "en" else vi


# --- fonts and styles -------------------------------------------------------------------------------


_FONTS_LOCK = threading.Lock()


def register_fonts() -> None:
    """Register the bundled DejaVu fonts with reportlab once (embedded as subsets in every PDF it writes)."""
    with _FONTS_LOCK:  # the dashboard's sessions may write PDFs at the same time
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name, file in FONT_FILES.items():
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
        pdfmetrics.registerFontFamily("PackSans", normal="PackSans", bold="PackSans-Bold", italic="PackSans",
                                      boldItalic="PackSans-Bold")
        pdfmetrics.registerFontFamily("PackSansCond", normal="PackSansCond", bold="PackSansCond-Bold",
                                      italic="PackSansCond", boldItalic="PackSansCond-Bold")


CELL_FONT, CELL_BOLD, CELL_SIZE, CELL_PAD = "PackSansCond", "PackSansCond-Bold", 7.5, 3


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName="PackSans", fontSize=9, leading=12, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=MUTED),
        "title": ParagraphStyle("title", parent=base, fontName="PackSans-Bold", fontSize=20, leading=26,
                                alignment=TA_CENTER, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=15, alignment=TA_CENTER,
                                   textColor=MUTED),
        "period": ParagraphStyle("period", parent=base, fontName="PackSans-Bold", fontSize=15, leading=20,
                                 alignment=TA_CENTER, spaceBefore=14, spaceAfter=2),
        "h1": ParagraphStyle("h1", parent=base, fontName="PackSans-Bold", fontSize=13, leading=17, spaceBefore=12,
                             spaceAfter=6, textColor=HEAD_BG),
        "h2": ParagraphStyle("h2", parent=base, fontName="PackSans-Bold", fontSize=10, leading=13, spaceBefore=8,
                             spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontName=CELL_FONT, fontSize=CELL_SIZE, leading=9.2),
        "cell_right": ParagraphStyle("cell_right", parent=base, fontName=CELL_FONT, fontSize=CELL_SIZE,
                                     leading=9.2, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName=CELL_BOLD, fontSize=CELL_SIZE, leading=9.2,
                               textColor=colors.white),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=11.5, textColor=INK,
                               backColor=colors.HexColor("#fff8e1"), borderPadding=4, spaceBefore=4, spaceAfter=8),
    }


# --- charts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartFailure:
    """Why a chart has no image: `kind` no_browser, no_kaleido or failed, with the error's text."""

    kind: str
    detail: str = ""

    def text(self, lang: str = "vi") -> str:
        """The note printed in the chart's place."""
        if self.kind == "no_browser":
            return _text("Không xuất được biểu đồ: không tìm thấy trình duyệt Chromium",
                         "The chart could not be exported: no Chromium browser was found", lang)
        if self.kind == "no_kaleido":
            return _text("Không xuất được biểu đồ: thiếu thư viện kaleido",
                         "The chart could not be exported: the kaleido library is missing", lang)
        return _text("Không xuất được biểu đồ: ", "The chart could not be exported: ", lang) + self.detail


def find_browser() -> str | None:
    """The Chromium (or Chrome) that exports the charts: $BROWSER_PATH (Kaleido's own setting), else the first
    of BROWSER_NAMES on the PATH, else Debian's /usr/bin/chromium; None when there is none."""
    candidates = [os.environ.get("BROWSER_PATH")] + [shutil.which(n) for n in BROWSER_NAMES] + ["/usr/bin/chromium"]
    return next((c for c in candidates if c and os.path.isfile(c) and os.access(c, os.X_OK)), None)


def _unavailable(figures: Mapping[str, go.Figure], browser: str | None) -> dict[str, ChartFailure] | None:
    """Each figure's failure when no chart can be exported at all (no browser, no kaleido), else None."""
    if not browser or not os.path.isfile(browser):
        return {name: ChartFailure("no_browser") for name in figures}
    try:
        import kaleido  # noqa: F401, PLC0415 - optional at run time: the PDF is still written without it
    except ImportError:
        return {name: ChartFailure("no_kaleido") for name in figures}
    return None


def chart_images(figures: Mapping[str, go.Figure], *, browser: str | None = None, width: int = CHART_WIDTH_PX,
                 scale: float = CHART_SCALE, timeout: float = CHART_TIMEOUT_S) -> dict[str, bytes | ChartFailure]:
    """Each figure as PNG bytes (`width` CSS pixels wide, its own layout height, `scale` device pixels per
    pixel), all rendered by the process's one Kaleido browser (started on first use, or by warm_up); a figure
    that could not be rendered maps to a ChartFailure. `browser` is the Chromium to use (default:
    find_browser())."""
    if not figures:
        return {}
    browser = browser if browser is not None else find_browser()
    failures = _unavailable(figures, browser)
    if failures is not None:
        return dict(failures)
    opts = [{"format": "png", "width": width, "scale": scale, "height": _height_px(f)} for f in figures.values()]
    try:
        images = _chart_browser(browser).render(list(figures.values()), opts, timeout)
    except BaseException as exc:  # noqa: BLE001 - any browser failure becomes the charts' note
        _drop_chart_browser(browser)
        failure = ChartFailure("failed", _error_text(exc))
        return {name: failure for name in figures}
    if any(not isinstance(image, bytes) for image in images):
        _drop_chart_browser(browser)  # it may have died: the next export starts a fresh one
    return {name: image if isinstance(image, bytes) else ChartFailure("failed", _error_text(image))
            for name, image in zip(figures, images, strict=True)}


def warm_up(browser: str | None = None) -> None:
    """Start the chart browser in the background (no wait), so that a pack's charts need not wait for
    Chromium to start: call it before building the pack. Does nothing without a browser or kaleido."""
    browser = browser if browser is not None else find_browser()
    if _unavailable({"any": go.Figure()}, browser) is None:
        _chart_browser(browser)


class _ChartBrowser:
    """One headless Chromium driven by Kaleido, in a thread with its own event loop (the caller may run one
    already: Streamlit, Jupyter). It stays open for the process, so only the first export waits for Chromium
    and plotly.js to load; exports from several threads share its tab queue."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._kaleido: object | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pack-chart-browser", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._kaleido = self._loop.run_until_complete(self._open())
        except BaseException as exc:  # noqa: BLE001 - reported to every render call
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _open(self) -> object:
        import kaleido  # noqa: PLC0415

        browser = kaleido.Kaleido(n=1, timeout=CHART_TIMEOUT_S, path=self.path, mathjax=False)
        await browser.open()
        return browser

    def render(self, figures: Sequence[go.Figure], opts: Sequence[Mapping[str, object]],
               timeout: float) -> list[bytes | BaseException]:
        """PNG bytes (or the error) per figure, in order."""
        if not self._ready.wait(timeout):
            raise TimeoutError(f"Chromium did not start within {timeout:g} s")
        if self._error is not None:
            raise self._error
        jobs = [asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(f, opts=dict(o)), self._loop)
                for f, o in zip(figures, opts, strict=True)]
        out: list[bytes | BaseException] = []
        for job in jobs:
            try:
                out.append(job.result(timeout))
            except BaseException as exc:  # noqa: BLE001 - one figure's failure is that figure's note
                out.append(exc)
        return out

    def close(self) -> None:
        """Close Chromium and stop the loop."""
        if self._ready.is_set() and self._kaleido is not None and self._loop.is_running():
            with contextlib.suppress(BaseException):
                asyncio.run_coroutine_threadsafe(self._kaleido.close(), self._loop).result(10)
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


_BROWSERS: dict[str, _ChartBrowser] = {}
_BROWSERS_LOCK = threading.Lock()


def _chart_browser(path: str) -> _ChartBrowser:
    with _BROWSERS_LOCK:
        if path not in _BROWSERS:
            if not _BROWSERS:
                atexit.register(close_chart_browsers)
            _BROWSERS[path] = _ChartBrowser(path)
        return _BROWSERS[path]


def _drop_chart_browser(path: str) -> None:
    with _BROWSERS_LOCK:
        browser = _BROWSERS.pop(path, None)
    if browser is not None:
        threading.Thread(target=browser.close, name="pack-chart-browser-close", daemon=True).start()


def close_chart_browsers() -> None:
    """Close the chart browsers this process started (at exit, or to free their memory)."""
    with _BROWSERS_LOCK:
        browsers = list(_BROWSERS.values())
        _BROWSERS.clear()
    for browser in browsers:
        browser.close()


def _height_px(figure: go.Figure) -> int:
    return int(figure.layout.height or 450)


def _error_text(exc: object) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


class _Charts:
    """The pack's charts, exported in a background thread while the document is laid out: each chart's place
    is a form of the chart's final size, filled in when the PDF is saved (a PDF form may be defined after the
    pages that draw it). Failures known beforehand (no browser) are notes in the text instead."""

    def __init__(self, figures: Mapping[str, go.Figure], browser: str | None) -> None:
        browser = browser if browser is not None else find_browser()
        self.sizes = {name: _fit(CHART_WIDTH_PX, _height_px(f)) for name, f in figures.items()}
        self.known = _unavailable(figures, browser) if figures else None
        self._images: dict[str, bytes | ChartFailure] = {}
        self._worker: threading.Thread | None = None
        if figures and self.known is None:
            self._worker = threading.Thread(target=self._render, args=(dict(figures), browser), name="pack-charts",
                                            daemon=True)
            self._worker.start()

    def _render(self, figures: dict[str, go.Figure], browser: str) -> None:
        self._images = chart_images(figures, browser=browser)

    def flowable(self, name: str, styles: Mapping[str, ParagraphStyle], lang: str) -> Flowable | None:
        """The chart's place in the story: a slot of its size, a note when it cannot be exported, or None
        without a figure."""
        if name not in self.sizes:
            return None
        if self.known is not None:
            return Paragraph(escape(self.known[name].text(lang)), styles["note"])
        return _ChartSlot(name, *self.sizes[name])

    def draw_forms(self, canvas: Canvas, lang: str) -> None:
        """Define every chart's form: the image, or the reason it is missing."""
        if self._worker is None:
            return
        self._worker.join()
        for name, (w, h) in self.sizes.items():
            image = self._images.get(name, ChartFailure("failed", "no image"))
            canvas.beginForm(_chart_form(name), 0, 0, w, h)
            if isinstance(image, bytes):
                canvas.drawImage(ImageReader(io.BytesIO(image)), 0, 0, width=w, height=h)
            else:
                lines = simpleSplit(image.text(lang), "PackSans", 8.5, w - 12)
                canvas.setStrokeColor(RULE)
                canvas.rect(0, h - 8 - 11.5 * len(lines), w, 8 + 11.5 * len(lines), stroke=1, fill=0)
                canvas.setFont("PackSans", 8.5)
                canvas.setFillColor(INK)
                for i, line in enumerate(lines):
                    canvas.drawString(6, h - 12 - 11.5 * i, line)
            canvas.endForm()


def _fit(width_px: float, height_px: float) -> tuple[float, float]:
    """A chart's size in points: the text width, or less so that it fits a page with its heading."""
    ratio = min(TEXT_W / width_px, (TEXT_H - 60) / height_px)
    return width_px * ratio, height_px * ratio


def _chart_form(name: str) -> str:
    return f"packChart_{name}"


class _ChartSlot(Flowable):
    """A chart's place on the page, drawn as the chart's form (defined when the PDF is saved)."""

    def __init__(self, name: str, width: float, height: float) -> None:
        super().__init__()
        self.name, self.width, self.height = name, width, height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.doForm(_chart_form(self.name))


# --- tables -----------------------------------------------------------------------------------------


def _lines(text: object, width: float, font: str = CELL_FONT, size: float = CELL_SIZE) -> str:
    """Plain cell text wrapped to the column width (a plain string cell draws much faster than a Paragraph)."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    return "\n".join(simpleSplit(str(text), font, size, width - 2 * CELL_PAD)) or ""


CELL_LEADING, PAD_TOP, PAD_BOTTOM = 9.2, 1.5, 2.5


def _table(header: Sequence[str], rows: list[list[object]], widths: Sequence[float],
           styles: Mapping[str, ParagraphStyle], *, right: Sequence[int] = (), extra: Sequence[tuple] = (),
           lang: str = "vi") -> _PagedTable:
    """A table with a dark header row repeated on every page, zebra rows, numbers right-aligned (`right`:
    column indexes) and extra TableStyle commands, each on one row (status colours, group rows: a row whose
    first cell SPANs the table names the rows below it, and is repeated, "(tiếp)", atop a page they
    continue on). Data cells are plain strings, "\\n" between lines."""
    head = [Paragraph(escape(h), styles["head"]) for h in header]
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), CELL_FONT, CELL_SIZE, CELL_LEADING),  # every cell: reportlab's default is Helvetica
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD), ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), PAD_TOP), ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_BOTTOM),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA]),
    ]
    commands += [("ALIGN", (c, 1), (c, -1), "RIGHT") for c in right]
    by_row: dict[int, list[tuple]] = {}
    for command in extra:  # (name, (column, row), (column, row), ...) with the header as row 0
        name, (c0, r), (c1, _), *args = command
        by_row.setdefault(r - 1, []).append((name, c0, c1, *args))
    groups = {i for i, cmds in by_row.items() if any(c[0] == "SPAN" for c in cmds)}
    return _PagedTable(head, rows, list(widths), commands, by_row, groups, _text(" (tiếp)", " (continued)", lang))


class _PagedTable(Flowable):
    """A table laid out a page at a time: each page's part is a table of its own, with the header row on top
    (and the group row it continues), so that a list of thousands of rows costs time in proportion to its
    length. (A reportlab table split at a page re-processes every remaining row, span and style each time.)
    Row heights are known beforehand: plain string cells are lines × leading plus padding."""

    def __init__(self, head: list[Flowable], rows: list[list[object]], widths: list[float], commands: list[tuple],
                 by_row: dict[int, list[tuple]], groups: set[int], continued: str, start: int = 0,
                 heights: list[float] | None = None) -> None:
        super().__init__()
        self.head, self.rows, self.widths, self.commands = head, rows, widths, commands
        self.by_row, self.groups, self.continued, self.start = by_row, groups, continued, start
        self.heights = heights if heights is not None else [
            CELL_LEADING * max((str(c).count("\n") + 1 for c in row), default=1) + PAD_TOP + PAD_BOTTOM
            for row in rows]
        self._head_height: float | None = None
        self._whole: LongTable | None = None

    def _group_of(self, index: int) -> int | None:
        """The group row a data row belongs to (None without one)."""
        for i in range(index, -1, -1):
            if i in self.groups:
                return i
        return None

    def _part(self, stop: int) -> LongTable:
        """The table of data rows start..stop-1 under the header (and the continued group row)."""
        indexes = list(range(self.start, stop))
        group = self._group_of(self.start)
        cells: list[list[object]] = [self.head]
        cmds = list(self.commands)
        if group is not None and group != self.start:
            title = str(self.rows[group][0])
            cells.append([title + self.continued, *self.rows[group][1:]])
            cmds += [(name, (c0, 1), (c1, 1), *args) for name, c0, c1, *args in self.by_row.get(group, [])]
        for i in indexes:
            cells.append(self.rows[i])
            r = len(cells) - 1
            cmds += [(name, (c0, r), (c1, r), *args) for name, c0, c1, *args in self.by_row.get(i, [])]
        table = LongTable(cells, colWidths=self.widths, repeatRows=1)
        table.setStyle(TableStyle(cmds))
        return table

    def _head(self, available_width: float) -> float:
        if self._head_height is None:
            head = LongTable([self.head], colWidths=self.widths)
            head.setStyle(TableStyle(self.commands))
            self._head_height = head.wrap(available_width, TEXT_H)[1]
        return self._head_height

    def _continues(self) -> bool:
        group = self._group_of(self.start)
        return group is not None and group != self.start

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        height = self._head(available_width) + sum(self.heights[self.start:])
        if self._continues():
            height += self.heights[self._group_of(self.start)]
        if height <= available_height:  # it fits: the real table's height, and it is the one drawn
            self._whole = self._part(len(self.rows))
            height = self._whole.wrap(available_width, available_height)[1]
        self.width, self.height = sum(self.widths), height
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        room = available_height - self._head(available_width)
        if self._continues():
            room -= self.heights[self._group_of(self.start)]
        stop = self.start
        while stop < len(self.rows) and room >= self.heights[stop]:
            room -= self.heights[stop]
            stop += 1
        if stop > self.start + 1 and stop - 1 in self.groups:
            stop -= 1  # a group row is not left alone at the foot of a page
        if stop == self.start:
            return []
        part = self._part(stop)
        while stop > self.start + 1 and part.wrap(available_width, available_height)[1] > available_height:
            stop -= 1
            part = self._part(stop)
        if stop >= len(self.rows):
            return [part]
        rest = _PagedTable(self.head, self.rows, self.widths, self.commands, self.by_row, self.groups,
                           self.continued, stop, self.heights)
        return [part, rest]

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:  # noqa: N802 - reportlab's name
        table = self._whole or self._part(len(self.rows))
        table.wrapOn(canvas, self.width, self.height)
        table.drawOn(canvas, x, y, _sW)


def _key_values(rows: list[list[Flowable]], key_width: float, *, padding: float) -> LongTable:
    """Two columns of paragraphs, label and text, with thin rules between the rows (cover, appendix)."""
    table = LongTable(rows, colWidths=[key_width, TEXT_W - key_width])
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), CELL_FONT, CELL_SIZE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE), ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), padding), ("BOTTOMPADDING", (0, 0), (-1, -1), padding + 0.5),
    ]))
    return table


def _status_cell(column: int, row: int, status: object) -> list[tuple]:
    """The dashboard's status colour as the cell's background (kpi.charts.STATUS_HEX)."""
    if status not in _STATUS_INK:
        return []
    return [("BACKGROUND", (column, row), (column, row), colors.HexColor(STATUS_HEX[status])),
            ("TEXTCOLOR", (column, row), (column, row), _STATUS_INK[status]),
            ("FONT", (column, row), (column, row), CELL_BOLD, CELL_SIZE, CELL_LEADING)]


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))


def _value(value: object, unit: str, lang: str) -> str:
    return format_value(None if _missing(value) else float(value), unit, lang)


def _no_data(reason: str, styles: Mapping[str, ParagraphStyle], lang: str) -> Paragraph:
    """The empty state of a section: "Không có dữ liệu" and why."""
    return Paragraph(f"<b>{_text('Không có dữ liệu', 'No data', lang)}</b>: {escape(reason)}", styles["note"])


def _general_reason(pack: Pack, lang: str) -> str | None:
    """Why the whole pack may be empty (no data in the store, the period outside the data), or None."""
    reason = overview.empty_reason(pack.freshness, None)
    return None if reason is None else reason[1 if lang == "en" else 0]


# --- sections ---------------------------------------------------------------------------------------


class _Heading(Paragraph):
    """A section heading: a bookmark and an entry in the PDF's outline."""

    def __init__(self, text: str, style: ParagraphStyle, key: str, level: int = 0) -> None:
        super().__init__(escape(text), style)
        self.outline = (text, key, level)


def _heading(number: str, vi: str, en: str, key: str, styles: Mapping[str, ParagraphStyle], lang: str) -> _Heading:
    title = _text(vi, en, lang)
    return _Heading(f"{number}. {title}" if number else title, styles["h1"], key)


def _cover(pack: Pack, styles: Mapping[str, ParagraphStyle], lang: str) -> list[Flowable]:
    out: list[Flowable] = [Spacer(1, 28 * mm), Paragraph(escape(pack_model.REPORT_TITLE["vi"]), styles["title"])]
    if lang == "en":
        out.append(Paragraph(escape(pack_model.REPORT_TITLE["en"]), styles["subtitle"]))
    out += [Paragraph(escape(pack.period.label(lang)), styles["period"]),
            Paragraph(escape(pack.scope(lang)), styles["subtitle"]), Spacer(1, 14 * mm)]
    label_style = ParagraphStyle("cover_label", parent=styles["body"], fontName="PackSans-Bold")
    rows = [[Paragraph(escape(k), label_style), Paragraph(escape(v), styles["body"])]
            for k, v in pack_model.cover_facts(pack, lang)]
    missing = pack.freshness.get("units_without_data") or []
    if missing:
        rows.append([Paragraph(escape(_text("Đơn vị không có hồ sơ trong kỳ", "Units without dossiers", lang)),
                               label_style),
                     Paragraph(escape(", ".join(missing)), styles["body"])])
    out.append(_key_values(rows, 48 * mm, padding=4))
    if pack.freshness.get("is_stale"):
        out.append(Paragraph(escape(_text(
            f"Dữ liệu mới nhất đã cũ {pack.freshness.get('age_days')} ngày: hãy nhập tệp xuất mới từ hệ thống "
            "Một cửa trước khi dùng báo cáo.",
            f"The newest data is {pack.freshness.get('age_days')} days old: import a newer export from the "
            "one-stop system before using the report.", lang)), styles["note"]))
    out += [Spacer(1, 10 * mm), Paragraph(escape(_text("Nội dung", "Contents", lang)), styles["h2"])]
    for number, vi, en in _SECTIONS:
        out.append(Paragraph(escape(f"{number}. {_text(vi, en, lang)}" if number else _text(vi, en, lang)),
                             styles["body"]))
    out += [Spacer(1, 8 * mm), Paragraph(escape(_text(
        "Số liệu tính từ dữ liệu hồ sơ của hệ thống Một cửa bằng egov-kpi; định nghĩa các chỉ số ở phần Phụ lục. "
        "Màu đánh giá: xanh – đạt mục tiêu; vàng – gần đạt (thấp hơn mục tiêu không quá 5 điểm %, hoặc 1 ngày); "
        "đỏ – chưa đạt.",
        "Figures computed by egov-kpi from the one-stop system's dossier data; every KPI is defined in the "
        "appendix. Status colours: green – on target; amber – near (within 5 percentage points, or 1 day); "
        "red – below target.", lang)), styles["small"])]
    return out


_SECTIONS = (
    ("1", "Các chỉ số chính", "Headline KPIs"),
    ("2", "Điểm Bộ chỉ số 766 theo nhóm (ước tính)", "Decision 766 index by group (estimated)"),
    ("3", "Xếp hạng sở, ngành", "Departments ranked"),
    ("4", "Xếp hạng địa bàn", "Localities ranked"),
    ("5", "Đơn vị chưa đạt mục tiêu", "Units below target"),
    ("6", "Thủ tục có nhiều hồ sơ trễ hạn nhất", "Procedures with the most late dossiers"),
    ("7", "Hồ sơ đang giải quyết quá hạn theo đơn vị", "Overdue dossiers in progress, by unit"),
    ("8", "Theo dõi thực hiện kết luận các cuộc họp trước", "Follow-ups from earlier meetings"),
    ("", "Phụ lục: định nghĩa các chỉ số", "Appendix: KPI definitions"),
)


def _section(index: int, key: str, styles: Mapping[str, ParagraphStyle], lang: str) -> _Heading:
    number, vi, en = _SECTIONS[index]
    return _heading(number, vi, en, key, styles, lang)


def _headline(pack: Pack, styles: Mapping[str, ParagraphStyle], lang: str) -> list[Flowable]:
    previous, earlier = pack.period.previous().label(lang), pack.period.year_earlier().label(lang)
    header = [_text("Chỉ số", "KPI", lang), _text("Giá trị", "Value", lang), _text("Tử số", "Numerator", lang),
              _text("Mẫu số", "Denominator", lang), _text("Mục tiêu", "Target", lang),
              _text("Đánh giá", "Status", lang), _text(f"So với kỳ trước ({previous})", f"On {previous}", lang),
              _text(f"So với cùng kỳ năm trước ({earlier})", f"On {earlier} (a year earlier)", lang)]
    widths = (100, 46, 48, 58, 42, 50, 83, 83)
    rows, extra = [], []
    for i, row in enumerate(pack_model.headline_rows(pack), start=1):
        m = metric(row["metric"])
        label = m.label_en if lang == "en" else m.label_vi
        rows.append([
            _lines(label, widths[0]), _value(row["value"], m.unit, lang), format_int(row["numerator"]),
            format_int(row["denominator"]), "–" if _missing(row["target"]) else _value(row["target"], m.unit, lang),
            _lines(pack_model.status_label(row["status"], lang) or "–", widths[5], CELL_BOLD),
            _change(row["previous_change_pp"], row["previous_value"], m.unit, widths[6], lang),
            _change(row["year_earlier_change_pp"], row["year_earlier_value"], m.unit, widths[7], lang),
        ])
        extra += _status_cell(5, i, row["status"]) + [("FONT", (1, i), (1, i), CELL_BOLD, CELL_SIZE, 9.2)]
    out: list[Flowable] = [_section(0, "headline", styles, lang)]
    if pack.headline["value"].isna().all():
        out.append(_no_data(_general_reason(pack, lang) or _text(
            "không có hồ sơ nào được tiếp nhận, giải quyết hay đang giải quyết trong kỳ với các bộ lọc đã chọn.",
            "no dossier was received, resolved or in progress in the period under the chosen filters.", lang),
            styles, lang))
    out.append(_table(header, rows, widths, styles, right=(1, 2, 3, 4), extra=extra))
    out.append(Paragraph(escape(_text(
        "Tử số, mẫu số: số hồ sơ (hoặc số thủ tục, số ngày) mà chỉ số được tính từ đó. Thay đổi tính bằng điểm "
        "phần trăm (điểm %) với tỷ lệ, bằng ngày với thời gian giải quyết; giá trị của kỳ so sánh trong ngoặc.",
        "Numerator and denominator: the dossiers (or procedures, days) the KPI is computed from. Changes are in "
        "percentage points (pts) for rates and in days for durations; the comparison period's value in brackets.",
        lang)), styles["small"]))
    return out


def _change(change: object, earlier: object, unit: str, width: float, lang: str) -> str:
    text = pack_model.change_text(change, unit, lang)
    if _missing(earlier):
        return text
    return _lines(f"{text} ({_value(earlier, unit, lang)})", width)


def _index766(pack: Pack, charts: _Charts, styles: Mapping[str, ParagraphStyle],
              lang: str) -> list[Flowable]:
    out: list[Flowable] = [_section(1, "index766", styles, lang)]
    frame = pack.index766
    if not overview.has_index766(frame):
        out.append(_no_data(_general_reason(pack, lang) or _text(
            "không nhóm nào của Bộ chỉ số tính được từ dữ liệu hồ sơ của kỳ (không có hồ sơ giải quyết, đang "
            "giải quyết hay tiếp nhận).", "no group of the index can be computed from the period's dossier data "
            "(no dossier resolved, in progress or received).", lang), styles, lang))
        return out
    total = overview.index766_total(frame, lang)
    if total:
        bold = total.split("**")
        out.append(Paragraph("".join(escape(p) if i % 2 == 0 else f"<b>{escape(p)}</b>" for i, p in enumerate(bold)),
                             styles["body"]))
        out.append(Spacer(1, 4))
    chart = charts.flowable("index766", styles, lang)
    if chart is not None:
        out.append(chart)
    header = [_text("Nhóm chỉ số", "Index group", lang), _text("Điểm ước tính", "Estimated points", lang),
              _text("Tối đa tính được", "Computable maximum", lang), _text("Tối đa (QĐ 766)", "Official maximum", lang),
              _text("Phần không tính được và lý do", "What is not computable and why", lang)]
    widths = (110, 50, 55, 50, 245)
    rows = []
    for r in frame.to_dict("records"):
        rows.append([_lines(r["label_en" if lang == "en" else "label_vi"], widths[0]),
                     "–" if _missing(r["points"]) else format_decimal(float(r["points"]), 1),
                     format_decimal(float(r["computable_max"]), 1), format_decimal(float(r["max_points"]), 1),
                     _lines(r["note" if lang == "en" else "note_vi"], widths[4])])
    bold_total = [("FONT", (0, i), (-2, i), CELL_BOLD, CELL_SIZE, 9.2)
                  for i, r in enumerate(frame.to_dict("records"), start=1) if r["index_group"] == TOTAL_ID]
    out.append(Spacer(1, 6))
    out.append(_table(header, rows, widths, styles, right=(1, 2, 3), extra=bold_total))
    out.append(Paragraph(escape(_text(f"Điểm {ESTIMATE_LABEL['vi']}, không phải điểm chính thức theo Quyết định "
                                      "766/QĐ-TTg.",
                                      f"Points {ESTIMATE_LABEL['en']}, not the official Decision 766/QĐ-TTg score.",
                                      lang)), styles["small"]))
    return out


def _ranking(pack: Pack, which: str, charts: _Charts,
             styles: Mapping[str, ParagraphStyle], lang: str) -> list[Flowable]:
    frame = pack.departments if which == "departments" else pack.localities
    index = 2 if which == "departments" else 3
    out: list[Flowable] = [_section(index, which, styles, lang),
                           Paragraph(escape(pack_model.ranking_title(pack, which, lang)), styles["body"])]
    if which == "localities":
        out.append(Paragraph(escape(_locality_note(pack, lang)), styles["small"]))
    if frame.empty:
        level = pack_model.LEVEL_NAMES["agency" if which == "departments" else pack.localities_level]
        out.append(_no_data(_general_reason(pack, lang) or _text(
            f"không {level[0].lower()} nào có hồ sơ giải quyết trong kỳ, nên không có tỷ lệ đúng hạn để xếp hạng.",
            f"no {level[1].lower()} resolved a dossier in the period, so there is no on-time rate to rank.",
            lang), styles, lang))
        return out
    chart = charts.flowable(which, styles, lang)
    if chart is not None:
        out += [Spacer(1, 4), chart]
    note = pack_model.chart_note(frame, lang)
    if note:
        out.append(Paragraph(escape(note), styles["small"]))
    table = drilldown.ranking_table(frame, pack_model.RANKING_METRIC, lang)
    labels = drilldown.RANKING_LABELS
    header = [labels[c][1 if lang == "en" else 0] for c in table.columns]
    widths = (30, 176, 52, 50, 50, 44, 48, 60)
    rows, extra = [], []
    for i, (r, status) in enumerate(zip(table.to_dict("records"), frame["status"], strict=True), start=1):
        rows.append([str(r["rank"]), _lines(r["group"], widths[1]), r["value_text"], format_int(r["numerator"]),
                     format_int(r["denominator"]), r["target_text"] or "–",
                     _lines(r["status_text"] or "–", widths[6], CELL_BOLD),
                     r["change_text"] or "–"])
        extra += _status_cell(6, i, status)
    out += [Spacer(1, 6), _table(header, rows, widths, styles, right=(0, 2, 3, 4, 5, 7), extra=extra)]
    return out


def _locality_note(pack: Pack, lang: str) -> str:
    if pack.localities_level == "district":
        return _text("Theo quận, huyện (địa giới trước ngày 01/07/2025).",
                     "By district (the divisions before 1 July 2025).", lang)
    return _text("Theo xã, phường (địa giới từ ngày 01/07/2025 nếu kỳ báo cáo sau ngày này).",
                 "By commune and ward (the divisions from 1 July 2025 when the period is after it).", lang)


def _below_target(pack: Pack, styles: Mapping[str, ParagraphStyle], lang: str) -> list[Flowable]:
    out: list[Flowable] = [_section(4, "below_target", styles, lang)]
    frame = pack.below_target
    if frame.empty:
        out.append(_no_data(_general_reason(pack, lang) or _text(
            "không sở, ngành hay địa bàn nào thấp hơn hoặc gần dưới mục tiêu ở các chỉ số chính (hoặc các chỉ số "
            "chưa đặt mục tiêu).", "no department or locality is below or near target on the headline KPIs (or "
            "the KPIs have no target).", lang), styles, lang))
        return out
    out.append(Paragraph(escape(_text(
        "Các chỉ số chính của sở, ngành và địa bàn: chưa đạt (đỏ) trước, rồi gần đạt (vàng); khoảng cách tới mục "
        "tiêu tính bằng điểm % (tỷ lệ) hoặc ngày.",
        "Departments' and localities' headline KPIs: below target (red) first, then near it (amber); the gap to "
        "target in percentage points (rates) or days.", lang)), styles["body"]))
    header = [_text("Cấp", "Level", lang), _text("Đơn vị", "Unit", lang), _text("Giá trị", "Value", lang),
              _text("Mục tiêu", "Target", lang), _text("Cách mục tiêu", "Gap", lang), _text("Đánh giá", "Status", lang),
              _text("Tử số", "Numerator", lang), _text("Mẫu số", "Denominator", lang)]
    widths = (54, 170, 50, 44, 56, 46, 45, 45)
    rows: list[list[object]] = []
    extra: list[tuple] = []
    order = {m.id: i for i, m in enumerate(METRICS)}
    for metric_id in sorted(dict.fromkeys(frame["metric"]), key=lambda x: order.get(x, len(order))):
        part = frame[frame["metric"] == metric_id]
        m = metric(metric_id)
        red, amber = int((part["status"] == "red").sum()), int((part["status"] == "amber").sum())
        title = _text(f"{m.label_vi} – {red} chưa đạt, {amber} gần đạt",
                      f"{m.label_en} – {red} below target, {amber} near it", lang)
        extra += _group_row(rows, title, len(header))
        for r in part.to_dict("records"):
            level = pack_model.LEVEL_NAMES.get(r["level"], (r["level"], r["level"]))[1 if lang == "en" else 0]
            rows.append([_lines(level, widths[0]), _lines(r["group"], widths[1]), _value(r["value"], m.unit, lang),
                         _value(r["target"], m.unit, lang), pack_model.change_text(r["gap_pp"], m.unit, lang),
                         _lines(pack_model.status_label(r["status"], lang), widths[5], CELL_BOLD),
                         format_int(r["numerator"]),
                         format_int(r["denominator"])])
            extra += _status_cell(5, len(rows), r["status"])
    out.append(Spacer(1, 4))
    out.append(_table(header, rows, widths, styles, right=(2, 3, 4, 6, 7), extra=extra, lang=lang))
    return out


def _group_row(rows: list[list[object]], title: str, columns: int) -> list[tuple]:
    """Append a row spanning the table that names the rows below it (a unit, a KPI); its style commands."""
    rows.append([_lines(title, TEXT_W, CELL_BOLD), *[""] * (columns - 1)])
    n = len(rows)  # the header row is row 0
    return [("SPAN", (0, n), (-1, n)), ("BACKGROUND", (0, n), (-1, n), GROUP_BG),
            ("FONT", (0, n), (-1, n), CELL_BOLD, CELL_SIZE, 9.2)]


def _late_procedures(pack: Pack, styles: Mapping[str, ParagraphStyle], lang: str) -> list[Flowable]:
    out: list[Flowable] = [_section(5, "late_procedures", styles, lang)]
    frame = pack.late_procedures
    if frame.empty:
        out.append(_no_data(_general_reason(pack, lang) or _text(
            "không có hồ sơ nào giải quyết quá hạn trong kỳ.", "no dossier was resolved late in the period.", lang),
            styles, lang))
        return out
    out.append(Paragraph(escape(_text(
        f"{len(frame)} thủ tục có nhiều hồ sơ giải quyết quá hạn nhất trong kỳ; tổng số hồ sơ giải quyết quá hạn "
        f"trong kỳ: {format_int(pack.late_count)}.",
        f"The {len(frame)} procedures with the most dossiers resolved late in the period; all dossiers resolved "
        f"late in the period: {format_int(pack.late_count)}.", lang)), styles["body"]))
    header = [_text("Mã TTHC", "Procedure code", lang), _text("Tên thủ tục", "Procedure", lang),
              _text("Hồ sơ trễ hạn", "Resolved late", lang), _text("Đã giải quyết", "Resolved", lang),
              _text("Tỷ lệ đúng hạn", "On-time rate", lang)]
    widths = (56, 264, 60, 60, 70)
    rows = [[r["procedure_code"], _lines(r["procedure_name"], widths[1]), format_int(r["resolved_late"]),
             format_int(r["resolved"]), _value(r["on_time_rate"], "rate", lang)] for r in frame.to_dict("records")]
    out += [Spacer(1, 4), _table(header, rows, widths, styles, right=(2, 3, 4))]
    return out


OVERDUE_HEADER = {"vi": ("Mã hồ sơ", "Thủ tục", "Lĩnh vực", "Ngày tiếp nhận", "Ngày hẹn trả", "Số ngày quá hạn"),
                  "en": ("Dossier code", "Procedure", "Sector", "Received", "Due", "Days overdue")}


def _overdue(pack: Pack, styles: Mapping[str, ParagraphStyle], lang: str) -> list[Flowable]:
    out: list[Flowable] = [_section(6, "overdue", styles, lang)]
    frame = pack.overdue
    day = format_date(pack.period.end)
    if frame.empty:
        out.append(_no_data(_general_reason(pack, lang) or _text(
            f"không có hồ sơ nào đang giải quyết quá hạn tại ngày cuối kỳ ({day}).",
            f"no dossier was in progress and overdue at the period's end ({day}).", lang), styles, lang))
        return out
    units = pack_model.overdue_units(pack)
    unknown = _text("(không rõ đơn vị)", "(unit unknown)", lang)
    out.append(Paragraph(escape(_text(
        f"{format_int(len(frame))} hồ sơ đang giải quyết quá hạn tại ngày {day}, ở {format_int(len(units))} đơn vị; "
        "theo từng đơn vị, hồ sơ quá hạn lâu nhất trước.",
        f"{format_int(len(frame))} dossiers in progress and overdue at {day}, in {format_int(len(units))} units; "
        "unit by unit, the longest overdue first.", lang)), styles["body"]))
    summary = [[_lines(unknown if _missing(a) else a, 380), format_int(n)]
               for a, n in zip(units["agency_name"], units["overdue"], strict=True)]
    out += [Spacer(1, 4), _table([_text("Đơn vị", "Unit", lang), _text("Hồ sơ quá hạn", "Overdue dossiers", lang)],
                                 summary, (420, 90), styles, right=(1,)), Spacer(1, 8)]
    widths = (112, 196, 70, 46, 46, 40)
    rows: list[list[object]] = []
    extra: list[tuple] = []
    current: object = object()
    counts = {None if _missing(a) else a: int(n) for a, n in zip(units["agency_name"], units["overdue"], strict=True)}
    for r in frame.to_dict("records"):
        unit = r["agency_name"]
        if unit != current:
            current = unit
            count = counts.get(None if _missing(unit) else unit, 0)
            extra += _group_row(rows, f"{unknown if _missing(unit) else unit} – {format_int(count)} "
                                + _text("hồ sơ", "dossiers", lang), len(widths))
        procedure = " – ".join(str(p) for p in (r["procedure_code"], r["procedure_name"]) if not _missing(p))
        rows.append([r["dossier_code"], _lines(procedure, widths[1]), _lines(r["sector"], widths[2]),
                     _date(r["received_at"]), _date(r["due_at"]), format_int(r["days_late"])])
    out.append(_table(OVERDUE_HEADER["en" if lang == "en" else "vi"], rows, widths, styles, right=(3, 4, 5),
                      extra=extra, lang=lang))
    return out


def _date(value: object) -> str:
    if _missing(value) or value is pd.NaT:
        return ""
    return format_date(pd.Timestamp(value).to_pydatetime())


def _followups(pack: Pack, styles: Mapping[str, ParagraphStyle], lang: str) -> list[Flowable]:
    out: list[Flowable] = [_section(7, "followups", styles, lang)]
    if pack.followups.empty:
        out.append(_no_data(_text(
            "chưa có nhiệm vụ nào được giao cho phạm vi này ở các cuộc họp trước.",
            "no task has been assigned for this scope at earlier meetings.", lang), styles, lang))
        return out
    table = pack_model.followups_table(pack, lang)
    if len(table.columns) != 10:  # another layout than the one below: every column, as the pack writes it
        widths = [TEXT_W / len(table.columns)] * len(table.columns)
        rows = [[_lines(v, w) for v, w in zip(r, widths, strict=True)] for r in table.itertuples(index=False)]
        out.append(_table(list(table.columns), rows, widths, styles))
        return out
    unit, kpi, task, owner, due, state, note, then, now, change = table.columns
    header = [unit, kpi, task, owner, due, state, _text("Chỉ số khi giao → hiện nay (thay đổi)",
                                                        "KPI then → now (change)", lang)]
    widths = (74, 82, 140, 56, 44, 50, 64)
    rows = []
    for r in table.to_dict("records"):
        text = r[task] + (f" ({r[note]})" if r[note] else "")
        rows.append([_lines(r[unit], widths[0]), _lines(r[kpi], widths[1]), _lines(text, widths[2]),
                     _lines(r[owner], widths[3]), r[due], _lines(r[state], widths[5]),
                     _lines(f"{r[then]} → {r[now]} ({r[change]})", widths[6])])
    out.append(_table(header, rows, widths, styles))
    return out


def _appendix(pack: Pack, styles: Mapping[str, ParagraphStyle], lang: str) -> list[Flowable]:
    out: list[Flowable] = [_section(8, "appendix", styles, lang)]
    used = {r["metric"]: r["target"] for r in pack.headline.to_dict("records")}
    key_style = ParagraphStyle("key", parent=styles["cell"], fontName=CELL_BOLD)
    for m in METRICS:
        en = lang == "en"
        unit = _text("tỷ lệ (%)", "rate (%)", lang) if m.unit == "rate" else _text("số ngày", "days", lang)
        better = _text("càng cao càng tốt", "higher is better", lang) if m.higher_is_better \
            else _text("càng thấp càng tốt", "lower is better", lang)
        target = used.get(m.id)
        facts = [
            (_text("Tử số", "Numerator", lang), m.numerator_en if en else m.numerator_vi),
            (_text("Mẫu số", "Denominator", lang), m.denominator_en if en else m.denominator_vi),
            (_text("Đơn vị tính", "Unit", lang), f"{unit}; {better}"),
            (_text("Mục tiêu dùng trong báo cáo", "Target used in this report", lang),
             _value(target, m.unit, lang) if not _missing(target) else _text("chưa đặt", "none", lang)),
            (_text("Mục tiêu mặc định", "Default target", lang),
             _value(m.default_target, m.unit, lang) if m.default_target is not None else _text("không có", "none",
                                                                                             lang)),
            (_text("Căn cứ", "Source", lang), m.source),
        ]
        rows = [[Paragraph(escape(k), key_style), Paragraph(escape(v), styles["cell"])] for k, v in facts]
        table = _key_values(rows, 110, padding=1.5)
        out.append(KeepTogether([
            Paragraph(escape(f"{m.label_en if en else m.label_vi} ({m.id})"), styles["h2"]),
            Paragraph(escape(m.description_en if en else m.description_vi), styles["body"]), Spacer(1, 3), table]))
    return out


# --- the document -----------------------------------------------------------------------------------


class _PackCanvas(Canvas):
    """A canvas that completes the forms the pages draw once the last page is done: the total page count in
    every footer's "Trang N/M" (one layout pass only) and the charts exported meanwhile."""

    def __init__(self, *args: object, charts: _Charts, lang: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._charts, self._lang = charts, lang

    def save(self) -> None:
        total = self.getPageNumber() - (0 if self._code else 1)
        self.beginForm(_TOTAL_PAGES_FORM)
        self.setFont("PackSans", 7.5)
        self.setFillColor(MUTED)
        self.drawString(0, 0, str(total))
        self.endForm()
        self._charts.draw_forms(self, self._lang)
        super().save()


class _PackDocument(BaseDocTemplate):
    def afterFlowable(self, flowable: Flowable) -> None:
        outline = getattr(flowable, "outline", None)
        if outline is not None:
            text, key, level = outline
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=False)


def _page_decorator(pack: Pack, lang: str, *, header: bool):
    title = pack_model.REPORT_TITLE["en" if lang == "en" else "vi"]
    running = f"{title} · {pack.period.label(lang)} · {pack.scope(lang)}"
    generated = _text("Lập lúc ", "Generated ", lang) + format_datetime(pack.generated_at) + " · egov-kpi"
    page_word = _text("Trang", "Page", lang)

    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFillColor(MUTED)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.4)
        if header:
            canvas.setFont("PackSans", 7.5)
            canvas.drawString(MARGIN_X, PAGE_H - 11 * mm, running)
            canvas.line(MARGIN_X, PAGE_H - 12.5 * mm, PAGE_W - MARGIN_X, PAGE_H - 12.5 * mm)
        canvas.line(MARGIN_X, 11.5 * mm, PAGE_W - MARGIN_X, 11.5 * mm)
        canvas.setFont("PackSans", 7.5)
        canvas.drawString(MARGIN_X, 8 * mm, generated)
        label = f"{page_word} {canvas.getPageNumber()}/"
        x = PAGE_W - MARGIN_X - 14
        canvas.drawRightString(x, 8 * mm, label)
        canvas.translate(x, 8 * mm)
        canvas.doForm(_TOTAL_PAGES_FORM)
        canvas.restoreState()

    return draw


def _story(pack: Pack, charts: _Charts, lang: str) -> list[Flowable]:
    """The report's flowables in order: cover, sections 1-8, appendix (each section from a new page where it
    is long)."""
    styles = _styles()
    story: list[Flowable] = [*_cover(pack, styles, lang), NextPageTemplate("body"), PageBreak()]
    story += _headline(pack, styles, lang)
    story += [CondPageBreak(120 * mm), *_index766(pack, charts, styles, lang)]
    story += [PageBreak(), *_ranking(pack, "departments", charts, styles, lang)]
    story += [PageBreak(), *_ranking(pack, "localities", charts, styles, lang)]
    story += [PageBreak(), *_below_target(pack, styles, lang)]
    story += [CondPageBreak(90 * mm), *_late_procedures(pack, styles, lang)]
    story += [PageBreak(), *_overdue(pack, styles, lang)]
    story += [CondPageBreak(80 * mm), *_followups(pack, styles, lang)]
    story += [PageBreak(), *_appendix(pack, styles, lang)]
    return story


def write_pack_pdf(pack: Pack, path: str | Path, *, lang: str = "vi", browser: str | None = None) -> Path:
    """Write the meeting pack as an A4 PDF at `path` (Vietnamese, or English with lang="en") and return the
    path. `browser` is the Chromium that exports the charts (default: find_browser()); without one, each
    chart's place says so and the rest of the report is complete."""
    register_fonts()
    lang = "en" if lang == "en" else "vi"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    charts = _Charts(pack_model.figures(pack, lang), browser)  # exported while the pages are laid out
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, TEXT_W, TEXT_H, leftPadding=0, rightPadding=0, topPadding=0,
                  bottomPadding=0, id="text")
    title = pack_model.REPORT_TITLE[lang]
    doc = _PackDocument(
        str(path), pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=f"{title} – {pack.period.label(lang)} – {pack.scope(lang)}",
        author="egov-kpi", subject=pack.filters(lang), creator="egov-kpi (reportlab)", lang=lang,
        initialFontName="PackSans",
        pageTemplates=[PageTemplate("cover", [frame], onPage=_page_decorator(pack, lang, header=False)),
                       PageTemplate("body", [frame], onPage=_page_decorator(pack, lang, header=True))],
    )
    doc.build(_story(pack, charts, lang), canvasmaker=functools.partial(_PackCanvas, charts=charts, lang=lang))
    return path


__all__ = ["CHART_SCALE", "CHART_WIDTH_PX", "ChartFailure", "FONT_FILES", "OVERDUE_HEADER", "chart_images",
           "close_chart_browsers", "find_browser", "register_fonts", "warm_up", "write_pack_pdf"]
