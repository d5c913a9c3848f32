"""Reading export files as field offices produce them into one raw table.

A source file (CSV/TXT in any of the field encodings and separators, gzipped or not, or an Excel
workbook) becomes the temporary table `raw_rows(is_blank, is_total, <canonical> ...)`: every row below the
header, in file order (rowid + 1 is its ordinal), as trimmed text, read by DuckDB's CSV reader or from an
Arrow table built from the workbook. Only columns that map to a canonical field are copied, so personal
data (names, phones, addresses, ID numbers) never enters a table.
Parsing values and applying the bad-value rules is the importer's job (`kpi.importer`).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kpi.fields import FIELD_BY_NAME, FIELDS, REQUIRED, accepted_spellings, exact_key, match_header, nfc

TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
DELIMITERS = (";", ",", "\t", "|")
HEADER_SEARCH_ROWS = 50
TOTAL_ROW_PATTERN = r"^(tong cong|tong so|tong|cong)\b"
_BLANK_LINE = re.compile(rb"\n\r?(?=\n)")


class ImportRefused(Exception):
    """A file that cannot be imported at all; the message says what was expected."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


class MissingColumns(ImportRefused):
    """No row names every required column; `matched` is how many canonical columns the best row named,
    so that among several readings (separators, sheets) the refusal describing the likeliest header wins."""

    def __init__(self, file: str, message: str, matched: int) -> None:
        super().__init__(file, message)
        self.matched = matched


@dataclass
class Layout:
    """Where the data is in a file and which column is which canonical field."""

    file_format: str
    header_row: int  # 1-based
    headers: list[str]
    mapping: dict[int, str]  # column position -> canonical field
    encoding: str | None = None
    delimiter: str | None = None
    sheet_name: str | None = None
    # For text files: ordinal offsets of the empty lines DuckDB's reader passes over, to recover file row
    # numbers and count them as skipped.
    blank_offsets: list[int] = field(default_factory=list)
    # From a first pass over the rows: blank and total rows, and each vocabulary field's distinct values.
    skipped: int = 0
    distinct_values: dict[str, list[str]] = field(default_factory=dict)

    def row_number_sql(self, ordinal: str = "ordinal") -> str:
        """SQL giving the file's row number (as a spreadsheet shows it) of a raw row; binds $header_row
        and $blank_offsets."""
        return f"({ordinal} + $header_row + len(list_filter($blank_offsets, lambda x: x < {ordinal})))"


