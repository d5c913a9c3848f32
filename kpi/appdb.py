"""The app-state database: accounts and the audit log, in a small DuckDB file beside the dossier store.

The store is written by whole versions (kpi.db `writing`: copy, write, rename), far too heavy for a login
event, so who may log in and what they did live in `<store stem>.access.duckdb` instead. DuckDB lets one
process at a time open a file read-write, so nobody keeps it open: every read and write is one short
`opened` block under a lock file, and the dashboard and a CLI command take turns instead of colliding.
Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from kpi.db import exclusive

LOCK_TIMEOUT_S = 10.0  # every holder is short (a login, one audit row), so waiting longer means something is stuck

# kpi.accounts and kpi.audit keep their tables here. CREATE ... IF NOT EXISTS: applied on every open, so a new
# file is ready at once and an existing one is left as it is.
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name          VARCHAR PRIMARY KEY,     -- an official's e-mail (kind 'user') or an identity-provider group
    kind          VARCHAR NOT NULL CHECK (kind IN ('user', 'group')),
    role          VARCHAR NOT NULL CHECK (role IN ('admin', 'province', 'unit')),
    units         VARCHAR[] NOT NULL,      -- as named in the data; role 'unit' only
    password_hash VARCHAR,                 -- argon2id; NULL for single-sign-on-only accounts and groups
    disabled      BOOLEAN NOT NULL DEFAULT false,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    created_by    VARCHAR NOT NULL,
    last_login_at TIMESTAMP
);

CREATE SEQUENCE IF NOT EXISTS audit_log_id;
CREATE TABLE IF NOT EXISTS audit_log (
    id       BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id'),
    "at"     TIMESTAMP NOT NULL,           -- quoted: AT is a keyword in DuckDB
    actor    VARCHAR NOT NULL,             -- an official's e-mail, or cli:<OS login> for the command line
    role     VARCHAR NOT NULL,
    action   VARCHAR NOT NULL,             -- kpi.audit.ACTIONS
    target   VARCHAR NOT NULL,
    scope    VARCHAR NOT NULL,
    outcome  VARCHAR NOT NULL,             -- kpi.audit.OUTCOMES
    detail   VARCHAR                       -- JSON text
);
"""


class AppDbBusy(RuntimeError):
    """Another process held the app database's lock for longer than the caller would wait."""


def app_db_path(store_path: str | Path) -> Path:
    """The app database beside the store: data/egov_kpi.duckdb -> data/egov_kpi.access.duckdb."""
    store_path = Path(store_path)
    return store_path.with_name(f"{store_path.stem}.access.duckdb")


def lock_path(path: str | Path) -> Path:
    """The lock file beside the app database that serialises every access to it."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def opened(path: str | Path, *, timeout: float = LOCK_TIMEOUT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the app database at `path` (created with its tables when missing), in one
    transaction: committed when the block ends, rolled back when it raises. Waits for the lock up to `timeout`
    seconds, then raises AppDbBusy. Keep the block short: everyone else waits for it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(lock_path(path), timeout, lambda: AppDbBusy(
            f"{path}: cơ sở dữ liệu tài khoản và nhật ký đang bận quá {timeout:.0f} giây "
            f"(the accounts and audit database has been busy for over {timeout:.0f} s)"), poll=0.02):
        con = duckdb.connect(str(path))
        try:
            con.execute(SCHEMA)
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()
