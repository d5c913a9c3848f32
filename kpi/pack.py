"""The steering-committee meeting pack (issue 5): one period and scope, computed once from the KPI engine,
then rendered as a workbook (kpi.pack_excel), a PDF (kpi.pack_pdf) and the presentation screens (`slides`).

`build_pack` asks the engine for everything the pack shows and keeps it raw (fractions, counts, dates); the
renderers only format it with kpi.formatting. Nothing here is recomputed: KPI values, numerators and targets
are `kpi_table`'s, ranks `rank_groups`', counts `dossier_counts`', dossiers `kpi.dossier_lists`', the index
`estimate_766`'s, Biểu 06 `form06_rows`'. This module only picks rows, sorts them and names them.

Choices where the brief leaves room (also in README "Meeting pack"):

- Departments are the agencies the Departments page ranks by default: the province-level agencies (Sở,
  ngành) when the scope has any; for a district's or commune's pack (or a scope without province-level
  agencies), every agency of the scope.
- Localities are the districts for a period that ends before 1 July 2025 and no district is chosen, else the
  communes (after the reform, across it, or within the chosen district).
- The overdue list and the late list are whole (the engine's counts say how long they are); renderers page them.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd
import plotly.graph_objects as go

from kpi import drilldown, followups, overview, review, views
from kpi.charts import ranking_bar
from kpi.dossier_lists import late_dossiers
from kpi.engine import BEFORE_REFORM, DIMENSION_BY_ID, Targets, dossier_counts, hierarchy_for, kpi_table, rank_groups
from kpi.fields import VOCABULARIES, term_label
from kpi.form06 import form06_rows
from kpi.formatting import format_date, format_datetime, format_decimal, format_int, format_value
from kpi.index766 import TOTAL_ID, estimate_766
from kpi.metrics import METRICS, metric
from kpi.periods import Period

RANKING_METRIC = "on_time_rate"
LATE_PROCEDURES_SHOWN = 15
CHART_UNITS = drilldown.RANKING_LIMIT  # bars in a ranking chart: the lowest-ranked, as the pages draw them
REPORT_TITLE = {"vi": "Báo cáo kết quả thực hiện các chỉ số cải cách hành chính",
                "en": "Administrative reform KPI report"}
WHOLE_PROVINCE = {"vi": "Toàn tỉnh", "en": "Whole province"}
NO_FILTERS = {"vi": "Không lọc (toàn bộ dữ liệu)", "en": "None (all data)"}
# The filters that name the unit a pack is for, deepest locality first, then the agency.
SCOPE_DIMENSIONS = ("commune", "district", "former_district", "province")

RANKING_COLUMNS = ("group", "value", "numerator", "denominator", "target", "status", "rank", "previous_value",
                   "previous_change_pp", "previous_rank", "rank_change")
BELOW_TARGET_COLUMNS = ("level", "group", "metric", "unit", "value", "target", "gap_pp", "status", "numerator",
                        "denominator")
LATE_PROCEDURE_COLUMNS = ("procedure_code", "procedure_name", "resolved_late", "resolved", "on_time_rate")
OVERDUE_COLUMNS = ("agency_name", "dossier_code", "procedure_code", "procedure_name", "sector", "received_at",
                   "due_at", "days_late")
LATE_COLUMNS = ("agency_name", "dossier_code", "procedure_code", "procedure_name", "sector", "district", "commune",
                "received_at", "due_at", "finished_at", "days_late")


@dataclass(frozen=True, eq=False)
class Pack:
    """Everything the meeting pack shows for one period and scope, computed once from the KPI engine.

    Frames (raw values: rates as 0-1 fractions, counts as integers, timestamps as timestamps):

    - headline: kpi_table(period, where) as it is, every registry KPI in METRICS order, the scope as one
      group (columns engine.TABLE_COLUMNS: metric, unit, numerator, denominator, value, target, status,
      previous_value, previous_change_pp, year_earlier_value, year_earlier_change_pp, ...).
    - index766: estimate_766(period, where) as it is (one row per 766 group, then the "total" row).
    - departments, localities: RANKING_COLUMNS, ranked on on_time_rate (rank_groups' group, value, rank,
      previous_value, previous_rank, rank_change with kpi_table's numerator, denominator, target, status,
      previous_change_pp), best first, every unit with a value. `departments.attrs["agency_level"]` is the
      agencies' level ranked (None: all levels).
    - below_target: BELOW_TARGET_COLUMNS, review.below_target of the departments' and the localities' headline
      KPIs (red first, then amber) with `level` "agency" or the localities level; `unit` is the metric's unit,
      `gap_pp` value - target (percentage points for rates, days for days).
    - late_procedures: LATE_PROCEDURE_COLUMNS, the procedures with the most late resolved dossiers (dossier_counts'
      `resolved_late` and `resolved` by procedure; `on_time_rate` is kpi_table's value), at most 15.
    - overdue: OVERDUE_COLUMNS, every dossier in progress and overdue at the period end (kpi.dossier_lists
      "overdue_in_progress"); the unit is the engine's `agency_name`, days overdue its `days_late`; sorted by
      unit, then most overdue first. No personal data: the store holds none.
    - late: LATE_COLUMNS, every dossier resolved late in the period (kpi.dossier_lists "resolved_late"), most
      days late first; `late_count` of them.
    - followups: kpi.followups.for_report(con, period, where).
    - form06: Biểu 06 rows (form06_rows) by "sector", by "agency" and by the localities level.

    `late` and `form06` feed the workbook only and cost about as much as the rest together at 2 M dossiers:
    `build_pack(..., workbook=False)` leaves them None (the dashboard's preview and presentation), and
    `with_workbook` adds them when the workbook is written.
    """

    period: Period
    where: dict[str, str]
    scope_vi: str
    scope_en: str
    filters_vi: str
    filters_en: str
    freshness: dict
    generated_at: datetime
    headline: pd.DataFrame
    index766: pd.DataFrame
    departments: pd.DataFrame
    localities: pd.DataFrame
    localities_level: str
    below_target: pd.DataFrame
    late_procedures: pd.DataFrame
    overdue: pd.DataFrame
    followups: pd.DataFrame
    late_count: int
    late: pd.DataFrame | None = None
    form06: dict[str, pd.DataFrame] | None = None

    def scope(self, lang: str = "vi") -> str:
        return self.scope_en if lang == "en" else self.scope_vi

    def filters(self, lang: str = "vi") -> str:
        return self.filters_en if lang == "en" else self.filters_vi


# --- building ---------------------------------------------------------------------------------------


def localities_level(period: Period, where: Mapping[str, object]) -> str:
    """district for a period before the reform when no district or commune is chosen, else commune."""
    if hierarchy_for(period).era == BEFORE_REFORM and "district" not in where and "commune" not in where:
        return "district"
    return "commune"


def departments_level(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object]) -> str | None:
    """The agencies' level the Departments page ranks by default: province when the scope has province-level
    agencies, else None (every level). A district's or commune's pack ranks every agency working there."""
    if "agency_level" in where or any(d in where for d in ("district", "commune", "former_district")):
        return None
    levels = views.filter_choices(con, "agency_level", period, where)
    return "province" if "province" in levels else None


def build_pack(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, str] | None = None, *,
               targets: Targets | None = None, now: datetime | None = None, workbook: bool = True) -> Pack:
    """Compute the meeting pack for the period and the scope's filters (dimension id -> value; {} = the whole
    province); without `workbook`, the workbook-only frames are left out (see Pack). Raises ValueError where
    the engine does (a district filter for a period after the reform)."""
    where = dict(where or {})
    for key in where:
        if key not in DIMENSION_BY_ID or DIMENSION_BY_ID[key].sql is None:
            raise ValueError(f"unknown filter {key!r}; known: {', '.join(d for d in DIMENSION_BY_ID if d != 'month')}")
    targets = targets if targets is not None else Targets.from_store(con)
    headline = kpi_table(con, period, where=where, targets=targets)
    level = departments_level(con, period, where)
    agency_where = drilldown.with_agency_level(where, level)
    by_agency = kpi_table(con, period, by="agency", where=agency_where, targets=targets, metrics=views.HEADLINE_METRICS)
    places = localities_level(period, where)
    by_place = kpi_table(con, period, by=places, where=where, targets=targets, metrics=views.HEADLINE_METRICS)
    departments = ranking(by_agency, RANKING_METRIC)
    departments.attrs["agency_level"] = level
    by_procedure = dossier_counts(con, period, by="procedure", where=where)
    late_procedures = _late_procedures(con, period, where, by_procedure, targets)
    overdue_count = int(by_procedure["in_progress_overdue"].sum()) if not by_procedure.empty else 0
    late_count = int(by_procedure["resolved_late"].sum()) if not by_procedure.empty else 0
    pack = Pack(
        period=period, where=where,
        scope_vi=scope_text(where, "vi"), scope_en=scope_text(where, "en"),
        filters_vi=filters_text(where, "vi"), filters_en=filters_text(where, "en"),
        freshness=views.freshness(con, period, where),
        generated_at=now or datetime.now(),
        headline=headline,
        index766=estimate_766(con, period, where=where),
        departments=departments,
        localities=ranking(by_place, RANKING_METRIC),
        localities_level=places,
        below_target=_below_target({"agency": by_agency, places: by_place}),
        late_procedures=late_procedures,
        overdue=_overdue(con, period, where, overdue_count),
        followups=followups.for_report(con, period, where),
        late_count=late_count,
    )
    return with_workbook(con, pack) if workbook else pack


def with_workbook(con: duckdb.DuckDBPyConnection, pack: Pack) -> Pack:
    """The pack with its workbook-only frames (`late`, `form06`), computed when missing."""
    if pack.late is not None and pack.form06 is not None:
        return pack
    levels = ("sector", "agency", pack.localities_level)
    return dataclasses.replace(
        pack, late=_late(con, pack.period, pack.where, pack.late_count),
        form06={by: form06_rows(con, pack.period, by=by, where=pack.where) for by in levels})


def ranking(table: pd.DataFrame, metric_id: str) -> pd.DataFrame:
    """The groups of a kpi_table frame with a value of `metric_id`, ranked by rank_groups (best first), with
    their numerator, denominator, target, status and change on the previous period (RANKING_COLUMNS)."""
    ranks = rank_groups(table, metric_id)
    ranks = ranks.loc[ranks["rank"].notna()]
    rows = table.loc[(table["metric"] == metric_id) & table["group"].notna(),
                     ["group", "numerator", "denominator", "target", "status", "previous_change_pp"]]
    frame = ranks.merge(rows, on="group", how="left", validate="one_to_one")
    frame = frame.sort_values(["rank", "group"], kind="mergesort").reset_index(drop=True)
    for column in ("numerator", "denominator"):
        frame[column] = frame[column].astype("int64")
    for column in ("value", "target", "status", "previous_value", "previous_change_pp"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame.loc[:, list(RANKING_COLUMNS)]


def _below_target(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = [review.below_target(table).assign(level=level) for level, table in tables.items() if not table.empty]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=list(BELOW_TARGET_COLUMNS))
    frame = pd.concat(parts, ignore_index=True)
    order = {"red": 0, "amber": 1}
    frame["_status"] = frame["status"].map(order)
    frame = frame.sort_values(["_status"], kind="mergesort")  # each part is already ordered within a status
    return frame.loc[:, list(BELOW_TARGET_COLUMNS)].reset_index(drop=True)


def _late_procedures(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object],
                     counts: pd.DataFrame, targets: Targets) -> pd.DataFrame:
    """The procedures with the most dossiers resolved late (most first, then by code), with their resolved
    count and on-time rate."""
    part = counts.loc[counts["group"].notna() & (counts["resolved_late"] > 0), ["group", "resolved_late", "resolved"]]
    part = part.sort_values(["resolved_late", "group"], ascending=[False, True], kind="mergesort")
    part = part.head(LATE_PROCEDURES_SHOWN).rename(columns={"group": "procedure_code"}).reset_index(drop=True)
    if part.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("resolved_late", "resolved") else object)
                             for c in LATE_PROCEDURE_COLUMNS})
    codes = part["procedure_code"].tolist()
    rates = kpi_table(con, period, by="procedure", where={**where, "procedure": codes}, targets=targets,
                      metrics=(RANKING_METRIC,))
    rate = dict(zip(rates["group"], rates["value"], strict=True))
    names = dict(con.cursor().execute(
        "SELECT procedure_code, min(procedure_name) FROM dossiers "
        "WHERE procedure_code IN (SELECT unnest($codes::VARCHAR[])) AND procedure_name IS NOT NULL "
        "GROUP BY procedure_code", {"codes": codes}).fetchall())
    part["procedure_name"] = [names.get(c) for c in codes]
    part["on_time_rate"] = [rate.get(c) for c in codes]
    part["resolved_late"] = part["resolved_late"].astype("int64")
    part["resolved"] = part["resolved"].astype("int64")
    return part.loc[:, list(LATE_PROCEDURE_COLUMNS)]


def _overdue(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object], count: int) -> pd.DataFrame:
    frame = late_dossiers(con, period, kind="overdue_in_progress", where=where, limit=count)
    frame = frame.sort_values(["agency_name", "days_late", "received_at", "dossier_code"],
                              ascending=[True, False, True, True], na_position="last", kind="mergesort")
    return frame.loc[:, list(OVERDUE_COLUMNS)].reset_index(drop=True)


def _late(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object], count: int) -> pd.DataFrame:
    frame = late_dossiers(con, period, kind="resolved_late", where=where, limit=count)
    return frame.loc[:, list(LATE_COLUMNS)].reset_index(drop=True)


# --- the scope in words -----------------------------------------------------------------------------


def _value_text(dimension_id: str, value: object, lang: str) -> str:
    values = value if isinstance(value, list | tuple) else [value]
    shown = []
    for v in values:
        if v is None:
            shown.append("(empty)" if lang == "en" else "(trống)")
        else:  # vocabulary codes (channel, level...) by their label
            label = term_label(dimension_id, v, lang) if dimension_id in VOCABULARIES else ""
            shown.append(label or str(v))
    return ", ".join(shown)


def scope_text(where: Mapping[str, object], lang: str = "vi") -> str:
    """The unit a pack is for: the deepest chosen locality and the agency ("Quận Ba Đình", "Sở Xây dựng",
    "Sở Xây dựng – Quận Ba Đình"), or "Toàn tỉnh" / "Whole province"."""
    parts = [_value_text("agency", where["agency"], lang)] if "agency" in where else []
    place = next((d for d in SCOPE_DIMENSIONS if d in where), None)
    if place is not None:
        parts.append(_value_text(place, where[place], lang))
    return " – ".join(parts) if parts else WHOLE_PROVINCE[lang if lang == "en" else "vi"]


def filters_text(where: Mapping[str, object], lang: str = "vi") -> str:
    """The filters written out: "Quận/Huyện: Quận Ba Đình; Lĩnh vực: Đất đai", or "Không lọc"."""
    if not where:
        return NO_FILTERS[lang if lang == "en" else "vi"]
    en = lang == "en"
    return "; ".join(f"{DIMENSION_BY_ID[d].label_en if en else DIMENSION_BY_ID[d].label_vi}: {_value_text(d, v, lang)}"
                     for d, v in where.items())


def period_text(period: Period, lang: str = "vi") -> str:
    """"Quý II/2025 (từ 01/04/2025 đến 30/06/2025)"."""
    a, b = format_date(period.start), format_date(period.end)
    return f"{period.label(lang)} ({a} – {b})" if lang == "en" else f"{period.label('vi')} (từ {a} đến {b})"


def freshness_text(pack: Pack, lang: str = "vi") -> str:
    """The data's freshness in one line: newest received day and last import."""
    facts, en = pack.freshness, lang == "en"
    last_day, last_import = facts.get("last_day"), facts.get("last_import_at")
    if last_day is None:
        return "The store holds no dossier" if en else "Kho chưa có hồ sơ nào"
    text = (f"Data up to {format_date(last_day)}" if en else f"Dữ liệu đến ngày {format_date(last_day)}")
    if last_import is not None:
        text += (f"; last import {format_datetime(last_import)}" if en
                 else f"; lần nhập gần nhất {format_datetime(last_import)}")
    if facts.get("is_stale"):
        text += (f" (older than {views.STALE_AFTER_DAYS} days)" if en
                 else f" (cũ hơn {views.STALE_AFTER_DAYS} ngày)")
    return text


def cover_facts(pack: Pack, lang: str = "vi") -> list[tuple[str, str]]:
    """The cover's lines (label, text): period, scope, filters, data freshness, generated at."""
    en = lang == "en"
    return [
        ("Period" if en else "Kỳ báo cáo", period_text(pack.period, lang)),
        ("Scope" if en else "Phạm vi", pack.scope(lang)),
        ("Filters" if en else "Bộ lọc", pack.filters(lang)),
        ("Data" if en else "Dữ liệu", freshness_text(pack, lang)),
        ("Generated" if en else "Thời điểm lập", format_datetime(pack.generated_at)),
    ]


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _slug(text: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in _ascii(text).lower()).split()
    return "-".join(words)


def period_slug(period: Period) -> str:
    """2025-05, 2025-q2, 2025-6t1 / 2025-6t2, 2025-9t, 2025, else 2025-05-01_2025-06-20."""
    kind, start = period.kind(), period.start
    if kind == "month":
        return start.strftime("%Y-%m")
    if kind == "quarter":
        return f"{start.year}-q{(start.month - 1) // 3 + 1}"
    if kind == "half_year":
        return f"{start.year}-6t{1 if start.month == 1 else 2}"
    if kind == "nine_months":
        return f"{start.year}-9t"
    if kind == "year":
        return str(start.year)
    return f"{period.start.isoformat()}_{period.end.isoformat()}"


def file_stem(pack: Pack) -> str:
    """An ASCII name for the pack's files: "bao-cao-cchc_2025-q2_toan-tinh", the scope then any other filter
    ("..._quan-ba-dinh_dat-dai")."""
    scoped = {d for d in (*SCOPE_DIMENSIONS, "agency") if d in pack.where}
    parts = [_slug(pack.scope_vi)]
    parts += [_slug(_value_text(d, v, "vi")) for d, v in pack.where.items() if d not in scoped]
    return "_".join(["bao-cao-cchc", period_slug(pack.period), *(p for p in parts if p)])[:120]


# --- figures ----------------------------------------------------------------------------------------


def _text(vi: str, en: str, lang: str) -> str:
    return en if lang == "en" else vi


LEVEL_NAMES = {"agency": ("Sở, ngành", "Departments"), "district": ("Quận, huyện", "Districts"),
               "commune": ("Xã, phường", "Communes")}


def ranking_title(pack: Pack, which: str, lang: str = "vi") -> str:
    """"Xếp hạng sở, ngành theo tỷ lệ hồ sơ giải quyết đúng hạn" (which: departments or localities)."""
    level = "agency" if which == "departments" else pack.localities_level
    m = metric(RANKING_METRIC)
    vi, en = LEVEL_NAMES[level]
    return _text(f"Xếp hạng {vi.lower()} theo {m.label_vi.lower()}", f"{en} ranked on {m.label_en.lower()}", lang)


def _chart_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows a ranking chart draws: every unit, or the CHART_UNITS lowest-ranked (as the pages do)."""
    return frame.tail(CHART_UNITS) if len(frame) > CHART_UNITS else frame


def chart_note(frame: pd.DataFrame, lang: str = "vi") -> str:
    """What a ranking chart leaves out, or ""."""
    if len(frame) <= CHART_UNITS:
        return ""
    return _text(f"Biểu đồ: {CHART_UNITS} đơn vị thấp nhất trong {len(frame)} đơn vị; bảng có đủ.",
                 f"Chart: the {CHART_UNITS} lowest of {len(frame)} units; the table lists all.", lang)


def figures(pack: Pack, lang: str = "vi") -> dict[str, go.Figure]:
    """The pack's charts, made by the dashboard's own functions: "departments" and "localities"
    (charts.ranking_bar, the lowest CHART_UNITS units when there are more), "index766" (overview.index766_chart);
    a key is present only when its chart has data."""
    out: dict[str, go.Figure] = {}
    for which, frame in (("departments", pack.departments), ("localities", pack.localities)):
        if not frame.empty:
            out[which] = ranking_bar(_chart_rows(frame), RANKING_METRIC, lang, title=ranking_title(pack, which, lang))
    if overview.has_index766(pack.index766):
        out["index766"] = overview.index766_chart(pack.index766, lang)
    return out


# --- texts shared by the renderers ------------------------------------------------------------------


def status_label(status: str | None, lang: str = "vi") -> str:
    """"Đạt" / "Gần đạt" / "Chưa đạt" (English: On target / Near target / Below target); "" without one."""
    if status not in review.STATUS_LABELS:
        return ""
    vi, en = review.STATUS_LABELS[status]
    return en if lang == "en" else vi


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def change_text(change: object, unit: str, lang: str = "vi") -> str:
    """A change as the pack writes it: "+1,25 điểm %" for rates, "-0,5 ngày" for days; "–" without one."""
    if _missing(change):
        return "–"
    change = float(change)
    text = ("+" if change > 0 else "") + format_decimal(change, 2 if unit == "rate" else 1)
    if unit == "rate":
        return text + _text(" điểm %", " pts", lang)
    return text + _text(" ngày", " days", lang)


def headline_rows(pack: Pack, metric_ids: tuple[str, ...] | None = None) -> list[dict]:
    """The headline rows (as dicts) of the given KPIs, in that order (every KPI: METRICS order)."""
    rows = {r["metric"]: r for r in pack.headline.to_dict("records")}
    return [rows[m] for m in (metric_ids or [m.id for m in METRICS]) if m in rows]


# --- the presentation screens -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Slide:
    """One screen of the presentation mode: `kind` (cover, kpi, index766, departments, localities,
    below_target, late_procedures, overdue, followups), its title, the KPI it shows (kpi screens), the big
    value and the line under it as text, a figure and a display table (text cells, headers in the chosen
    language) when it has them, and `values`: the raw numbers behind the texts (engine values, counts)."""

    kind: str
    title: str
    metric_id: str | None
    value_text: str
    detail_text: str
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None
    values: Mapping[str, object] = field(default_factory=dict)


def _kpi_slide(row: Mapping[str, object], lang: str) -> Slide:
    m = metric(str(row["metric"]))
    unit, en = m.unit, lang == "en"
    target = row["target"]
    status = status_label(row["status"], lang)
    details = [
        _text("Tử số / mẫu số", "Numerator / denominator", lang)
        + f": {format_int(row['numerator'])} / {format_int(row['denominator'])}",
        _text("Mục tiêu", "Target", lang) + ": "
        + ("–" if _missing(target) else format_value(float(target), unit, lang)) + (f" ({status})" if status else ""),
        _text("So với kỳ trước", "On the previous period", lang) + ": "
        + change_text(row["previous_change_pp"], unit, lang),
        _text("So với cùng kỳ năm trước", "On the same period last year", lang) + ": "
        + change_text(row["year_earlier_change_pp"], unit, lang),
    ]
    value = None if _missing(row["value"]) else float(row["value"])
    return Slide("kpi", m.label_en if en else m.label_vi, m.id, format_value(value, unit, lang), " · ".join(details),
                 values={k: row[k] for k in ("value", "numerator", "denominator", "target", "status",
                                             "previous_value", "previous_change_pp", "year_earlier_value",
                                             "year_earlier_change_pp")})


def headline_table(pack: Pack, lang: str = "vi", metric_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The headline KPIs as a display table: KPI, value, numerator, denominator, target, status, changes."""
    rows = []
    for row in headline_rows(pack, metric_ids):
        m = metric(row["metric"])
        rows.append({
            _text("Chỉ số", "KPI", lang): m.label_en if lang == "en" else m.label_vi,
            _text("Giá trị", "Value", lang): format_value(None if _missing(row["value"]) else float(row["value"]),
                                                          m.unit, lang),
            _text("Tử số", "Numerator", lang): format_int(row["numerator"]),
            _text("Mẫu số", "Denominator", lang): format_int(row["denominator"]),
            _text("Mục tiêu", "Target", lang): "–" if _missing(row["target"])
            else format_value(float(row["target"]), m.unit, lang),
            _text("Đánh giá", "Status", lang): status_label(row["status"], lang),
            _text("So với kỳ trước", "On previous period", lang): change_text(row["previous_change_pp"], m.unit, lang),
            _text("So với cùng kỳ năm trước", "On same period last year", lang):
                change_text(row["year_earlier_change_pp"], m.unit, lang),
        })
    return pd.DataFrame(rows)


def _ranking_slide(pack: Pack, which: str, frame: pd.DataFrame, figure: go.Figure | None, lang: str) -> Slide:
    m = metric(RANKING_METRIC)
    if frame.empty:
        return Slide(which, ranking_title(pack, which, lang), RANKING_METRIC, "",
                     _text("Không có đơn vị nào có giá trị trong kỳ.", "No unit has a value in the period.", lang),
                     values={"units": 0})
    best, worst = frame.iloc[0], frame.iloc[-1]
    detail = _text(f"Cao nhất: {best['group']} ({format_value(best['value'], m.unit, lang)}); "
                   f"thấp nhất: {worst['group']} ({format_value(worst['value'], m.unit, lang)}).",
                   f"Best: {best['group']} ({format_value(best['value'], m.unit, lang)}); "
                   f"lowest: {worst['group']} ({format_value(worst['value'], m.unit, lang)}).", lang)
    note = chart_note(frame, lang)
    table = drilldown.ranking_table(frame, RANKING_METRIC, lang)
    table.columns = [drilldown.RANKING_LABELS[c][1 if lang == "en" else 0] for c in table.columns]
    return Slide(which, ranking_title(pack, which, lang), RANKING_METRIC,
                 _text(f"{len(frame)} đơn vị", f"{len(frame)} units", lang), detail + (f" {note}" if note else ""),
                 figure=figure, table=table,
                 values={"units": len(frame), "best": best["group"], "best_value": best["value"],
                         "lowest": worst["group"], "lowest_value": worst["value"]})


def overdue_units(pack: Pack) -> pd.DataFrame:
    """The overdue list counted per unit (agency_name, overdue), most first: the length of each unit's part
    of the engine's list, which is the engine's in_progress_overdue count for that unit."""
    if pack.overdue.empty:
        return pd.DataFrame({"agency_name": pd.Series(dtype=object), "overdue": pd.Series(dtype="int64")})
    counts = pack.overdue.groupby("agency_name", dropna=False, sort=False).size().rename("overdue").reset_index()
    counts = counts.sort_values(["overdue", "agency_name"], ascending=[False, True], na_position="last",
                                kind="mergesort")
    return counts.reset_index(drop=True)


def _level_name(level: str, lang: str) -> str:
    return LEVEL_NAMES.get(level, (level, level))[1 if lang == "en" else 0]


def below_target_table(pack: Pack, lang: str = "vi") -> pd.DataFrame:
    """The units below or near target as a display table."""
    frame = pack.below_target
    return pd.DataFrame({
        _text("Cấp", "Level", lang): [_level_name(v, lang) for v in frame["level"]],
        _text("Đơn vị", "Unit", lang): list(frame["group"]),
        _text("Chỉ số", "KPI", lang): [metric(v).label_en if lang == "en" else metric(v).label_vi
                                       for v in frame["metric"]],
        _text("Giá trị", "Value", lang): [format_value(v, u, lang) for v, u in zip(frame["value"], frame["unit"],
                                                                                   strict=True)],
        _text("Mục tiêu", "Target", lang): [format_value(v, u, lang) for v, u in zip(frame["target"], frame["unit"],
                                                                                     strict=True)],
        _text("Đánh giá", "Status", lang): [status_label(s, lang) for s in frame["status"]],
    })


def late_procedures_table(pack: Pack, lang: str = "vi") -> pd.DataFrame:
    """The procedures with the most late dossiers as a display table."""
    frame = pack.late_procedures
    return pd.DataFrame({
        _text("Mã TTHC", "Procedure code", lang): list(frame["procedure_code"]),
        _text("Tên thủ tục", "Procedure", lang): ["" if n is None else n for n in frame["procedure_name"]],
        _text("Hồ sơ trễ hạn", "Resolved late", lang): [format_int(v) for v in frame["resolved_late"]],
        _text("Đã giải quyết", "Resolved", lang): [format_int(v) for v in frame["resolved"]],
        _text("Tỷ lệ đúng hạn", "On time", lang): [format_value(None if _missing(v) else float(v), "rate", lang)
                                                    for v in frame["on_time_rate"]],
    })


def followup_state(status: object, overdue: object = False, lang: str = "vi") -> str:
    """A follow-up's state as kpi.followups names it ("Đang thực hiện", "Đã xong"), "(Quá hạn)" added when it
    is open past its due date."""
    pair = followups.STATUS_LABELS.get(status, (str(status), str(status)))
    text = pair[1] if lang == "en" else pair[0]
    if overdue is True or (not _missing(overdue) and bool(overdue)):
        text += f" ({followups.OVERDUE_LABEL[1] if lang == 'en' else followups.OVERDUE_LABEL[0]})"
    return text


def followups_table(pack: Pack, lang: str = "vi") -> pd.DataFrame:
    """The follow-ups as a display table: unit, KPI label, task, owner, due date, status, note, the KPI then
    and now and its change."""
    frame = pack.followups
    rows = []
    for r in frame.to_dict("records"):
        metric_id = r.get("metric")
        unit = metric(metric_id).unit if metric_id else "rate"
        label = (metric(metric_id).label_en if lang == "en" else metric(metric_id).label_vi) if metric_id else ""
        due = r.get("due_date")
        rows.append({
            _text("Đơn vị", "Unit", lang): r.get("unit") or "",
            _text("Chỉ số", "KPI", lang): label,
            _text("Nhiệm vụ", "Task", lang): r.get("task") or "",
            _text("Người phụ trách", "Owner", lang): r.get("owner") or "",
            _text("Hạn", "Due", lang): "" if _missing(due) else format_date(pd.Timestamp(due)),
            _text("Trạng thái", "Status", lang): followup_state(r.get("status"), r.get("overdue"), lang),
            _text("Ghi chú", "Note", lang): r.get("note") or "",
            _text("Khi giao", "Then", lang): "–" if _missing(r.get("value_then"))
            else format_value(float(r["value_then"]), unit, lang),
            _text("Hiện nay", "Now", lang): "–" if _missing(r.get("value_now"))
            else format_value(float(r["value_now"]), unit, lang),
            _text("Thay đổi", "Change", lang): change_text(r.get("change"), unit, lang),
        })
    return pd.DataFrame(rows)


def slides(pack: Pack, lang: str = "vi") -> list[Slide]:
    """The presentation mode's screens in order: the cover with the headline summary, one screen per headline
    KPI (views.HEADLINE_METRICS), the 766 index, the departments' and the localities' rankings, the units
    below target, the procedures with the most late dossiers, the overdue dossiers per unit, the follow-ups.
    The same numbers as the report: every text is one of the pack's values formatted."""
    en = lang == "en"
    charts_ = figures(pack, lang)
    facts = dict(cover_facts(pack, lang))
    cover = Slide("cover", REPORT_TITLE[lang if en else "vi"], None, facts["Period" if en else "Kỳ báo cáo"],
                  " · ".join(f"{k}: {v}" for k, v in cover_facts(pack, lang)[1:]),
                  table=headline_table(pack, lang, views.HEADLINE_METRICS),
                  values={"period": pack.period, "where": dict(pack.where), "freshness": dict(pack.freshness)})
    out = [cover, *(_kpi_slide(r, lang) for r in headline_rows(pack, views.HEADLINE_METRICS))]

    total = pack.index766[pack.index766["index_group"] == TOTAL_ID]
    points = None if total.empty or _missing(total.iloc[0]["points"]) else float(total.iloc[0]["points"])
    computable = None if total.empty else float(total.iloc[0]["computable_max"])
    out.append(Slide(
        "index766", _text("Bộ chỉ số 766 (ước tính từ dữ liệu hồ sơ)",
                          "Decision 766 index (estimated from dossier data)", lang), None,
        "–" if points is None else format_decimal(points, 1),
        overview.index766_total(pack.index766, lang).replace("**", "") if points is not None
        else _text("Không nhóm nào tính được từ dữ liệu hồ sơ của kỳ.",
                   "No group can be computed from the period's dossier data.", lang),
        figure=charts_.get("index766"),
        table=overview.index766_table(pack.index766, lang).rename(
            columns={c: overview.INDEX766_LABELS[c][1 if en else 0] for c in overview.INDEX766_LABELS}),
        values={"points": points, "computable_max": computable}))

    out.append(_ranking_slide(pack, "departments", pack.departments, charts_.get("departments"), lang))
    out.append(_ranking_slide(pack, "localities", pack.localities, charts_.get("localities"), lang))

    below = pack.below_target
    red, amber = int((below["status"] == "red").sum()), int((below["status"] == "amber").sum())
    out.append(Slide(
        "below_target", _text("Đơn vị chưa đạt mục tiêu", "Units below target", lang), None,
        _text(f"{format_int(red)} chưa đạt · {format_int(amber)} gần đạt",
              f"{format_int(red)} below · {format_int(amber)} near", lang),
        _text("Các chỉ số chính của sở, ngành và địa bàn, chưa đạt trước rồi đến gần đạt.",
              "Departments' and localities' headline KPIs, below target first, then near it.", lang),
        table=below_target_table(pack, lang), values={"red": red, "amber": amber}))

    late_total = int(pack.late_procedures["resolved_late"].sum()) if not pack.late_procedures.empty else 0
    out.append(Slide(
        "late_procedures", _text("Thủ tục có nhiều hồ sơ trễ hạn nhất", "Procedures with the most late dossiers",
                                 lang), None,
        _text(f"{format_int(late_total)} hồ sơ trễ hạn", f"{format_int(late_total)} dossiers resolved late", lang),
        _text(f"{len(pack.late_procedures)} thủ tục có nhiều hồ sơ giải quyết quá hạn nhất trong kỳ "
              f"(tổng số hồ sơ trễ hạn trong kỳ: {format_int(pack.late_count)}).",
              f"The {len(pack.late_procedures)} procedures with the most dossiers resolved late in the period "
              f"(all late dossiers of the period: {format_int(pack.late_count)}).", lang),
        table=late_procedures_table(pack, lang), values={"late": late_total, "procedures": len(pack.late_procedures),
                                                         "late_in_period": pack.late_count}))

    units = overdue_units(pack)
    out.append(Slide(
        "overdue", _text("Hồ sơ đang giải quyết quá hạn theo đơn vị", "Overdue dossiers in progress by unit", lang),
        None, _text(f"{format_int(len(pack.overdue))} hồ sơ quá hạn", f"{format_int(len(pack.overdue))} overdue",
                    lang),
        _text(f"Tại ngày {format_date(pack.period.end)}, ở {format_int(len(units))} đơn vị.",
              f"At {format_date(pack.period.end)}, in {format_int(len(units))} units.", lang),
        table=pd.DataFrame({_text("Đơn vị", "Unit", lang): [("(không rõ)" if not en else "(unknown)")
                                                            if _missing(a) else a for a in units["agency_name"]],
                            _text("Hồ sơ quá hạn", "Overdue", lang): [format_int(v) for v in units["overdue"]]}),
        values={"overdue": len(pack.overdue), "units": len(units)}))

    states = pd.Series([followup_state(v, False, lang) for v in pack.followups["status"]],
                       dtype=object).value_counts().to_dict() if len(pack.followups) else {}
    out.append(Slide(
        "followups", _text("Theo dõi thực hiện kết luận kỳ trước", "Follow-ups from earlier meetings", lang), None,
        _text(f"{format_int(len(pack.followups))} nhiệm vụ", f"{format_int(len(pack.followups))} tasks", lang),
        "; ".join(f"{k}: {format_int(v)}" for k, v in states.items()) if states
        else _text("Chưa có nhiệm vụ nào được giao.", "No task has been assigned.", lang),
        table=followups_table(pack, lang), values={"tasks": len(pack.followups), "by_status": states}))
    return out


__all__ = [
    "BELOW_TARGET_COLUMNS", "LATE_COLUMNS", "LATE_PROCEDURE_COLUMNS", "OVERDUE_COLUMNS",
    "RANKING_COLUMNS", "RANKING_METRIC", "REPORT_TITLE", "Pack", "Slide", "below_target_table", "build_pack",
    "change_text", "chart_note", "cover_facts", "departments_level", "figures", "file_stem",
    "filters_text", "followup_state", "followups_table", "freshness_text", "headline_rows", "headline_table",
    "late_procedures_table", "localities_level", "overdue_units", "period_slug", "period_text", "ranking",
    "ranking_title", "scope_text", "slides", "status_label",
]
