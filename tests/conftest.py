"""Shared fixtures: a fresh store per test and tiny hand-made exports with Vietnamese headers."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import pytest

from kpi import db
from kpi.fields import FIELD_BY_NAME

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Tables an import writes about itself; every other table is the store proper.
BOOKKEEPING_TABLES = ("imports", "import_columns", "rejected_rows", "import_warnings")


def header_of(name: str) -> str:
    """The export header for a canonical field (its first alias), or the name itself for columns the
    product does not keep (personal data, unknown extras)."""
    field = FIELD_BY_NAME.get(name)
    return field.aliases[0] if field else name


def write_export(tmp_path: Path, rows: Iterable[Mapping[str, object]], name: str = "export.csv",
                 columns: Iterable[str] | None = None) -> Path:
    """A semicolon CSV (as Excel writes it in a Vietnamese locale) of `rows`, keyed by canonical field
    names. Columns are the union of the rows' keys in first-seen order unless `columns` is given; a
    missing or None value is an empty cell."""
    rows = list(rows)
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    columns = list(columns)
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([header_of(c) for c in columns])
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return path


def dossier(code: str, status: int | str = 4, received: str = "02/01/2024 08:00", **values: object) -> dict:
    """One export row with the required fields filled; `values` add or override canonical fields."""
    row: dict[str, object] = {
        "dossier_code": code,
        "procedure_code": "1.001234",
        "procedure_name": "Cấp giấy phép xây dựng",
        "channel": "Trực tuyến",
        "received_at": received,
        "due_at": "10/01/2024",
        "finished_at": None,
        "returned_at": None,
        "status": status,
    }
    row.update(values)
    return row


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
    ).fetchall()]


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """Every row of a table, in a stable order (all columns sorted, NULLs first)."""
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL NULLS FIRST").fetchall()


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """The full contents of every table of the store."""
    return {table: table_rows(con, table) for table in table_names(con)}


@pytest.fixture
def store() -> Iterable[duckdb.DuckDBPyConnection]:
    """A fresh in-memory store with the schema applied."""
    con = db.connect()
    yield con
    con.close()


@pytest.fixture(scope="module")
def scratch():
    """A store shared by a module's property tests, which empty and refill it per example; one thread,
    since a dozen rows would be dominated by thread start-up."""
    con = db.connect()
    con.execute("SET threads = 1")
    yield con
    con.close()


@pytest.fixture(scope="session")
def bundled_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of three bundled sample files (tests/browser.py's FIXTURE_SAMPLES), built once per test run;
    tests use a copy of it (`sample_db`)."""
    from browser import build_fixture_db

    return build_fixture_db(tmp_path_factory.mktemp("bundled") / "bundled.duckdb")


@pytest.fixture(scope="module")
def sample_db(bundled_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `bundled_store` for one test module, which may write to it (follow-ups, imports)."""
    copy = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    shutil.copyfile(bundled_store, copy)
    return copy
