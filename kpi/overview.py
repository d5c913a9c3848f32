"""Tổng quan / Overview, without Streamlit: what the overview page shows, assembled from the KPI engine.

- the headline tiles: `kpi_table` rows of `views.HEADLINE_METRICS` for the selection (value, numerator,
  denominator, target, status, previous and year-earlier changes);
- their sparklines: each KPI month by month over the 12 months ending with the period's last month
  (`kpi_table(by="month")` over that span; a month without a value is None, never 0);
- the trend of one KPI over 12 or 24 months with its target, from the same monthly tables;
- the dossier counts of the period (`dossier_counts`);
- the Decision 766 index estimated per scoring group (`index766.estimate_766`), always labelled as an
  estimate from dossier data;
- why there is nothing to show, when there is nothing (empty states).

Every number comes from the engine; this module only picks rows and writes them out for display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import duckdb
import pandas as pd
import plotly.graph_objects as go

from kpi.engine import Scope, dossier_counts, kpi_table, kpi_tables
from kpi.formatting import format_date, format_decimal, format_int, format_value
from kpi.index766 import ESTIMATE_LABEL, TOTAL_ID, estimate_766
from kpi.metrics import metric
from kpi.periods import Period
from kpi.views import HEADLINE_METRICS

SPARK_MONTHS = 12
TREND_MONTHS = (12, 24)
DEFAULT_TREND_METRIC = "on_time_rate"

# The dossier counts of the period shown above the tiles: COUNTS name, Vietnamese and English label.
PERIOD_COUNTS: tuple[tuple[str, str, str], ...] = (
    ("received", "Tiếp nhận", "Received"),
    ("resolved", "Đã giải quyết", "Resolved"),
    ("in_progress", "Đang giải quyết cuối kỳ", "In progress at the period end"),
    ("in_progress_overdue", "trong đó quá hạn", "of which overdue"),
)

# Column headers of the tables beside the charts.
TREND_LABELS: dict[str, tuple[str, str]] = {
    "month": ("Tháng", "Month"),
    "value": ("Giá trị", "Value"),
    "target": ("Mục tiêu", "Target"),
    "numerator": ("Tử số", "Numerator"),
    "denominator": ("Mẫu số", "Denominator"),
}
INDEX766_LABELS: dict[str, tuple[str, str]] = {
    "index_group": ("Nhóm chỉ số", "Index group"),
    "points": ("Điểm ước tính", "Estimated points"),
    "computable_max": ("Điểm tối đa tính được từ dữ liệu hồ sơ", "Maximum computable from dossier data"),
    "max_points": ("Điểm tối đa theo Quyết định 766", "Official maximum (Decision 766)"),
    "note": ("Phần không tính được và lý do", "What is not computable and why"),
}


# --- periods ----------------------------------------------------------------------------------------


def months_ending(period: Period, months: int) -> Period:
    """The `months` calendar months ending with the period's last month (that month clipped to the
    period's end day, as the period itself is)."""
    index = period.end.year * 12 + period.end.month - 1 - (months - 1)
    return Period(date(index // 12, index % 12 + 1, 1), period.end)


# --- queries (cached by the UI through ui.query) ----------------------------------------------------


def headline_tiles(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object] | None = None,
                   scope: Scope | None = None) -> list[dict[str, object]]:
    """The kpi_table rows (as dicts) of the headline KPIs for the whole selection, in headline order."""
    frame = kpi_table(con, period, where=where, scope=scope, metrics=HEADLINE_METRICS)
    return frame.to_dict("records")


def monthly_table(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object] | None = None,
                  scope: Scope | None = None, *, months: int = SPARK_MONTHS,
                  metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Every KPI (or those of `metrics`) month by month (the frame of kpi_table by="month") over the `months`
    months ending with the period's last month: the sparklines' and the trend chart's data."""
    parts = months_ending(period, months).months()
    return monthly_frame(kpi_tables(con, parts, where=where, scope=scope, metrics=metrics), parts)


def monthly_frame(tables: Sequence[pd.DataFrame], months: Sequence[Period]) -> pd.DataFrame:
    """The month-by-month frame of kpi_table(by="month") from one whole-selection kpi_tables frame per month:
    the same rows, so that a page can cache each month on its own (ui.query_periods) and a period one month
    earlier computes one month, not twelve."""
    frames = [table.assign(dimension="month",
                           group=pd.Series(month.start.strftime("%Y-%m"), index=table.index, dtype=object))
              for table, month in zip(tables, months, strict=True)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def period_counts(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object] | None = None,
                  scope: Scope | None = None) -> dict[str, int]:
    """The dossier counts of the period for the whole selection (every name of engine.COUNTS)."""
    frame = dossier_counts(con, period, where=where, scope=scope)
    row = frame.iloc[0].to_dict()
    return {name: int(value) for name, value in row.items() if name != "group"}


def index766(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object] | None = None,
             scope: Scope | None = None) -> pd.DataFrame:
    """The Decision 766 estimate for the whole selection: one row per scoring group, then the total row
    (columns of index766.COLUMNS)."""
    return estimate_766(con, period, where=where, scope=scope)


