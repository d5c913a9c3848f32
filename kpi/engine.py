"""The KPI engine: every metric of `kpi.metrics` for a period, its groups, and its comparison periods.

One grouped DuckDB query per call. The reporting windows (the period, the previous period and the same
period a year earlier; for the month dimension, those three for every month) become "window measure rows":
per window, counts of dossiers (received, resolved, on time, in progress, overdue, carried over...; the
`MEASURES`, DOMAIN.md §6) with the dimension columns, and every metric's numerator and denominator (and every
count of `COUNTS`) is one aggregate over those rows, grouped by window and group value.

- source="aggregates" (default): the rows come from the pre-aggregated tables of `kpi.aggregates`, one per
  (window, day or month, dimension combination): a window's whole months from kpi_monthly, its other days from
  kpi_daily, its in-progress counts at its last day and the day before its first (carried over) from the
  month-end snapshot before that day plus the day changes since, summed per group. Each table is read once,
  joined to the (window, day) pairs it serves, bound as parameter lists.
- source="dossiers": the rows come from every dossier's state in each window, computed from `dossiers` by one
  SQL definition (`dossier_states_sql`, shared with the dossier lists of `kpi.dossier_lists`): the reference
  the aggregates are tested against (tests/test_aggregates.py), and the fallback when the aggregate tables
  cannot be built (a read-only database from before them).

Both give identical frames. A group is listed for a window when one of its dossiers counts in it. Values are
always bound parameters; the only identifiers and SQL fragments are those of the registries (`METRICS`,
`DIMENSIONS`, `COUNTS`, `MEASURES`) and two fixed comparison rules chosen by `on_time_by`, never text from a
caller.

Rules where DOMAIN leaves room (also in README "KPI rules"):

- End date of a terminal dossier (3, 7, 8, 9, 10) = finished_at, else returned_at. A terminal dossier
  with neither date has no end: by the letter of §6 it stays "in progress" at every later period end;
  such dossiers are counted in `terminal_without_end_date` so the unit can fix its data.
- On time (day mode, default): end date <= due date. Timestamp mode: end timestamp <= due timestamp.
  Early (Biểu 06 "trước hạn") is always by date: end date < due date. No due date: on time, not early,
  counted in `resolved_without_due_date`.
- In progress at the period end `to` is within deadline when it has no due date or due date >= `to`
  (timestamp mode: due timestamp >= the end of day `to`). A dossier currently in status 5 after more than
  one supplement request is overdue; only the current status is known, so this applies at every period end.
- Days to resolve = calendar days from the received date to the end date.
- Not accepted (3), withdrawn (7), stopped (8) are counted among the dossiers received in the period.
- Month dimension: each month of the period (clipped to it) is a period of its own, so received-based
  metrics fall in the month of received_at, resolved-based ones in the month of their end date, and
  in-progress counts are taken at each month's end. Its comparisons are the previous month and the same
  month a year earlier.
- Locality eras (DOMAIN §5): district exists only before 1 July 2025. Grouping or filtering by district
  for a period that reaches past 30 June 2025 raises ValueError (no silent None group; choose commune,
  or split the period). Groups by province, district or commune are compared only with windows of the same
  era: across the reform the comparison values are None, since a name no longer means the same area.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from kpi.aggregates import DIMENSION_COLUMNS, AggregateState, ensure_aggregates
from kpi.fields import RESOLVED_STATUSES, TERMINAL_STATUSES, nfc
from kpi.metrics import METRIC_BY_ID, METRICS, Metric, metric, total
from kpi.periods import Period

REFORM_DAY = date(2025, 7, 1)  # districts abolished (Resolution 202/2025/QH15)
BEFORE_REFORM, AFTER_REFORM, MIXED = "before_reform", "after_reform", "mixed"
ON_TIME_RULES = ("day", "timestamp")
# How far below target (above, for lower-is-better metrics) a value is still amber, in the metric's unit.
AMBER_BAND = {"rate": 0.05, "days": 1.0}
_EPSILON = 1e-9

# --- dimensions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """A way to group or filter dossiers: `sql` is an expression over `dossiers` (None for month, which
    is a set of reporting windows, not a column); `is_locality` dimensions change meaning at the reform;
    `needs_areas` dimensions read the former-district map (`dimension_params` binds it)."""

    id: str
    label_vi: str
    label_en: str
    sql: str | None
    is_locality: bool = False
    needs_areas: bool = False


# DOMAIN §5: after 1 July 2025 "district" is only an analytical layer. A dossier's former district area is
# its district before the reform and, after it, the former district of its (new) commune from the bundled
# official division list (kpi/reference: old->new mapping; a commune straddling districts goes to the one
# that gave it most old communes).
_FORMER_DISTRICT_SQL = (
    "coalesce(nullif(trim(district), ''), "
    "map_extract_value(MAP($area_keys::VARCHAR[], $area_values::VARCHAR[]), province || '|' || commune))"
)


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("province", "Tỉnh/Thành phố", "Province", "nullif(trim(province), '')", True),
    Dimension("district", "Quận/Huyện", "District", "nullif(trim(district), '')", True),
    Dimension("commune", "Xã/Phường", "Commune", "nullif(trim(commune), '')", True),
    Dimension("former_district", "Địa bàn huyện cũ", "Former district area", _FORMER_DISTRICT_SQL,
              needs_areas=True),
    Dimension("agency", "Cơ quan, đơn vị", "Agency", "nullif(trim(agency_name), '')"),
    Dimension("agency_level", "Cấp thực hiện", "Level", "agency_level"),
    Dimension("sector", "Lĩnh vực", "Sector", "nullif(trim(sector), '')"),
    Dimension("procedure", "Thủ tục", "Procedure", "nullif(trim(procedure_code), '')"),
    Dimension("channel", "Hình thức nộp", "Channel", "channel"),
    Dimension("service_level", "Mức độ DVC", "Service level", "service_level"),
    Dimension("month", "Tháng", "Month", None),
)
DIMENSION_BY_ID: dict[str, Dimension] = {d.id: d for d in DIMENSIONS}


@cache
def _areas() -> dict[str, list[str]]:
    from kpi.reference import former_districts

    frame = former_districts()
    return {"area_keys": (frame["province"] + "|" + frame["commune"]).tolist(),
            "area_values": frame["former_district"].tolist()}


def dimension_params(*dimension_ids: str | None) -> dict[str, object]:
    """The parameters that the SQL of these dimensions binds (the former-district map), if any."""
    if any(d is not None and DIMENSION_BY_ID[d].needs_areas for d in dimension_ids if d in DIMENSION_BY_ID):
        return dict(_areas())
    return {}


def dimension(dimension_id: str) -> Dimension:
    """The dimension with this id; a clear error listing the known ids otherwise."""
    try:
        return DIMENSION_BY_ID[dimension_id]
    except KeyError:
        raise ValueError(f"unknown dimension {dimension_id!r}; known: {', '.join(DIMENSION_BY_ID)}") from None


# --- locality eras ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """Which locality hierarchy a period's data uses, and the groupings allowed for it."""

    era: str
    dimensions: tuple[str, ...]


