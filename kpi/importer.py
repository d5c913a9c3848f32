"""Importing dossier exports into the store, one transaction per file.

Pipeline for one file: `kpi.sources` reads its rows as text into the temp table `raw_rows`; `_stage` parses every
value by the rules of DOMAIN.md §3 (a bad required value rejects the row, a bad optional value is
stored empty with a warning); `_merge` applies the re-import rule (an incoming row replaces the stored
one when it is at least as advanced); when it changed any dossier, `kpi.aggregates.update_aggregates` updates
the KPI tables with the contributions of the rows written minus those of the rows replaced (captured before the
write by `capture_changes`), or rebuilds them when the file changed a large share of the store. Everything
happens inside one transaction: a file that fails half-way, or a process that dies,
leaves the database exactly as before the file, KPI tables included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from kpi.aggregates import capture_changes, is_rolled_up, update_aggregates
from kpi.fields import BLANK_MEANS, FIELDS, RESOLVED_STATUSES, TERMINAL_STATUSES, VOCABULARIES, Field, parse_term
from kpi.sources import ImportRefused, Layout, file_sha256, load_source

# Day first, always (DOMAIN §3); ISO 8601 values (yyyy-mm-dd...) are recognised by their shape and cast.
DAY_FIRST_FORMATS = [
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y",
    "%H:%M:%S %d/%m/%Y", "%H:%M %d/%m/%Y",
]
# Dates outside this range are typing errors (a two-digit year read as year 23, a serial of 7).
EARLIEST, LATEST = dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)
VIETNAM_UTC_OFFSET_MINUTES = 7 * 60

MISSING = "thiếu giá trị bắt buộc (required value missing)"
BAD_DATE = ("không đọc được ngày; cần dd/mm/yyyy [HH:MM[:SS]], yyyy-mm-dd hoặc số ngày Excel "
            "(unreadable date; expected dd/mm/yyyy [HH:MM[:SS]], ISO yyyy-mm-dd or an Excel serial date)")
BAD_INT = "không phải số nguyên không âm (expected a whole number ≥ 0)"
NO_END_DATE = ("trạng thái đã giải quyết nhưng không có ngày kết thúc hay ngày trả "
               "(resolved status without a finish or return date)")
BAD_MONEY = "không đọc được số tiền; cần dạng 150.000 hoặc 150000 (unreadable amount; expected e.g. 150.000)"


def bad_term_reason(vocabulary: str) -> str:
    """The message for a value outside its vocabulary, listing what is accepted."""
    terms = VOCABULARIES[vocabulary]
    accepted = "; ".join(f"{t.label_vi} / {t.label_en} ({t.code})" for t in terms)
    return f"giá trị không có trong danh mục; chấp nhận (value outside the vocabulary; expected): {accepted}"


@dataclass
class ImportResult:
    """What importing one file did."""

    file: str
    import_id: int
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    warnings: int
    skipped: int
    header_row: int
    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet_name: str | None = None

    def summary(self) -> dict[str, object]:
        """The CLI's per-file JSON record."""
        keys = ("file", "rows_read", "inserted", "updated", "unchanged", "rejected", "warnings")
        record = {k: getattr(self, k) for k in keys}
        record.update(import_id=self.import_id, skipped=self.skipped)
        return record


Progress = Callable[[str, float], None]


# --- parsing ----------------------------------------------------------------------------------------------


def _timestamp_sql(v: str) -> str:
    """Day-first text dates, ISO (an explicit UTC offset is converted to Vietnam time) or Excel serials.
    The range check against typing errors is applied afterwards (`_checked_sql`)."""
    zone = "'(Z|[+-]\\d{2}:?\\d{2})$'"
    offset = f"regexp_extract({v}, {zone})"
    offset_minutes = (
        f"(CASE WHEN {offset} IN ('', 'Z') THEN 0 ELSE "
        f"(CASE WHEN left({offset}, 1) = '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({offset}, 2, 2) AS INTEGER) * 60 + CAST(right({offset}, 2) AS INTEGER)) END)"
    )
    zoned = (f"TRY_CAST(regexp_replace({v}, {zone}, '') AS TIMESTAMP) "
             f"+ to_minutes(CAST($local_offset - {offset_minutes} AS BIGINT))")
    serial = (f"CASE WHEN regexp_full_match({v}, '\\d{{5}}(\\.\\d+)?') THEN TIMESTAMP '1899-12-30' + "
              f"to_microseconds(CAST(round(CAST({v} AS DOUBLE) * 86400000000) AS BIGINT)) END")
    iso = f"substr({v}, 5, 1) = '-' AND regexp_matches({v}, '^\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}')"
    return (f"(CASE WHEN {iso} THEN (CASE WHEN regexp_matches({v}, '[T ].*' || {zone}) THEN {zoned} "
            f"ELSE TRY_CAST({v} AS TIMESTAMP) END) "
            f"ELSE coalesce(try_strptime({v}, $day_first_formats), {serial}) END)")


