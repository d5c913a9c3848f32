"""What the store holds and how it got there: overview queries, importing uploaded exports, the import
history, data-quality checks and coverage (which units sent data for which months).

Every function takes an open connection (a cursor per call is the caller's choice) and returns
pandas frames with canonical column names; display labels are the UI's business.
"""

from __future__ import annotations

import codecs
import gzip
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

import duckdb
import pandas as pd

from kpi import views
from kpi.aggregates import ensure_aggregates
from kpi.db import SAMPLE_DIR, dossier_count
from kpi.engine import DATA_QUALITY_COUNTS, dossier_counts, received_rows_sql
from kpi.importer import FileOutcome, ImportResult, ingest_file
from kpi.periods import Period
from kpi.sources import ImportRefused, detect_encoding, file_format


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Dossier count, received date range, unit count, import count and the last import time."""
    row = con.execute(
        "SELECT count(*), min(received_at), max(received_at), count(DISTINCT agency_name), "
        "(SELECT count(*) FROM imports), (SELECT max(finished_at) FROM imports) FROM dossiers"
    ).fetchone()
    keys = ("dossiers", "first_received_at", "last_received_at", "agencies", "imports", "last_import_at")
    return dict(zip(keys, row, strict=True))


def dossiers_by_month(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Dossiers received per month and channel: month, channel, dossiers (from the KPI aggregates when they
    match the dossiers: kpi_monthly counts them by received month and channel)."""
    if ensure_aggregates(con) is not None:
        return con.execute(
            "SELECT month, channel, CAST(sum(received) AS BIGINT) AS dossiers FROM kpi_monthly WHERE received > 0 "
            "GROUP BY ALL ORDER BY month, channel"
        ).df()
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


# --- uploads ----------------------------------------------------------------------------------------

UPLOAD_TYPES = ("csv", "txt", "tsv", "gz", "xlsx", "xlsm", "xls")  # what kpi.sources reads
MAX_UPLOAD_MB = 200  # per file by default: Streamlit's server.maxUploadSize in .streamlit/config.toml says the same
MAX_BATCH_MB = 1000  # the files of one upload together, by default
MAX_UPLOAD_ENV, MAX_BATCH_ENV = "EGOV_KPI_MAX_UPLOAD_MB", "EGOV_KPI_MAX_UPLOAD_BATCH_MB"
XLSX_UNPACK_RATIO = 10  # a workbook's XML is about ten times the CSV of the same rows
_MB = 1 << 20
_HEAD = 1 << 16  # the first block, read to tell what a file is
RESULT_COLUMNS = ("file", "import_id", "rows_read", "inserted", "updated", "unchanged", "rejected", "warnings",
                  "skipped", "refused", "error")


@dataclass(frozen=True)
class UploadLimits:
    """How much an upload may hold, in megabytes: each file (a .gz counted by the text it unpacks to, a workbook's
    parts allowed XLSX_UNPACK_RATIO times the limit unpacked), and the files of one batch together (as uploaded).
    A year of a province's dossiers is a few hundred megabytes of CSV: a larger province raises the limits (and
    Streamlit's `server.maxUploadSize` with them) or sends a quarter at a time."""

    file_mb: int = MAX_UPLOAD_MB
    batch_mb: int = MAX_BATCH_MB

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> UploadLimits:
        """EGOV_KPI_MAX_UPLOAD_MB and EGOV_KPI_MAX_UPLOAD_BATCH_MB (whole megabytes), else the defaults; a batch is
        never allowed less than one file."""
        environ = os.environ if environ is None else environ

        def read(name: str, default: int) -> int:
            raw = (environ.get(name) or "").strip()
            if not raw:
                return default
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"{name} phải là số MB nguyên dương, không phải {raw!r} "
                                 f"({name} must be a whole number of megabytes > 0, not {raw!r})")
            return int(raw)

        file_mb = read(MAX_UPLOAD_ENV, MAX_UPLOAD_MB)
        return cls(file_mb, read(MAX_BATCH_ENV, max(MAX_BATCH_MB, file_mb)))


# What a file's first bytes say it is: kind -> (Vietnamese, English), for the refusals.
KINDS = {"xlsx": ("bảng tính Excel .xlsx", "an .xlsx workbook"), "zip": ("tệp nén ZIP", "a ZIP archive"),
         "ole": ("tệp Office 97-2003 (.xls, .doc)", "an Office 97-2003 file (.xls, .doc)"),
         "gzip": ("tệp nén gzip", "a gzip file"), "pdf": ("tài liệu PDF", "a PDF document"),
         "exe": ("chương trình (.exe)", "a program (.exe)"), "html": ("trang HTML hoặc XML", "an HTML or XML page"),
         "text": ("văn bản", "text"), "binary": ("dữ liệu nhị phân", "binary data")}