def era_of(period: Period) -> str:
    """before_reform (ends before 1 July 2025), after_reform (starts on or after it), or mixed."""
    if period.end < REFORM_DAY:
        return BEFORE_REFORM
    if period.start >= REFORM_DAY:
        return AFTER_REFORM
    return MIXED


def hierarchy_for(period: Period) -> Hierarchy:
    """The era of a period and the dimensions it may be grouped or filtered by: district only before the
    reform; in a mixed period commune values are old communes before 1 July 2025 and new ones after."""
    era = era_of(period)
    dims = tuple(d.id for d in DIMENSIONS if era == BEFORE_REFORM or d.id != "district")
    return Hierarchy(era, dims)


def _check_dimension(period: Period, dimension_id: str, use: str) -> None:
    hierarchy = hierarchy_for(period)
    if dimension_id not in hierarchy.dimensions:
        raise ValueError(
            f"cannot {use} district for {period.label('en')}: districts were abolished on 1 July 2025 and "
            f"dossiers after that date have no district ({hierarchy.era} period). Use commune, or end the "
            "period on 30 June 2025."
        )


# --- scope ------------------------------------------------------------------------------------------


SCOPE_FIELDS = ("agencies", "districts", "communes")


@dataclass(frozen=True)
class Scope:
    """The units a caller may see, by name. A dossier is visible when its agency name, district or
    commune is listed in the matching set; Scope() sees nothing; `None` instead of a Scope means
    everything. Every engine query applies it."""

    agencies: frozenset[str] = frozenset()
    districts: frozenset[str] = frozenset()
    communes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in SCOPE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"Scope.{name} is a set of names, not one string: {value!r}")
            object.__setattr__(self, name, frozenset(value))


_SCOPE_SQL = (
    "($scope_all OR list_contains($scope_agencies::VARCHAR[], agency_name) "
    "OR list_contains($scope_districts::VARCHAR[], district) "
    "OR list_contains($scope_communes::VARCHAR[], commune))"
)


class ScopeRefused(PermissionError):
    """A query asked for units outside the caller's scope (kpi.access turns it into a message)."""


# The caller's scope (kpi.access: a dashboard user, `--user` on the CLI): while it is set, every engine query runs
# under it, whatever its own `scope` argument; an explicit scope may only narrow it. Unset (the default): the
# queries' own scope, None meaning everything, as for the server's operator (a caller who sees everything is the
# same as none).
_CALLER: ContextVar[Scope | None] = ContextVar("kpi_caller_scope", default=None)


@contextlib.contextmanager
def caller_scope(scope: Scope | None) -> Iterator[None]:
    """Run the block's engine queries under a caller's scope (None: a caller who sees everything)."""
    token = _CALLER.set(scope)
    try:
        yield
    finally:
        _CALLER.reset(token)


def current_scope(scope: Scope | None = None) -> Scope | None:
    """The scope a query runs under: the caller's (`caller_scope`), narrowed to `scope` when it lies inside it,
    else `scope` itself. `ScopeRefused` when `scope` reaches outside the caller's."""
    caller = _CALLER.get()
    if caller is None:
        return scope
    if scope is None or scope == caller:
        return caller
    inside = all(getattr(scope, n) <= getattr(caller, n) for n in SCOPE_FIELDS)
    if not inside:
        raise ScopeRefused("phạm vi được hỏi vượt ra ngoài phạm vi của người dùng (the scope asked for is outside "
                           "the user's scope)")
    return scope


def _scope_params(scope: Scope | None) -> dict[str, object]:
    scope = current_scope(scope)
    scope_all = scope is None
    scope = scope or Scope()
    return {
        "scope_all": scope_all,
        "scope_agencies": sorted(scope.agencies),
        "scope_districts": sorted(scope.districts),
        "scope_communes": sorted(scope.communes),
    }


# --- targets ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """KPI targets: the registry defaults, overridden per KPI and optionally per unit (a group value such
    as an agency or commune name). A None override removes a default target. The engine's calls without
    `targets` use those stored in the dashboard (`from_store`); the CLI's --targets file (`from_file`) replaces them.

    File formats (`Targets.from_file`), rates as ratios (0.98) or percent strings ("98%"), days as numbers,
    "none" or an empty value for no target:

    TOML::

        [default]
        on_time_rate = "98%"
        avg_days_to_resolve = 5

        [unit."Sở Xây dựng"]
        on_time_rate = 0.95

    CSV (comma or semicolon separated, header required; empty unit = every unit)::

        metric,unit,target
        on_time_rate,,98%
        on_time_rate,Sở Xây dựng,0.95
    """

    overrides: Mapping[str, float | None] = field(default_factory=dict)
    unit_overrides: Mapping[tuple[str, str], float | None] = field(default_factory=dict)

    def target_for(self, metric_id: str, unit: str | None = None) -> float | None:
        """The unit's own target if set, else the KPI's override, else the registry default."""
        if unit is not None:
            key = (nfc(unit).strip(), metric_id)
            if key in self.unit_overrides:
                return self.unit_overrides[key]
        if metric_id in self.overrides:
            return self.overrides[metric_id]
        return metric(metric_id).default_target

    @classmethod
    def from_file(cls, path: str | Path) -> Targets:
        """Read a .toml or .csv targets file (format in the class docstring)."""
        path = Path(path)
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix.lower() == ".toml":
            return cls.from_toml(text)
        if path.suffix.lower() == ".csv":
            return cls.from_csv(text)
        raise ValueError(f"targets file must be .toml or .csv, not {path.name}")

    @classmethod
    def from_toml(cls, text: str) -> Targets:
        data = tomllib.loads(text)
        unknown = set(data) - {"default", "unit"}
        if unknown:
            raise ValueError(f"unknown sections in targets file: {', '.join(sorted(unknown))}")
        overrides = {k: _target_value(k, v) for k, v in data.get("default", {}).items()}
        units = {}
        for unit, values in data.get("unit", {}).items():
            for k, v in values.items():
                units[(nfc(unit).strip(), k)] = _target_value(k, v)
        return cls(overrides, units)

    @classmethod
    def from_csv(cls, text: str) -> Targets:
        first = text.splitlines()[0] if text else ""
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        if not reader.fieldnames or not {"metric", "target"} <= {h.strip() for h in reader.fieldnames}:
            raise ValueError("targets CSV needs the header: metric,unit,target")
        overrides: dict[str, float | None] = {}
        units: dict[tuple[str, str], float | None] = {}
        for row in reader:
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if not row.get("metric"):
                continue
            value = _target_value(row["metric"], row.get("target", ""))
            if row.get("unit"):
                units[(nfc(row["unit"]), row["metric"])] = value
            else:
                overrides[row["metric"]] = value
        return cls(overrides, units)

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection) -> Targets:
        """The targets set in the dashboard (the store's `kpi_targets`, written by kpi.targets) over the registry
        defaults: a row of unit '' overrides the KPI, any other unit its own group value, as `from_file` reads
        them. A store without the table (from before it, opened read-only) or without rows: the defaults."""
        if not has_targets_table(con):
            return cls()
        overrides: dict[str, float | None] = {}
        units: dict[tuple[str, str], float | None] = {}
        for metric_id, unit, target in con.execute("SELECT metric_id, unit, target FROM kpi_targets").fetchall():
            if metric_id not in METRIC_BY_ID:  # a KPI since removed from the registry
                continue
            if unit:
                units[(nfc(unit).strip(), metric_id)] = target
            else:
                overrides[metric_id] = target
        return cls(overrides, units)


def has_targets_table(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has the `kpi_targets` table. Asked by binding a relation, not by a query: a failed query
    would abort the caller's transaction, and duckdb_tables() costs ten times more (every dashboard query asks)."""
    try:
        con.table("kpi_targets")
    except duckdb.CatalogException:
        return False
    return True


def _target_value(metric_id: str, raw: object) -> float | None:
    """A target as the engine compares it: rates as 0-1 ratios, days as days."""
    unit = metric(metric_id).unit
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "none")):
        return None
    if isinstance(raw, str):
        text = raw.strip().replace(",", ".")
        if text.endswith("%"):
            if unit != "rate":
                raise ValueError(f"target of {metric_id} is in days, not a percentage: {raw!r}")
            return float(text[:-1]) / 100
        value = float(text)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    else:
        raise ValueError(f"target of {metric_id} must be a number: {raw!r}")
    if unit == "rate" and not 0 <= value <= 1:
        raise ValueError(f"target of {metric_id} is a ratio: write 0.98 or \"98%\", not {raw!r}")
    return value


