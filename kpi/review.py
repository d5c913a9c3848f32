"""The monthly review (Đánh giá tháng), without Streamlit: every unit's headline KPIs for a month with the
change and the rank change against the previous month, the units below target, the biggest improvers and
decliners, and the overdue dossiers in progress at the month end to chase, per unit.

Every number is the KPI engine's: `kpi_table` and `rank_groups` for the KPIs and ranks, `dossier_counts`
for the overdue counts, `kpi.dossier_lists` for the dossiers. This module only arranges and labels them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import duckdb
import pandas as pd

from kpi import periods
from kpi.dossier_lists import late_dossiers
from kpi.engine import Targets, dossier_counts, kpi_table, rank_groups
from kpi.formatting import display_frame, format_decimal, format_int, format_value
from kpi.metrics import metric
from kpi.periods import Period
from kpi.views import HEADLINE_METRICS, Selection, locality_levels

# Who may be compared: the units of the locality level below the chosen one, or the departments (agencies).
DEPARTMENTS = "agency"
# The smallest denominator (in the month and the month before) for a unit to appear among the movers:
# a commune with 3 resolved dossiers moves 33 points with one late dossier.
DEFAULT_MIN_DENOMINATOR = 30
MOVERS_SHOWN = 5
STATUS_MARKS = {"green": "🟢", "amber": "🟠", "red": "🔴"}
STATUS_LABELS = {"green": ("Đạt", "On target"), "amber": ("Gần đạt", "Near target"),
                 "red": ("Chưa đạt", "Below target")}

REVIEW_COLUMNS = ("group", "metric", "unit", "numerator", "denominator", "value", "target", "status",
                  "previous_denominator", "previous_value", "change_pp", "rank", "previous_rank", "rank_change")
LABELS: dict[str, tuple[str, str]] = {
    "group": ("Đơn vị", "Unit"), "metric": ("Chỉ số", "KPI"), "unit": ("Đơn vị tính", "Measured in"),
    "numerator": ("Tử số", "Numerator"),
    "denominator": ("Mẫu số", "Denominator"), "value": ("Giá trị", "Value"), "target": ("Mục tiêu", "Target"),
    "status": ("Đánh giá", "Status"), "previous_denominator": ("Mẫu số tháng trước", "Previous denominator"),
    "previous_value": ("Tháng trước", "Previous month"), "change_pp": ("Thay đổi (điểm %)", "Change (points)"),
    "rank": ("Hạng", "Rank"), "previous_rank": ("Hạng tháng trước", "Previous rank"),
    "rank_change": ("Thay đổi hạng", "Rank change"), "gap_pp": ("Cách mục tiêu (điểm %)", "Gap to target (points)"),
    "red": ("🔴 Chưa đạt", "🔴 Below target"), "amber": ("🟠 Gần đạt", "🟠 Near target"),
    "green": ("🟢 Đạt", "🟢 On target"), "no_status": ("Không đánh giá", "Not assessed"),
    "in_progress": ("Đang giải quyết cuối tháng", "In progress at month end"),
    "in_progress_overdue": ("Trong đó quá hạn", "Of which overdue"),
}


def review_month(period: Period, last_day: date | None = None) -> tuple[Period, bool]:
    """The calendar month a review covers, and whether it differs from the chosen period: the period itself
    when it is a month, else the month of its last day with data (its end, or the newest data day if that
    comes first)."""
    if period.kind() == "month":
        return period, False
    end = period.end
    if last_day is not None and period.start <= last_day < end:
        end = last_day
    return periods.month(end.year, end.month), True


def groupings(selection: Selection) -> list[str]:
    """The ways to compare units, the default first: the locality level below the chosen one (below the
    province when none is chosen: one province alone is no comparison), then the departments (agencies)."""
    child = selection.locality_child()
    options = [child]
    if child == "province":
        options = [locality_levels(selection.period)[1], child]
    return list(dict.fromkeys([*options, DEPARTMENTS]))


def review_table(con: duckdb.DuckDBPyConnection, month: Period, *, by: str,
                 where: Mapping[str, object] | None = None, targets: Targets | None = None) -> pd.DataFrame:
    """Every unit (group of `by`) × headline KPI for the month: kpi_table's numerator, denominator, value,
    target, status, previous month's value and change (percentage points for rates), with rank_groups'
    rank, previous rank and rank change (positive = moved up). Columns REVIEW_COLUMNS; the empty group
    (dossiers without a unit) is kept, unranked."""
    frame = kpi_table(con, month, by=by, where=where, targets=targets, metrics=HEADLINE_METRICS)
    frame = frame.rename(columns={"previous_change_pp": "change_pp"})
    ranks = pd.concat([rank_groups(frame, m).assign(metric=m) for m in HEADLINE_METRICS], ignore_index=True)
    out = frame.merge(ranks[["group", "metric", "rank", "previous_rank", "rank_change"]],
                      on=["group", "metric"], how="left")
    for column in ("rank", "previous_rank", "rank_change"):
        out[column] = out[column].astype("Int64")
    out["previous_denominator"] = out["previous_denominator"].astype("Int64")
    return out.loc[:, list(REVIEW_COLUMNS)].reset_index(drop=True)


def review_total(con: duckdb.DuckDBPyConnection, month: Period, *, where: Mapping[str, object] | None = None,
                 targets: Targets | None = None) -> pd.DataFrame:
    """The headline KPIs of the whole selection for the month (one row per KPI), as review_table rows
    without ranks."""
    frame = kpi_table(con, month, where=where, targets=targets, metrics=HEADLINE_METRICS)
    frame = frame.rename(columns={"previous_change_pp": "change_pp"})
    for column in ("rank", "previous_rank", "rank_change"):
        frame[column] = pd.array([None] * len(frame), dtype="Int64")
    frame["previous_denominator"] = frame["previous_denominator"].astype("Int64")
    return frame.loc[:, list(REVIEW_COLUMNS)].reset_index(drop=True)


def has_values(frame: pd.DataFrame) -> bool:
    """Whether a review frame holds any KPI value (an empty month has rows of no value, or none)."""
    return bool(frame["value"].notna().any()) if not frame.empty else False


# --- one row per unit -------------------------------------------------------------------------------

WIDE_PARTS = ("value", "status", "change_pp", "rank", "rank_change")


def wide_column(metric_id: str, part: str) -> str:
    """The column of the per-unit table holding one part (WIDE_PARTS) of one KPI."""
    return f"{metric_id}__{part}"


def wide_table(frame: pd.DataFrame, sort_metric: str = HEADLINE_METRICS[0],
               total: pd.DataFrame | None = None, total_label: str = "Toàn bộ",
               unknown_label: str = "(Không rõ)") -> pd.DataFrame:
    """One row per unit, for each headline KPI its value, status, change, rank and rank change; units
    ordered by their rank on `sort_metric` (unranked last, by name). `total` (review_total) comes first,
    named `total_label`; the dossiers without a unit are named `unknown_label`."""
    parts = [frame]
    if total is not None and not total.empty:
        parts.insert(0, total.assign(group=total_label))
    long = pd.concat(parts, ignore_index=True) if len(parts) > 1 else frame.copy()
    sorting = long["metric"] == sort_metric
    order = dict(zip(long.loc[sorting, "group"], long.loc[sorting, "rank"], strict=True))  # the last row wins
    groups = list(dict.fromkeys(long["group"]))
    first = [total_label] if total is not None and not total.empty else []
    rest = sorted((g for g in groups if g not in first),
                  key=lambda g: (pd.isna(order.get(g)), 0 if pd.isna(order.get(g)) else order[g], g is None, g or ""))
    records: dict[tuple[object, str], tuple] = {}  # (group, metric) -> its WIDE_PARTS, the first row wins
    for key in zip(long["group"], long["metric"], *(long[part] for part in WIDE_PARTS), strict=True):
        records.setdefault(key[:2], key[2:])
    rows = []
    for group in first + rest:
        row: dict[str, object] = {"group": group}
        for m in HEADLINE_METRICS:
            record = records.get((group, m))
            for i, part in enumerate(WIDE_PARTS):
                row[wide_column(m, part)] = None if record is None else _plain(record[i])
        rows.append(row)
    for row in rows:
        row["group"] = unknown_label if row["group"] is None else row["group"]
    wide = pd.DataFrame(rows, columns=["group", *(wide_column(m, p) for m in HEADLINE_METRICS for p in WIDE_PARTS)])
    for m in HEADLINE_METRICS:
        for part in ("rank", "rank_change"):
            wide[wide_column(m, part)] = wide[wide_column(m, part)].astype("Int64")
    return wide


def wide_labels() -> dict[str, tuple[str, str]]:
    """Column headers of the per-unit table (every KPI's registry label)."""
    labels = {"group": LABELS["group"]}
    for m_id in HEADLINE_METRICS:
        m = metric(m_id)
        change_vi, change_en = (" ± điểm %", " ± pts") if m.unit == "rate" else (" ± ngày", " ± days")
        labels[wide_column(m_id, "value")] = (m.label_vi, m.label_en)
        labels[wide_column(m_id, "status")] = (f"{m.label_vi} · đánh giá", f"{m.label_en} · status")
        labels[wide_column(m_id, "change_pp")] = (m.label_vi + change_vi, m.label_en + change_en)
        labels[wide_column(m_id, "rank")] = (f"{m.label_vi} · hạng (± so với tháng trước)",
                                             f"{m.label_en} · rank (± on previous month)")
        labels[wide_column(m_id, "rank_change")] = (f"{m.label_vi} ± hạng", f"{m.label_en} ± rank")
    return labels


# --- below target, movers, overdue ------------------------------------------------------------------


def status_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per headline KPI, how many units are below target (red), near it (amber), on target (green) and
    without a value or a target."""
    units = frame.loc[frame["group"].notna()]
    rows = []
    for m in HEADLINE_METRICS:
        statuses = units.loc[units["metric"] == m, "status"]
        rows.append({"metric": m, "red": int((statuses == "red").sum()), "amber": int((statuses == "amber").sum()),
                     "green": int((statuses == "green").sum()), "no_status": int(statuses.isna().sum())})
    return pd.DataFrame(rows, columns=["metric", "red", "amber", "green", "no_status"])


def has_target(frame: pd.DataFrame, metric_id: str) -> bool:
    """Whether a review frame's units are assessed on the KPI: one of them has a target (the registry default,
    or one set on the Targets page, for every unit or its own)."""
    return bool(frame.loc[frame["metric"] == metric_id, "target"].notna().any()) if not frame.empty else False


def below_target(frame: pd.DataFrame, metric_id: str | None = None) -> pd.DataFrame:
    """The (unit, KPI) pairs below target (status red or amber), of one KPI (no metric column then) or all,
    red first, then by KPI and by distance from the target; `gap_pp` is value - target (percentage points
    for rates, days for days)."""
    chosen = frame["metric"] == metric_id if metric_id is not None else frame["metric"].notna()
    part = frame.loc[chosen & frame["status"].isin(["red", "amber"]) & frame["group"].notna()].copy()
    part["gap_pp"] = [(v - t) * (100 if u == "rate" else 1) for v, t, u in
                      zip(part["value"], part["target"], part["unit"], strict=True)]
    part["_metric_order"] = part["metric"].map({m: i for i, m in enumerate(HEADLINE_METRICS)})
    part["_status_order"] = part["status"].map({"red": 0, "amber": 1})
    part["_distance"] = [abs(g) for g in part["gap_pp"]]
    part = part.sort_values(["_status_order", "_metric_order", "_distance", "group"],
                            ascending=[True, True, False, True])
    columns = ["group", "metric", "unit", "value", "target", "gap_pp", "status", "numerator", "denominator"]
    if metric_id is not None:
        columns.remove("metric")
    return part.loc[:, columns].reset_index(drop=True)


def movers(frame: pd.DataFrame, metric_id: str, min_denominator: int = DEFAULT_MIN_DENOMINATOR,
           count: int = MOVERS_SHOWN) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The `count` units that improved most and those that declined most on one KPI since the previous
    month (by change in percentage points; for lower-is-better KPIs a fall is an improvement), among units
    whose denominator is at least `min_denominator` in both months."""
    m = metric(metric_id)
    part = frame.loc[(frame["metric"] == metric_id) & frame["group"].notna() & frame["change_pp"].notna()].copy()
    enough = (part["denominator"] >= min_denominator) & (part["previous_denominator"].fillna(0) >= min_denominator)
    part = part.loc[enough]
    sign = 1 if m.higher_is_better else -1
    part["_gain"] = [sign * float(c) for c in part["change_pp"]]
    columns = ["group", "unit", "value", "previous_value", "change_pp", "denominator", "previous_denominator",
               "rank_change"]
    improved = part.loc[part["_gain"] > 0].sort_values(["_gain", "group"], ascending=[False, True]).head(count)
    declined = part.loc[part["_gain"] < 0].sort_values(["_gain", "group"], ascending=[True, True]).head(count)
    return improved.loc[:, columns].reset_index(drop=True), declined.loc[:, columns].reset_index(drop=True)


