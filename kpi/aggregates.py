"""Pre-aggregated KPI tables: what the engine reads instead of the dossiers (DDL in schema.sql).

The KPI engine needs, for every reporting window [f, t] and group, counts of dossiers received or resolved in
the window and of dossiers in progress at t and at f - 1 (carried over). Those are sums over days, so they are
kept per day and per combination of the dimension columns (`DIMENSION_COLUMNS`: everything the engine groups,
filters and scopes by), and a window's counts are sums over the rows of its days:

- `kpi_daily` (day, dimensions, measures): dossiers received that day (received, with a fee, paid online,
  digitised, not accepted, withdrawn, stopped) and resolved that day (status 9/10 whose end date is that day:
  resolved, on time by date and by timestamp, early, electronic result, satisfied by date and by timestamp,
  days to resolve, without due date); `kpi_monthly` is the same summed per month (first day of the month).
- `kpi_open_deltas` (day, dimensions, changes): "in progress at day t" holds on an interval of days for every
  dossier, [received date, end date) or open-ended: +1 on its first day, -1 on the day it stops, for the five
  in-progress counts (in progress; overdue by date; overdue by timestamp; without due date; terminal status).
- `kpi_open_snapshots` (month_end, dimensions, counts): the running totals of the deltas at every month end,
  so the count at day t is the snapshot at the last month end <= t plus the deltas after it up to t.

The interval rules are those of `kpi.engine` (`_STATES_SQL`, the truth, DOMAIN.md §6): end date = finished_at,
else returned_at, for a terminal status (3, 7, 8, 9, 10); in progress at t = received_day <= t and (no end date
or end_day > t), so a dossier ending before it was received is never in progress; overdue at t by date = due
date < t, by timestamp = due timestamp before the end of day t (due date <= t), or, in both modes, status 5
after more than one supplement request; open_terminal = in progress with a terminal status, which holds for a
terminal dossier without end date and for one whose end date is after t.

`refresh_aggregates` rebuilds everything from `dossiers` inside the caller's transaction (the importer's per-file
transaction, so a failed import leaves the tables as they were). `ensure_aggregates` is what the engine calls: it
builds the tables once in a database that never had them (an older file), and says whether they can be used.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import duckdb

from kpi.fields import RESOLVED_STATUSES, TERMINAL_STATUSES

DIMENSION_COLUMNS = ("province", "district", "commune", "agency_name", "agency_code", "agency_level", "sector",
                     "procedure_code", "channel", "service_level")
# kpi_daily / kpi_monthly measures: received on the day (received_at), resolved on the day (end date).
RECEIVED_MEASURES = ("received", "received_fee", "received_paid_online", "received_digitized",
                     "received_not_accepted", "received_withdrawn", "received_stopped")
RESOLVED_MEASURES = ("resolved", "resolved_on_time_day", "resolved_on_time_ts", "resolved_early",
                     "resolved_e_result", "resolved_satisfied_day", "resolved_satisfied_ts", "resolved_days",
                     "resolved_no_due")
DAILY_MEASURES = RECEIVED_MEASURES + RESOLVED_MEASURES
OPEN_MEASURES = ("open", "overdue_day", "overdue_ts", "open_no_due", "open_terminal")
TABLES = ("kpi_daily", "kpi_monthly", "kpi_open_deltas", "kpi_open_snapshots")

_DIMS = ", ".join(DIMENSION_COLUMNS)
_TERMINAL = f"status IN {TERMINAL_STATUSES}"
_RESOLVED = f"status IN {RESOLVED_STATUSES}"
_DISSATISFIED = "rating IS DISTINCT FROM 'dissatisfied'"

# One row per dossier for its received day and one per resolved dossier for its end day; 0 for the others.
_RECEIVED_SQL = {
    "received": "1",
    "received_fee": "coalesce(fee_vnd > 0, false)::INTEGER",
    "received_paid_online": "coalesce(fee_vnd > 0 AND paid_online, false)::INTEGER",
    "received_digitized": "coalesce(digitized, false)::INTEGER",
    "received_not_accepted": "(status = 3)::INTEGER",
    "received_withdrawn": "(status = 7)::INTEGER",
    "received_stopped": "(status = 8)::INTEGER",
}
_ON_TIME_DAY = "(due_at IS NULL OR end_at::DATE <= due_at::DATE)"
_ON_TIME_TS = "(due_at IS NULL OR end_at <= due_at)"
_RESOLVED_SQL = {
    "resolved": "1",
    "resolved_on_time_day": f"{_ON_TIME_DAY}::INTEGER",
    "resolved_on_time_ts": f"{_ON_TIME_TS}::INTEGER",
    "resolved_early": "coalesce(end_at::DATE < due_at::DATE, false)::INTEGER",
    "resolved_e_result": "coalesce(e_result, false)::INTEGER",
    "resolved_satisfied_day": f"({_ON_TIME_DAY} AND {_DISSATISFIED})::INTEGER",
    "resolved_satisfied_ts": f"({_ON_TIME_TS} AND {_DISSATISFIED})::INTEGER",
    "resolved_days": "date_diff('day', received_at::DATE, end_at::DATE)",
    "resolved_no_due": "(due_at IS NULL)::INTEGER",
}


def _select(day_sql: str, values: dict[str, str]) -> str:
    measures = ", ".join(f"{values.get(m, '0')} AS {m}" for m in DAILY_MEASURES)
    return f"SELECT {day_sql} AS day, {_DIMS}, {measures}"


_SUMS = ", ".join(f"sum({m})::{'BIGINT' if m == 'resolved_days' else 'INTEGER'} AS {m}" for m in DAILY_MEASURES)
_DAILY_SQL = f"""
INSERT INTO kpi_daily
SELECT day, {_DIMS}, {_SUMS}
FROM (
    {_select("received_at::DATE", _RECEIVED_SQL)}
    FROM dossiers WHERE received_at IS NOT NULL
    UNION ALL
    {_select("end_at::DATE", _RESOLVED_SQL)}
    FROM (SELECT *, coalesce(finished_at, returned_at) AS end_at FROM dossiers WHERE {_RESOLVED})
    WHERE end_at IS NOT NULL
)
GROUP BY day, {_DIMS}
ORDER BY day
"""

_MONTHLY_SQL = f"""
INSERT INTO kpi_monthly
SELECT date_trunc('month', day)::DATE AS month, {_DIMS}, {_SUMS}
FROM kpi_daily
GROUP BY month, {_DIMS}
ORDER BY month
"""

# Every dossier's in-progress intervals [start, stop): stop is the later of its received and end dates (NULL:
# open-ended), so an interval is empty when the dossier ended on or before the day it was received.
_EVENT_FIELDS = OPEN_MEASURES


def _event(day_sql: str, **values: str) -> str:
    return "{" + ", ".join([f"'day': {day_sql}"] + [f"'{m}': {values.get(m, '0')}" for m in _EVENT_FIELDS]) + "}"


_DELTAS_SQL = f"""
INSERT INTO kpi_open_deltas
WITH base AS (
    SELECT {_DIMS}, received_at::DATE AS r,
           (CASE WHEN {_TERMINAL} THEN coalesce(finished_at, returned_at) END)::DATE AS e,
           due_at::DATE AS due, due_at IS NULL AS no_due, {_TERMINAL} AS term,
           status = 5 AND coalesce(supplement_count, 0) > 1 AS waiting
    FROM dossiers
    WHERE received_at IS NOT NULL
),
intervals AS (
    SELECT *, stop IS NULL OR r < stop AS is_open,
           od IS NOT NULL AND (stop IS NULL OR od < stop) AS is_od,
           ots IS NOT NULL AND (stop IS NULL OR ots < stop) AS is_ots
    FROM (
        SELECT *, CASE WHEN e IS NOT NULL THEN greatest(r, e) END AS stop,
               CASE WHEN waiting THEN r WHEN due IS NOT NULL THEN greatest(r, due + 1) END AS od,
               CASE WHEN waiting THEN r WHEN due IS NOT NULL THEN greatest(r, due) END AS ots
        FROM base
    )
),
events AS (
    SELECT {_DIMS}, unnest([
        {_event("CASE WHEN is_open THEN r END", open="1", overdue_day="(is_od AND od = r)::INTEGER",
                overdue_ts="(is_ots AND ots = r)::INTEGER", open_no_due="no_due::INTEGER",
                open_terminal="term::INTEGER")},
        {_event("CASE WHEN is_od AND od > r THEN od END", overdue_day="1")},
        {_event("CASE WHEN is_ots AND ots > r THEN ots END", overdue_ts="1")},
        {_event("CASE WHEN is_open THEN stop END", open="-1", overdue_day="-(is_od::INTEGER)",
                overdue_ts="-(is_ots::INTEGER)", open_no_due="-(no_due::INTEGER)",
                open_terminal="-(term::INTEGER)")}
    ], recursive := true)
    FROM intervals
    WHERE is_open
)
SELECT day, {_DIMS}, {", ".join(f"sum({m})::INTEGER AS {m}" for m in OPEN_MEASURES)}
FROM events
WHERE day IS NOT NULL
GROUP BY day, {_DIMS}
HAVING {" OR ".join(f"sum({m}) <> 0" for m in OPEN_MEASURES)}
ORDER BY day
"""

# Running totals per dimension combination at the month ends where it changes, each valid until the month
# before its next change (or the last month end), expanded to every month end of that span.
_SNAPSHOTS_SQL = f"""
INSERT INTO kpi_open_snapshots
WITH monthly AS (
    SELECT last_day(day) AS month_end, {_DIMS}, {", ".join(f"sum({m}) AS {m}" for m in OPEN_MEASURES)}
    FROM kpi_open_deltas
    WHERE day <= $last_month_end
    GROUP BY month_end, {_DIMS}
),
running AS (
    SELECT month_end, {_DIMS},
           {", ".join(f"sum({m}) OVER w AS {m}" for m in OPEN_MEASURES)},
           lead(month_end) OVER w AS next_month_end
    FROM monthly
    WINDOW w AS (PARTITION BY {_DIMS} ORDER BY month_end ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
kept AS (
    SELECT * FROM running WHERE {" OR ".join(f"{m} <> 0" for m in OPEN_MEASURES)}
)
SELECT last_day(m)::DATE AS month_end, {_DIMS}, {", ".join(f"{m}::INTEGER" for m in OPEN_MEASURES)}
FROM kept, unnest(range(date_trunc('month', month_end),
                        coalesce(date_trunc('month', next_month_end), date_trunc('month', $last_month_end::DATE)
                                 + INTERVAL 1 MONTH),
                        INTERVAL 1 MONTH)) AS months(m)
ORDER BY month_end
"""


def refresh_aggregates(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Rebuild every aggregate table from `dossiers` (DELETE + INSERT, rows ordered by day so that the engine's
    day filters skip whole row groups) and record the build in `aggregate_state`. Runs in the caller's
    transaction when there is one. Returns the row count of each table and the seconds the rebuild took."""
    started = time.perf_counter()
    for table in (*TABLES, "aggregate_state"):
        con.execute(f"DELETE FROM {table}")
    first, last, count = con.execute(
        "SELECT last_day(min(received_at)::DATE), last_day(max(received_at)::DATE), count(*) FROM dossiers"
    ).fetchone()
    con.execute(_DAILY_SQL)
    con.execute(_MONTHLY_SQL)
    con.execute(_DELTAS_SQL)
    if last is not None:
        con.execute(_SNAPSHOTS_SQL, {"last_month_end": last})
    con.execute("INSERT INTO aggregate_state VALUES (now()::TIMESTAMP, $count, $first, $last)",
                {"count": count, "first": first, "last": last})
    sizes = {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
    return {**sizes, "seconds": time.perf_counter() - started}


class AggregateState:
    """What `aggregate_state` says of a built store: the month ends the snapshots cover (None when empty)."""

    def __init__(self, first_month_end: date | None, last_month_end: date | None) -> None:
        self.first_month_end = first_month_end
        self.last_month_end = last_month_end

    def snapshot_before(self, day: date) -> date | None:
        """The month end whose snapshot the count at `day` starts from: the last month end <= day, but no later
        than the last snapshot; None when there is no snapshot that early (then every delta up to day counts)."""
        if self.first_month_end is None or self.last_month_end is None:
            return None
        month_end = day if (day + timedelta(days=1)).day == 1 else day.replace(day=1) - timedelta(days=1)
        month_end = min(month_end, self.last_month_end)
        return month_end if month_end >= self.first_month_end else None


def aggregate_state(con: duckdb.DuckDBPyConnection) -> AggregateState | None:
    """The recorded build if the aggregate tables are built and match the dossiers (same count), else None."""
    try:
        row = con.execute(
            "SELECT first_month_end, last_month_end, dossiers = (SELECT count(*) FROM dossiers) "
            "FROM aggregate_state"
        ).fetchone()
    except duckdb.Error:  # a database from before these tables, opened read-only
        return None
    if row is None or not row[2]:
        return None
    return AggregateState(row[0], row[1])


def ensure_aggregates(con: duckdb.DuckDBPyConnection) -> AggregateState | None:
    """The aggregate state, building the tables first when they were never built (or no longer match the
    dossier count, after a write outside the importer). None when they cannot be built (a read-only connection
    or a concurrent build): the caller then computes from `dossiers`."""
    state = aggregate_state(con)
    if state is not None:
        return state
    cur = con.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            refresh_aggregates(cur)
            cur.execute("COMMIT")
        except duckdb.Error:
            cur.execute("ROLLBACK")
            return None
    except duckdb.Error:  # read-only database, missing tables
        return None
    finally:
        cur.close()
    return aggregate_state(con)


__all__ = ["DAILY_MEASURES", "DIMENSION_COLUMNS", "OPEN_MEASURES", "TABLES", "AggregateState",
           "aggregate_state", "ensure_aggregates", "refresh_aggregates"]
