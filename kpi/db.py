"""Opening the store: the database path, the schema, connections.

Configuration is passed in; the environment is read only at the edge (`default_db_path`).
Nothing here runs at import time.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_ROOT / "data" / "egov_kpi.duckdb"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
DB_ENV = "EGOV_KPI_DB"


def default_db_path() -> Path:
    """The embedded database, unless `EGOV_KPI_DB` names another (CLI and dashboard alike)."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


def schema_sql() -> str:
    """The DDL of the store, kept as a .sql file inside the package."""
    return resources.files("kpi").joinpath("schema.sql").read_text(encoding="utf-8")


def connect(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create, when missing) the store at `path`, or in memory for ":memory:"."""
    target = ":memory:" if path is None else str(path)
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(target, read_only=read_only)
    if not read_only:
        con.execute(schema_sql())
    return con


def dossier_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many dossiers the store holds."""
    return con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
