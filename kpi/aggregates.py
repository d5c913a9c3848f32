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
after more than one supplement request; open_terminal = in progress with a terminal status and no end date
(a terminal dossier whose end date is after t is in progress at t, but its data is complete).

`AGGREGATES_DEFINITION` numbers what the tables hold: a store built under another number is rebuilt on first
use (`aggregate_state` does not accept it), so a change of these rules never mixes with tables built before it.

Every table is a sum over dossiers, so the tables of a store are the sum of the contributions of its dossiers,
computed by one SQL per table over any relation of dossier rows (`_daily_sql`, `_deltas_sql`, ... with a `source`).
The importer keeps them current in its per-file transaction (a failed import leaves them as they were): before
its write, `capture_changes` copies the stored versions it will replace and the versions it will write; after it,
`update_aggregates` computes the contributions of the new versions with sign +1 and of the old ones with sign -1,
summed per key, and adds them to the tables (MERGE INTO: keys matched with NULL dimensions equal, new keys
inserted, rows whose measures all became 0 deleted). When later month ends appear, their snapshots are first
extended from the last one plus the deltas after it. `refresh_aggregates` rebuilds everything from `dossiers`
instead: for a file that changes more than `REBUILD_SHARE` of the store, and for tables that do not match the
dossiers. `ensure_aggregates` is what the engine calls: it builds the tables once in a database that never had
them (an older file), and says whether they can be used.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import duckdb

from kpi.fields import RESOLVED_STATUSES, TERMINAL_STATUSES

DIMENSION_COLUMNS = ("province", "district", "commune", "agency_name", "agency_level", "sector", "procedure_code",
                     "channel", "service_level")
# kpi_daily / kpi_monthly measures: received on the day (received_at), resolved on the day (end date).
RECEIVED_MEASURES = ("received", "received_fee", "received_paid_online", "received_digitized",
                     "received_not_accepted", "received_withdrawn", "received_stopped")
RESOLVED_MEASURES = ("resolved", "resolved_on_time_day", "resolved_on_time_ts", "resolved_early",
                     "resolved_e_result", "resolved_satisfied_day", "resolved_satisfied_ts", "resolved_days",
                     "resolved_no_due")
DAILY_MEASURES = RECEIVED_MEASURES + RESOLVED_MEASURES
OPEN_MEASURES = ("open", "overdue_day", "overdue_ts", "open_no_due", "open_terminal")
# The rules the tables are built under (see the module docstring); 2: open_terminal counts only terminal
# dossiers without an end date; 3: no agency_code dimension (units are scoped and grouped by name; the code, near
# 1:1 with the name, cost 2.7 B per dossier at 10 M).
AGGREGATES_DEFINITION = 3
RETIRED_COLUMNS = ("agency_code",)  # dimension columns of earlier definitions, dropped when a store is rebuilt
TABLES = ("kpi_daily", "kpi_monthly", "kpi_open_deltas", "kpi_open_snapshots")

_DIMS = ", ".join(DIMENSION_COLUMNS)
_TERMINAL = f"status IN {TERMINAL_STATUSES}"
_RESOLVED = f"status IN {RESOLVED_STATUSES}"
_DISSATISFIED = "rating IS DISTINCT FROM 'dissatisfied'"

# Contributions of a relation of dossier rows (`source`, an SQL relation with the `INPUT_COLUMNS`): the whole
# `dossiers` table for a rebuild, or the rows an import changed with a `sign` column (+1 for the new versions, -1
# for the versions they replaced) for an incremental update (`update_aggregates`). One definition for both:
# signed, every count is a sum of signs (all-zero rows are left out when the changes are applied).


def _count(condition: str, signed: bool) -> str:
    return (f"coalesce(sum(sign) FILTER (WHERE {condition}), 0)" if signed
            else f"count(*) FILTER (WHERE {condition})")


def _nonzero(measures: tuple[str, ...], aggregate: str = "{}") -> str:
    return " OR ".join(f"{aggregate.format(m)} <> 0" for m in measures)


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