def file_sha256(path: Path) -> str:
    """SHA-256 of the file as received, to recognise the same export imported twice."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_format(path: Path) -> str:
    """csv, xlsx or xls from the file name; refuses anything else."""
    name = path.name.lower()
    if name.endswith(EXCEL_SUFFIXES):
        return "xls" if name.endswith(".xls") else "xlsx"
    if name.endswith(TEXT_SUFFIXES):
        return "csv"
    raise ImportRefused(
        path.name,
        "định dạng tệp không được hỗ trợ; cần .csv, .txt, .tsv (có thể nén .gz), .xlsx hoặc .xls "
        "(unsupported file type; expected .csv, .txt, .tsv, optionally gzipped, .xlsx or .xls)",
    )


# --- header detection ------------------------------------------------------------------------------------


def map_headers(headers: Sequence[str]) -> dict[int, str]:
    """Column position -> canonical field. When two columns name one field, the spelling listed first
    in DOMAIN §3 wins ("Cơ quan giải quyết" over "Đơn vị tiếp nhận")."""
    best: dict[str, tuple[int, int]] = {}
    for position, header in enumerate(headers):
        name = match_header(header)
        if name is None:
            continue
        aliases = [exact_key(a) for a in FIELD_BY_NAME[name].aliases]
        key = exact_key(header)
        priority = aliases.index(key) if key in aliases else len(aliases)
        if name not in best or priority < best[name][1]:
            best[name] = (position, priority)
    return {position: name for name, (position, _) in best.items()}


def find_header(file: str, rows: Sequence[Sequence[str]]) -> tuple[int, dict[int, str]]:
    """Index of the first row that names every required column, and its mapping.

    Title rows above the header ("BÁO CÁO DANH SÁCH HỒ SƠ", "Từ ngày ... đến ngày ...") are passed
    over. When no row qualifies, the file is refused with the columns found and the ones missing.
    """
    best_index, best_mapping = -1, {}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = map_headers([str(c) if c is not None else "" for c in row])
        if set(REQUIRED) <= set(mapping.values()):
            return index, mapping
        if len(mapping) > len(best_mapping):
            best_index, best_mapping = index, mapping
    raise MissingColumns(file, missing_columns_message(rows[best_index] if best_index >= 0 else [], best_mapping),
                         len(best_mapping))


def _likelier(current: MissingColumns | None, new: MissingColumns) -> MissingColumns:
    """Of two refusals (two separators, two sheets), the one describing the likelier header row."""
    return new if current is None or new.matched > current.matched else current


def missing_columns_message(row: Sequence[object], mapping: dict[int, str]) -> str:
    found = [str(c).strip() for c in row if c is not None and str(c).strip()]
    missing = [name for name in REQUIRED if name not in mapping.values()]
    lines = [
        "không tìm thấy dòng tiêu đề có đủ các cột bắt buộc (no header row names every required column).",
        "Các cột tìm thấy (columns found): " + (", ".join(f'"{c}"' for c in found) or "không có (none)"),
        "Thiếu (missing):",
    ]
    lines += [
        f"  - {FIELD_BY_NAME[name].label_vi} / {FIELD_BY_NAME[name].label_en} ({name}): "
        f"tên chấp nhận (accepted spellings) {accepted_spellings(name)}"
        for name in missing
    ]
    return "\n".join(lines)


# --- text files -------------------------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    """utf-8-sig, utf-16 (BOM or NUL pattern), utf-8, else Windows-1258 (Vietnamese ANSI), from the first
    kilobytes. A file whose head is valid UTF-8 but whose body is not is caught by the reader
    (`load_text` then falls back to Windows-1258)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:4096]
    if sample and sample.count(0) > len(sample) // 4:
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a cut character at the end is fine
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def _head_rows(text: str, delimiter: str) -> list[list[str]]:
    lines = text.split("\n", HEADER_SEARCH_ROWS + 1)[:HEADER_SEARCH_ROWS]
    return [row or [] for row in csv.reader((line.rstrip("\r") for line in lines), delimiter=delimiter)]


def _text_layout(file: str, text_head: str) -> tuple[str, int, list[str], dict[int, str]]:
    """Delimiter, header index, headers and mapping from the first lines of a text export."""
    refusal: MissingColumns | None = None
    found: list[tuple[int, int, str, list[str], dict[int, str]]] = []
    for delimiter in DELIMITERS:
        rows = _head_rows(text_head, delimiter)
        try:
            index, mapping = find_header(file, rows)
        except MissingColumns as exc:
            refusal = _likelier(refusal, exc)
            continue
        found.append((index, -len(mapping), delimiter, [nfc(h).strip() for h in rows[index]], mapping))
    if not found:
        assert refusal is not None
        raise refusal
    index, _, delimiter, headers, mapping = min(found)
    return delimiter, index, headers, mapping


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def _open_text(path: Path) -> BinaryIO:
    """The export as a byte stream, gunzipped on the fly when it is gzipped."""
    return gzip.open(path, "rb") if _is_gzip(path) else path.open("rb")