# --- status colours ---------------------------------------------------------------------------------


def status_for(metric_: Metric, value: float | None, target: float | None) -> str | None:
    """green at or above target, amber within the amber band below it (5 percentage points for rates,
    1 day for days), red further; mirrored for lower-is-better metrics; None without value or target."""
    if value is None or target is None:
        return None
    gap = value - target if metric_.higher_is_better else target - value
    if gap >= -_EPSILON:
        return "green"
    if gap >= -AMBER_BAND[metric_.unit] - _EPSILON:
        return "amber"
    return "red"


def change(metric_: Metric, value: float | None, earlier: float | None) -> float | None:
    """value - earlier in the metric's display unit: percentage points for rates, days for days."""
    if value is None or earlier is None:
        return None
    return (value - earlier) * 100 if metric_.unit == "rate" else value - earlier


# --- dossier states ---------------------------------------------------------------------------------

# The two "late" states of Biểu 06, as filters over `flags`; COUNTS and kpi.dossier_lists both use them.
RESOLVED_LATE_SQL = "is_resolved AND NOT is_on_time"
OVERDUE_IN_PROGRESS_SQL = "is_overdue_in_progress"

_ON_TIME_SQL = {
    "day": ("end_at::DATE <= due_at::DATE", "d.due_at::DATE < w.t"),
    "timestamp": ("end_at <= due_at", "d.due_at < w.t + INTERVAL 1 DAY"),
}

# Every dossier's state in every reporting window (DOMAIN.md §6), the one definition of the engine and of
# the dossier lists: `flags` has a row per (window, dossier relevant to it) with the caller's `columns`,
# the dossier's days (received_day, end_at, end_day...) and its flags in that window.
_STATES_SQL = """
WITH windows AS (
    SELECT unnest($w_id::INTEGER[]) AS wid, unnest($w_from::DATE[]) AS f, unnest($w_to::DATE[]) AS t
),
base AS (
    SELECT {columns}, status, supplement_count, due_at, received_at::DATE AS received_day,
           CASE WHEN status IN {terminal} THEN coalesce(finished_at, returned_at) END AS end_at
    FROM dossiers
    WHERE {scope_sql} AND {where_sql}
      -- only dossiers whose [first, last] day span can meet one of the windows' spans: cheap tests on the
      -- stored columns that spare the rest of the query the dossiers of other months and years
      AND ({span_sql})
),
dossier AS (
    SELECT *, end_at::DATE AS end_day,
           coalesce(due_at IS NULL OR {on_time_sql}, false) AS is_on_time,
           coalesce(end_at::DATE < due_at::DATE, false) AS is_early,
           date_diff('day', received_day, end_at::DATE) AS days_to_resolve,
           least(received_day, coalesce(end_at::DATE, received_day)) AS first_day,
           greatest(received_day, coalesce(end_at::DATE, DATE '9999-12-31')) AS last_day
    FROM base
),
flags AS (
    SELECT w.wid, w.t AS window_to, d.*,
           d.received_day BETWEEN w.f AND w.t AS is_received,
           d.received_day < w.f AND coalesce(d.end_day >= w.f, true) AS is_carried_over,
           coalesce(d.status IN {resolved} AND d.end_day BETWEEN w.f AND w.t, false) AS is_resolved,
           d.received_day <= w.t AND coalesce(d.end_day > w.t, true) AS is_in_progress,
           d.received_day <= w.t AND coalesce(d.end_day > w.t, true)
               AND (coalesce({overdue_sql}, false) OR (d.status = 5 AND coalesce(d.supplement_count, 0) > 1))
               AS is_overdue_in_progress
    -- a dossier matters to a window when its [first, last] day span meets it; two inequalities let
    -- DuckDB use a range join instead of comparing every dossier with every window
    FROM dossier d JOIN windows w ON d.first_day <= w.t AND d.last_day >= w.f
)
"""


def dossier_states_sql(windows: Mapping[int, Period], *, columns: Iterable[str], period: Period,
                       where: Mapping[str, object] | None = None, scope: Scope | None = None,
                       on_time_by: str = "day") -> tuple[str, dict[str, object]]:
    """The WITH clause ending in the `flags` CTE for these windows (id -> period) and its parameters.

    `columns` are fixed SQL expressions over `dossiers` chosen by the caller's code (never user text);
    `period` is the one the filters are checked against (district only before the reform)."""
    if on_time_by not in ON_TIME_RULES:
        raise ValueError(f"on_time_by must be one of {ON_TIME_RULES}, not {on_time_by!r}")
    where_sql, params = _where_sql(where, period)
    on_time_sql, overdue_sql = _ON_TIME_SQL[on_time_by]
    span_sql, span_params = _spans_sql(windows.values())
    sql = _STATES_SQL.format(
        columns=", ".join(columns), terminal=TERMINAL_STATUSES, resolved=RESOLVED_STATUSES,
        scope_sql=_SCOPE_SQL, where_sql=where_sql, on_time_sql=on_time_sql, overdue_sql=overdue_sql,
        span_sql=span_sql,
    )
    params.update(_scope_params(scope))
    params.update({
        "w_id": list(windows),
        "w_from": [p.start for p in windows.values()],
        "w_to": [p.end for p in windows.values()],
    })
    params.update(span_params)
    return sql, params


_SPAN_SQL = (
    "((received_at < $span_to_{i} + INTERVAL 1 DAY OR (status IN {terminal} AND coalesce(finished_at, returned_at) "
    "< $span_to_{i} + INTERVAL 1 DAY)) AND (received_at >= $span_from_{i} OR status NOT IN {terminal} "
    "OR coalesce(finished_at, returned_at) IS NULL OR coalesce(finished_at, returned_at) >= $span_from_{i}))"
)