def _daily_sql(source: str, signed: bool) -> str:
    """SELECT day, dimensions, measures: the kpi_daily rows of `source`'s dossiers."""
    days = "date_diff('day', received_at::DATE, end_at::DATE)" + (" * sign" if signed else "")
    counts = ", ".join(
        f"{_count(sql, signed)}::INTEGER AS {name}" if sql else
        f"coalesce(sum({days}) FILTER (WHERE res), 0)::BIGINT AS resolved_days"
        for name, sql in _DAILY_MEASURE_SQL.items()
    )
    return f"""
SELECT day, {_DIMS}, {counts}
FROM (
    SELECT received_at::DATE AS day, false AS res, NULL::TIMESTAMP AS end_at, *
    FROM {source} WHERE received_at IS NOT NULL
    UNION ALL
    SELECT end_at::DATE AS day, true AS res, *
    FROM (SELECT {_END_AT} AS end_at, * FROM {source} WHERE {_RESOLVED})
    WHERE end_at IS NOT NULL
)
GROUP BY day, {_DIMS}
"""



def _monthly_sql(daily: str) -> str:
    """SELECT month, dimensions, measures: kpi_daily rows (`daily`) summed per month."""
    sums = ", ".join(f"sum({m})::{'BIGINT' if m == 'resolved_days' else 'INTEGER'} AS {m}" for m in DAILY_MEASURES)
    return f"""
SELECT date_trunc('month', day)::DATE AS month, {_DIMS}, {sums}
FROM {daily}
GROUP BY month, {_DIMS}
"""


# Every dossier's in-progress intervals [start, stop): stop is the later of its received and end dates (NULL:
# open-ended), so an interval is empty when the dossier ended on or before the day it was received. `od`/`ots`
# start its overdue intervals (by date: the day after the due date; by timestamp: the due date; waiting for a
# supplement: at once).
def _intervals_sql(source: str, signed: bool) -> str:
    return f"""
base AS (
    SELECT {_DIMS}, {"sign" if signed else "1 AS sign"}, received_at::DATE AS r,
           (CASE WHEN {_TERMINAL} THEN {_END_AT} END)::DATE AS e,
           due_at::DATE AS due, due_at IS NULL AS no_due, {_TERMINAL} AND {_END_AT} IS NULL AS term,
           status = 5 AND coalesce(supplement_count, 0) > 1 AS waiting
    FROM {source}
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


def _deltas_sql(source: str, signed: bool) -> str:
    """SELECT day, dimensions, changes: the kpi_open_deltas rows of `source`'s dossiers (all-zero rows left out)."""
    weight = " * sign" if signed else ""
    return f"""
WITH {_intervals_sql(source, signed)},
events AS (
    SELECT {_DIMS}, sign, unnest([
        {_event("r", open="1", overdue_day="(is_od AND od = r)::INTEGER", overdue_ts="(is_ots AND ots = r)::INTEGER",
                open_no_due="no_due::INTEGER", open_terminal="term::INTEGER")},
        {_event("CASE WHEN is_od AND od > r THEN od END", overdue_day="1")},
        {_event("CASE WHEN is_ots AND ots > r THEN ots END", overdue_ts="1")},
        {_event("stop", open="-1", overdue_day="-(is_od::INTEGER)", overdue_ts="-(is_ots::INTEGER)",
                open_no_due="-(no_due::INTEGER)", open_terminal="-(term::INTEGER)")}
    ], recursive := true)
    FROM intervals
)
SELECT day, {_DIMS}, {", ".join(f"sum({m}{weight})::INTEGER AS {m}" for m in OPEN_MEASURES)}
FROM events
WHERE day IS NOT NULL
GROUP BY day, {_DIMS}
HAVING {_nonzero(OPEN_MEASURES, "sum({}" + weight + ")")}
"""