def overdue_by_unit(con: duckdb.DuckDBPyConnection, month: Period, *, by: str,
                    where: Mapping[str, object] | None = None) -> pd.DataFrame:
    """Per unit, the dossiers in progress at the month end and those of them overdue (the engine's
    Biểu 06 counts), units with overdue dossiers only, most overdue first."""
    counts = dossier_counts(con, month, by=by, where=where)
    part = counts.loc[counts["in_progress_overdue"] > 0, ["group", "in_progress", "in_progress_overdue"]]
    part = part.sort_values(["in_progress_overdue", "group"], ascending=[False, True], na_position="last")
    return part.reset_index(drop=True)


def overdue_count(overdue: pd.DataFrame, unit: str | None) -> int:
    """The overdue dossiers of one unit of an overdue_by_unit frame (0 when it has none): the engine's count,
    which is also the length of its chase_list."""
    match = overdue.loc[overdue["group"].isna() if unit is None else overdue["group"] == unit, "in_progress_overdue"]
    return int(match.iloc[0]) if len(match) else 0


def chase_list(con: duckdb.DuckDBPyConnection, month: Period, *, where: Mapping[str, object] | None = None,
               limit: int = 50, offset: int = 0) -> pd.DataFrame:
    """One page of the dossiers in progress and overdue at the month end (kpi.dossier_lists), longest
    overdue first, without the list-kind column."""
    frame = late_dossiers(con, month, kind="overdue_in_progress", where=where, limit=limit, offset=offset)
    return frame.drop(columns=["kind"])