# What a file's name says it must be: kind -> (Vietnamese, English).
EXPECTED = {"xlsx": ("bảng tính Excel .xlsx/.xlsm (gói ZIP có [Content_Types].xml)",
                     "an .xlsx/.xlsm workbook (a ZIP package with [Content_Types].xml)"),
            "ole": ("bảng tính Excel 97-2003 .xls", "an Excel 97-2003 .xls workbook"),
            "gzip": ("văn bản CSV/TXT/TSV nén gzip", "gzipped CSV/TXT/TSV text"),
            "text": ("văn bản CSV/TXT/TSV", "CSV/TXT/TSV text")}


def content_kind(head: bytes, path: Path | None = None) -> str:
    """What a file is by its first bytes (a kind of KINDS): a ZIP package with [Content_Types].xml is "xlsx"
    (looked up in `path`), D0 CF 11 E0 an OLE compound file (.xls), 1F 8B gzip, %PDF, MZ a Windows program; else
    text when the block decodes in a field encoding (kpi.sources.detect_encoding) without a NUL character."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if path is not None and _has_content_types(path) else "zip"
    for magic, kind in ((b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"), (b"\x1f\x8b", "gzip"), (b"%PDF", "pdf"),
                        (b"MZ", "exe")):
        if head.startswith(magic):
            return kind
    if not _is_text(head):
        return "binary"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].lower()
    return "html" if start.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")) else "text"


def _has_content_types(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "[Content_Types].xml" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _is_text(head: bytes) -> bool:
    """The block decodes in the encoding kpi.sources would read it with, and holds no NUL character (a binary
    file's NUL bytes pass for UTF-16 there, and decode to NULs or to nothing)."""
    encoding = detect_encoding(head)
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)  # a cut character is fine
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def check_upload(path: Path, name: str, limits: UploadLimits) -> None:
    """Refuse (ImportRefused, naming the file and what was expected) an upload whose content is not what its
    name says: .xlsx/.xlsm a ZIP package with [Content_Types].xml whose parts unpack to at most
    XLSX_UNPACK_RATIO times the file limit and pass their checksums, .xls an OLE compound file, .gz gzip,
    .csv/.txt/.tsv text (or gzip, which kpi.sources also reads); gzip must unpack to text of at most the file
    limit, read as a stream with that cap (a gzip bomb stops there)."""
    lower = name.lower()
    expected = "xlsx" if lower.endswith((".xlsx", ".xlsm")) else "ole" if lower.endswith(".xls") else \
        "gzip" if lower.endswith(".gz") else "text"
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    found = content_kind(head, path)
    if not (found == expected or (expected == "text" and found == "gzip")):
        workbook = ("không đọc được tệp Excel", "unreadable workbook") if expected in ("xlsx", "ole") else \
            ("không nhập tệp", "not imported:")
        vi, en = EXPECTED[expected]
        raise ImportRefused(name, f"{workbook[0]} {name}: nội dung là {KINDS[found][0]}, không phải {vi} "
                                  f"({workbook[1]} {name} holds {KINDS[found][1]}, not {en})")
    cap = limits.file_mb * _MB
    if found == "gzip":
        _check_gzip(path, name, cap)
    elif found == "xlsx":
        _check_workbook_parts(path, name, cap * XLSX_UNPACK_RATIO)