def _spans_sql(periods: Iterable[Period]) -> tuple[str, dict[str, object]]:
    """The windows merged into disjoint spans (a month, its previous month and the same month a year
    earlier make two), as an OR of cheap day-span tests with bound bounds."""
    spans: list[list[date]] = []
    for p in sorted(periods, key=lambda p: p.start):
        if spans and (p.start - spans[-1][1]).days <= 1:
            spans[-1][1] = max(spans[-1][1], p.end)
        else:
            spans.append([p.start, p.end])
    sql = " OR ".join(_SPAN_SQL.format(i=i, terminal=TERMINAL_STATUSES) for i in range(len(spans)))
    params = {}
    for i, (start, end) in enumerate(spans):
        params.update({f"span_from_{i}": start, f"span_to_{i}": end})
    return sql, params
    return sql, params


# --- the query --------------------------------------------------------------------------------------

# The measure columns of the window measure rows (one row per window and dimension combination, or per
# window and dossier on the reference path), every one a count of dossiers (DOMAIN.md §6; kpi.metrics).
MEASURES = (
    "received", "received_fee", "received_paid_online", "received_digitized", "received_not_accepted",
    "received_withdrawn", "received_stopped", "resolved", "resolved_on_time", "resolved_early",
    "resolved_e_result", "resolved_satisfied", "resolved_days", "resolved_no_due", "in_progress",
    "in_progress_overdue", "in_progress_no_due", "in_progress_terminal", "carried_over",
)

# Counts beside the metrics: Biểu 06 columns and data-quality checks, sums over the same measure rows.
COUNTS: tuple[tuple[str, str], ...] = (
    ("received", total("received")),
    ("received_online", total("received", "channel = 'online'")),
    ("received_direct_or_postal", total("received", "channel <> 'online'")),
    ("carried_over", total("carried_over")),
    ("resolved", total("resolved")),
    ("resolved_early", total("resolved_early")),
    ("resolved_on_due_date", f"{total('resolved_on_time')} - {total('resolved_early')}"),  # early is on time
    ("resolved_late", f"{total('resolved')} - {total('resolved_on_time')}"),
    ("in_progress", total("in_progress")),
    ("in_progress_within_deadline", f"{total('in_progress')} - {total('in_progress_overdue')}"),
    ("in_progress_overdue", total("in_progress_overdue")),
    ("not_accepted", total("received_not_accepted")),
    ("withdrawn", total("received_withdrawn")),
    ("stopped", total("received_stopped")),
    ("resolved_without_due_date", total("resolved_no_due")),
    ("in_progress_without_due_date", total("in_progress_no_due")),
    # by the letter of §6 a terminal dossier is in progress until its end date, and forever without one: those
    # without one (not those that end after the period) are the units' data to fix
    ("terminal_without_end_date", total("in_progress_terminal")),
)
DATA_QUALITY_COUNTS = ("resolved_without_due_date", "in_progress_without_due_date", "terminal_without_end_date")
# A group is listed for a window when one of its dossiers counts in it (every other count is a part of these).
_ANY_COUNT_SQL = " OR ".join(f"{total(m)} > 0" for m in ("received", "resolved", "in_progress", "carried_over"))

SOURCES = ("aggregates", "dossiers")

@dataclass(frozen=True)
class _Window:
    wid: int  # one per distinct period: a month's previous month is another month's current one
    role: str  # current | previous | year_earlier
    label: str | None  # the month, for the month dimension
    period: Period


def _windows(period: Period, by: str | None) -> list[_Window]:
    parts = period.months() if by == "month" else [period]
    out: list[_Window] = []
    ids: dict[Period, int] = {}
    for part in parts:
        label = part.start.strftime("%Y-%m") if by == "month" else None
        for role, p in (("current", part), ("previous", part.previous()), ("year_earlier", part.year_earlier())):
            out.append(_Window(ids.setdefault(p, len(ids)), role, label, p))
    return out


def _where_sql(where: Mapping[str, object] | None, period: Period) -> tuple[str, dict[str, object]]:
    clauses, params = ["true"], {}
    for i, (dim_id, raw) in enumerate((where or {}).items()):
        dim = dimension(dim_id)
        if dim.sql is None:
            raise ValueError("filter by month is not supported: choose the period instead")
        if dim.id == "district":
            _check_dimension(period, dim.id, "filter by")
        values = list(raw) if isinstance(raw, list | tuple | set | frozenset) else [raw]
        params.update(dimension_params(dim.id))
        texts = sorted({str(v) for v in values if v is not None})
        params[f"where_{i}"] = texts
        params[f"where_{i}_null"] = any(v is None for v in values)
        clauses.append(
            f"(list_contains($where_{i}::VARCHAR[], CAST({dim.sql} AS VARCHAR)) "
            f"OR ($where_{i}_null AND {dim.sql} IS NULL))"
        )
    return " AND ".join(clauses), params


# The window measure rows: wid, group_value (the `by` dimension's value), the dimension columns the registry
# SQL reads beside the measures (`ROW_DIMENSIONS`) and every measure of MEASURES. The caller's scope and filters
# are applied before the rows are made, so the final query only groups them by (wid, group_value).
ROW_DIMENSIONS = ("procedure_code", "channel", "service_level")

# Reference path: every dossier's flags in a window (dossier_states_sql) as the same measure columns.
_DOSSIER_MEASURES = {
    "received": "is_received",
    "received_fee": "is_received AND fee_vnd > 0",
    "received_paid_online": "is_received AND fee_vnd > 0 AND paid_online",
    "received_digitized": "is_received AND digitized",
    "received_not_accepted": "is_received AND status = 3",
    "received_withdrawn": "is_received AND status = 7",
    "received_stopped": "is_received AND status = 8",
    "resolved": "is_resolved",
    "resolved_on_time": "is_resolved AND is_on_time",
    "resolved_early": "is_resolved AND is_early",
    "resolved_e_result": "is_resolved AND e_result",
    "resolved_satisfied": "is_resolved AND is_on_time AND rating IS DISTINCT FROM 'dissatisfied'",
    "resolved_days": None,
    "resolved_no_due": "is_resolved AND due_at IS NULL",
    "in_progress": "is_in_progress",
    "in_progress_overdue": OVERDUE_IN_PROGRESS_SQL,
    "in_progress_no_due": "is_in_progress AND due_at IS NULL",
    "in_progress_terminal": f"is_in_progress AND status IN {TERMINAL_STATUSES} AND end_at IS NULL",
    "carried_over": "is_carried_over",
}
_DOSSIER_MEASURES_SQL = ", ".join(
    f"coalesce({sql}, false)::INTEGER AS {name}" if sql else
    "CASE WHEN is_resolved THEN days_to_resolve ELSE 0 END AS resolved_days"
    for name, sql in _DOSSIER_MEASURES.items()
)
# The dossier columns the measures and groups read beside the shared state columns of `flags`.
_DOSSIER_COLUMNS = (*DIMENSION_COLUMNS, "fee_vnd", "paid_online", "digitized", "e_result", "rating")