# --- picking and writing out ------------------------------------------------------------------------


def _value(raw: object) -> float | None:
    return None if raw is None or pd.isna(raw) else float(raw)


def sparklines(monthly: pd.DataFrame, metric_ids: Sequence[str] = HEADLINE_METRICS,
               months: int = SPARK_MONTHS) -> dict[str, list[float | None]]:
    """Each KPI's values over the last `months` months of a monthly table, oldest first; None where a
    month has no value (no dossier in its denominator), never 0."""
    out: dict[str, list[float | None]] = {}
    for metric_id in metric_ids:
        part = trend(monthly, metric_id, months)
        out[metric_id] = [_value(v) for v in part["value"]]
    return out


def trend(monthly: pd.DataFrame, metric_id: str, months: int) -> pd.DataFrame:
    """One KPI's rows of a monthly table over its last `months` months, oldest first: columns group
    ("YYYY-MM"), numerator, denominator, value, target, status (what charts.trend_line draws)."""
    part = monthly.loc[monthly["metric"] == metric_id,
                       ["group", "numerator", "denominator", "value", "target", "status"]]
    return part.sort_values("group").tail(months).reset_index(drop=True)


def has_values(frame: pd.DataFrame) -> bool:
    """Whether any row of a KPI frame has a value (a chart would not be blank)."""
    return any(_value(v) is not None for v in frame["value"])


def trend_table(rows: pd.DataFrame, metric_id: str, lang: str = "vi") -> pd.DataFrame:
    """The trend chart's rows as its data table shows them: month as "05/2024", the value and target in
    the KPI's unit ("không có dữ liệu" where a month has no value), numerator and denominator."""
    unit = metric(metric_id).unit
    return pd.DataFrame({
        "month": [f"{g[5:7]}/{g[:4]}" for g in rows["group"]],
        "value": [format_value(_value(v), unit, lang) for v in rows["value"]],
        "target": [format_value(_value(v), unit, lang) if _value(v) is not None else "–" for v in rows["target"]],
        "numerator": rows["numerator"].astype("int64"),
        "denominator": rows["denominator"].astype("int64"),
    })


def counts_line(counts: Mapping[str, int], lang: str = "vi") -> str:
    """"Tiếp nhận 1.234 · Đã giải quyết 1.100 · ..." for the period's dossier counts."""
    return " · ".join(f"{en if lang == 'en' else vi} **{format_int(counts.get(name, 0))}**"
                      for name, vi, en in PERIOD_COUNTS)


def spark_caption(period: Period, lang: str = "vi") -> str:
    """What the tiles' small lines show."""
    span = months_ending(period, SPARK_MONTHS)
    first, last = span.start.strftime("%m/%Y"), span.end.strftime("%m/%Y")
    if lang == "en":
        return (f"Small lines: each KPI month by month, {first} to {last}; months without a value are left out. "
                "Changes: against the previous period (arrow) and the same period last year.")
    return (f"Đường nhỏ trong mỗi ô: giá trị từng tháng, từ {first} đến {last}; tháng không có dữ liệu được bỏ "
            "qua. Mức thay đổi: so với kỳ trước (mũi tên) và so với cùng kỳ năm trước.")


def empty_reason(facts: Mapping[str, object], counts: Mapping[str, int] | None) -> tuple[str, str] | None:
    """Why the selection has nothing to show (Vietnamese, English), or None when it has dossiers.
    `facts` are views.freshness's; `counts` the period's dossier counts (None when not asked)."""
    last_day = facts.get("last_day")
    if last_day is None:
        return ("kho chưa có hồ sơ nào; hãy nhập tệp xuất từ hệ thống Một cửa (trang Dữ liệu).",
                "the store holds no dossier yet; import an export from the one-stop system (Data page).")
    if facts.get("period_after_data"):
        day = format_date(last_day)
        return (f"kỳ đã chọn bắt đầu sau ngày có dữ liệu mới nhất ({day}); hãy chọn kỳ khác hoặc nhập dữ liệu mới.",
                f"the chosen period starts after the newest data ({day}); choose another period or import newer "
                "data.")
    if facts.get("period_before_data"):
        return ("kỳ đã chọn kết thúc trước ngày có dữ liệu đầu tiên; hãy chọn kỳ khác.",
                "the chosen period ends before the first data; choose another period.")
    if counts is not None and not any(counts.get(n, 0) for n in ("received", "resolved", "in_progress")):
        return ("không có hồ sơ nào được tiếp nhận, giải quyết hay đang giải quyết trong kỳ với các bộ lọc đã chọn.",
                "no dossier was received, resolved or in progress in the period under the chosen filters.")
    return None