def _check_gzip(path: Path, name: str, cap: int) -> None:
    """The gzip file unpacks to text of at most `cap` bytes, read a megabyte at a time."""
    try:
        with gzip.open(path, "rb") as stream:
            head = stream.read(_HEAD)
            size = len(head)
            while size <= cap and (chunk := stream.read(_MB)):
                size += len(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportRefused(name, f"tệp nén {name} bị hỏng (the gzip file {name} is corrupt): {exc}") from exc
    if size > cap:
        limit = cap // _MB
        raise ImportRefused(name, f"tệp nén {name} giải nén ra hơn {limit} MB, quá giới hạn {limit} MB mỗi tệp "
                                  f"(the gzip file {name} unpacks to more than {limit} MB, over the limit of {limit} "
                                  "MB per file)")
    found = content_kind(head)
    if found != "text":
        raise ImportRefused(name, f"tệp nén {name} chứa {KINDS[found][0]}, không phải văn bản CSV/TXT/TSV "
                                  f"(the gzip file {name} holds {KINDS[found][1]}, not CSV/TXT/TSV text)")


def _check_workbook_parts(path: Path, name: str, cap: int) -> None:
    """The workbook's parts unpack to at most `cap` bytes by their declared sizes, and each unpacks to exactly its
    declared size (zipfile stops reading a part there, and its checksum then fails)."""
    limit = cap // _MB
    try:
        with zipfile.ZipFile(path) as archive:
            if sum(part.file_size for part in archive.infolist()) > cap:
                raise ImportRefused(name, f"tệp Excel {name} giải nén ra hơn {limit} MB (the workbook {name} "
                                          f"unpacks to more than {limit} MB)")
            broken = archive.testzip()  # the first part whose checksum fails
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, NotImplementedError) as exc:
        broken = str(exc)
    if broken is not None:
        raise ImportRefused(name, f"không đọc được tệp Excel {name}: tệp bị hỏng (unreadable workbook {name}: the "
                                  f"file is corrupt): {broken}")


def _save(content: bytes | BinaryIO, path: Path, cap: int) -> int | None:
    """Write the upload to `path`; its size, or None (and nothing kept) when it is over `cap` bytes. A stream is
    copied a megabyte at a time and never read far past the cap."""
    if isinstance(content, bytes | bytearray):
        if len(content) > cap:
            return None
        path.write_bytes(content)
        return len(content)
    size = 0
    with path.open("wb") as handle:
        while chunk := content.read(_MB):
            size += len(chunk)
            if size > cap:
                break
            handle.write(chunk)
    if size > cap:
        path.unlink()
        return None
    return size


def upload_name(name: str) -> str:
    """The file's own name of an upload, never a path from the browser (either slash)."""
    base = Path(str(name).replace("\\", "/")).name
    return base if base not in ("", ".", "..") else "upload"


def import_uploads(con: duckdb.DuckDBPyConnection, uploads: Sequence[tuple[str, bytes | BinaryIO]],
                   progress: Callable[[float, str], None] | None = None,
                   limits: UploadLimits | None = None) -> list[FileOutcome]:
    """Import uploaded files (name, content) in order, each in its own transaction (kpi.importer.ingest_file
    on a temporary copy that keeps the file's own name, so its type is read from the name and the history
    records it). A file that cannot be imported is reported with its reason and does not stop the rest: one of
    a type kpi.sources does not read, over the size limits (`limits`, default UploadLimits.from_env(); the batch
    limit counts the files imported before it), or whose content is not what its name says (`check_upload`).
    `progress(fraction, file name)` is called as the work advances (0 to 1 over all files)."""
    limits = limits or UploadLimits.from_env()
    notify = progress or (lambda _fraction, _name: None)
    outcomes = []
    total = max(len(uploads), 1)
    accepted = 0  # bytes of the batch's files let through so far
    with tempfile.TemporaryDirectory(prefix="egov-kpi-upload-") as folder:
        for index, (name, content) in enumerate(uploads):
            name = upload_name(name)
            notify(index / total, name)
            path = Path(folder) / f"{index}" / name
            path.parent.mkdir()

            def stage(_stage: str, fraction: float, index: int = index, name: str = name) -> None:
                notify((index + fraction) / total, name)

            try:
                file_format(Path(name))  # the type by its name first: nothing else is even written to disk
                size = _save(content, path, limits.file_mb * _MB)
                if size is None:
                    raise ImportRefused(name, f"tệp {name} lớn hơn giới hạn {limits.file_mb} MB mỗi tệp: hãy chia "
                                              f"tệp xuất theo quý hoặc theo tháng (the file {name} is larger than the "
                                              f"limit of {limits.file_mb} MB per file: split the export by quarter or "
                                              "month)")
                if accepted + size > limits.batch_mb * _MB:
                    raise ImportRefused(name, f"lần tải lên này vượt giới hạn {limits.batch_mb} MB cho mọi tệp cộng "
                                              f"lại: tệp {name} chưa được nhập, hãy tải nó lên lần khác (this upload "
                                              f"is over the limit of {limits.batch_mb} MB for all its files: {name} "
                                              "was not imported; upload it separately)")
                check_upload(path, name, limits)
                accepted += size
                outcomes.append(FileOutcome(name, result=ingest_file(con, path, display_name=name, progress=stage)))
            except ImportRefused as exc:  # the reader's message names the temporary copy: name the upload
                outcomes.append(FileOutcome(name, error=exc.message.replace(str(path), name)))
            except (duckdb.Error, OSError, ValueError) as exc:  # a broken file must not break the page
                outcomes.append(FileOutcome(
                    name, error=f"không đọc được tệp (cannot read the file): {str(exc).replace(str(path), name)}"))
            finally:
                path.unlink(missing_ok=True)
    notify(1.0, "")
    return outcomes


