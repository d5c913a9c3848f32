"""Opening the store: the database path, the schema, connections, and the one-writer-many-readers protocol
(`writing`, `StoreReader`) that lets the dashboard read while an import writes.

Configuration is passed in; the environment is read only at the edge (`default_db_path`).
Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
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
        _seconds_timestamps(con)
    return con


SECOND_COLUMNS = ("received_at", "due_at", "finished_at", "returned_at")


def _seconds_timestamps(con: duckdb.DuckDBPyConnection) -> None:
    """Convert a store from before the dossiers' times were kept to the second (TIMESTAMP_S, schema.sql): once,
    by the first writer that opens it. Values are truncated, as the importer does; when that changed any of them,
    the aggregate tables no longer match the dossiers and are rebuilt (`aggregate_state` is cleared)."""
    old = [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'dossiers' "
        "AND data_type = 'TIMESTAMP' AND list_contains($columns, column_name) ORDER BY column_index",
        {"columns": list(SECOND_COLUMNS)},
    ).fetchall()]
    if not old:
        return
    fractional = " OR ".join(f"{c} <> date_trunc('second', {c})" for c in old)
    changed = con.execute(f"SELECT count(*) FROM dossiers WHERE {fractional}").fetchone()[0]
    for column in old:  # names from the fixed tuple above, never from data
        con.execute(f"ALTER TABLE dossiers ALTER COLUMN {column} SET DATA TYPE TIMESTAMP_S "
                    f"USING date_trunc('second', {column})")
    if changed:
        con.execute("DELETE FROM aggregate_state")


def dossier_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many dossiers the store holds."""
    return con.execute("SELECT count(*) FROM dossiers").fetchone()[0]


# --- one writer, many readers ----------------------------------------------------------------------
#
# DuckDB lets one process open a database file for writing and no other process open it at all meanwhile, so a
# dashboard that kept the store open would lock the nightly `python -m kpi ingest` out (and the other way round).
# The store is therefore never written in place. A writer (`writing`: an import, the upload page, a follow-up)
# takes the store's lock file, copies the current version beside it, writes into the copy (each imported file in
# its own transaction, as ever), checkpoints it and puts it in place with one atomic rename. Readers
# (`StoreReader`) open the file read-only and keep reading the version they opened until they ask again; the
# next query after the rename opens the new version. A query therefore sees the old data or the new, never a
# half-imported store, and nobody waits for an import or gets "database is locked". The price is a copy of the
# file per write (about a second per gigabyte here) and twice its size on disk while a writer runs.

LOCK_TIMEOUT_S = 900.0  # how long a writer waits for another writer (a nightly import) to finish
MEMORY_ENV = "EGOV_KPI_WRITE_MEMORY"  # DuckDB's memory limit for a writer, e.g. "2GB" (beyond it, it spills to disk)
DEFAULT_WRITE_MEMORY = "2GB"


def write_memory_limit() -> str:
    """The memory a writer's DuckDB may hold before it spills to disk: `EGOV_KPI_WRITE_MEMORY`, else 2 GB. DuckDB
    would otherwise take up to 80 % of the machine: a 10 M-row import then grew past 12 GB, and was killed when
    other processes needed memory. The dashboard's readers keep DuckDB's default."""
    return os.environ.get(MEMORY_ENV) or DEFAULT_WRITE_MEMORY


class StoreBusy(RuntimeError):
    """Another writer held the store's lock for longer than the caller would wait."""


def lock_path(path: str | Path) -> Path:
    """The lock file beside the store that serialises its writers."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def exclusive(lock_file: Path, timeout: float, busy: Callable[[], Exception], poll: float = 0.05) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (created when missing) for the block, waiting up to `timeout`
    seconds for another holder, process or thread, then raising `busy()`. Released when the block ends."""
    deadline = time.monotonic() + timeout
    with Path(lock_file).open("a+") as handle:  # closing it releases the lock
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(poll)
        yield


def _locked(path: Path, timeout: float) -> contextlib.AbstractContextManager[None]:
    return exclusive(lock_path(path), timeout, lambda: StoreBusy(
        f"{path}: một lần nhập khác đang ghi vào kho dữ liệu quá {timeout:.0f} giây "
        f"(another import has been writing the store for over {timeout:.0f} s)"))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def writing(path: str | Path, *, timeout: float = LOCK_TIMEOUT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a new version of the store at `path`, put in place when the block ends.

    Waits for the store's lock (another writer; `StoreBusy` after `timeout` seconds), copies the current
    version (or starts an empty store), yields a connection to the copy, and on leaving the block builds the
    aggregate tables if they do not match, checkpoints, and renames the copy over the store: readers see all of
    the block's committed work at once. An exception in the block discards the copy: the store is as before."""
    from kpi.aggregates import ensure_aggregates  # kpi.aggregates does not import this module; keeps it light

    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path, timeout):
        for stale in path.parent.glob(f"{glob.escape(path.name)}.next-*"):  # left by a writer that died
            stale.unlink(missing_ok=True)
        copy = path.with_name(f"{path.name}.next-{os.getpid()}-{threading.get_ident()}")
        if path.exists():
            shutil.copyfile(path, copy)
            wal = path.with_name(path.name + ".wal")  # written outside this protocol, then not checkpointed
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        con = connect(copy)
        try:
            con.execute("SET memory_limit = $limit", {"limit": write_memory_limit()})
            yield con
            ensure_aggregates(con)
            con.execute("CHECKPOINT")
            compact = _free_share(con) > COMPACT_FREE_SHARE
            if compact:
                _rewrite(con, copy.with_name(copy.name + ".compact"))
        except BaseException:
            con.close()
            for leftover in (copy, copy.with_name(copy.name + ".wal"), copy.with_name(copy.name + ".compact")):
                leftover.unlink(missing_ok=True)
            raise
        con.close()
        if compact:
            os.replace(copy.with_name(copy.name + ".compact"), copy)
        _fsync(copy)
        os.replace(copy, path)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
        _fsync(path.parent)