# The month ends inside every dossier's interval, up to the last snapshot ($last_month_end): the counts there are
# the running totals of the deltas (a test checks it), computed straight from the intervals.
def _snapshots_sql(source: str, signed: bool) -> str:
    """SELECT month_end, dimensions, counts: the kpi_open_snapshots rows of `source`'s dossiers."""
    return f"""
WITH {_intervals_sql(source, signed)},
spans AS (
    SELECT *, least(coalesce(stop - 1, $last_month_end::DATE), $last_month_end::DATE) AS last_open
    FROM intervals
),
points AS (
    SELECT {_DIMS}, sign, od, ots, no_due, term,
           last_day(unnest(range(date_trunc('month', r), date_trunc('month', last_open + 1), INTERVAL 1 MONTH)))::DATE
               AS month_end
    FROM spans
    WHERE last_day(r) <= last_open
)
SELECT month_end, {_DIMS}, {_count("true", signed)}::INTEGER AS open,
       {_count("od <= month_end", signed)}::INTEGER AS overdue_day,
       {_count("ots <= month_end", signed)}::INTEGER AS overdue_ts,
       {_count("no_due", signed)}::INTEGER AS open_no_due,
       {_count("term", signed)}::INTEGER AS open_terminal
FROM points
GROUP BY month_end, {_DIMS}
"""


# The dossier columns the aggregates read: what an import captures of the rows it changes.
INPUT_COLUMNS = (*DIMENSION_COLUMNS, "received_at", "due_at", "finished_at", "returned_at", "status",
                 "supplement_count", "fee_vnd", "paid_online", "digitized", "e_result", "rating")
# An import that changes more than this share of the stored dossiers rebuilds the tables instead of updating them
# (README, performance: at 1 M, updating 40 % costs about half a rebuild, 60 % three quarters; a rebuild also
# writes the rows in day order again, which the engine's day filters prefer).
REBUILD_SHARE = 0.5
# The temp tables of the rows an import changes: the stored versions it replaces, the versions it writes.
OLD_ROWS, NEW_ROWS = "aggregate_old_rows", "aggregate_new_rows"
_KEYS = {"kpi_daily": "day", "kpi_monthly": "month", "kpi_open_deltas": "day", "kpi_open_snapshots": "month_end"}
_MEASURES = {"kpi_daily": DAILY_MEASURES, "kpi_monthly": DAILY_MEASURES, "kpi_open_deltas": OPEN_MEASURES,
             "kpi_open_snapshots": OPEN_MEASURES}


def empty_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty the aggregate tables and `aggregate_state` before they are filled again (a rebuild, a roll-up); a
    store built under an earlier definition also loses the retired dimension columns, so that the current
    definition's rows fit."""
    for table in (*TABLES, "aggregate_state"):
        con.execute(f"DELETE FROM {table}")
    for table in TABLES:
        for column in RETIRED_COLUMNS:
            con.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")