def _scan(stream: BinaryIO, header_row: int, chunk_size: int = 1 << 24) -> tuple[bool, list[int]]:
    """One streaming pass over a text export: whether a lead byte of a combining mark (U+0300..U+036F:
    CC or CD) occurs, and the blank-line offsets of `_blank_offsets`, without holding the file in memory."""
    combining, offsets = False, []
    newlines, tail = 0, b""  # newlines before the start of `buffer`; the undecided end of the last chunk
    while True:
        chunk = stream.read(chunk_size)
        buffer = tail + chunk
        combining = combining or b"\xcc" in chunk or b"\xcd" in chunk
        # A blank line starting at s is decided once s + 2 is in the buffer (except at the very end).
        cut = len(buffer) if not chunk else max(len(buffer) - 2, 0)
        position = 0
        for match in _BLANK_LINE.finditer(buffer, 0, len(buffer)):
            if match.start() >= cut:
                break
            newlines += buffer.count(b"\n", position, match.start() + 1)
            position = match.start() + 1
            if newlines + 1 > header_row:  # the line after this newline is blank
                offsets.append(newlines - header_row - len(offsets))
        newlines += buffer.count(b"\n", position, cut)
        tail = buffer[cut:]
        if not chunk:
            return combining, offsets


@contextmanager
def _utf8_copy(body: bytes) -> Iterator[Path]:
    """A temporary copy of a text export rewritten as NFC UTF-8, for DuckDB's reader."""
    with tempfile.TemporaryDirectory(prefix="egov-kpi-") as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(body)
        yield path


def _blank_offsets(data: bytes, header_row: int) -> list[int]:
    """For each blank line below the header, the number of data lines before it: DuckDB skips blank
    lines, so a raw row's file row is ordinal + header_row + the blank lines before it."""
    return _scan(io.BytesIO(data), header_row)[1]


def _first_cell_sql(columns: Sequence[str]) -> str:
    """The first non-empty cell of a row; coalesce stops at the first one, so this is cheap."""
    return "coalesce(" + ", ".join(f"nullif(trim({c}), '')" for c in columns) + ")"


def _canonical_select(mapping: dict[int, str]) -> str:
    parts = []
    for f in FIELDS:
        positions = [p for p, name in mapping.items() if name == f.name]
        parts.append(f"nullif(trim(c{positions[0]}), '') AS {f.name}" if positions else
                     f"CAST(NULL AS VARCHAR) AS {f.name}")
    return ", ".join(parts)


def _rows_sql(width: int, mapping: dict[int, str], source: str, total_pattern: str) -> str:
    """The raw rows of a source with text columns c0..c<width-1>: blank and total flags and one trimmed
    column per canonical field. Only mapped columns are selected, so nothing else is ever stored.
    `total_pattern` names the parameter holding TOTAL_ROW_PATTERN."""
    first = _first_cell_sql([f"c{i}" for i in range(width)])
    return (
        "SELECT first_cell IS NULL AS is_blank, "
        "coalesce(lower(left(first_cell, 1)) IN ('t', 'c') AND regexp_matches(lower(strip_accents(first_cell)), "
        f"{total_pattern}), false) AS is_total, * EXCLUDE (first_cell) FROM ("
        f"SELECT {first} AS first_cell, {_canonical_select(mapping)} FROM {source})"
    )