def _dossier_rows_sql(windows: Mapping[int, Period], *, group_sql: str, period: Period,
                      where: Mapping[str, object] | None, scope: Scope | None,
                      on_time_by: str) -> tuple[str, dict[str, object]]:
    """One measure row per (window, dossier relevant to it), from the per-dossier states."""
    states, params = dossier_states_sql(windows, columns=_DOSSIER_COLUMNS, period=period, where=where,
                                        scope=scope, on_time_by=on_time_by)
    rows = (f",\nmeasure_rows AS (\n    SELECT wid, {group_sql} AS group_value, {', '.join(ROW_DIMENSIONS)}, "
            f"{_DOSSIER_MEASURES_SQL}\n    FROM flags\n)\n")
    return states.rstrip() + rows, params


# Aggregate path (kpi.aggregates): per window, its whole months from kpi_monthly and its other days from
# kpi_daily (one row per table row), and its in-progress counts at its last day and the day before its first
# (carried over) from the month-end snapshot before that day plus the day changes since, summed per group,
# channel and service level (their procedure_code is NULL: no KPI counts distinct procedures among dossiers in
# progress, and summing keeps those rows few).
_SUFFIX = {"day": "_day", "timestamp": "_ts"}


def _flow_columns(on_time_by: str) -> dict[str, str]:
    """measure -> kpi_daily/kpi_monthly column (on time and satisfied by the chosen rule)."""
    return {m: f"{m}{_SUFFIX[on_time_by]}" if m in ("resolved_on_time", "resolved_satisfied") else m
            for m in MEASURES if m.startswith(("received", "resolved"))}


def _open_columns(on_time_by: str) -> dict[str, str]:
    """measure -> kpi_open_* column for the counts in progress at a day (carried over: `open` the day before
    the window)."""
    return {"in_progress": "open", "in_progress_overdue": f"overdue{_SUFFIX[on_time_by]}",
            "in_progress_no_due": "open_no_due", "in_progress_terminal": "open_terminal"}


def _month_end(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)


def _aggregate_rows_sql(windows: Mapping[int, Period], state: AggregateState, *, group_sql: str,
                        filter_sql: str, on_time_by: str) -> tuple[str, dict[str, object]]:
    """The measure rows of every window from the aggregate tables, and their parameters: each table is read
    once, joined on its day (or month) to the (window, day) pairs it serves, which are bound as lists."""
    flow_months: list[tuple[int, date]] = []  # (wid, first day of a whole month of the window)
    flow_days: list[tuple[int, date]] = []  # (wid, day of the window outside its whole months)
    open_months: list[tuple[int, bool, date]] = []  # (wid, carried over?, month end of the snapshot)
    open_days: list[tuple[int, bool, date]] = []  # (wid, carried over?, day of changes after that month end)
    for wid, p in windows.items():
        first = p.start if p.start.day == 1 else _month_end(p.start) + timedelta(days=1)
        last = p.end if p.end == _month_end(p.end) else p.end.replace(day=1) - timedelta(days=1)
        if first <= last:
            flow_months += [(wid, m) for m in _months(first, last)]
            flow_days += [(wid, d) for d in _days(p.start, first - timedelta(days=1))]
            flow_days += [(wid, d) for d in _days(last + timedelta(days=1), p.end)]
        else:
            flow_days += [(wid, d) for d in _days(p.start, p.end)]
        # in progress at a day = the snapshot at the month end before it + the changes since
        for carried, day in ((False, p.end), (True, p.start - timedelta(days=1))):
            month_end = state.snapshot_before(day)
            if month_end is not None:
                open_months.append((wid, carried, month_end))
                open_days += [(wid, carried, d) for d in _days(month_end + timedelta(days=1), day)]
            elif state.first_month_end is not None:  # before the first snapshot: every change of its month
                open_days += [(wid, carried, d) for d in _days(state.first_month_end.replace(day=1), day)]

    params: dict[str, object] = {}
    ctes: list[str] = []
    rows: list[str] = []
    flow = _flow_columns(on_time_by)
    flow_measures = ", ".join(f"k.{flow[m]} AS {m}" if m in flow else f"0 AS {m}" for m in MEASURES)
    opened = _open_columns(on_time_by)

    def pairs_cte(name: str, pairs: list[tuple]) -> None:
        """The pairs bound as lists: a CTE (wid, [carried,] key)."""
        keys = list(zip(*pairs, strict=True))
        names = ("wid", "carried", "key") if len(keys) == 3 else ("wid", "key")
        types = {"wid": "INTEGER", "carried": "BOOLEAN", "key": "DATE"}
        for n, values in zip(names, keys, strict=True):
            params[f"{name}_{n}"] = list(values)
        ctes.append(f"{name} AS (SELECT " + ", ".join(f"unnest(${name}_{n}::{types[n]}[]) AS {n}" for n in names)
                    + ")")

    def prefilter(name: str, column: str, keys: Iterable[date]) -> str:
        """A static filter on the table's day column that prunes row groups (the tables are in day order)."""
        bounds = []
        for i, (lo, hi) in enumerate(_spans(sorted(set(keys)))):
            params.update({f"{name}_lo{i}": lo, f"{name}_hi{i}": hi})
            bounds.append(f"k.{column} BETWEEN ${name}_lo{i} AND ${name}_hi{i}")
        return f"({' OR '.join(bounds)}) AND {filter_sql}"

    for name, table, column, pairs in (("flow_months", "kpi_monthly", "month", flow_months),
                                       ("flow_days", "kpi_daily", "day", flow_days)):
        if pairs:
            pairs_cte(name, pairs)
            rows.append(f"SELECT s.wid, {group_sql} AS group_value, procedure_code, channel, service_level, "
                        f"{flow_measures} FROM {table} k JOIN {name} s ON k.{column} = s.key "
                        f"WHERE {prefilter(name, column, (p[-1] for p in pairs))}")
    for name, table, column, pairs in (("open_months", "kpi_open_snapshots", "month_end", open_months),
                                       ("open_days", "kpi_open_deltas", "day", open_days)):
        if pairs:
            # summed per day, group, channel and service level first (a day may serve several windows), so
            # their procedure_code is NULL (see above)
            pairs_cte(name, pairs)
            sums = ", ".join(f"sum(k.{c})::BIGINT AS {m}" for m, c in opened.items())
            ctes.append(f"{name}_sums AS (SELECT k.{column} AS key, {group_sql} AS group_value, channel, "
                        f"service_level, {sums} FROM {table} k SEMI JOIN {name} s ON k.{column} = s.key "
                        f"WHERE {prefilter(name, column, (p[-1] for p in pairs))} "
                        f"GROUP BY k.{column}, group_value, channel, service_level)")
            values = {m: f"CASE WHEN s.carried THEN 0 ELSE g.{m} END" for m in opened}
            values["carried_over"] = "CASE WHEN s.carried THEN g.in_progress ELSE 0 END"
            measures = ", ".join(f"{values[m]} AS {m}" if m in values else f"0 AS {m}" for m in MEASURES)
            rows.append(f"SELECT s.wid, g.group_value, NULL::VARCHAR AS procedure_code, g.channel, "
                        f"g.service_level, {measures} FROM {name}_sums g JOIN {name} s ON g.key = s.key")
    if not rows:  # no window at all
        rows.append(f"SELECT NULL::INTEGER AS wid, NULL::VARCHAR AS group_value, procedure_code, channel, "
                    f"service_level, {flow_measures} FROM kpi_monthly k WHERE false")
    ctes.append("measure_rows AS (\n    " + "\n    UNION ALL ".join(rows) + "\n)")
    return "WITH " + ",\n".join(ctes) + "\n", params