# DuckDB reuses the free blocks of a file but never gives them back: a rebuild of the aggregate tables inside the
# store leaves their old blocks free, and the file keeps the size of both (docs/scaling.md). A writer whose copy
# is more than this share free therefore rewrites it into a new file (about 30 s at 10 M dossiers).
COMPACT_FREE_SHARE = 0.25


def _free_share(con: duckdb.DuckDBPyConnection) -> float:
    total, free = con.execute("SELECT total_blocks, free_blocks FROM pragma_database_size()").fetchone()
    return free / total if total else 0.0


def _rewrite(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Copy every table and sequence of the connection's database into a new file at `target`."""
    target.unlink(missing_ok=True)
    source = con.execute("SELECT current_database()").fetchone()[0]
    con.execute("ATTACH $path AS compact_target", {"path": str(target)})
    try:
        con.execute(f'COPY FROM DATABASE "{source.replace(chr(34), chr(34) * 2)}" TO compact_target')
        con.execute("CHECKPOINT compact_target")
    finally:
        con.execute("DETACH compact_target")


class StoreVersion:
    """One version of the store, open read-only: `cursor()` gives a cursor on it (a cursor per caller: one
    DuckDB connection is not thread-safe). `key` tells versions apart (device, inode, modification time)."""

    def __init__(self, key: tuple[int, int, int], con: duckdb.DuckDBPyConnection, link: Path | None) -> None:
        self.key = key
        self._con: duckdb.DuckDBPyConnection | None = con
        self._link = link

    def cursor(self) -> duckdb.DuckDBPyConnection:
        con = self._con
        if con is None:
            raise StoreBusy("this version of the store was replaced; ask the reader for the current one")
        return con.cursor()

    def retire(self) -> None:
        """Forget this version: its file closes when the last cursor on it is closed (DuckDB keeps a database
        open while any connection to it lives), and its disk space is freed then."""
        self._con = None
        if self._link is not None:
            self._link.unlink(missing_ok=True)


class StoreReader:
    """Read-only access to the current version of the store at `path` (see `writing`), shared by threads.

    `current()` is the version on disk now, opened on first use. DuckDB shares one open database per path within a
    process, so each version is opened through a hard link of its own (`.<name>.readers/<inode>-<mtime>-<pid>`):
    a version replaced on disk stays readable by the cursors that are still on it, and the new one is a different
    database. The reader keeps the current version and the one before it (`kept`), so that a page run that began
    before a write finishes on the data it started with."""

    KEEP = 2

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).absolute()
        self._links = self.path.with_name(f".{self.path.name}.readers")
        self._lock = threading.Lock()
        self._versions: dict[tuple[int, int, int], StoreVersion] = {}
        self._remove_stale_links()

    def current(self) -> StoreVersion:
        """The version of the store on disk now (FileNotFoundError when there is no store)."""
        while True:
            stat = os.stat(self.path)
            key = (stat.st_dev, stat.st_ino, stat.st_mtime_ns)
            with self._lock:
                version = self._versions.get(key)
                if version is not None:
                    return version
                version = self._open(key)
                if version is None:  # replaced between the stat and the link: look again
                    continue
                self._versions[key] = version
                while len(self._versions) > self.KEEP:
                    self._versions.pop(next(iter(self._versions))).retire()
                return version

    def kept(self, key: tuple[int, int, int] | None) -> StoreVersion | None:
        """The version `key` if this reader still holds it open."""
        with self._lock:
            return self._versions.get(key) if key is not None else None

    def _open(self, key: tuple[int, int, int]) -> StoreVersion | None:
        self._links.mkdir(exist_ok=True)
        link = self._links / f"{key[1]}-{key[2]}-{os.getpid()}.duckdb"
        link.unlink(missing_ok=True)
        try:
            os.link(self.path, link)
        except FileNotFoundError:
            return None
        linked = os.stat(link)
        if (linked.st_dev, linked.st_ino, linked.st_mtime_ns) != key:
            link.unlink(missing_ok=True)
            return None
        return StoreVersion(key, duckdb.connect(str(link), read_only=True), link)

    def _remove_stale_links(self) -> None:
        """Links left by readers that have exited (their process id is gone)."""
        if not self._links.is_dir():
            return
        for link in self._links.glob("*.duckdb"):
            pid = link.stem.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                link.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")
_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN IF NOT EXISTS (\w+)")


def schema_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has every table and added column of `schema.sql` (else a writer must open it once)."""
    sql = schema_sql()
    tables = set(_TABLE.findall(sql))
    found = {(t, c) for t, c in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal"
    ).fetchall()}
    return tables <= {t for t, _ in found} and set(_COLUMN.findall(sql)) <= found