def load_text(con: duckdb.DuckDBPyConnection, path: Path, display_name: str, stack: ExitStack) -> Layout:
    """Read a CSV/TXT export (any field encoding and separator, optionally gzipped) into raw_rows.

    A plain UTF-8 file in NFC (the common case, and the large one) is read by DuckDB in place; any other
    encoding, or decomposed accents, is first rewritten as an NFC UTF-8 temporary copy.
    """
    try:
        with _open_text(path) as stream:
            head_bytes = stream.read(1 << 16)
            if not head_bytes.strip() and not stream.read().strip():
                raise ImportRefused(display_name, "tệp rỗng (the file is empty)")
    except (OSError, EOFError) as exc:  # a corrupt .gz
        raise ImportRefused(display_name, f"tệp nén hỏng (corrupt gzip file): {exc}") from exc
    encoding = detect_encoding(head_bytes)
    head = head_bytes.decode(encoding, errors="replace")
    delimiter, header_index, headers, mapping = _text_layout(display_name, head)
    header_row = header_index + 1
    layout = Layout("csv", header_row, headers, mapping, encoding=encoding, delimiter=delimiter)

    width = max(len(headers), max(mapping) + 1)
    raw_columns = [f"c{i}" for i in range(width)]
    # A table macro, so that the reader's path and options are bound as parameters.
    con.execute(
        "CREATE OR REPLACE TEMP MACRO raw_source(m_path, m_delim, m_skip, m_columns, m_compression, m_parallel, "
        "m_total_pattern) AS TABLE " + _rows_sql(width, mapping, (
            "read_csv(m_path, delim = m_delim, quote = '\"', escape = '\"', header = false, skip = m_skip, "
            "all_varchar = true, null_padding = true, auto_detect = false, strict_mode = false, "
            "parallel = m_parallel, compression = m_compression, columns = m_columns)"), "m_total_pattern")
    )
    params = {"delim": delimiter, "skip": header_row, "columns": {c: "VARCHAR" for c in raw_columns},
              "total_pattern": TOTAL_ROW_PATTERN}

    # Plain UTF-8 in NFC is read in place; decomposed accents or another encoding are rewritten first.
    if encoding in ("utf-8", "utf-8-sig"):
        with _open_text(path) as stream:
            combining, layout.blank_offsets = _scan(stream, header_row)
        if not combining:
            try:
                _read_file(con, layout, display_name, {**params, "path": str(path),
                                                          "compression": "gzip" if _is_gzip(path) else "none"})
                return layout
            except ImportRefused as exc:
                if "unicode" not in exc.message.lower():
                    raise
                encoding = layout.encoding = "cp1258"  # valid UTF-8 at the head only: a Windows-1258 file
    with _open_text(path) as stream:
        body = unicodedata.normalize("NFC", stream.read().decode(encoding)).encode("utf-8")
    layout.blank_offsets = _blank_offsets(body, header_row)
    copy = stack.enter_context(_utf8_copy(body))
    del body
    _read_file(con, layout, display_name, {**params, "path": str(copy), "compression": "none"})
    return layout


def _read_file(con: duckdb.DuckDBPyConnection, layout: Layout, display_name: str, params: dict) -> None:
    """Read a CSV file once into the temp table raw_rows, in parallel unless the file needs the serial
    reader, and survey it. Rows keep the file's order, so rowid + 1 is a row's ordinal."""
    for parallel in (True, False):
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT * FROM "
                        "raw_source($path, $delim, $skip, $columns, $compression, $parallel, $total_pattern)",
                        {**params, "parallel": parallel})
            break
        except duckdb.Error as exc:
            # DuckDB's parallel reader cannot pad short rows in files with line breaks inside quoted values.
            if not parallel or "parallel" not in str(exc):
                raise ImportRefused(display_name, f"không đọc được tệp CSV (unreadable CSV): {exc}") from exc
    _survey(con, layout)


def _survey(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    """First pass over the rows: count blank and total rows, collect each vocabulary field's values."""
    vocabulary_fields = [f.name for f in FIELDS if f.kind in ("enum", "bool")]
    row = con.execute(
        "SELECT count(*) FILTER (WHERE is_blank OR is_total), "
        + ", ".join(f"list(DISTINCT {name}) FILTER (WHERE {name} IS NOT NULL)" for name in vocabulary_fields)
        + " FROM raw_rows"
    ).fetchone()
    layout.skipped = row[0]
    layout.distinct_values = {name: list(values or []) for name, values in zip(vocabulary_fields, row[1:],
                                                                                strict=True)}


# --- workbooks --------------------------------------------------------------------------------------------


def _first_row_numbers(path: Path) -> dict[str, int]:
    """Per sheet of an .xlsx, the spreadsheet row of its first stored row. The reader's rows start there,
    not at row 1, when a sheet begins with empty rows; this keeps reported row numbers exact."""
    relationship = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target", "") for r in rels}
            first_rows = {}
            for sheet in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
                target = targets.get(sheet.get(relationship), "").lstrip("/")
                member = target if target.startswith("xl/") else f"xl/{target}"
                with archive.open(member) as part:
                    match = re.search(rb"<row [^>]*?r=\"(\d+)\"", part.read(1 << 16))
                first_rows[sheet.get("name", "")] = int(match.group(1)) if match else 1
            return first_rows
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError, ValueError):
        return {}


