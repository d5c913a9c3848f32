"""What every dashboard view shares, without Streamlit: the reporting-period choices, the filter choices
(locality by the hierarchy the period uses, department, sector), the selection they make, and the
freshness facts shown on every page.

The pages' widgets (kpi/ui.py) turn URL parameters and clicks into a `Selection`; everything a page shows
is then asked of the engine with `selection.period` and `selection.where`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb

from kpi import periods
from kpi.aggregates import ensure_aggregates
from kpi.engine import (
    AFTER_REFORM,
    BEFORE_REFORM,
    DIMENSION_BY_ID,
    dimension_params,
    hierarchy_for,
    received_rows_sql,
)
from kpi.periods import Period

# The KPIs a steering committee asks for first: Overview tiles and the monthly review's columns.
HEADLINE_METRICS = ("on_time_rate", "full_online_service_share", "online_payment_rate", "online_dossier_rate",
                    "digitization_rate", "satisfaction_rate", "progress_766")
STALE_AFTER_DAYS = 35  # the newest data older than this gets a warning (monthly exports plus a few days)


# --- reporting periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodKind:
    """One way to choose a reporting period: `numbers` are the choices within a year (months 1-12,
    quarters 1-4, halves 1-2; empty when the year alone decides), `build(year, number, last_day)`."""

    id: str
    label_vi: str
    label_en: str
    numbers: tuple[int, ...]
    build: Callable[[int, int, date], Period]


PERIOD_KINDS: tuple[PeriodKind, ...] = (
    PeriodKind("month", "Tháng", "Month", tuple(range(1, 13)), lambda y, n, _: periods.month(y, n)),
    PeriodKind("quarter", "Quý", "Quarter", (1, 2, 3, 4), lambda y, n, _: periods.quarter(y, n)),
    PeriodKind("half_year", "6 tháng", "6 months", (1, 2), lambda y, n, _: periods.half_year(y, n)),
    PeriodKind("nine_months", "9 tháng", "9 months", (), lambda y, n, _: periods.nine_months(y)),
    PeriodKind("year", "Năm", "Year", (), lambda y, n, _: periods.year(y)),
    PeriodKind("year_to_date", "Lũy kế từ đầu năm", "Year to date", (),
               lambda y, n, last: periods.year_to_date(min(last, date(y, 12, 31)) if last.year >= y
                                                       else date(y, 12, 31))),
    PeriodKind("custom", "Tùy chọn", "Custom range", (), lambda y, n, _: periods.month(y, 1)),
)
PERIOD_KIND_BY_ID: dict[str, PeriodKind] = {k.id: k for k in PERIOD_KINDS}


def number_label(kind: str, number: int, lang: str = "vi") -> str:
    """How a number within the year reads for a period kind: "Tháng 5", "Quý II", "6 tháng đầu năm"."""
    vi = lang != "en"
    if kind == "month":
        return f"Tháng {number}" if vi else date(2000, number, 1).strftime("%B")
    if kind == "quarter":
        return f"Quý {periods.ROMAN[number - 1]}" if vi else f"Q{number}"
    if kind == "half_year":
        if vi:
            return "6 tháng đầu năm" if number == 1 else "6 tháng cuối năm"
        return "First half" if number == 1 else "Second half"
    return str(number)


def choose_period(kind: str, year: int, number: int | None, last_day: date,
                  start: date | None = None, end: date | None = None) -> Period:
    """The Period a set of period widgets means. `last_day` is the newest data day (year to date ends
    there); a custom range needs `start` and `end` (swapped if given backwards)."""
    if kind == "custom":
        if start is None or end is None:
            raise ValueError("a custom period needs a start and an end day")
        return periods.custom(min(start, end), max(start, end))
    spec = PERIOD_KIND_BY_ID[kind]
    return spec.build(year, number if number is not None else (spec.numbers[-1] if spec.numbers else 1), last_day)


def default_period_choice(last_day: date | None) -> tuple[str, int, int]:
    """The first view: the month of the newest data (this month when the store is empty)."""
    day = last_day or date.today()
    return "month", day.year, day.month


# --- the selection ----------------------------------------------------------------------------------

# The locality levels each hierarchy offers, from the top (DOMAIN §5).
LOCALITY_LEVELS = {
    BEFORE_REFORM: ("province", "district", "commune"),
    AFTER_REFORM: ("province", "commune"),
}
UNIT_FILTERS = ("agency", "sector")


def locality_levels(period: Period) -> tuple[str, ...]:
    """province -> district -> commune before the reform; province -> commune from 1 July 2025 and for
    periods that straddle it (districts cannot be used there)."""
    era = hierarchy_for(period).era
    return LOCALITY_LEVELS[BEFORE_REFORM] if era == BEFORE_REFORM else LOCALITY_LEVELS[AFTER_REFORM]


@dataclass(frozen=True)
class Selection:
    """What the shared filters chose: the period and the filters (dimension id -> value), in drill order."""

    period: Period
    filters: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def where(self) -> dict[str, str]:
        """The engine's `where` argument."""
        return dict(self.filters)

    @property
    def hierarchy(self) -> str:
        return hierarchy_for(self.period).era

    def locality_child(self) -> str:
        """The locality level below the deepest chosen one: district/commune under a province, commune
        under a district, procedure under a commune."""
        levels = locality_levels(self.period)
        chosen = [d for d in levels if d in self.where]
        if not chosen:
            return levels[0] if "province" not in self.where else levels[1]
        deepest = levels.index(chosen[-1])
        return levels[deepest + 1] if deepest + 1 < len(levels) else "procedure"

    def with_filter(self, dimension_id: str, value: str | None) -> Selection:
        """This selection with one filter set (or removed when value is None), keeping the order."""
        kept = [(d, v) for d, v in self.filters if d != dimension_id]
        if value is not None:
            kept.append((dimension_id, value))
        return Selection(self.period, tuple(kept))