def received_rows_sql(windows: Mapping[int, Period], *, filter_sql: str = "true",
                      prefix: str = "rr") -> tuple[str, dict[str, object]]:
    """A WITH clause ending in the CTE `received_rows` (wid, the dimension columns of `kpi.aggregates`, received)
    and its parameters (named `{prefix}_...`): the rows of the pre-aggregated tables that count dossiers received
    in each window (id -> period; its whole months from kpi_monthly, its other days from kpi_daily, received > 0)
    under `filter_sql`, a condition over the dimension columns (fixed SQL whose values the caller binds).

    Every dossier received in a window is counted by exactly one of its rows, so a distinct value of a
    dimension, an existence test or a sum of `received` over them equals the same over the dossiers whose
    received_at::DATE lies in the window. Valid only when `ensure_aggregates` says the tables match the
    dossiers (callers read `dossiers` otherwise). Each window's parts are plain day ranges, which the tables'
    day order lets DuckDB read without touching other row groups."""
    params: dict[str, object] = {}
    rows = []
    columns = ", ".join(DIMENSION_COLUMNS)

    def part(wid: int, table: str, column: str, lo: date, hi: date) -> None:
        name = f"{prefix}_{len(rows)}"
        params.update({f"{name}_wid": wid, f"{name}_lo": lo, f"{name}_hi": hi})
        rows.append(f"SELECT ${name}_wid::INTEGER AS wid, {columns}, received FROM {table} "
                    f"WHERE {column} BETWEEN ${name}_lo AND ${name}_hi AND received > 0 AND {filter_sql}")

    for wid, p in windows.items():
        first = p.start if p.start.day == 1 else _month_end(p.start) + timedelta(days=1)
        last = p.end if p.end == _month_end(p.end) else p.end.replace(day=1) - timedelta(days=1)
        if first <= last:
            part(wid, "kpi_monthly", "month", first, last.replace(day=1))
            if p.start < first:
                part(wid, "kpi_daily", "day", p.start, first - timedelta(days=1))
            if last < p.end:
                part(wid, "kpi_daily", "day", last + timedelta(days=1), p.end)
        else:
            part(wid, "kpi_daily", "day", p.start, p.end)
    if not rows:  # no window at all
        rows.append(f"SELECT NULL::INTEGER AS wid, {columns}, received FROM kpi_monthly WHERE false")
    return "WITH received_rows AS (\n    " + "\n    UNION ALL ".join(rows) + "\n)\n", params


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _months(first: date, last: date) -> list[date]:
    """First days of the months from first's to last's."""
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(day)
        day = _month_end(day) + timedelta(days=1)
    return out


def _spans(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days (or months) merged into spans without a gap of more than 31 days."""
    spans: list[list[date]] = []
    for day in days:
        if spans and (day - spans[-1][1]).days <= 31:
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return [(a, b) for a, b in spans]


def _aggregate(con: duckdb.DuckDBPyConnection, windows: list[_Window], *, by: str | None,
               where: Mapping[str, object] | None, scope: Scope | None, on_time_by: str,
               period: Period, source: str = "aggregates", metrics: Iterable[Metric] | None = None,
               counts: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per (window, group value) with any count: every count of COUNTS (or those named in `counts`)
    and num__/den__ of every metric (or of `metrics`), from the pre-aggregated tables (source="aggregates",
    when they can be used) or from `dossiers`. Asking only for what the caller reads matters: the aggregates
    over the measure rows, not reading them, are most of a query's time."""
    if on_time_by not in ON_TIME_RULES:
        raise ValueError(f"on_time_by must be one of {ON_TIME_RULES}, not {on_time_by!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if by is not None:
        dim = dimension(by)
        if dim.id == "district":
            _check_dimension(period, dim.id, "group by")
    # by=None and by="month" have one group per window (months are windows, not a column)
    group_sql = "NULL::VARCHAR" if by in (None, "month") else f"CAST({DIMENSION_BY_ID[by].sql} AS VARCHAR)"
    periods_by_id = {w.wid: w.period for w in windows}
    state = ensure_aggregates(con) if source == "aggregates" else None
    if state is not None:
        where_sql, params = _where_sql(where, period)
        rows_sql, rows_params = _aggregate_rows_sql(periods_by_id, state, group_sql=group_sql,
                                                    filter_sql=f"{_SCOPE_SQL} AND {where_sql}",
                                                    on_time_by=on_time_by)
        params.update(rows_params)
        params.update(_scope_params(scope))
    else:
        rows_sql, params = _dossier_rows_sql(periods_by_id, group_sql=group_sql, period=period, where=where,
                                             scope=scope, on_time_by=on_time_by)
    params.update(dimension_params(by))
    wanted = None if counts is None else set(counts)
    aggregates = [f"CAST({sql} AS BIGINT) AS {name}" for name, sql in COUNTS if wanted is None or name in wanted]
    for m in METRICS if metrics is None else metrics:
        aggregates += [f"CAST({m.numerator_sql} AS BIGINT) AS num__{m.id}",
                       f"CAST({m.denominator_sql} AS BIGINT) AS den__{m.id}"]
    # The measure rows summed per (window, group, procedure, channel, service level) first: every KPI is a sum
    # or a distinct count of procedures under a condition on channel, service level and received > 0 (counts
    # are never negative), which these sums keep, and the final aggregates then run over far fewer rows.
    sums = ", ".join(f"sum({m}) AS {m}" for m in MEASURES)
    sql = (f"{rows_sql}, measure_sums AS (\n    SELECT wid, group_value, {', '.join(ROW_DIMENSIONS)}, {sums}\n"
           f"    FROM measure_rows GROUP BY wid, group_value, {', '.join(ROW_DIMENSIONS)}\n)\n"
           f"SELECT wid, group_value, {', '.join(aggregates)}\nFROM measure_sums\n"
           f"GROUP BY wid, group_value\nHAVING {_ANY_COUNT_SQL}")
    return con.cursor().execute(sql, params).df()


# --- public functions -------------------------------------------------------------------------------


def dossier_counts(con: duckdb.DuckDBPyConnection, period: Period, *, by: str | None = None,
                   where: Mapping[str, object] | None = None, scope: Scope | None = None,
                   on_time_by: str = "day", source: str = "aggregates") -> pd.DataFrame:
    """The dossier counts of the period per group (Biểu 06 columns and data-quality counts): columns
    `group` and every name of COUNTS, one row per group with data (one row for by=None, one per month
    for by="month"). `source` as for kpi_table."""
    windows = [w for w in _windows(period, by) if w.role == "current"]
    raw = _aggregate(con, windows, by=by, where=where, scope=scope, on_time_by=on_time_by, period=period,
                     source=source, metrics=())
    names = [name for name, _ in COUNTS]
    rows = _current_rows(raw, windows, by)
    if rows.empty:
        return pd.DataFrame([], columns=["group", *names])
    frame = pd.DataFrame({"group": rows["group"].to_numpy(dtype=object),
                          **{name: rows[name].fillna(0).to_numpy(dtype="int64") for name in names}})
    frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), None)
    return frame