def _money_sql(v: str) -> str:
    """VND amounts: dots, commas and spaces are thousands separators; a 1–2 digit tail is decimals."""
    bare = f"regexp_replace(upper({v}), '\\s|VNĐ|VND|ĐỒNG|Đ|D$', '', 'g')"
    whole = f"regexp_replace({bare}, '[.,]\\d{{1,2}}$', '')"
    return (f"(CASE WHEN regexp_full_match({bare}, '\\d+([.,]\\d{{3}})*([.,]\\d{{1,2}})?') "
            f"THEN TRY_CAST(regexp_replace({whole}, '[.,]', '', 'g') AS BIGINT) END)")


def _int_sql(v: str) -> str:
    return f"(CASE WHEN regexp_full_match({v}, '\\d+(\\.0+)?') THEN TRY_CAST(split_part({v}, '.', 1) AS INTEGER) END)"


def _parsed_sql(f: Field) -> str:
    """The typed value of a field from its raw text column `r.<name>` (first staging step)."""
    v = f"r.{f.name}"
    if f.name == "procedure_code":  # the base code identifies the procedure (DOMAIN §4)
        return f"coalesce(nullif(regexp_extract({v}, '^(\\d+\\.\\d+)(\\.|$)', 1), ''), {v})"
    if f.name == "agency_code":  # else the receiving unit of the dossier code (Circular 01/2018, art. 19)
        return f"coalesce({v}, nullif(regexp_extract(r.dossier_code, '^(.+)-\\d{{6}}-\\d+$', 1), ''))"
    if f.kind in ("text", "code"):
        return v
    if f.kind == "timestamp":
        return _timestamp_sql(v)
    if f.kind == "int":
        return _int_sql(v)
    if f.kind == "money":
        return _money_sql(v)
    return f"m_{f.name}.code"  # enum and bool: the joined vocabulary table


def _checked_sql(f: Field) -> str:
    """The stored value (second staging step): dates outside the plausible range are unreadable."""
    if f.kind == "timestamp":  # stored to the second (schema.sql): truncated, never rounded into the next day
        return (f"CASE WHEN {f.name} >= $earliest AND {f.name} < $latest "
                f"THEN CAST(date_trunc('second', {f.name}) AS TIMESTAMP_S) END")
    return f.name


def _reason(f: Field) -> str | None:
    """Why a present value of this field could not be read (None: any text is readable)."""
    if f.kind in ("enum", "bool"):
        return bad_term_reason(f.vocabulary or "bool")
    return {"timestamp": BAD_DATE, "int": BAD_INT, "money": BAD_MONEY}.get(f.kind)


def _problem_sql(f: Field) -> str | None:
    """A struct describing what is wrong with the field in this row, else NULL (second staging step)."""
    raw, value = f"raw_{f.name}", f"({_checked_sql(f)})"
    unreadable = f"{raw} IS NOT NULL AND {value} IS NULL"
    problem = "{{'column': '{name}', 'value': {value}, 'reason': {reason}, 'is_error': {error}}}"
    if f.required:
        missing = problem.format(name=f.name, value="NULL", reason="$reason_missing", error="true")
        bad = problem.format(name=f.name, value=raw, reason=f"$reason_{f.name}", error="true")
        if _reason(f) is None:
            return f"CASE WHEN {raw} IS NULL THEN {missing} END"
        return f"CASE WHEN {raw} IS NULL THEN {missing} WHEN {unreadable} THEN {bad} END"
    if _reason(f) is None:
        return None
    bad = problem.format(name=f.name, value=raw, reason=f"$reason_{f.name}", error="false")
    return f"CASE WHEN {unreadable} THEN {bad} END"


