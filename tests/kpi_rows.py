"""Hand-made dossiers for the KPI tests, inserted straight into a store with bound parameters."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from pathlib import Path

import duckdb

COLUMNS = (
    "dossier_code", "procedure_code", "sector", "agency_name", "agency_level", "province", "district", "commune",
    "channel", "service_level", "received_at", "due_at", "finished_at", "returned_at", "status",
    "supplement_count", "fee_vnd", "paid_online", "digitized", "e_result", "rating", "import_id",
)
_TIMES = ("received_at", "due_at", "finished_at", "returned_at")
_codes = itertools.count(1)


def _time(value: object) -> object:
    """"2024-05-10" or "2024-05-10 16:00" -> datetime; dates become midnight."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def row(received: str = "2024-05-10", status: int = 4, **values: object) -> dict[str, object]:
    """One dossier with the required fields filled (direct, offline, procedure 1.000001); `values` add or
    override canonical columns. `due`, `finished`, `returned` are short for the *_at columns."""
    for short in ("due", "finished", "returned"):
        if short in values:
            values[f"{short}_at"] = values.pop(short)
    record: dict[str, object] = {
        "dossier_code": f"T-{next(_codes):07d}", "procedure_code": "1.000001", "channel": "direct",
        "service_level": "offline", "received_at": received, "status": status, "import_id": 0,
    }
    record.update(values)
    unknown = set(record) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown columns {unknown}")
    return {c: _time(record.get(c)) if c in _TIMES else record.get(c) for c in COLUMNS}


def insert(con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]]) -> None:
    """Insert dossiers built by `row`, then rebuild the KPI aggregates as an import does (also after no rows,
    since a caller may have deleted dossiers before)."""
    from kpi.aggregates import refresh_aggregates

    if rows:
        one = "(" + ", ".join("?" for _ in COLUMNS) + ")"
        con.execute(f"INSERT INTO dossiers ({', '.join(COLUMNS)}) VALUES {', '.join(one for _ in rows)}",
                    [r[c] for r in rows for c in COLUMNS])
    refresh_aggregates(con)


def store_file(path: Path, rows: list[dict[str, object]]) -> Path:
    """A store file at `path` holding `rows` (inserted as `insert` does); for the tests that run pages on it."""
    from kpi import db

    con = db.connect(path)
    try:
        insert(con, list(rows))
    finally:
        con.close()
    return path


def small_store(rows: list[dict[str, object]] = ()) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory store holding `rows`; one thread, since a handful of rows would be dominated by
    thread start-up."""
    from kpi import db

    con = db.connect()
    con.execute("SET threads = 1")
    insert(con, list(rows))
    return con