def _clean(value: object) -> str | None:
    """A group value as text, None for an empty one (NULL from DuckDB, NaN from pandas)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _keyed(raw: pd.DataFrame) -> pd.DataFrame:
    """The raw rows with `key`: the group value as a clean text, "" for the empty group (with `is_none`)."""
    out = raw.copy()
    value = out["group_value"].astype(object)
    out["is_none"] = value.isna().to_numpy()
    out["key"] = value.where(~out["is_none"], "").map(str)
    return out


def _current_rows(raw: pd.DataFrame, windows: list[_Window], by: str | None) -> pd.DataFrame:
    """One row per (current window, group) in report order (windows in order, then groups sorted with the
    empty group last), with the window's order (`w_order`), `group` and the raw counts (NaN: none). by=None
    and by="month" always have a row per window, whose group is the window's label."""
    current = [w for w in windows if w.role == "current"]
    order = pd.DataFrame({"wid": [w.wid for w in current], "w_order": range(len(current)),
                          "label": [w.label for w in current]})
    keyed = _keyed(raw)
    if by in (None, "month"):
        base = order.assign(key="", is_none=True)
        rows = base.merge(keyed.drop(columns=["key", "is_none"]), on="wid", how="left")
        rows["group"] = rows["label"]
    else:
        rows = order.merge(keyed, on="wid", how="inner")
        rows = rows.sort_values(["w_order", "is_none", "key"], kind="mergesort")
        rows["group"] = rows["key"].where(~rows["is_none"], None)
    return rows.reset_index(drop=True)


def kpi_table(con: duckdb.DuckDBPyConnection, period: Period, *, by: str | None = None,
              where: Mapping[str, object] | None = None, scope: Scope | None = None,
              targets: Targets | None = None, on_time_by: str = "day",
              metrics: Iterable[str] | None = None, source: str = "aggregates") -> pd.DataFrame:
    """Every KPI (or those of `metrics`) for the period, one row per (group, metric).

    Columns: dimension, group (the group value; None for by=None and for dossiers whose group value is
    empty), metric, unit, numerator, denominator, value (None when the denominator is 0), target, status,
    previous_numerator, previous_denominator, previous_value, previous_change_pp, year_earlier_numerator,
    year_earlier_denominator, year_earlier_value, year_earlier_change_pp, hierarchy (the era of the row's
    period: before_reform, after_reform or mixed). `*_change_pp` is in percentage points for rates and in
    days for avg_days_to_resolve. `frame.attrs` holds period, hierarchy, on_time_by and data_quality (the
    DATA_QUALITY_COUNTS of the whole selection in the period). Groups are those with any dossier counted in the
    period (every month for by="month"); comparison windows are the previous period and the same period a year
    earlier (per month for by="month").

    `source="aggregates"` (default) reads the pre-aggregated tables of `kpi.aggregates` (built once here if a
    database never had them; when they cannot be built, on a read-only connection, the dossiers are read);
    `source="dossiers"` computes every dossier's state from the base table, the reference the aggregates are
    tested against. Both give identical results. `targets` None: those set in the dashboard (Targets.from_store).
    """
    targets = targets if targets is not None else Targets.from_store(con)
    chosen = [metric(m) for m in metrics] if metrics is not None else list(METRICS)
    windows = _windows(period, by)
    raw = _aggregate(con, windows, by=by, where=where, scope=scope, on_time_by=on_time_by, period=period,
                     source=source, metrics=chosen, counts=DATA_QUALITY_COUNTS)
    rows = _current_rows(raw, windows, by)
    quality = _data_quality(rows, by)
    frame = _table_frame(rows, _keyed(raw), windows, by, chosen, targets)
    frame.attrs.update(period=period, hierarchy=hierarchy_for(period).era, on_time_by=on_time_by,
                       data_quality=quality)
    return frame


def kpi_tables(con: duckdb.DuckDBPyConnection, periods_: Iterable[Period], *, by: str | None = None,
               where: Mapping[str, object] | None = None, scope: Scope | None = None,
               targets: Targets | None = None, on_time_by: str = "day",
               metrics: Iterable[str] | None = None, source: str = "aggregates",
               comparisons: bool = True) -> list[pd.DataFrame]:
    """`[kpi_table(con, p, ...) for p in periods_]` (the same frames, attrs included) in one query: every
    period's windows (a window shared by several periods, such as one month's previous month being another's
    current month, is computed once) are aggregated together, then each period's frame is built from its own
    windows. For a unit × month grid (one table by a dimension per month). With `comparisons=False` the
    previous-period and year-earlier windows are not computed and their columns are empty (None): the same
    frames otherwise, for a grid that shows each period's own values only."""
    periods_ = list(periods_)
    if not periods_:
        return []
    targets = targets if targets is not None else Targets.from_store(con)
    chosen = [metric(m) for m in metrics] if metrics is not None else list(METRICS)
    ids: dict[Period, int] = {}
    per_period = [[_Window(ids.setdefault(w.period, len(ids)), w.role, w.label, w.period) for w in _windows(p, by)
                   if comparisons or w.role == "current"]
                  for p in periods_]
    windows = list({w.wid: w for ws in per_period for w in ws}.values())
    # the district checks of every period at once: a span ends before the reform when all its periods do
    span = Period(min(p.start for p in periods_), max(p.end for p in periods_))
    raw = _aggregate(con, windows, by=by, where=where, scope=scope, on_time_by=on_time_by, period=span,
                     source=source, metrics=chosen, counts=DATA_QUALITY_COUNTS)
    keyed = _keyed(raw)
    frames = []
    for period, ws in zip(periods_, per_period, strict=True):
        rows = _current_rows(raw, ws, by)
        frame = _table_frame(rows, keyed, ws, by, chosen, targets, comparisons)
        frame.attrs.update(period=period, hierarchy=hierarchy_for(period).era, on_time_by=on_time_by,
                           data_quality=_data_quality(rows, by))
        frames.append(frame)
    return frames


def _data_quality(rows: pd.DataFrame, by: str | None) -> dict[str, int]:
    """DATA_QUALITY_COUNTS over the current rows; for by="month" the in-progress ones are snapshots taken at
    the period end, so the last month's."""
    quality = {}
    for name in DATA_QUALITY_COUNTS:
        values = rows[name].fillna(0) if name in rows else pd.Series(0, index=rows.index)
        if by == "month" and name != "resolved_without_due_date":
            last = values[rows["w_order"] == rows["w_order"].max()] if len(rows) else values
            quality[name] = int(last.sum())
        else:
            quality[name] = int(values.sum())
    return quality


