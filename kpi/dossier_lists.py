"""Dossier lists behind the late counts: the dossiers resolved late in a period and those in progress and
overdue at its end, one page at a time.

Membership is the engine's own: the list query reads the `flags` CTE of `kpi.engine.dossier_states_sql`
(same end date, on-time and overdue rules, scope, filters and district/era check) and filters it with the
same predicates as the Biểu 06 counts `resolved_late` and `in_progress_overdue`, so a list's length is
always that count. Only the requested page leaves DuckDB (ORDER BY ... LIMIT/OFFSET, bound parameters).

days_late, in calendar days:

- resolved late: end date - due date. At least 1 by date; with on_time_by="timestamp" a dossier finished
  after its due time on the due date itself is late by 0 days.
- overdue in progress: period end - due date. At least 1 by date (0 in timestamp mode when due on the last
  day). A dossier waiting for supplement (status 5) after more than one request is overdue whatever its
  due date; when it has no due date or its due date is not yet past, its days_late is 0.

`finished_at` is the end date of a terminal dossier (finished_at, else returned_at). For a dossier in
progress at the period end it is empty, or a date after the period end when the dossier ended later.
The store holds no personal data, and no column here could carry any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from kpi.engine import OVERDUE_IN_PROGRESS_SQL, RESOLVED_LATE_SQL, Scope, dossier_states_sql
from kpi.periods import Period


@dataclass(frozen=True)
class ListKind:
    """A dossier list: `filter_sql` selects its rows from `flags`, `days_late_sql` is its days late;
    `count` is the name of the matching `kpi.engine.COUNTS` entry."""

    id: str
    label_vi: str
    label_en: str
    count: str
    filter_sql: str
    days_late_sql: str


LIST_KINDS: tuple[ListKind, ...] = (
    ListKind("resolved_late", "Hồ sơ giải quyết quá hạn", "Dossiers resolved late", "resolved_late",
             RESOLVED_LATE_SQL, "date_diff('day', due_at::DATE, end_day)"),
    ListKind("overdue_in_progress", "Hồ sơ đang giải quyết quá hạn", "Dossiers in progress, overdue",
             "in_progress_overdue", OVERDUE_IN_PROGRESS_SQL,
             "greatest(coalesce(date_diff('day', due_at::DATE, window_to), 0), 0)"),
)
LIST_KIND_BY_ID: dict[str, ListKind] = {k.id: k for k in LIST_KINDS}

LIST_COLUMNS = (
    "dossier_code", "procedure_code", "procedure_name", "sector", "agency_name", "district", "commune",
    "received_at", "due_at", "finished_at", "status", "days_late", "kind",
)
# Read from `dossiers` beside the state columns (status, due_at, end_at...) that every `flags` row has.
_DOSSIER_COLUMNS = ("dossier_code", "procedure_code", "procedure_name", "sector", "agency_name", "district",
                    "commune", "received_at")
_WINDOW = 0


def list_kind(kind: str) -> ListKind:
    """The list with this id; a clear error listing the known ids otherwise."""
    try:
        return LIST_KIND_BY_ID[kind]
    except KeyError:
        raise ValueError(f"unknown dossier list {kind!r}; known: {', '.join(LIST_KIND_BY_ID)}") from None


def _states(period: Period, where: Mapping[str, object] | None, scope: Scope | None,
            on_time_by: str) -> tuple[str, dict[str, object]]:
    return dossier_states_sql({_WINDOW: period}, columns=_DOSSIER_COLUMNS, period=period, where=where,
                              scope=scope, on_time_by=on_time_by)


def late_dossiers(con: duckdb.DuckDBPyConnection, period: Period, *, kind: str = "resolved_late",
                  where: Mapping[str, object] | None = None, scope: Scope | None = None,
                  on_time_by: str = "day", limit: int = 100, offset: int = 0) -> pd.DataFrame:
    """One page of a dossier list (columns LIST_COLUMNS), sorted by days_late descending, then received_at
    and dossier_code so that pages never overlap. An offset past the end gives an empty frame."""
    chosen = list_kind(kind)
    for name, value in (("limit", limit), ("offset", offset)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    states, params = _states(period, where, scope, on_time_by)
    sql = (
        f"{states}SELECT {', '.join(_DOSSIER_COLUMNS)}, due_at, end_at AS finished_at, status, "
        f"{chosen.days_late_sql} AS days_late, $kind AS kind\n"
        f"FROM flags WHERE wid = {_WINDOW} AND {chosen.filter_sql}\n"
        "ORDER BY days_late DESC, received_at, dossier_code\n"
        "LIMIT $limit OFFSET $offset"
    )
    params.update(kind=chosen.id, limit=limit, offset=offset)
    frame = con.cursor().execute(sql, params).df()
    frame["days_late"] = frame["days_late"].astype("int64")
    frame["status"] = frame["status"].astype("int64")
    return frame


def count_late_dossiers(con: duckdb.DuckDBPyConnection, period: Period, *, kind: str = "resolved_late",
                        where: Mapping[str, object] | None = None, scope: Scope | None = None,
                        on_time_by: str = "day") -> int:
    """How many dossiers the whole list holds: the engine's count of the same name for the same selection."""
    chosen = list_kind(kind)
    states, params = _states(period, where, scope, on_time_by)
    sql = f"{states}SELECT count(*) FROM flags WHERE wid = {_WINDOW} AND {chosen.filter_sql}"
    return int(con.cursor().execute(sql, params).fetchone()[0])


__all__ = ["LIST_COLUMNS", "LIST_KINDS", "ListKind", "count_late_dossiers", "late_dossiers", "list_kind"]
