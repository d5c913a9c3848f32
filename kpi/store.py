"""What the store holds: overview queries for the first screen and the import history.

Every function takes an open connection (a cursor per call is the caller's choice) and returns
pandas frames with canonical column names; display labels are the UI's business.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from kpi.db import SAMPLE_DIR, dossier_count
from kpi.importer import ImportResult, ingest_file


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Dossier count, received date range, unit count, import count and the last import time."""
    row = con.execute(
        "SELECT count(*), min(received_at), max(received_at), count(DISTINCT agency_name), "
        "(SELECT count(*) FROM imports), (SELECT max(finished_at) FROM imports) FROM dossiers"
    ).fetchone()
    keys = ("dossiers", "first_received_at", "last_received_at", "agencies", "imports", "last_import_at")
    return dict(zip(keys, row, strict=True))


def dossiers_by_month(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Dossiers received per month and channel: month, channel, dossiers."""
    return con.execute(
        "SELECT date_trunc('month', received_at)::DATE AS month, channel, count(*) AS dossiers "
        "FROM dossiers GROUP BY ALL ORDER BY month, channel"
    ).df()


def dossiers_by_unit(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pd.DataFrame:
    """Dossiers per receiving agency with its level, share resolved and the period it covers."""
    return con.execute(
        "SELECT coalesce(agency_name, agency_code, '?') AS unit, agency_level, count(*) AS dossiers, "
        "count(*) FILTER (WHERE status IN (9, 10)) AS resolved, min(received_at)::DATE AS first_received, "
        "max(received_at)::DATE AS last_received FROM dossiers GROUP BY ALL ORDER BY dossiers DESC LIMIT $limit",
        {"limit": limit},
    ).df()


def import_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every import, newest first, with its counts."""
    return con.execute(
        "SELECT import_id, file_name, file_format, encoding, delimiter, sheet_name, header_row, started_at, "
        "finished_at, rows_read, inserted, updated, unchanged, rejected, warnings, skipped, file_sha256 "
        "FROM imports ORDER BY import_id DESC"
    ).df()


def rejection_reasons(con: duckdb.DuckDBPyConnection, import_id: int | None = None) -> pd.DataFrame:
    """Rejected rows and warnings grouped by column and reason, for one import or all."""
    return con.execute(
        "SELECT kind, column_name, reason, count(*) AS rows, min(row_number) AS first_row FROM ("
        "SELECT 'rejected' AS kind, * FROM rejected_rows UNION ALL SELECT 'warning' AS kind, * FROM import_warnings) "
        "WHERE $import_id IS NULL OR import_id = $import_id GROUP BY ALL ORDER BY kind, rows DESC",
        {"import_id": import_id},
    ).df()


def problem_rows(con: duckdb.DuckDBPyConnection, import_id: int, limit: int = 1000) -> pd.DataFrame:
    """The rejected rows and warnings of one import, row by row, in file order."""
    return con.execute(
        "SELECT 'rejected' AS kind, row_number, column_name, header, value, reason FROM rejected_rows "
        "WHERE import_id = $id UNION ALL SELECT 'warning', row_number, column_name, header, value, reason "
        "FROM import_warnings WHERE import_id = $id ORDER BY row_number, kind LIMIT $limit",
        {"id": import_id, "limit": limit},
    ).df()


def sample_files(folder: Path | None = None) -> list[Path]:
    """The bundled sample exports in import order (their names sort chronologically)."""
    folder = folder or SAMPLE_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*") if p.is_file() and not p.name.startswith(".")
                  and p.name.lower().endswith((".csv", ".csv.gz", ".xlsx", ".txt")))


def load_sample_if_empty(
    con: duckdb.DuckDBPyConnection,
    folder: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[ImportResult]:
    """Fill an empty store with the bundled sample (first start); a store with data is left alone."""
    if dossier_count(con) > 0:
        return []
    files = sample_files(folder)
    results = []
    for index, path in enumerate(files):
        if progress:
            progress(index, len(files), path.name)
        results.append(ingest_file(con, path))
    return results