def unit_where(where: Mapping[str, object] | None, by: str, unit: str | None) -> dict[str, object]:
    """The filters of one unit of the review: the selection's filters and the unit (None: the dossiers
    without a value for `by`)."""
    out: dict[str, object] = dict(where or {})
    out[by] = unit if unit is not None else [None]
    return out


# The columns of a dossier list (kpi.dossier_lists.LIST_COLUMNS).
LIST_LABELS: dict[str, tuple[str, str]] = {
    "dossier_code": ("Mã hồ sơ", "Dossier code"), "procedure_code": ("Mã TTHC", "Procedure code"),
    "procedure_name": ("Tên thủ tục", "Procedure"), "sector": ("Lĩnh vực", "Sector"),
    "agency_name": ("Cơ quan", "Agency"), "district": ("Quận/Huyện", "District"), "commune": ("Xã/Phường", "Commune"),
    "received_at": ("Ngày tiếp nhận", "Received"), "due_at": ("Ngày hẹn trả", "Due"),
    "finished_at": ("Ngày kết thúc", "Finished"), "status": ("Trạng thái", "Status"),
    "days_late": ("Số ngày quá hạn", "Days late"), "kind": ("Loại", "Kind"),
}


def headed(frame: pd.DataFrame, labels: Mapping[str, tuple[str, str]], lang: str = "vi") -> pd.DataFrame:
    """The frame with its columns named in the chosen language (for a download)."""
    return frame.rename(columns={c: labels[c][1 if lang == "en" else 0] for c in frame.columns if c in labels})