def _vocabulary_table(con: duckdb.DuckDBPyConnection, f: Field, values: list[str]) -> None:
    """map_<field>(raw, code): each distinct raw value of the file mapped in Python (few values)."""
    vocabulary = f.vocabulary or "bool"
    raws = [None, *values]
    codes = [BLANK_MEANS.get(vocabulary) if raw is None else parse_term(vocabulary, raw) for raw in raws]
    code_type = {"status": pa.int8(), "bool": pa.bool_()}.get(vocabulary, pa.string())
    con.register("vocabulary_arrow", pa.table({"raw": pa.array(raws, pa.string()), "code": pa.array(codes, code_type)}))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE m_{f.name} AS SELECT * FROM vocabulary_arrow")
    finally:
        con.unregister("vocabulary_arrow")


def _stage(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    """staged(ordinal, <typed fields>, problems, is_rejected) for every data row of the source (blank and
    total rows left out)."""
    joins = []
    for f in FIELDS:
        if f.kind in ("enum", "bool"):
            _vocabulary_table(con, f, layout.distinct_values.get(f.name, []))
            joins.append(f"LEFT JOIN m_{f.name} ON r.{f.name} IS NOT DISTINCT FROM m_{f.name}.raw")
    typed = ", ".join(f"r.{f.name} AS raw_{f.name}, {_parsed_sql(f)} AS {f.name}" for f in FIELDS)
    checked = ", ".join(f"{_checked_sql(f)} AS {f.name}" for f in FIELDS)
    problems = "list_filter([" + ", ".join(p for f in FIELDS if (p := _problem_sql(f))) + "], lambda p: p IS NOT NULL)"
    params: dict[str, object] = {
        "day_first_formats": DAY_FIRST_FORMATS, "earliest": EARLIEST, "latest": LATEST,
        "local_offset": VIETNAM_UTC_OFFSET_MINUTES, "reason_missing": MISSING,
    }
    params.update({f"reason_{f.name}": _reason(f) for f in FIELDS if _reason(f) is not None})
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE staged AS SELECT *, len(list_filter(problems, lambda p: p.is_error)) > 0 "
        f"AS is_rejected FROM (SELECT ordinal, {checked}, {problems} AS problems FROM ("
        f"SELECT r.rowid + 1 AS ordinal, {typed} FROM raw_rows r {' '.join(joins)} "
        f"WHERE NOT (r.is_blank OR r.is_total)))",
        params,
    )


# --- merging ----------------------------------------------------------------------------------------------

_COLUMNS = [f.name for f in FIELDS]
_TERMINAL = "status IN (" + ", ".join(str(s) for s in TERMINAL_STATUSES) + ")"
_LATEST = "greatest(received_at, finished_at, returned_at)"