def import_summary(outcomes: Sequence[FileOutcome]) -> pd.DataFrame:
    """One row per uploaded file: its import's counts, or that it was refused and why."""
    rows = []
    for outcome in outcomes:
        result = outcome.result
        counts = {k: getattr(result, k) if result else None for k in RESULT_COLUMNS[1:9]}
        rows.append({"file": outcome.file, **counts, "refused": result is None, "error": outcome.error})
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    for column in RESULT_COLUMNS[1:9]:
        frame[column] = frame[column].astype("Int64")
    return frame


# --- data quality -----------------------------------------------------------------------------------

# (id, label vi, label en, what the dashboard does with such dossiers vi, en)
QUALITY_CHECKS: tuple[tuple[str, str, str, str, str], ...] = (
    ("resolved_without_due_date", "Hồ sơ đã giải quyết trong kỳ không có ngày hẹn trả",
     "Dossiers resolved in the period without a due date",
     "tính là đúng hạn", "counted as on time"),
    ("in_progress_without_due_date", "Hồ sơ đang giải quyết cuối kỳ không có ngày hẹn trả",
     "Dossiers in progress at the period end without a due date",
     "tính là trong hạn", "counted as within deadline"),
    ("terminal_without_end_date", "Hồ sơ đã kết thúc nhưng không có ngày kết thúc hay ngày trả",
     "Finished dossiers without a finish or return date",
     "coi như vẫn đang giải quyết", "treated as still in progress"),
    ("unknown_agency", "Hồ sơ tiếp nhận trong kỳ không rõ cơ quan (thiếu tên cơ quan)",
     "Dossiers received in the period with no agency name",
     "không vào được xếp hạng sở, ngành", "left out of the department rankings"),
    ("unknown_locality", "Hồ sơ tiếp nhận trong kỳ không rõ địa bàn (thiếu tỉnh hoặc xã/phường)",
     "Dossiers received in the period with no province or commune",
     "không vào được xếp hạng địa bàn", "left out of the locality rankings"),
)


def data_quality(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object] | None = None,
                 lang: str = "vi") -> pd.DataFrame:
    """The data-quality checks of the selection in the period: the engine's DATA_QUALITY_COUNTS
    (dossier_counts) and the dossiers received without an agency or a locality, in QUALITY_CHECKS order.
    Columns label, dossiers, treatment (how the KPIs count them), in the chosen language."""
    counts = dossier_counts(con, period, where=where).iloc[0]
    found = {name: int(counts[name]) for name in DATA_QUALITY_COUNTS}
    found.update(unknown_units(con, period, where))
    english = lang == "en"
    rows = [{"label": en if english else vi, "dossiers": found[cid], "treatment": treat_en if english else treat_vi}
            for cid, vi, en, treat_vi, treat_en in QUALITY_CHECKS]
    frame = pd.DataFrame(rows, columns=["label", "dossiers", "treatment"])
    frame["dossiers"] = frame["dossiers"].astype("int64")
    return frame


def unknown_units(con: duckdb.DuckDBPyConnection, period: Period,
                  where: Mapping[str, object] | None = None) -> dict[str, int]:
    """Dossiers received in the period (under the filters) without an agency name, and without a province
    or commune."""
    where_sql, params = views.filter_sql(where)
    if ensure_aggregates(con) is not None:  # the same counts from the KPI aggregates' received rows
        rows_sql, rows_params = received_rows_sql({0: period}, filter_sql=where_sql)
        params.update(rows_params)
        sql = (f"{rows_sql}SELECT coalesce(sum(received) FILTER (WHERE nullif(trim(agency_name), '') IS NULL), 0), "
               "coalesce(sum(received) FILTER (WHERE nullif(trim(province), '') IS NULL "
               "OR nullif(trim(commune), '') IS NULL), 0) FROM received_rows")
    else:
        params.update({"from": period.start, "to": period.end})
        sql = ("SELECT count(*) FILTER (WHERE nullif(trim(agency_name), '') IS NULL), "
               "count(*) FILTER (WHERE nullif(trim(province), '') IS NULL OR nullif(trim(commune), '') IS NULL) "
               f"FROM dossiers WHERE received_at >= $from AND received_at < $to + INTERVAL 1 DAY AND {where_sql}")
    agency, locality = con.execute(sql, params).fetchone()
    return {"unknown_agency": int(agency), "unknown_locality": int(locality)}


