"""A national roll-up from provincial stores: each province exports its pre-aggregated KPI tables as Parquet,
and a national store is built from the exports alone, with no dossier leaving its province (docs/scaling.md).

- `export_aggregates(con, folder)`: the four aggregate tables of a store (kpi.aggregates) as Parquet files
  (zstd), with `manifest.json`: the provinces, the dossiers, the month ends the open-dossier snapshots cover, and
  the rules the tables were built under (AGGREGATES_DEFINITION).
- `rollup(con, folders)`: in a new store, the union of the exports. An export whose snapshots stop earlier than
  the others' is extended to the common last month end (its last snapshot plus its later changes,
  `aggregates.extend_snapshots`), so the engine's "in progress at day t" holds for every province. The store is
  marked `rolled_up` in `aggregate_state`: the KPI engine uses its tables with no dossier behind them, and the
  importer refuses to write into it.

Every KPI is a sum, or a distinct count of procedures, over rows that carry the province, so
`kpi_table(national, period, by="province")` gives each province's figures exactly as its own store does, and
the national figure is computed over all of them (the tests check both).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb

from kpi import db
from kpi.aggregates import AGGREGATES_DEFINITION, TABLES, aggregate_state, empty_tables, extend_snapshots, is_rolled_up

MANIFEST = "manifest.json"
FORMAT = 1  # the layout of an export folder


class RollupError(ValueError):
    """An export that cannot be used, or a store that cannot take a roll-up; the message says which and why."""


def export_aggregates(con: duckdb.DuckDBPyConnection, folder: str | Path) -> dict[str, object]:
    """Write the store's aggregate tables to `folder` as Parquet with a manifest; returns the manifest. The
    tables must match the store's dossiers (an import leaves them so)."""
    state = aggregate_state(con)
    if state is None:
        raise RollupError("the store's KPI aggregates do not match its dossiers; open it once with the dashboard or "
                          "import into it, then export again")
    if is_rolled_up(con):
        raise RollupError("this store is itself a roll-up: export the provinces' own stores")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for table in TABLES:
        path = folder / f"{table}.parquet"
        cur = con.cursor()  # its own connection: an earlier execute() may have a result left unread
        try:
            cur.table(table).write_parquet(str(path), compression="zstd")
        finally:
            cur.close()
        files[table] = path.name
    provinces = [r[0] for r in con.execute(
        "SELECT DISTINCT province FROM kpi_monthly WHERE province IS NOT NULL ORDER BY 1").fetchall()]
    manifest = {
        "format": FORMAT, "definition": AGGREGATES_DEFINITION,
        "exported_at": datetime.now().isoformat(timespec="seconds"),
        "provinces": provinces, "dossiers": db.dossier_count(con),
        "first_month_end": _iso(state.first_month_end), "last_month_end": _iso(state.last_month_end),
        "files": files, "bytes": sum((folder / name).stat().st_size for name in files.values()),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def read_manifest(folder: str | Path) -> dict[str, object]:
    """An export's manifest, checked: the layout and the aggregate rules this version of egov-kpi reads."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RollupError(f"{path}: not an aggregate export ({error})") from error
    if manifest.get("format") != FORMAT:
        raise RollupError(f"{path}: export format {manifest.get('format')!r}, expected {FORMAT}")
    if manifest.get("definition") != AGGREGATES_DEFINITION:
        raise RollupError(f"{path}: built under aggregate rules {manifest.get('definition')!r}, this version uses "
                          f"{AGGREGATES_DEFINITION}; export again with an up-to-date egov-kpi")
    missing = [t for t in TABLES if not (Path(folder) / manifest.get("files", {}).get(t, "?")).is_file()]
    if missing:
        raise RollupError(f"{Path(folder)}: missing {', '.join(missing)}")
    return manifest


def rollup(con: duckdb.DuckDBPyConnection, folders: Sequence[str | Path]) -> dict[str, object]:
    """Fill the store of `con` (an empty store, or an earlier roll-up, which is replaced) with the union of the
    exports in `folders`, in one transaction. Returns the provinces, dossiers and month ends it holds."""
    manifests = [read_manifest(f) for f in folders]
    seen: dict[str, str] = {}
    for folder, manifest in zip(folders, manifests, strict=True):
        for province in manifest["provinces"]:
            if province in seen:
                raise RollupError(f"{province} is in two exports: {seen[province]} and {folder}")
            seen[province] = str(folder)
    if db.dossier_count(con) > 0:
        raise RollupError("the target store holds dossiers: a roll-up goes into a store of its own")
    ends = [date.fromisoformat(m["last_month_end"]) for m in manifests if m["last_month_end"]]
    firsts = [date.fromisoformat(m["first_month_end"]) for m in manifests if m["first_month_end"]]
    last = max(ends) if ends else None
    con.execute("BEGIN TRANSACTION")
    try:
        empty_tables(con)
        con.execute("DELETE FROM rollup_sources")
        for folder, manifest in zip(folders, manifests, strict=True):
            for table in TABLES:
                con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet($path)",
                            {"path": str(Path(folder) / manifest["files"][table])})
            own_last = manifest["last_month_end"]
            if own_last and last and date.fromisoformat(own_last) < last:
                extend_snapshots(con, date.fromisoformat(own_last), last, provinces=manifest["provinces"])
            con.execute("INSERT INTO rollup_sources (folder, provinces, dossiers, first_month_end, last_month_end, "
                        "exported_at) VALUES ($folder, $provinces, $dossiers, $first, $last, $exported)",
                        {"folder": str(folder), "provinces": manifest["provinces"], "dossiers": manifest["dossiers"],
                         "first": manifest["first_month_end"], "last": own_last,
                         "exported": manifest["exported_at"]})
        con.execute("INSERT INTO aggregate_state (built_at, dossiers, first_month_end, last_month_end, definition, "
                    "rolled_up) VALUES (now()::TIMESTAMP, 0, $first, $last, $definition, true)",
                    {"first": min(firsts) if firsts else None, "last": last, "definition": AGGREGATES_DEFINITION})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"provinces": sorted(seen), "dossiers": sum(m["dossiers"] for m in manifests),
            "first_month_end": _iso(min(firsts) if firsts else None), "last_month_end": _iso(last)}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


__all__ = ["MANIFEST", "RollupError", "export_aggregates", "read_manifest", "rollup"]