def _merge(con: duckdb.DuckDBPyConnection, import_id: int) -> dict[str, int]:
    """Apply the re-import rule of DOMAIN §3 and write the winners; returns the counts.

    Within the file, and then against the store, a row wins when (terminal status, latest of
    received/finished/returned) is at least the other's; ties go to the incoming (later) row. A
    winner equal to the stored row in every column is counted unchanged and not rewritten.
    """
    # One row per dossier. Only codes that occur twice in the file need the (costly) ranking, and most
    # exports have none: then the accepted rows are the incoming ones as they stand.
    columns = f"{', '.join(_COLUMNS)}, {_TERMINAL} AS is_terminal, {_LATEST} AS latest_at"
    repeated = con.execute(
        "SELECT count(*) - count(DISTINCT dossier_code) FROM staged WHERE NOT is_rejected").fetchone()[0]
    if repeated == 0:
        con.execute(f"CREATE OR REPLACE TEMP VIEW incoming AS SELECT {columns} FROM staged WHERE NOT is_rejected")
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT * EXCLUDE (rank) FROM (SELECT {columns}, "
            f"row_number() OVER (PARTITION BY dossier_code ORDER BY {_TERMINAL} DESC, {_LATEST} DESC, ordinal DESC) "
            f"AS rank FROM staged WHERE NOT is_rejected) WHERE rank = 1"
        )
    same = " AND ".join(f"i.{c} IS NOT DISTINCT FROM d.{c}" for c in _COLUMNS)
    stored_wins = ("(d.is_terminal AND NOT i.is_terminal) "
                   "OR (d.is_terminal = i.is_terminal AND d.latest_at > i.latest_at)")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE decided AS SELECT i.*, CASE "
        f"WHEN d.dossier_code IS NULL THEN 'insert' WHEN {stored_wins} THEN 'unchanged' "
        f"WHEN {same} THEN 'unchanged' ELSE 'update' END AS action "
        f"FROM incoming i LEFT JOIN (SELECT *, {_TERMINAL} AS is_terminal, {_LATEST} AS latest_at FROM dossiers) d "
        f"ON d.dossier_code = i.dossier_code"
    )
    counts = dict(con.execute("SELECT action, count(*) FROM decided GROUP BY action").fetchall())
    if counts.get("insert", 0) + counts.get("update", 0):
        # what the KPI aggregates need of the rows replaced and written, to update them after the write
        capture_changes(con, counts.get("insert", 0) + counts.get("update", 0),
                        "SELECT * FROM dossiers WHERE dossier_code IN "
                        "(SELECT dossier_code FROM decided WHERE action = 'update')",
                        "SELECT * FROM decided WHERE action IN ('insert', 'update')")
    con.execute("DELETE FROM dossiers WHERE dossier_code IN (SELECT dossier_code FROM decided WHERE action = 'update')")
    con.execute(
        f"INSERT INTO dossiers ({', '.join(_COLUMNS)}, import_id) SELECT {', '.join(_COLUMNS)}, $import_id "
        f"FROM decided WHERE action IN ('insert', 'update')",
        {"import_id": import_id},
    )
    return {
        "inserted": counts.get("insert", 0),
        "updated": counts.get("update", 0),
        # A row superseded by a more advanced row for the same dossier in the same file changed nothing.
        "unchanged": counts.get("unchanged", 0) + repeated,
    }


def _record_problems(con: duckdb.DuckDBPyConnection, layout: Layout, import_id: int) -> tuple[int, int]:
    """Write rejected rows and warnings with the file's row numbers and headers; returns their counts."""
    headers = {name: layout.headers[position] for position, name in layout.mapping.items()}
    params = {"import_id": import_id, "header_row": layout.header_row, "blank_offsets": layout.blank_offsets,
              "header_keys": list(headers), "header_values": list(headers.values())}
    for table, is_error in (("rejected_rows", True), ("import_warnings", False)):
        # Warnings of rejected rows are not kept: the row itself was not stored.
        condition = "p.is_error" if is_error else "NOT p.is_error AND NOT s.is_rejected"
        con.execute(
            f"INSERT INTO {table} (import_id, row_number, column_name, header, value, reason) "
            f"SELECT $import_id, {layout.row_number_sql('s.ordinal')}, p.column, "
            f"$header_values[list_position($header_keys, p.column)], p.value, p.reason "
            f"FROM (SELECT ordinal, unnest(problems) AS p, is_rejected FROM staged WHERE len(problems) > 0) s "
            f"WHERE {condition} ORDER BY s.ordinal",
            params,
        )
    rejected, warnings = con.execute(
        "SELECT count(*) FILTER (WHERE is_rejected), "
        "sum(len(problems)) FILTER (WHERE NOT is_rejected) FROM staged"
    ).fetchone()
    return rejected, int(warnings or 0)


def _resolved_without_end(con: duckdb.DuckDBPyConnection) -> None:
    """A resolved status with neither a finish nor a return date cannot be placed in any period."""
    resolved = "(" + ", ".join(str(s) for s in RESOLVED_STATUSES) + ")"
    con.execute(
        "UPDATE staged SET problems = list_append(problems, {'column': 'finished_at', 'value': NULL, "
        f"'reason': $reason, 'is_error': false}}) WHERE status IN {resolved} "
        "AND finished_at IS NULL AND returned_at IS NULL",
        {"reason": NO_END_DATE},
    )