# --- coverage ---------------------------------------------------------------------------------------

COVERAGE_MONTHS = (12, 24)


# Column headers (Vietnamese, English) of the Data page's tables, by the frames' column names.
OUTCOME_LABELS = {"file": ("Tệp", "File"), "import_id": ("Lần nhập", "Import"), "rows_read": ("Dòng đọc", "Rows read"),
                  "inserted": ("Thêm mới", "Inserted"), "updated": ("Cập nhật", "Updated"),
                  "unchanged": ("Không đổi", "Unchanged"), "rejected": ("Bị loại", "Rejected"),
                  "warnings": ("Cảnh báo", "Warnings"), "skipped": ("Bỏ qua", "Skipped"),
                  "refused": ("Bị từ chối", "Refused"), "error": ("Lý do từ chối", "Why refused")}
PROBLEM_LABELS = {"kind": ("Loại", "Kind"), "row_number": ("Dòng", "Row"), "column_name": ("Cột", "Column"),
                  "header": ("Tiêu đề trong tệp", "File header"), "value": ("Giá trị", "Value"),
                  "reason": ("Lý do", "Reason")}
QUALITY_LABELS = {"label": ("Vấn đề", "Problem"), "dossiers": ("Số hồ sơ", "Dossiers"),
                  "treatment": ("Cách tính chỉ số", "How KPIs count them")}
BY_MONTH_LABELS = {"month": ("Tháng", "Month"), "channel": ("Hình thức nộp", "Channel"),
                   "dossiers": ("Số hồ sơ", "Dossiers")}
COVERAGE_LABELS = {"agency": ("Đơn vị", "Unit"), "agency_level": ("Cấp", "Level"), "month": ("Tháng", "Month"),
                   "dossiers": ("Số hồ sơ", "Dossiers")}
GAP_LABELS = {"agency": ("Đơn vị", "Unit"), "months_with_data": ("Số tháng có dữ liệu", "Months with data"),
              "first_month": ("Tháng đầu", "First month"), "last_month": ("Tháng cuối", "Last month"),
              "gap_months": ("Tháng trống ở giữa", "Empty months between"),
              "silent_last_month": ("Không có dữ liệu tháng gần nhất", "No data in the latest month"),
              "dossiers": ("Số hồ sơ", "Dossiers")}
HISTORY_LABELS = {"import_id": ("Lần nhập", "Import"), "file_name": ("Tệp", "File"),
                  "file_format": ("Định dạng", "Format"), "encoding": ("Mã hóa", "Encoding"),
                  "delimiter": ("Dấu phân cách", "Separator"), "sheet_name": ("Trang", "Sheet"),
                  "header_row": ("Dòng tiêu đề", "Header row"), "started_at": ("Bắt đầu", "Started"),
                  "finished_at": ("Kết thúc", "Finished"), "rows_read": ("Dòng đọc", "Rows read"),
                  "inserted": ("Thêm mới", "Inserted"), "updated": ("Cập nhật", "Updated"),
                  "unchanged": ("Không đổi", "Unchanged"), "rejected": ("Bị loại", "Rejected"),
                  "warnings": ("Cảnh báo", "Warnings"), "skipped": ("Bỏ qua", "Skipped"),
                  "file_sha256": ("SHA-256", "SHA-256")}
REASON_LABELS = {"kind": ("Loại", "Kind"), "column_name": ("Cột", "Column"), "reason": ("Lý do", "Reason"),
                 "rows": ("Số dòng", "Rows"), "first_row": ("Dòng đầu tiên", "First row")}
UNIT_LABELS = {"unit": ("Đơn vị", "Unit"), "agency_level": ("Cấp", "Level"), "dossiers": ("Số hồ sơ", "Dossiers"),
               "resolved": ("Đã giải quyết", "Resolved"), "first_received": ("Tiếp nhận từ", "First received"),
               "last_received": ("Tiếp nhận đến", "Last received")}


