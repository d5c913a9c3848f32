"""The audit log: who did what, when, under which scope, and how it ended, kept in the app database
(kpi.appdb) so that it survives restarts and can be shown when figures are questioned.

Only officials are recorded (their e-mails are the point of the log), never a citizen's personal data: a
target is a file name, a period, a unit or a KPI, not a dossier's applicant.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pandas as pd

from kpi import appdb

# What can be recorded. login / login_failed / lockout / logout: sign-in events (lockout: the failure that locked
# an account); import: a file imported; target_change, followup_change: the KPI targets and the meetings'
# follow-ups; download, report, pack: a CSV/Excel download, a report (Biểu 06, lists), the meeting pack;
# users_change: an account or group added, removed, its password set, disabled or enabled; refused: a request
# outside the caller's role or scope.
ACTIONS = ("login", "login_failed", "lockout", "logout", "import", "target_change", "followup_change", "download",
           "report", "pack", "users_change", "refused")
OUTCOMES = ("ok", "refused", "error")
COLUMNS = ("id", "at", "actor", "role", "action", "target", "scope", "outcome", "detail")
SELECTED = ", ".join(f'"{c}"' for c in COLUMNS)  # quoted: AT is a keyword in DuckDB
MAX_TEXT_CHARS = 1000  # a field is a name or a short description; anything longer is cut, not refused


def record(path: str | Path, *, actor: str, role: str, action: str, target: str = "", scope: str = "",
           outcome: str = "ok", detail: Mapping[str, object] | None = None, at: dt.datetime | None = None) -> int:
    """Append one event to the audit log of the app database at `path`; returns its id. `detail` is stored as
    JSON text. Raises ValueError for an action or outcome not in ACTIONS / OUTCOMES."""
    with appdb.opened(path) as con:
        return record_in(con, actor=actor, role=role, action=action, target=target, scope=scope, outcome=outcome,
                         detail=detail, at=at)


def record_in(con: duckdb.DuckDBPyConnection, *, actor: str, role: str, action: str, target: str = "",
              scope: str = "", outcome: str = "ok", detail: Mapping[str, object] | None = None,
              at: dt.datetime | None = None) -> int:
    """`record` inside an `appdb.opened` block, so that an event and the change it describes commit together."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(ACTIONS)}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
    values = {
        "at": at or dt.datetime.now(),
        "actor": _text(actor), "role": _text(role), "action": action, "target": _text(target),
        "scope": _text(scope), "outcome": outcome,
        "detail": None if detail is None else json.dumps(dict(detail), ensure_ascii=False, sort_keys=True, default=str),
    }
    return con.execute(
        'INSERT INTO audit_log ("at", actor, role, action, target, scope, outcome, detail) '
        "VALUES ($at, $actor, $role, $action, $target, $scope, $outcome, $detail) RETURNING id", values).fetchone()[0]


def events(path: str | Path, *, since: dt.date | dt.datetime | None = None,
           until: dt.date | dt.datetime | None = None, actor: str | None = None,
           action: str | Sequence[str] | None = None, outcome: str | Sequence[str] | None = None,
           limit: int | None = 1000) -> pd.DataFrame:
    """The audit log, newest first, with COLUMNS. Every filter is optional: `since`/`until` are inclusive (a
    date `until` means to the end of that day), `actor` matches part of the actor, ignoring case (what an admin
    types into a search box), `action`/`outcome` one value or several. `limit` None returns everything."""
    if isinstance(until, dt.date) and not isinstance(until, dt.datetime):
        until = dt.datetime.combine(until, dt.time.max)
    if isinstance(since, dt.date) and not isinstance(since, dt.datetime):
        since = dt.datetime.combine(since, dt.time.min)
    params = {
        "since": since, "until": until, "actor": actor or None,
        "actions": _values(action), "outcomes": _values(outcome),
        "limit": None if limit is None else int(limit),
    }
    with appdb.opened(path) as con:
        return con.execute(
            f"SELECT {SELECTED} FROM audit_log "
            'WHERE ($since IS NULL OR "at" >= $since) AND ($until IS NULL OR "at" <= $until) '
            "AND ($actor IS NULL OR contains(lower(actor), lower($actor))) "
            "AND ($actions IS NULL OR list_contains($actions, action)) "
            "AND ($outcomes IS NULL OR list_contains($outcomes, outcome)) "
            'ORDER BY "at" DESC, id DESC LIMIT $limit', params).df()


def _values(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _text(value: object) -> str:
    return ("" if value is None else str(value))[:MAX_TEXT_CHARS]