def _nfc_column(column: pa.Array) -> pa.Array:
    """NFC-normalise a text column; skipped (the costly part) when no lead byte of a combining mark
    (U+0300..U+036F: CC or CD) occurs in its data."""
    data = column.buffers()[2] if column.type in (pa.string(), pa.large_string()) else None
    if data is None:
        return column
    values = np.frombuffer(data, dtype=np.uint8)
    if not (np.equal(values, 0xCC).any() or np.equal(values, 0xCD).any()):
        return column
    return pc.utf8_normalize(column, "NFC")


def load_excel(con: duckdb.DuckDBPyConnection, path: Path, display_name: str) -> Layout:
    """Read the first sheet of a workbook that has a header row into raw_rows.

    fastexcel (calamine) hands the sheet over as Arrow text columns: dates as ISO text, whole numbers
    without ".0", serial numbers in number cells as numbers (the date parser reads them).
    """
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        sheet_names = reader.sheet_names
    except Exception as exc:  # fastexcel raises its own error types for corrupt files
        raise ImportRefused(display_name, f"không đọc được tệp Excel (unreadable workbook): {exc}") from exc
    first_rows = _first_row_numbers(path) if path.suffix.lower() != ".xls" else {}
    refusal: MissingColumns | None = None
    for sheet_name in sheet_names:
        try:
            sheet = reader.load_sheet(sheet_name, header_row=None, dtypes="string", eager=True)
        except Exception as exc:
            raise ImportRefused(display_name, f"không đọc được trang {sheet_name} (unreadable sheet): {exc}") from exc
        head = [[cell or "" for cell in row.values()] for row in sheet.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
        try:
            header_index, mapping = find_header(display_name, head)
        except MissingColumns as exc:
            refusal = _likelier(refusal, exc)
            continue
        body = sheet.slice(header_index + 1)
        body = pa.table([_nfc_column(column) if i in mapping else column for i, column in enumerate(body.columns)],
                        names=[f"c{i}" for i in range(body.num_columns)])
        con.register("sheet_arrow", body)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE raw_rows AS "
                        + _rows_sql(body.num_columns, mapping, "sheet_arrow", "$total_pattern"),
                        {"total_pattern": TOTAL_ROW_PATTERN})
        finally:
            con.unregister("sheet_arrow")
        layout = Layout("xls" if path.name.lower().endswith(".xls") else "xlsx",
                        first_rows.get(sheet_name, 1) + header_index,
                        [nfc(h).strip() for h in head[header_index]], mapping, sheet_name=sheet_name)
        _survey(con, layout)
        return layout
    if refusal is None:
        raise ImportRefused(display_name, "tệp Excel không có dữ liệu (the workbook holds no data)")
    raise ImportRefused(display_name, f"không có trang tính nào có dòng tiêu đề hợp lệ (no sheet has a header row). "
                        f"{refusal.message}")


def load_source(
    con: duckdb.DuckDBPyConnection, path: Path, stack: ExitStack, display_name: str | None = None
) -> Layout:
    """Read any supported export into the temp table raw_rows on `con` and describe its layout; `stack`
    holds what the reading needs (a temporary transcoded copy) until the import is over."""
    name = display_name or path.name
    if not path.is_file():
        raise ImportRefused(name, "không tìm thấy tệp (file not found)")
    kind = file_format(path) if display_name is None else file_format(Path(display_name))
    if kind == "csv":
        return load_text(con, path, name, stack)
    return load_excel(con, path, name)