def coverage(con: duckdb.DuckDBPyConnection, months: int = 24, *, level: str | None = None,
             where: Mapping[str, object] | None = None, last_day: date | None = None) -> pd.DataFrame:
    """Dossiers received per agency and month over the `months` calendar months ending with the month of
    `last_day` (default: the newest received day), for agencies of one level (province, district, commune;
    None: all) under the filters. Columns agency, agency_level, month ("YYYY-MM"), dossiers; months
    without a dossier have no row."""
    where_sql, params = views.filter_sql(where)
    if ensure_aggregates(con) is not None:  # the same counts from kpi_monthly (whole months, received month)
        window = coverage_months(con, months, last_day)
        params.update({"level": level, "first": f"{window[0]}-01" if window else None,
                       "last": f"{window[-1]}-01" if window else None})
        return con.execute(
            "SELECT coalesce(nullif(trim(agency_name), ''), '?') AS agency, any_value(agency_level) AS agency_level, "
            "strftime(month, '%Y-%m') AS month, CAST(sum(received) AS BIGINT) AS dossiers FROM kpi_monthly "
            "WHERE month BETWEEN $first::DATE AND $last::DATE AND received > 0 "
            f"AND ($level IS NULL OR agency_level = $level) AND {where_sql} "
            "GROUP BY agency, kpi_monthly.month ORDER BY agency, month", params).df()
    params.update({"months": months, "level": level, "last": last_day})
    return con.execute(
        "WITH bounds AS (SELECT date_trunc('month', coalesce($last::DATE, max(received_at)::DATE)) AS last_month "
        "FROM dossiers) "
        "SELECT coalesce(nullif(trim(agency_name), ''), '?') AS agency, any_value(agency_level) AS agency_level, "
        "strftime(date_trunc('month', received_at), '%Y-%m') AS month, count(*) AS dossiers "
        "FROM dossiers, bounds "
        "WHERE received_at >= last_month - to_months($months - 1) AND received_at < last_month + INTERVAL 1 MONTH "
        f"AND ($level IS NULL OR agency_level = $level) AND {where_sql} "
        "GROUP BY agency, month ORDER BY agency, month",
        params).df()


def coverage_gaps(frame: pd.DataFrame, months: Sequence[str]) -> pd.DataFrame:
    """Per agency of a coverage frame: months with data among `months` (the window, "YYYY-MM" in order),
    its first and last month with data, the months without data between them (gaps) and whether it sent
    nothing for the last month. Agencies with a gap or silent lately first."""
    rows = []
    for agency, part in frame.groupby("agency", sort=True):
        present = set(part["month"])
        first, last = min(present), max(present)
        inside = [m for m in months if first <= m <= last]
        rows.append({"agency": agency, "months_with_data": len(present), "first_month": first, "last_month": last,
                     "gap_months": len([m for m in inside if m not in present]),
                     "silent_last_month": bool(months) and months[-1] not in present,
                     "dossiers": int(part["dossiers"].sum())})
    columns = ["agency", "months_with_data", "first_month", "last_month", "gap_months", "silent_last_month",
               "dossiers"]
    out = pd.DataFrame(rows, columns=columns)
    if out.empty:
        return out
    out["gap_months"] = out["gap_months"].astype("int64")
    out["months_with_data"] = out["months_with_data"].astype("int64")
    return out.sort_values(["silent_last_month", "gap_months", "agency"], ascending=[False, False, True]).reset_index(
        drop=True)


def coverage_months(con: duckdb.DuckDBPyConnection, months: int = 24, last_day: date | None = None) -> list[str]:
    """The window of `coverage`: "YYYY-MM" of the `months` months ending with the month of `last_day` (default:
    the newest data month)."""
    if last_day is None and ensure_aggregates(con) is not None:
        last_day = views.data_span(con)["last_day"]  # the newest received day, from the aggregates
        if last_day is None:
            return []
    if last_day is not None:
        index = last_day.year * 12 + last_day.month - 1
        return [f"{(index - i) // 12:04d}-{(index - i) % 12 + 1:02d}" for i in range(months - 1, -1, -1)]
    rows = con.execute(
        "WITH bounds AS (SELECT date_trunc('month', coalesce($last::DATE, max(received_at)::DATE)) AS last_month "
        "FROM dossiers) SELECT strftime(last_month - to_months(i), '%Y-%m') FROM bounds, range($months) t(i) "
        "WHERE last_month IS NOT NULL ORDER BY 1", {"months": months, "last": last_day}).fetchall()
    return [r[0] for r in rows]
