"""The national index of Decision 766/QĐ-TTg (23/6/2022), estimated from dossier data (DOMAIN.md §7).

Decision 766/QĐ-TTg scores each province and ministry out of 100 in six groups. A dossier export supports
only some criteria of some groups; this module scores those parts per unit and says, for every group, what
it cannot compute and why. The result is an estimate, never the official score: every consumer must show
`ESTIMATE_LABEL` next to it.

Every computable part has the same shape, points = max_points × min(rate / full_at, 1), so the registry
(`GROUPS`, each with its `Part`s) is data. A part's rate is a KPI of `kpi.metrics` (taken from
`kpi_table`) or a procedure share of `SHARES` (one bound-parameter query over `dossiers`, with the
engine's period, scope and filter semantics: procedures among the dossiers received in [from, to]).

A part whose denominator is 0 has no points (None, not 0). A group's points are the sum of its parts that
have a value, and its `computable_max` the sum of their maxima, so points / computable_max is the share
of what the unit's data can show; a group with no computable part (or no data) has points None and
computable_max 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from kpi.aggregates import ensure_aggregates
from kpi.engine import (
    _SCOPE_SQL,
    Scope,
    _clean,
    _scope_params,
    _where_sql,
    dimension,
    dimension_params,
    kpi_table,
    received_rows_sql,
)
from kpi.periods import Period

ESTIMATE_LABEL: dict[str, str] = {"vi": "ước tính từ dữ liệu hồ sơ", "en": "estimated from dossier data"}
TOTAL_ID = "total"
_ONLINE_LEVELS = "('full_online', 'partial_online')"


@dataclass(frozen=True)
class Share:
    """A procedure share the KPI registry lacks: distinct procedures counted among the dossiers received
    in the period. `numerator_sql`/`denominator_sql` are fixed aggregates over the received dossiers."""

    id: str
    label_vi: str
    label_en: str
    numerator_sql: str
    denominator_sql: str


SHARES: tuple[Share, ...] = (
    Share(
        "online_procedure_share",
        "Tỷ lệ thủ tục cung cấp trực tuyến (toàn trình, một phần) trong các thủ tục có hồ sơ",
        "Procedures offered online (full or partial) among procedures with dossiers",
        f"count(DISTINCT procedure_code) FILTER (WHERE service_level IN {_ONLINE_LEVELS})",
        "count(DISTINCT procedure_code)",
    ),
    Share(
        "online_service_used_share",
        "Tỷ lệ DVCTT (toàn trình, một phần) có phát sinh hồ sơ trực tuyến",
        "Online services (full or partial) that received at least one online dossier",
        f"count(DISTINCT procedure_code) FILTER (WHERE service_level IN {_ONLINE_LEVELS} AND channel = 'online')",
        f"count(DISTINCT procedure_code) FILTER (WHERE service_level IN {_ONLINE_LEVELS})",
    ),
)
SHARE_BY_ID: dict[str, Share] = {s.id: s for s in SHARES}


@dataclass(frozen=True)
class Part:
    """A criterion a dossier export can score: points = max_points × min(rate / full_at, 1), where the
    rate is the KPI or share named `source`."""

    id: str
    label_vi: str
    label_en: str
    source: str
    max_points: float
    full_at: float = 1.0

    @property
    def formula(self) -> str:
        if self.full_at == 1.0:
            return f"{self.max_points:g} × {self.source}"
        return f"{self.max_points:g} × min({self.source} / {self.full_at:g}, 1)"

    def points(self, rate: float | None) -> float | None:
        if rate is None:
            return None
        return self.max_points * min(rate / self.full_at, 1.0)


@dataclass(frozen=True)
class Group:
    """One scoring group of Decision 766/QĐ-TTg: its official maximum, the parts a dossier export can
    score, and what it cannot (`note_*`)."""

    id: str
    label_vi: str
    label_en: str
    max_points: float
    parts: tuple[Part, ...]
    note_vi: str
    note_en: str


GROUPS: tuple[Group, ...] = (
    Group(
        "transparency", "Công khai, minh bạch", "Transparency", 18, (),
        "Không tính được từ dữ liệu hồ sơ: nhóm này chấm việc công khai thủ tục, tiến độ và kết quả trên Cổng "
        "Dịch vụ công, không có trong tệp xuất hồ sơ.",
        "Not computable from dossier data: it scores the publication of procedures, progress and results on "
        "the public-service portal, which a dossier export does not record.",
    ),
    Group(
        "progress", "Tiến độ giải quyết", "Processing progress", 20,
        (Part("progress", "Hồ sơ giải quyết, đang giải quyết đúng hạn", "Dossiers resolved or in progress on time",
              "progress_766", 20),),
        "Tính đủ 20 điểm từ chỉ số tiến độ (766).",
        "All 20 points from the progress index (766).",
    ),
    Group(
        "online_services", "Dịch vụ công trực tuyến", "Online public services", 12,
        (
            Part("online_procedures", "Thủ tục cung cấp trực tuyến", "Procedures offered online",
                 "online_procedure_share", 2, 0.8),
            Part("online_services_used", "DVCTT có phát sinh hồ sơ trực tuyến",
                 "Online services with an online dossier", "online_service_used_share", 4),
            Part("online_dossiers", "Hồ sơ nộp trực tuyến", "Dossiers submitted online", "online_dossier_rate",
                 6, 0.5),
        ),
        "Xấp xỉ: thủ tục cung cấp trực tuyến được tính trên các thủ tục có hồ sơ trong kỳ, không phải trên "
        "danh mục thủ tục của đơn vị.",
        "Approximate: procedures offered online are counted among the procedures with dossiers in the period, "
        "not in the unit's procedure catalogue.",
    ),
    Group(
        "online_payment", "Thanh toán trực tuyến", "Online payment", 10,
        (Part("online_payments", "Hồ sơ có phí được thanh toán trực tuyến", "Fee-bearing dossiers paid online",
              "online_payment_rate", 6),),
        "4 điểm còn lại chấm ở cấp thủ tục (thủ tục có phí cho phép thanh toán trực tuyến), cần danh mục thủ "
        "tục, không tính được từ dữ liệu hồ sơ.",
        "The other 4 points are scored per procedure (fee-bearing procedures that offer online payment) from "
        "the procedure catalogue, not computable from dossier data.",
    ),
    Group(
        "digitisation", "Số hóa hồ sơ", "Digitisation", 22, (),
        "Không tính được từ dữ liệu hồ sơ: tệp xuất chỉ cho biết hồ sơ có thành phần số hóa, có kết quả điện "
        "tử hay không (xem tỷ lệ số hóa, tỷ lệ kết quả điện tử), còn cách chia 22 điểm giữa các tiêu chí và "
        "việc tái sử dụng dữ liệu số hóa không có trong dữ liệu hồ sơ.",
        "Not computable from dossier data: an export only flags whether a dossier has digitised components "
        "or an electronic result (see digitization_rate, e_result_rate); how the 22 points split among the "
        "criteria, and the reuse of digitised data, are not in dossier data.",
    ),
    Group(
        "satisfaction", "Mức độ hài lòng", "Satisfaction", 18,
        (Part("satisfied_dossiers", "Hồ sơ không bị đánh giá không hài lòng, không trễ hạn",
              "Dossiers neither rated dissatisfied nor late", "satisfaction_rate", 6, 0.9),),
        "12 điểm còn lại dựa trên nguồn ngoài tệp xuất hồ sơ (đánh giá, khảo sát của người dân), không tính "
        "được từ dữ liệu hồ sơ.",
        "The other 12 points rest on sources outside a dossier export (citizens' assessments and surveys), "
        "not computable from dossier data.",
    ),
)
GROUP_BY_ID: dict[str, Group] = {g.id: g for g in GROUPS}

PART_COLUMNS = (
    "group", "index_group", "part", "label_vi", "label_en", "source", "formula", "numerator", "denominator",
    "rate", "points", "max_points",
)
COLUMNS = (
    "group", "index_group", "label_vi", "label_en", "points", "max_points", "computable_max", "note", "note_vi",
)

_SHARES_QUERY = """
WITH windows AS (
    SELECT unnest($w_label::VARCHAR[]) AS label, unnest($w_from::DATE[]) AS f, unnest($w_to::DATE[]) AS t
),
received AS (
    SELECT w.label, {group_sql} AS group_value, d.procedure_code, d.service_level, d.channel
    FROM dossiers d JOIN windows w ON d.received_at::DATE BETWEEN w.f AND w.t
    WHERE {scope_sql} AND {where_sql}
)
SELECT label, group_value, {aggregates}
FROM received
GROUP BY label, group_value
"""


# The same from the KPI aggregates: the rows counting dossiers received in each window hold the procedure,
# service level and channel of those dossiers, so the distinct procedures among them are the same.
_SHARES_AGGREGATE_QUERY = """{rows_sql}SELECT ($w_label::VARCHAR[])[wid + 1] AS label, {group_sql} AS group_value,
    {aggregates}