# --- display ----------------------------------------------------------------------------------------


def status_text(status: str | None, lang: str = "vi") -> str:
    """"🔴 Chưa đạt" / "🔴 Below target"; empty without a status."""
    if status is None or status not in STATUS_LABELS:
        return ""
    vi, en = STATUS_LABELS[status]
    return f"{STATUS_MARKS[status]} {en if lang == 'en' else vi}"


def change_text(change: float | None, unit: str) -> str:
    """A change as the review reads it: "+1,25" (percentage points) for rates, "-0,5" (days) for days."""
    if change is None or pd.isna(change):
        return ""
    digits = 2 if unit == "rate" else 1
    return ("+" if change > 0 else "") + format_decimal(float(change), digits)


def rank_change_text(change: object) -> str:
    """"▲ 3" moved up, "▼ 2" moved down, "=" kept its rank, empty when either month has no rank."""
    if change is None or pd.isna(change):
        return ""
    change = int(change)
    if change > 0:
        return f"▲ {change}"
    if change < 0:
        return f"▼ {-change}"
    return "="


def display(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """A review frame (review_table rows, their subsets, or wide_table) as the text a table shows: KPI values
    "98,23%" with the status mark, changes in points, rank changes as arrows, KPI ids as their labels,
    Vietnamese numbers. Downloads keep the frame itself."""
    out = display_frame(frame, None, lang)
    units = frame["unit"] if "unit" in frame.columns else None
    for column in frame.columns:
        metric_id, _, part = column.rpartition("__")
        if metric_id:  # a wide_table column: the value carries the status mark, the rank its change
            unit = metric(metric_id).unit
            if part == "value":
                statuses = frame[wide_column(metric_id, "status")]
                out[column] = [_value_with_status(v, s, unit, lang) for v, s in zip(frame[column], statuses,
                                                                                       strict=True)]
            elif part == "change_pp":
                out[column] = [change_text(c, unit) for c in frame[column]]
            elif part == "rank":
                changes = frame[wide_column(metric_id, "rank_change")]
                out[column] = [_rank_text(r, c) for r, c in zip(frame[column], changes, strict=True)]
            else:
                out = out.drop(columns=column)
        elif column in ("value", "previous_value", "target") and units is not None:
            out[column] = ["" if _missing(v) else format_value(float(v), u, lang)
                           for v, u in zip(frame[column], units, strict=True)]
        elif column in ("change_pp", "gap_pp") and units is not None:
            out[column] = [change_text(c, u) for c, u in zip(frame[column], units, strict=True)]
        elif column == "rank_change":
            out[column] = [rank_change_text(c) for c in frame[column]]
        elif column == "status":
            out[column] = [status_text(s, lang) for s in frame[column]]
        elif column == "metric":
            out[column] = [_metric_label(m, lang) for m in frame[column]]
        elif column in ("numerator", "denominator", "previous_denominator", "in_progress", "in_progress_overdue",
                        "red", "amber", "green", "no_status"):
            out[column] = ["" if _missing(v) else format_int(v) for v in frame[column]]
    return out.drop(columns=[c for c in ("unit",) if c in out.columns])


def _value_with_status(value: object, status: object, unit: str, lang: str) -> str:
    if _missing(value):
        return format_value(None, unit, lang)
    text = format_value(float(value), unit, lang)
    return f"{STATUS_MARKS[status]} {text}" if status in STATUS_MARKS else text


def _rank_text(rank: object, change: object) -> str:
    if _missing(rank):
        return ""
    moved = rank_change_text(change)
    return f"{int(rank)} ({moved})" if moved else str(int(rank))


def _metric_label(metric_id: object, lang: str) -> str:
    m = metric(str(metric_id))
    return m.label_en if lang == "en" else m.label_vi


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _plain(value: object) -> object:
    return None if _missing(value) else value


__all__ = [
    "DEFAULT_MIN_DENOMINATOR", "DEPARTMENTS", "LABELS", "LIST_LABELS", "REVIEW_COLUMNS", "below_target", "chase_list",
    "display", "groupings", "has_target", "has_values", "headed", "movers", "overdue_by_unit", "overdue_count",
    "review_month", "review_table", "review_total", "status_summary", "unit_where", "wide_column", "wide_labels",
    "wide_table",
]