def refresh_aggregates(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Rebuild every aggregate table from `dossiers` (DELETE + INSERT, rows ordered by day so that the engine's
    day filters skip whole row groups) and record the build in `aggregate_state`. Runs in the caller's
    transaction when there is one. Returns the row count of each table and the seconds the rebuild took."""
    started = time.perf_counter()
    empty_tables(con)
    first, last, count = con.execute(
        "SELECT last_day(min(received_at)::DATE), last_day(max(received_at)::DATE), count(*) FROM dossiers"
    ).fetchone()
    con.execute(f"INSERT INTO kpi_daily {_daily_sql('dossiers', False)} ORDER BY day")
    con.execute(f"INSERT INTO kpi_monthly {_monthly_sql('kpi_daily')} ORDER BY month")
    con.execute(f"INSERT INTO kpi_open_deltas {_deltas_sql('dossiers', False)} ORDER BY day")
    if last is not None:
        con.execute(f"INSERT INTO kpi_open_snapshots {_snapshots_sql('dossiers', False)} ORDER BY month_end",
                    {"last_month_end": last})
    con.execute("INSERT INTO aggregate_state (built_at, dossiers, first_month_end, last_month_end, definition) "
                "VALUES (now()::TIMESTAMP, $count, $first, $last, $definition)",
                {"count": count, "first": first, "last": last, "definition": AGGREGATES_DEFINITION})
    sizes = {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
    return {**sizes, "seconds": time.perf_counter() - started}


def capture_changes(con: duckdb.DuckDBPyConnection, changes: int, old_rows_sql: str, new_rows_sql: str) -> bool:
    """Before a write that replaces the dossiers `old_rows_sql` selects and writes those `new_rows_sql` selects
    (`changes` of them, inserted or updated; both SELECT at least `INPUT_COLUMNS`): keep their columns the
    aggregates read in temp tables, for `update_aggregates` after the write, in the same transaction. Returns
    False, capturing nothing, when the tables will be rebuilt instead: they do not match the dossiers (never
    built, or written outside the importer), or the write changes more than `REBUILD_SHARE` of the store."""
    for table in (OLD_ROWS, NEW_ROWS):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")
    if aggregate_state(con) is None:
        return False
    row = con.execute("SELECT dossiers FROM aggregate_state").fetchone()
    if changes > REBUILD_SHARE * row[0]:
        return False
    columns = ", ".join(INPUT_COLUMNS)
    con.execute(f"CREATE TEMP TABLE {OLD_ROWS} AS SELECT {columns} FROM ({old_rows_sql})")
    con.execute(f"CREATE TEMP TABLE {NEW_ROWS} AS SELECT {columns} FROM ({new_rows_sql})")
    return True


def _captured(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name IN ($old, $new)",
        {"old": OLD_ROWS, "new": NEW_ROWS},
    ).fetchone()[0] == 2


def _merge_sql(table: str, changes: str) -> str:
    """Add the signed rows of `changes` to `table`: matching keys (NULL dimensions match NULL) are summed, and
    deleted when every measure becomes 0; new keys are inserted."""
    key, measures = _KEYS[table], _MEASURES[table]
    on = " AND ".join([f"t.{key} = c.{key}"] + [f"t.{d} IS NOT DISTINCT FROM c.{d}" for d in DIMENSION_COLUMNS])
    columns = (key, *DIMENSION_COLUMNS, *measures)
    return (
        f"MERGE INTO {table} t USING {changes} c ON {on} "
        f"WHEN MATCHED AND {' AND '.join(f't.{m} + c.{m} = 0' for m in measures)} THEN DELETE "
        f"WHEN MATCHED THEN UPDATE SET {', '.join(f'{m} = t.{m} + c.{m}' for m in measures)} "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(columns)}) VALUES ({', '.join(f'c.{c}' for c in columns)})"
    )


def update_aggregates(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """After a write to `dossiers`, in its transaction: bring the aggregate tables up to date, incrementally from
    the rows `capture_changes` kept (the contributions of the new versions minus those of the old ones, added to
    the tables), else by `refresh_aggregates`. Returns the changed rows per table (or the rebuilt table sizes),
    the seconds it took, and whether it was a rebuild."""
    if not _captured(con):
        return {**refresh_aggregates(con), "rebuilt": True}
    started = time.perf_counter()
    first, last = con.execute("SELECT first_month_end, last_month_end FROM aggregate_state").fetchone()
    new_first, new_last = con.execute(
        f"SELECT last_day(min(received_at)::DATE), last_day(max(received_at)::DATE) FROM {NEW_ROWS}").fetchone()
    first = min(d for d in (first, new_first) if d is not None) if (first or new_first) else None
    if last is not None and new_last is not None and new_last > last:
        # New month ends: their snapshots hold every stored dossier still in progress there, the running totals
        # of the deltas from the last snapshot on (before the changes, which are then added as to the others).
        extend_snapshots(con, last, new_last)
    last = max(d for d in (last, new_last) if d is not None) if (last or new_last) else None
    changes = "aggregate_changes"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {changes} AS SELECT *, 1 AS sign FROM {NEW_ROWS} "
                f"UNION ALL SELECT *, -1 AS sign FROM {OLD_ROWS}")
    selects = {"kpi_daily": (_daily_sql(changes, True), {}),
               "kpi_monthly": (_monthly_sql("aggregate_change_kpi_daily"), {}),
               "kpi_open_deltas": (_deltas_sql(changes, True), {})}
    if last is not None:
        selects["kpi_open_snapshots"] = (_snapshots_sql(changes, True), {"last_month_end": last})
    sizes = {}
    for table, (select, params) in selects.items():
        change_table = f"aggregate_change_{table}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {change_table} AS SELECT * FROM ({select}) "
                    f"WHERE {_nonzero(_MEASURES[table])}", params)
        sizes[table] = con.execute(f"SELECT count(*) FROM {change_table}").fetchone()[0]
    for table in selects:  # after the monthly changes were summed from the daily ones
        if sizes[table]:
            con.execute(_merge_sql(table, f"aggregate_change_{table}"))
    con.execute("UPDATE aggregate_state SET built_at = now()::TIMESTAMP, dossiers = (SELECT count(*) FROM dossiers), "
                "first_month_end = $first, last_month_end = $last", {"first": first, "last": last})
    for table in (OLD_ROWS, NEW_ROWS, changes, *(f"aggregate_change_{t}" for t in selects)):
        con.execute(f"DROP TABLE temp.main.{table}")
    return {**sizes, "seconds": time.perf_counter() - started, "rebuilt": False}


# Snapshots at the month ends after $last up to $new_last: the snapshot at $last plus the deltas after it (of the
# provinces $provinces only, when it is not NULL: a roll-up extends one export's rows among others').
_EXTEND_SNAPSHOTS_SQL = f"""
INSERT INTO kpi_open_snapshots
WITH ends AS (
    SELECT last_day(unnest(range($last::DATE + 1, $new_last::DATE + 1, INTERVAL 1 MONTH)))::DATE AS month_end
),
parts AS (
    SELECT e.month_end, {_DIMS}, {", ".join(OPEN_MEASURES)}
    FROM kpi_open_snapshots s, ends e WHERE s.month_end = $last AND {{provinces}}
    UNION ALL
    SELECT e.month_end, {_DIMS}, {", ".join(OPEN_MEASURES)}
    FROM kpi_open_deltas d JOIN ends e ON d.day <= e.month_end WHERE d.day > $last AND {{provinces}}
)
SELECT month_end, {_DIMS}, {", ".join(f"sum({m})::INTEGER AS {m}" for m in OPEN_MEASURES)}
FROM parts
GROUP BY month_end, {_DIMS}
HAVING {_nonzero(OPEN_MEASURES, "sum({})")}
ORDER BY month_end
"""


def extend_snapshots(con: duckdb.DuckDBPyConnection, last: date, new_last: date,
                     provinces: list[str] | None = None) -> None:
    """Add the snapshots of the month ends after `last` up to `new_last` (those of `provinces` only, if given),
    computed from the snapshot at `last` and the deltas after it."""
    params: dict[str, object] = {"last": last, "new_last": new_last}
    where = "true"
    if provinces is not None:
        where, params["provinces"] = "list_contains($provinces::VARCHAR[], province)", list(provinces)
    con.execute(_EXTEND_SNAPSHOTS_SQL.format(provinces=where), params)


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


def _has_rolled_up_column(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = "
                       "'aggregate_state' AND column_name = 'rolled_up'").fetchone()[0] > 0


def is_rolled_up(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store is a national roll-up (kpi.rollup): aggregates only, no dossier to import into or list."""
    if not _has_rolled_up_column(con):  # a store from before the column, opened read-only
        return False
    return bool(con.execute("SELECT coalesce(bool_or(rolled_up), false) FROM aggregate_state").fetchone()[0])


def aggregate_state(con: duckdb.DuckDBPyConnection) -> AggregateState | None:
    """The recorded build if the aggregate tables are built under the current AGGREGATES_DEFINITION and match
    the dossiers (same count) or are a national roll-up (kpi.rollup: no dossier behind them), else None."""
    try:
        rolled_up = "coalesce(rolled_up, false)" if _has_rolled_up_column(con) else "false"
        row = con.execute(
            "SELECT first_month_end, last_month_end, (dossiers = (SELECT count(*) FROM dossiers) "
            f"OR {rolled_up}) AND definition IS NOT DISTINCT FROM $definition FROM aggregate_state",
            {"definition": AGGREGATES_DEFINITION},
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


__all__ = ["AGGREGATES_DEFINITION", "DAILY_MEASURES", "DIMENSION_COLUMNS", "INPUT_COLUMNS", "OPEN_MEASURES",
           "REBUILD_SHARE", "TABLES", "AggregateState", "aggregate_state", "capture_changes", "empty_tables",
           "ensure_aggregates",
           "extend_snapshots", "is_rolled_up", "refresh_aggregates", "update_aggregates"]
