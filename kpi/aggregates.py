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

# kpi_daily: every dossier counts on its received day and, when resolved, on its end day (`res`); the measures
# are counts of those rows with a condition.
_END_AT = "coalesce(finished_at, returned_at)"
_ON_TIME_DAY = "(due_at IS NULL OR end_at::DATE <= due_at::DATE)"
_ON_TIME_TS = "(due_at IS NULL OR end_at <= due_at)"
_DAILY_MEASURE_SQL = {
    "received": "NOT res",
    "received_fee": "NOT res AND fee_vnd > 0",
    "received_paid_online": "NOT res AND fee_vnd > 0 AND paid_online",
    "received_digitized": "NOT res AND digitized",
    "received_not_accepted": "NOT res AND status = 3",
    "received_withdrawn": "NOT res AND status = 7",
    "received_stopped": "NOT res AND status = 8",
    "resolved": "res",
    "resolved_on_time_day": f"res AND {_ON_TIME_DAY}",
    "resolved_on_time_ts": f"res AND {_ON_TIME_TS}",
    "resolved_early": "res AND end_at::DATE < due_at::DATE",
    "resolved_e_result": "res AND e_result",
    "resolved_satisfied_day": f"res AND {_ON_TIME_DAY} AND {_DISSATISFIED}",
    "resolved_satisfied_ts": f"res AND {_ON_TIME_TS} AND {_DISSATISFIED}",
    "resolved_days": None,  # a sum, below
    "resolved_no_due": "res AND due_at IS NULL",
}
_DAILY_COUNTS = ", ".join(
    f"count(*) FILTER (WHERE {sql})::INTEGER AS {name}" if sql else
    "coalesce(sum(date_diff('day', received_at::DATE, end_at::DATE)) FILTER (WHERE res), 0)::BIGINT "
    "AS resolved_days"
    for name, sql in _DAILY_MEASURE_SQL.items()
)
_DAILY_SQL = f"""
INSERT INTO kpi_daily
SELECT day, {_DIMS}, {_DAILY_COUNTS}
FROM (
    SELECT received_at::DATE AS day, false AS res, NULL::TIMESTAMP AS end_at, *
    FROM dossiers WHERE received_at IS NOT NULL
    UNION ALL
    SELECT end_at::DATE AS day, true AS res, *
    FROM (SELECT {_END_AT} AS end_at, * FROM dossiers WHERE {_RESOLVED})
    WHERE end_at IS NOT NULL
)
GROUP BY day, {_DIMS}
ORDER BY day
"""

_SUMS = ", ".join(f"sum({m})::{'BIGINT' if m == 'resolved_days' else 'INTEGER'} AS {m}" for m in DAILY_MEASURES)
_MONTHLY_SQL = f"""
INSERT INTO kpi_monthly
SELECT date_trunc('month', day)::DATE AS month, {_DIMS}, {_SUMS}
FROM kpi_daily
GROUP BY month, {_DIMS}
ORDER BY month
"""

# Every dossier's in-progress intervals [start, stop): stop is the later of its received and end dates (NULL:
# open-ended), so an interval is empty when the dossier ended on or before the day it was received. `od`/`ots`
# start its overdue intervals (by date: the day after the due date; by timestamp: the due date; waiting for a
# supplement: at once).
_INTERVALS_SQL = f"""
base AS (
    SELECT {_DIMS}, received_at::DATE AS r,
           (CASE WHEN {_TERMINAL} THEN {_END_AT} END)::DATE AS e,
           due_at::DATE AS due, due_at IS NULL AS no_due, {_TERMINAL} AS term,
           status = 5 AND coalesce(supplement_count, 0) > 1 AS waiting
    FROM dossiers
    WHERE received_at IS NOT NULL
),
intervals AS (
    SELECT *, od IS NOT NULL AND (stop IS NULL OR od < stop) AS is_od,
           ots IS NOT NULL AND (stop IS NULL OR ots < stop) AS is_ots
    FROM (
        SELECT *, CASE WHEN e IS NOT NULL THEN greatest(r, e) END AS stop,
               CASE WHEN waiting THEN r WHEN due IS NOT NULL THEN greatest(r, due + 1) END AS od,
               CASE WHEN waiting THEN r WHEN due IS NOT NULL THEN greatest(r, due) END AS ots
        FROM base
    )
    WHERE stop IS NULL OR r < stop  -- a dossier never in progress has no interval
)"""


def _event(day_sql: str, **values: str) -> str:
    return "{" + ", ".join([f"'day': {day_sql}"] + [f"'{m}': {values.get(m, '0')}" for m in OPEN_MEASURES]) + "}"


_DELTAS_SQL = f"""
INSERT INTO kpi_open_deltas
WITH {_INTERVALS_SQL},
events AS (
    SELECT {_DIMS}, unnest([
        {_event("r", open="1", overdue_day="(is_od AND od = r)::INTEGER", overdue_ts="(is_ots AND ots = r)::INTEGER",
                open_no_due="no_due::INTEGER", open_terminal="term::INTEGER")},
        {_event("CASE WHEN is_od AND od > r THEN od END", overdue_day="1")},
        {_event("CASE WHEN is_ots AND ots > r THEN ots END", overdue_ts="1")},
        {_event("stop", open="-1", overdue_day="-(is_od::INTEGER)", overdue_ts="-(is_ots::INTEGER)",
                open_no_due="-(no_due::INTEGER)", open_terminal="-(term::INTEGER)")}
    ], recursive := true)
    FROM intervals
)
SELECT day, {_DIMS}, {", ".join(f"sum({m})::INTEGER AS {m}" for m in OPEN_MEASURES)}
FROM events
WHERE day IS NOT NULL
GROUP BY day, {_DIMS}
HAVING {" OR ".join(f"sum({m}) <> 0" for m in OPEN_MEASURES)}
ORDER BY day
"""

# The month ends inside every dossier's interval, up to the last snapshot ($last_month_end): the counts there are
# the running totals of the deltas (a test checks it), computed straight from the intervals.
_SNAPSHOTS_SQL = f"""
INSERT INTO kpi_open_snapshots
WITH {_INTERVALS_SQL},
spans AS (
    SELECT *, least(coalesce(stop - 1, $last_month_end::DATE), $last_month_end::DATE) AS last_open
    FROM intervals
),
points AS (
    SELECT {_DIMS}, od, ots, no_due, term,
           last_day(unnest(range(date_trunc('month', r), date_trunc('month', last_open + 1), INTERVAL 1 MONTH)))::DATE
               AS month_end
    FROM spans
    WHERE last_day(r) <= last_open
)
SELECT month_end, {_DIMS}, count(*)::INTEGER AS open,
       count(*) FILTER (WHERE od <= month_end)::INTEGER AS overdue_day,
       count(*) FILTER (WHERE ots <= month_end)::INTEGER AS overdue_ts,
       count(*) FILTER (WHERE no_due)::INTEGER AS open_no_due,
       count(*) FILTER (WHERE term)::INTEGER AS open_terminal
FROM points
GROUP BY month_end, {_DIMS}
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