FROM received_rows
GROUP BY label, group_value
"""


def _shares(con: duckdb.DuckDBPyConnection, period: Period, by: str | None,
            where: Mapping[str, object] | None, scope: Scope | None) -> dict[str | None, dict[str, int]]:
    """num__/den__ of every share of SHARES per group key (as kpi_table names its groups), from the KPI
    aggregates when they match the dossiers, else from `dossiers`."""
    windows = [(p.start.strftime("%Y-%m"), p) for p in period.months()] if by == "month" else [(None, period)]
    group_sql = "NULL::VARCHAR" if by in (None, "month") else f"CAST({dimension(by).sql} AS VARCHAR)"
    where_sql, params = _where_sql(where, period)
    aggregates = []
    for s in SHARES:
        aggregates += [f"{s.numerator_sql} AS num__{s.id}", f"{s.denominator_sql} AS den__{s.id}"]
    if ensure_aggregates(con) is not None:
        rows_sql, rows_params = received_rows_sql({i: p for i, (_, p) in enumerate(windows)},
                                                  filter_sql=f"{_SCOPE_SQL} AND {where_sql}")
        params.update(rows_params)
        sql = _SHARES_AGGREGATE_QUERY.format(rows_sql=rows_sql, group_sql=group_sql, aggregates=", ".join(aggregates))
        params.update(w_label=[label for label, _ in windows])
    else:
        sql = _SHARES_QUERY.format(group_sql=group_sql, scope_sql=_SCOPE_SQL, where_sql=where_sql,
                                   aggregates=", ".join(aggregates))
        params.update(w_label=[label for label, _ in windows], w_from=[p.start for _, p in windows],
                      w_to=[p.end for _, p in windows])
    params.update(_scope_params(scope))
    params.update(dimension_params(by))
    out: dict[str | None, dict[str, int]] = {}
    for record in con.cursor().execute(sql, params).df().to_dict("records"):
        key = _clean(record["label"]) if by in (None, "month") else _clean(record["group_value"])
        out[key] = {k: int(v) for k, v in record.items() if k.startswith(("num__", "den__"))}
    return out


def _source_metrics() -> list[str]:
    return sorted({p.source for g in GROUPS for p in g.parts if p.source not in SHARE_BY_ID})


def estimate_766_parts(con: duckdb.DuckDBPyConnection, period: Period, *, by: str | None = None,
                       where: Mapping[str, object] | None = None, scope: Scope | None = None,
                       on_time_by: str = "day") -> pd.DataFrame:
    """Every computable part of the Decision 766/QĐ-TTg index per group value: columns PART_COLUMNS, rate
    and points None when the denominator is 0. Groups are those of `kpi_table` for the same arguments."""
    table = kpi_table(con, period, by=by, where=where, scope=scope, on_time_by=on_time_by,
                      metrics=_source_metrics())
    shares = _shares(con, period, by, where, scope)
    kpis: dict[str | None, dict[str, tuple[int, int]]] = {}
    for record in table.to_dict("records"):
        kpis.setdefault(record["group"], {})[record["metric"]] = (int(record["numerator"]), int(record["denominator"]))
    rows = []
    for unit, values in kpis.items():
        counts = shares.get(unit, {})
        for g in GROUPS:
            for p in g.parts:
                if p.source in SHARE_BY_ID:
                    num, den = counts.get(f"num__{p.source}", 0), counts.get(f"den__{p.source}", 0)
                else:
                    num, den = values[p.source]
                rate = num / den if den else None
                rows.append({
                    "group": unit, "index_group": g.id, "part": p.id, "label_vi": p.label_vi,
                    "label_en": p.label_en, "source": p.source, "formula": p.formula, "numerator": num,
                    "denominator": den, "rate": rate, "points": p.points(rate), "max_points": p.max_points,
                })
    frame = pd.DataFrame(rows, columns=PART_COLUMNS)
    for name in ("rate", "points"):
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    frame.attrs.update(label=dict(ESTIMATE_LABEL), period=period, dimension=by)
    return frame


def estimate_766(con: duckdb.DuckDBPyConnection, period: Period, *, by: str | None = None,
                 where: Mapping[str, object] | None = None, scope: Scope | None = None,
                 on_time_by: str = "day") -> pd.DataFrame:
    """The Decision 766/QĐ-TTg group scores a dossier export supports, per group value (`by`, as in
    `kpi_table`): one row per (group value, 766 group) in GROUPS order, then a "total" row per group value.

    Columns COLUMNS: points (None when not computable or no data), max_points (the official maximum),
    computable_max (maxima of the parts that have a value), note / note_vi (what is not computed and why;
    parts without data are named). The total row sums points over computable_max, out of 100 official
    points. The result is an estimate: show `ESTIMATE_LABEL` (also in `frame.attrs["label"]`) with it.
    """
    parts = estimate_766_parts(con, period, by=by, where=where, scope=scope, on_time_by=on_time_by)
    rows = []
    for unit in dict.fromkeys(parts["group"].tolist()):
        unit_parts = parts[parts["group"].map(lambda g, unit=unit: g == unit)]
        total_points, total_max = 0.0, 0.0
        for g in GROUPS:
            mine = unit_parts[unit_parts["index_group"] == g.id]
            valued = mine[mine["points"].notna()]
            missing = mine.loc[mine["points"].isna(), "part"].tolist()
            points = float(valued["points"].sum()) if len(valued) else None
            computable = float(valued["max_points"].sum())
            note_en, note_vi = g.note_en, g.note_vi
            if missing:
                note_en += f" No data this period for: {', '.join(missing)}."
                note_vi += f" Không có dữ liệu trong kỳ cho: {', '.join(missing)}."
            rows.append({
                "group": unit, "index_group": g.id, "label_vi": g.label_vi, "label_en": g.label_en,
                "points": points, "max_points": float(g.max_points), "computable_max": computable,
                "note": note_en, "note_vi": note_vi,
            })
            if points is not None:
                total_points += points
                total_max += computable
        rows.append({
            "group": unit, "index_group": TOTAL_ID,
            "label_vi": f"Tổng điểm Bộ chỉ số 766 ({ESTIMATE_LABEL['vi']})",
            "label_en": f"Decision 766 index total ({ESTIMATE_LABEL['en']})",
            "points": total_points if total_max else None,
            "max_points": float(sum(g.max_points for g in GROUPS)), "computable_max": total_max,
            "note": f"Points over computable_max, {ESTIMATE_LABEL['en']}; not the official score of "
                    "Decision 766/QĐ-TTg.",
            "note_vi": f"Điểm trên computable_max, {ESTIMATE_LABEL['vi']}; không phải điểm chính thức theo "
                       "Quyết định 766/QĐ-TTg.",
        })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["points"] = frame["points"].astype(object).where(frame["points"].notna(), None)
    frame.attrs.update(parts.attrs)
    return frame


__all__ = [
    "COLUMNS", "ESTIMATE_LABEL", "GROUPS", "GROUP_BY_ID", "PART_COLUMNS", "SHARES", "SHARE_BY_ID", "TOTAL_ID",
    "Group", "Part", "Share", "estimate_766", "estimate_766_parts",
]