# --- filter choices and freshness -------------------------------------------------------------------


def data_span(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The first and last received day in the store, its dossier count, the last import's finish time and
    the years with data (newest first). Read from the KPI aggregates when they match the dossiers (the
    first and last received months are recorded with them: two small day lookups), else from `dossiers`."""
    state = ensure_aggregates(con)
    if state is None:
        first, last, count = con.execute(
            "SELECT min(received_at)::DATE, max(received_at)::DATE, count(*) FROM dossiers").fetchone()
    elif state.first_month_end is None:  # an empty store
        first, last, count = None, None, 0
    else:
        # the recorded month ends are no later (first) and no earlier (last) than the received months (an update
        # may leave them wider than the data): when a month has no dossier received, find the month first
        first_month, last_month = state.first_month_end.replace(day=1), state.last_month_end.replace(day=1)
        first, last, count = _received_days(con, first_month, last_month)
        if first is None or last is None:
            first_month, last_month = con.execute(
                "SELECT min(month), max(month) FROM kpi_monthly WHERE received > 0").fetchone()
            first, last, count = _received_days(con, first_month, last_month)
    last_import = con.execute("SELECT max(finished_at) FROM imports").fetchone()[0]
    years = list(range(last.year, first.year - 1, -1)) if first and last else []
    return {"first_day": first, "last_day": last, "dossiers": count, "last_import_at": last_import,
            "years": years}


def _received_days(con: duckdb.DuckDBPyConnection, first_month: date | None,
                   last_month: date | None) -> tuple[date | None, date | None, int]:
    """The first received day of `first_month` and the last of `last_month` (kpi_daily, day-ordered: two small
    reads), and the dossier count the aggregates were built for."""
    return con.execute(
        "SELECT (SELECT min(day) FROM kpi_daily WHERE day BETWEEN $first AND last_day($first) AND received > 0), "
        "(SELECT max(day) FROM kpi_daily WHERE day BETWEEN $last AND last_day($last) AND received > 0), "
        "(SELECT dossiers FROM aggregate_state)", {"first": first_month, "last": last_month}).fetchone()


def _filter_sql(where: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    clauses, params = ["true"], {}
    for i, (dim_id, value) in enumerate(where.items()):
        dim = DIMENSION_BY_ID[dim_id]
        params.update(dimension_params(dim_id))
        params[f"f_{i}"] = value
        clauses.append(f"CAST({dim.sql} AS VARCHAR) = $f_{i}")
    return " AND ".join(clauses), params


def filter_sql(where: Mapping[str, object] | None) -> tuple[str, dict[str, object]]:
    """The condition over `dossiers` and its bound parameters for a selection's filters (package queries
    outside the engine: data quality, coverage)."""
    return _filter_sql(where or {})


def filter_choices(con: duckdb.DuckDBPyConnection, dimension_id: str, period: Period,
                   where: Mapping[str, object] | None = None) -> list[str]:
    """The values of a dimension among the dossiers received in the period under the given parent filters,
    sorted; the choices a filter offers."""
    dim = DIMENSION_BY_ID[dimension_id]
    where_sql, params = _filter_sql(where or {})
    params.update(dimension_params(dimension_id))
    if ensure_aggregates(con) is not None:  # the same values from the KPI aggregates' received rows
        rows_sql, rows_params = received_rows_sql({0: period}, filter_sql=where_sql)
        params.update(rows_params)
        sql = (f"{rows_sql}SELECT DISTINCT CAST({dim.sql} AS VARCHAR) AS v FROM received_rows WHERE v IS NOT NULL "
               "ORDER BY v")
    else:
        params.update({"from": period.start, "to": period.end})
        sql = (f"SELECT DISTINCT CAST({dim.sql} AS VARCHAR) AS v FROM dossiers "
               f"WHERE received_at >= $from AND received_at < $to + INTERVAL 1 DAY AND {where_sql} AND v IS NOT NULL "
               "ORDER BY v")
    return [r[0] for r in con.execute(sql, params).fetchall()]


def unit_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every district, commune and agency name in the store, sorted: the units an account can be given."""
    source = "kpi_monthly" if ensure_aggregates(con) is not None else "dossiers"
    return [r[0] for r in con.execute(  # one DISTINCT per column: columnar, far cheaper than unnesting rows
        f"SELECT name FROM (SELECT DISTINCT district AS name FROM {source} UNION SELECT DISTINCT commune FROM "
        f"{source} UNION SELECT DISTINCT agency_name FROM {source}) WHERE nullif(trim(name), '') IS NOT NULL "
        "ORDER BY name").fetchall()]