def _groups(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["index_group"] != TOTAL_ID].reset_index(drop=True)


def index766_table(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """The 766 scoring groups as the chart shows them: group label, estimated points (empty when not
    computable), the maximum computable from dossier data, the official maximum, and what is not
    computable and why."""
    groups = _groups(frame)
    return pd.DataFrame({
        "index_group": groups["label_en" if lang == "en" else "label_vi"],
        "points": pd.to_numeric(groups["points"], errors="coerce").astype("float64"),
        "computable_max": groups["computable_max"].astype("float64"),
        "max_points": groups["max_points"].astype("float64"),
        "note": groups["note" if lang == "en" else "note_vi"],
    })


def _points(value: float) -> str:
    """Index points with one decimal, without a trailing ",0" (44, 40,7)."""
    text = format_decimal(value, 1)
    return text[:-2] if text.endswith(",0") else text


def index766_total(frame: pd.DataFrame, lang: str = "vi") -> str | None:
    """The estimated total as one sentence, or None when nothing is computable."""
    total = frame[frame["index_group"] == TOTAL_ID]
    if total.empty or _value(total.iloc[0]["points"]) is None:
        return None
    row = total.iloc[0]
    points, computable, official = (_points(float(row[c])) for c in ("points", "computable_max", "max_points"))
    if lang == "en":
        return (f"Estimated total: **{points}** of the {computable} points computable from dossier data "
                f"(the index has {official}); {ESTIMATE_LABEL['en']}, not the official Decision 766 score.")
    return (f"Tổng điểm ước tính: **{points}** trên {computable} điểm tính được từ dữ liệu hồ sơ "
            f"(Bộ chỉ số có {official} điểm); {ESTIMATE_LABEL['vi']}, không phải điểm chính thức theo "
            "Quyết định 766/QĐ-TTg.")


def has_index766(frame: pd.DataFrame) -> bool:
    """Whether any 766 group has estimated points (the chart would not be blank)."""
    return any(_value(v) is not None for v in _groups(frame)["points"])


def index766_chart(frame: pd.DataFrame, lang: str = "vi") -> go.Figure:
    """Horizontal bars per 766 group: the official maximum (light), the part computable from dossier
    data (grey) and the estimated points (blue); a group that cannot be computed says so."""
    table = index766_table(frame, lang)
    en = lang == "en"
    labels = list(table["index_group"])
    texts = []
    for points, computable, official in zip(table["points"], table["computable_max"], table["max_points"],
                                            strict=True):
        if pd.isna(points):
            texts.append("not computable from dossier data" if en else "không tính được từ dữ liệu hồ sơ")
        else:
            texts.append(f"{_points(points)} / {_points(computable)} "
                         + (f"computable (of {_points(official)})" if en else f"tính được (trên {_points(official)})"))
    figure = go.Figure()
    figure.add_bar(y=labels, x=list(table["max_points"]), orientation="h", marker_color="#eceff1",
                   name="Official maximum" if en else "Điểm tối đa", text=texts, textposition="outside",
                   cliponaxis=False, hoverinfo="skip")
    figure.add_bar(y=labels, x=list(table["computable_max"]), orientation="h", marker_color="#b0bec5",
                   name="Computable from dossier data" if en else "Tính được từ dữ liệu hồ sơ", hoverinfo="skip")
    figure.add_bar(y=labels, x=[None if pd.isna(v) else v for v in table["points"]], orientation="h",
                   marker_color="#1565c0", name=("Estimated points" if en else "Điểm ước tính"),
                   hovertext=[f"{g}: {t}" for g, t in zip(labels, texts, strict=True)], hoverinfo="text")
    figure.update_layout(
        barmode="overlay", height=80 + 48 * len(labels), margin={"l": 10, "r": 10, "t": 40, "b": 10},
        separators=".," if en else ",.", legend={"orientation": "h"},
        title=("Decision 766 index by group (" + ESTIMATE_LABEL["en"] + ")") if en
        else ("Điểm Bộ chỉ số 766 theo nhóm (" + ESTIMATE_LABEL["vi"] + ")"),
        # room right of the longest bar for its text
        xaxis={"range": [0, float(table["max_points"].max()) * 1.9], "showgrid": True},
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
    )
    return figure


__all__ = [
    "DEFAULT_TREND_METRIC", "INDEX766_LABELS", "PERIOD_COUNTS", "SPARK_MONTHS", "TREND_LABELS", "TREND_MONTHS",
    "counts_line", "empty_reason", "has_index766", "has_values", "headline_tiles", "index766", "index766_chart",
    "index766_table", "index766_total", "monthly_frame", "monthly_table", "months_ending",
    "period_counts", "spark_caption",
    "sparklines", "trend", "trend_table",
]