# --- the transaction --------------------------------------------------------------------------------------


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    display_name: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one export file in one transaction and return what it did.

    `display_name` is the name to record and report (an uploaded file's own name when `path` is a
    temporary copy). Raises ImportRefused, with the database unchanged, when the file cannot be used.
    """
    path = Path(path)
    name = display_name or path.name
    notify = progress or (lambda _stage, _fraction: None)
    if is_rolled_up(con):
        raise ImportRefused(name, "kho này là kho tổng hợp toàn quốc, không nhập hồ sơ vào được (this store is a "
                                  "national roll-up of provincial exports: import into a province's own store)")
    cur = con.cursor()  # own connection: temp tables stay private to this import
    stack = ExitStack()
    try:
        started_at = dt.datetime.now()
        # Hashing runs beside the reading (both release the GIL).
        sha256 = stack.enter_context(ThreadPoolExecutor(1)).submit(file_sha256, path) if path.is_file() else None
        notify("read", 0.1)
        # Reading writes nothing to the store (temp objects only), so it happens before the transaction.
        layout = load_source(cur, path, stack, display_name)
        cur.execute("BEGIN TRANSACTION")
        try:
            import_id = cur.execute(
                "INSERT INTO imports (file_name, file_sha256, file_format, encoding, delimiter, sheet_name, "
                "header_row, started_at) VALUES ($name, $sha, $format, $encoding, $delimiter, $sheet, $header, "
                "$started) RETURNING import_id",
                {"name": name, "sha": sha256.result() if sha256 else "", "format": layout.file_format,
                 "encoding": layout.encoding,
                 "delimiter": layout.delimiter, "sheet": layout.sheet_name, "header": layout.header_row,
                 "started": started_at},
            ).fetchone()[0]
            cur.executemany(
                "INSERT INTO import_columns VALUES ($1, $2, $3, $4)",
                [(import_id, i, h, layout.mapping.get(i)) for i, h in enumerate(layout.headers)],
            )
            notify("parse", 0.4)
            _stage(cur, layout)
            cur.execute("DROP TABLE raw_rows")  # the text copy is no longer needed: free its memory
            _resolved_without_end(cur)
            skipped = layout.skipped + len(layout.blank_offsets)  # with the empty lines the CSV reader passed over
            rows_read = cur.execute("SELECT count(*) FROM staged").fetchone()[0]
            notify("merge", 0.7)
            counts = _merge(cur, import_id)
            if counts["inserted"] or counts["updated"]:
                notify("aggregates", 0.8)
                update_aggregates(cur)  # the KPI tables follow the dossiers, in the same transaction
            rejected, warnings = _record_problems(cur, layout, import_id)
            cur.execute(
                "UPDATE imports SET finished_at = $finished, rows_read = $rows_read, inserted = $inserted, "
                "updated = $updated, unchanged = $unchanged, rejected = $rejected, warnings = $warnings, "
                "skipped = $skipped WHERE import_id = $id",
                {"finished": dt.datetime.now(), "rows_read": rows_read, "rejected": rejected, "warnings": warnings,
                 "skipped": skipped, "id": import_id, **counts},
            )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        notify("done", 1.0)
        return ImportResult(file=name, import_id=import_id, rows_read=rows_read, rejected=rejected,
                            warnings=warnings, skipped=skipped, header_row=layout.header_row,
                            file_format=layout.file_format, encoding=layout.encoding, delimiter=layout.delimiter,
                            sheet_name=layout.sheet_name, **counts)
    finally:
        cur.close()
        stack.close()


@dataclass
class FileOutcome:
    """A file of a batch: its result, or why it was refused."""

    file: str
    result: ImportResult | None = None
    error: str | None = None

    def summary(self) -> dict[str, object]:
        if self.result is not None:
            return self.result.summary()
        zero = dict.fromkeys(("rows_read", "inserted", "updated", "unchanged", "rejected", "warnings"), 0)
        return {"file": self.file, **zero, "refused": True, "error": self.error}


def ingest_files(con: duckdb.DuckDBPyConnection, paths: Iterable[str | Path]) -> list[FileOutcome]:
    """Import files in the order given, each in its own transaction; a refused file does not stop the rest."""
    outcomes = []
    for path in paths:
        try:
            outcomes.append(FileOutcome(Path(path).name, result=ingest_file(con, path)))
        except ImportRefused as exc:
            outcomes.append(FileOutcome(exc.file, error=exc.message))
    return outcomes