def freshness(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object] | None = None,
              today: date | None = None) -> dict[str, object]:
    """Facts for the freshness line: newest received day and last import (whole store), whether the newest
    data is older than STALE_AFTER_DAYS, and the agencies (under the filters) with dossiers in the store but
    none received in the period although they received dossiers before and after it."""
    today = today or date.today()
    span = data_span(con)
    where_sql, params = _filter_sql({k: v for k, v in (where or {}).items() if k not in ("district", "commune")})
    if ensure_aggregates(con) is not None:
        # the same units from the KPI aggregates: none received in the period, some before it and some after it
        windows = {1: period}
        if span["first_day"] is not None and span["first_day"] < period.start:
            windows[0] = Period(span["first_day"], period.start - timedelta(days=1))
        if span["last_day"] is not None and span["last_day"] > period.end:
            windows[2] = Period(period.end + timedelta(days=1), span["last_day"])
        rows_sql, rows_params = received_rows_sql(windows, filter_sql=f"agency_name IS NOT NULL AND {where_sql}")
        params.update(rows_params)
        sql = (f"{rows_sql}SELECT agency_name FROM received_rows GROUP BY agency_name "
               "HAVING bool_or(wid = 0) AND bool_or(wid = 2) AND NOT bool_or(wid = 1) ORDER BY agency_name")
    else:
        params.update({"from": period.start, "to": period.end})
        sql = ("SELECT agency_name FROM dossiers "
               f"WHERE agency_name IS NOT NULL AND {where_sql} GROUP BY agency_name "
               # units that were receiving around the period (first dossier before its end, last after its start)
               "HAVING min(received_at) < $to + INTERVAL 1 DAY AND max(received_at) >= $from "
               "AND count(*) FILTER (WHERE received_at >= $from AND received_at < $to + INTERVAL 1 DAY) = 0 "
               "ORDER BY agency_name")
    missing = [r[0] for r in con.execute(sql, params).fetchall()]
    last_day = span["last_day"]
    age = (today - last_day).days if last_day else None
    return {
        "last_day": last_day,
        "last_import_at": span["last_import_at"],
        "age_days": age,
        "is_stale": age is not None and age > STALE_AFTER_DAYS,
        "units_without_data": missing,
        "period_after_data": last_day is not None and period.start > last_day,
        "period_before_data": span["first_day"] is not None and period.end < span["first_day"],
    }


def as_date(value: object) -> date | None:
    """A date from a date, datetime or ISO text (URL parameters); None when it cannot be read."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