def _table_frame(rows: pd.DataFrame, keyed: pd.DataFrame, windows: list[_Window], by: str | None,
                 chosen: list[Metric], targets: Targets, comparisons: bool = True) -> pd.DataFrame:
    """The kpi_table frame from the current rows and every window's raw rows, column by column (without
    `comparisons`, the previous and year-earlier columns are empty)."""
    n, k = len(rows), len(chosen)
    if n == 0 or k == 0:
        return _typed(pd.DataFrame([], columns=TABLE_COLUMNS))
    month_like = by in (None, "month")
    locality = by is not None and DIMENSION_BY_ID[by].is_locality
    current = {w.wid: w for w in windows if w.role == "current"}
    compare = {(w.label, w.role): w for w in windows if w.role != "current"}
    eras = rows["wid"].map(lambda wid: era_of(current[wid].period)).to_numpy()

    def matrix(frame: pd.DataFrame, prefix: str) -> np.ndarray:
        """rows x metrics of num__/den__ (NaN where a row has no record)."""
        return np.column_stack([frame[f"{prefix}{m.id}"].to_numpy(dtype="float64", na_value=np.nan)
                                if f"{prefix}{m.id}" in frame else np.full(len(frame), np.nan) for m in chosen])

    num = np.nan_to_num(matrix(rows, "num__")).ravel()
    den = np.nan_to_num(matrix(rows, "den__")).ravel()
    value = _ratio_array(num, den)
    metric_ids = np.tile(np.array([m.id for m in chosen], dtype=object), n)
    groups = np.repeat(rows["group"].to_numpy(dtype=object), k)
    units = np.tile(np.array([m.unit for m in chosen], dtype=object), n)
    higher = np.tile(np.array([m.higher_is_better for m in chosen]), n)
    band = np.tile(np.array([AMBER_BAND[m.unit] for m in chosen]), n)
    rate = units == "rate"
    if targets.unit_overrides and not month_like:
        target = np.array([targets.target_for(m, g) for m, g in zip(metric_ids, groups, strict=True)], dtype=object)
    else:
        target = np.tile(np.array([targets.target_for(m.id) for m in chosen], dtype=object), n)
    target_f = np.array([np.nan if t is None else t for t in target], dtype="float64")
    out = {
        "dimension": np.full(n * k, by, dtype=object), "group": groups, "metric": metric_ids, "unit": units,
        "numerator": num.astype("int64"), "denominator": den.astype("int64"), "value": _objects(value),
        "target": target, "status": _status(value, target_f, higher, band),
    }
    for role in ("previous", "year_earlier") if comparisons else ():
        other = np.array([compare[(current[wid].label, role)].wid for wid in rows["wid"]])
        comparable = np.array([not locality or era_of(compare[(current[wid].label, role)].period) == era
                               for wid, era in zip(rows["wid"], eras, strict=True)])
        found = pd.DataFrame({"wid": other, "key": rows["key"].to_numpy(), "is_none": rows["is_none"].to_numpy()})
        if month_like:
            found = found.merge(keyed.drop(columns=["key", "is_none"]), on="wid", how="left")
        else:
            found = found.merge(keyed, on=["wid", "key", "is_none"], how="left")
        o_num, o_den = matrix(found, "num__"), matrix(found, "den__")
        missing = np.isnan(o_den)
        o_num[missing & comparable[:, None]] = 0
        o_den[missing & comparable[:, None]] = 0
        o_num[~comparable] = np.nan
        o_den[~comparable] = np.nan
        o_num, o_den = o_num.ravel(), o_den.ravel()
        o_value = np.where(np.isnan(o_den), np.nan, _ratio_array(np.nan_to_num(o_num), np.nan_to_num(o_den)))
        out[f"{role}_numerator"] = pd.array(o_num, dtype="Int64")
        out[f"{role}_denominator"] = pd.array(o_den, dtype="Int64")
        out[f"{role}_value"] = _objects(o_value)
        out[f"{role}_change_pp"] = _objects(np.where(rate, (value - o_value) * 100, value - o_value))
    out["hierarchy"] = np.repeat(eras, k)
    return _typed(pd.DataFrame(out, columns=TABLE_COLUMNS))


def _ratio_array(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator != 0, numerator / np.where(denominator != 0, denominator, 1), np.nan)


def _objects(values: np.ndarray) -> np.ndarray:
    """Floats as Python objects, NaN as None."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out


def _status(value: np.ndarray, target: np.ndarray, higher: np.ndarray, band: np.ndarray) -> np.ndarray:
    """status_for, element-wise."""
    gap = np.where(higher, value - target, target - value)
    status = np.where(gap >= -_EPSILON, "green", np.where(gap >= -band - _EPSILON, "amber", "red")).astype(object)
    status[np.isnan(value) | np.isnan(target)] = None
    return status


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for name in ("group", "value", "target", "status", "previous_value", "previous_change_pp", "year_earlier_value",
                 "year_earlier_change_pp"):
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    for name in ("previous_numerator", "previous_denominator", "year_earlier_numerator",
                 "year_earlier_denominator"):
        frame[name] = frame[name].astype("Int64")
    return frame


TABLE_COLUMNS = (
    "dimension", "group", "metric", "unit", "numerator", "denominator", "value", "target", "status",
    "previous_numerator", "previous_denominator", "previous_value", "previous_change_pp",
    "year_earlier_numerator", "year_earlier_denominator", "year_earlier_value", "year_earlier_change_pp",
    "hierarchy",
)


def kpi_value(con: duckdb.DuckDBPyConnection, period: Period, metric_id: str, **options: object) -> dict:
    """One KPI for the whole selection (no grouping), as a dict of the kpi_table row."""
    frame = kpi_table(con, period, metrics=[metric_id], **options)
    return frame.iloc[0].to_dict()


def rank_groups(frame: pd.DataFrame, metric_id: str) -> pd.DataFrame:
    """Rank the groups of a kpi_table frame on one KPI: 1 = best (honouring higher_is_better), ties share
    the better rank. The empty group (None) and groups without a value are not ranked. Columns: group,
    value, rank, previous_value, previous_rank, rank_change (previous_rank - rank: positive = moved up)."""
    m = metric(metric_id)
    part = frame.loc[(frame["metric"] == m.id) & frame["group"].notna(),
                     ["group", "value", "previous_value"]].copy()
    ascending = not m.higher_is_better
    for column, rank_column in (("value", "rank"), ("previous_value", "previous_rank")):
        numbers = pd.to_numeric(part[column], errors="coerce")
        part[rank_column] = numbers.rank(method="min", ascending=ascending).astype("Int64")
    part["rank_change"] = (part["previous_rank"] - part["rank"]).astype("Int64")
    part = part.sort_values(["rank", "group"], na_position="last").reset_index(drop=True)
    return part[["group", "value", "rank", "previous_value", "previous_rank", "rank_change"]]


__all__ = [
    "AFTER_REFORM", "BEFORE_REFORM", "COUNTS", "DIMENSIONS", "DIMENSION_BY_ID", "MIXED", "METRIC_BY_ID",
    "REFORM_DAY", "Dimension", "dimension_params", "Hierarchy", "Scope", "ScopeRefused", "Targets", "caller_scope",
    "current_scope", "dossier_counts",
    "dossier_states_sql", "has_targets_table",
    "era_of", "hierarchy_for", "kpi_table", "kpi_tables", "kpi_value", "rank_groups", "received_rows_sql",
    "status_for",
]
