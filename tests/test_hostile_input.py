"""Hostile input (issue 7, point 5): names and notes that a spreadsheet would run as formulas are written inert
to every CSV and Excel file; uploads are limited in size and checked by content; data texts shown in pages
cannot inject Markdown or HTML."""

from __future__ import annotations

import csv
import gzip
import html
import io
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from apptest import app_test
from hypothesis import given
from hypothesis.strategies import text as st_text
from kpi_rows import insert, row, small_store
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from kpi import charts, db, drilldown, exports, followups, store
from kpi.dossier_lists import late_dossiers
from kpi.form06 import write_form06
from kpi.formatting import html_escape, markdown_frame, md_escape
from kpi.importer import FileOutcome
from kpi.pack import build_pack
from kpi.pack_excel import write_pack_xlsx
from kpi.periods import month

ROOT = Path(__file__).resolve().parent.parent
MAY = month(2024, 5)
HOSTILE = ('=HYPERLINK("http://evil.example/","bấm")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1",
           "=cmd|' /C calc'!A0")
AGENCY, SECTOR, PROCEDURE, DISTRICT, COMMUNE, NOTE = HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[3], HOSTILE[4], \
    HOSTILE[6]
TASK = "=1+1"  # a follow-up's texts are stripped when stored: "\r=1+1" would become this


# --- formulas in exports ----------------------------------------------------------------------------


def _hostile_rows() -> list[dict[str, object]]:
    place = {"agency_name": AGENCY, "agency_level": "province", "sector": SECTOR, "district": DISTRICT,
             "commune": COMMUNE, "province": "Tỉnh Phú Thọ"}
    return [
        row("2024-05-02", 10, due="2024-05-10", finished="2024-05-08", procedure_code="=1+2", **place),
        row("2024-05-03", 10, due="2024-05-06", finished="2024-05-13", procedure_code="=1+2", **place),
        row("2024-05-04", 4, due="2024-05-20", procedure_code="-9", **place),
    ]


@pytest.fixture(scope="module")
def hostile() -> duckdb.DuckDBPyConnection:
    """A store whose unit, sector, locality and procedure names and a follow-up's texts are formulas."""
    con = small_store(_hostile_rows())
    con.execute("UPDATE dossiers SET procedure_name = $name", {"name": PROCEDURE})
    followups.add_followup(con, period=month(2024, 4), unit_dimension="agency", unit=AGENCY,
                           metric_id="on_time_rate", task=TASK, owner=HOSTILE[3], due_date=date(2024, 5, 31),
                           note=NOTE)
    yield con
    con.close()


def _is_inert(text: str) -> bool:
    return not text.startswith(exports.FORMULA_STARTS)


def _check_workbook(path: Path) -> list[str]:
    """Every cell of every sheet read back twice: openpyxl sees no formula cell, calamine (which evaluates
    nothing, reading the stored value) sees no text a spreadsheet would run; returns the texts."""
    book = load_workbook(path)
    texts = []
    for sheet in book.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert _is_inert(cell.value), f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                    texts.append(cell.value.replace("_x000D_", "\r"))  # openpyxl leaves Excel's escape of CR
    calamine = CalamineWorkbook.from_path(str(path))
    for name in calamine.sheet_names:
        for values in calamine.get_sheet_by_name(name).to_python():
            assert all(_is_inert(v) for v in values if isinstance(v, str)), (name, values)
    return texts


def test_neutralise_prefixes_formula_texts_only() -> None:
    for text in HOSTILE:
        assert exports.neutralise(text) == "'" + text
    for value in ("Sở Xây dựng", "'=1", "", "1+1", " =1", "a=b", "http://x.vn"):
        assert exports.neutralise(value) == value
    for number in (-3, -2.5, 0, 7):
        assert exports.neutralise(number) == number and type(exports.neutralise(number)) is type(number)
    assert exports.neutralise(None) is None


def test_table_download_csv_is_inert_and_keeps_numbers() -> None:
    frame = pd.DataFrame({"=Đơn vị": list(HOSTILE), "Thay đổi": [-1, -2, 3, -4, 5, -6, 7],
                          "Tỷ lệ": [-0.5, 0.25, None, 1.0, -0.125, 0.0, 2.5],
                          "Trộn": ["-5", -5, None, "@a", "ok", pd.NA, "+"]})
    frame["Nhóm"] = pd.Categorical(["-x", "a", "a", "a", "a", "a", "a"])
    body = exports.csv_bytes(frame)
    assert body.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert records[0] == ["'=Đơn vị", "Thay đổi", "Tỷ lệ", "Trộn", "Nhóm"]
    assert [r[0] for r in records[1:]] == ["'" + t for t in HOSTILE]  # the text kept, after the apostrophe
    assert [r[1] for r in records[1:]] == ["-1", "-2", "3", "-4", "5", "-6", "7"]  # negative numbers stay numbers
    assert [r[2] for r in records[1:]] == ["-0.5", "0.25", "", "1.0", "-0.125", "0.0", "2.5"]
    assert [r[3] for r in records[1:]] == ["'-5", "-5", "", "'@a", "ok", "", "'+"]
    assert [r[4] for r in records[1:]] == ["'-x", "a", "a", "a", "a", "a", "a"]
    assert all(_is_inert(cell) for r in records for cell in r if not _is_number(cell))
    assert frame.columns[0] == "=Đơn vị" and frame.iloc[0, 0] == HOSTILE[0]  # the caller's frame untouched


def test_csv_keeps_a_line_break_inside_its_cell() -> None:
    """A carriage return inside a text is quoted with it: Excel would start a new row at a bare one, and read the
    rest as a cell of its own ("=1+1" there would run)."""
    body = exports.csv_bytes(pd.DataFrame({"a": ["x\r=1+1", "y\n=1+1", "z"], "b": [1, 2, 3]}))
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines == ["a,b", '"x\r=1+1",1', '"y\n=1+1",2', "z,3", ""]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_table_download_xlsx_has_no_formula_and_keeps_numbers(hostile, tmp_path: Path) -> None:
    frame = drilldown.dossier_table(late_dossiers(hostile, MAY, kind="resolved_late"))
    frame = pd.concat([frame, pd.DataFrame({"Thay đổi": [-3] * len(frame)})], axis=1)
    frame["ghi chú"] = NOTE
    path = tmp_path / "table.xlsx"
    path.write_bytes(exports.xlsx_bytes(frame.rename(columns={"ghi chú": "=ghi chú"})))
    texts = _check_workbook(path)
    for text in (AGENCY, SECTOR, PROCEDURE, DISTRICT, COMMUNE, NOTE, "=ghi chú", "=1+2"):
        assert "'" + text in texts, text
    sheet = load_workbook(path).active
    headers = [c.value for c in sheet[1]]
    changes = [r[0].value for r in sheet.iter_rows(min_row=2, min_col=headers.index("Thay đổi") + 1,
                                                   max_col=headers.index("Thay đổi") + 1)]
    assert changes == [-3] * len(frame) and all(isinstance(v, int) for v in changes)
    assert "http://evil.example/" not in {link.target for link in sheet._hyperlinks}
    assert not sheet._hyperlinks  # strings_to_urls is off: a URL in a name is no link


def test_meeting_pack_workbook_has_no_formula(hostile, tmp_path: Path) -> None:
    pack = build_pack(hostile, MAY, workbook=True, where={"agency": AGENCY})
    assert len(pack.late) and len(pack.followups)  # the hostile names reach the dossier and follow-up sheets
    texts = _check_workbook(write_pack_xlsx(pack, tmp_path / "pack.xlsx"))
    for text in (AGENCY, SECTOR, PROCEDURE, DISTRICT, COMMUNE, NOTE, TASK):
        assert "'" + text in texts, text
    numbers = load_workbook(tmp_path / "pack.xlsx")["Biểu 06 - Lĩnh vực"]
    assert [c.value for c in numbers[11]][2:] == [3, 0, 3, 0, 2, 1, 0, 1, 1, 0, 1]  # Biểu 06's counts stay numbers


def test_form06_workbook_has_no_formula(hostile, tmp_path: Path) -> None:
    for by, name in (("sector", SECTOR), ("agency", AGENCY), ("district", DISTRICT), ("commune", COMMUNE)):
        path = tmp_path / f"form06-{by}.xlsx"
        write_form06(hostile, MAY, path, by=by, reporting_unit=AGENCY, scope_label=AGENCY)
        texts = _check_workbook(path)
        assert "'" + name in texts, by


# --- uploads ----------------------------------------------------------------------------------------

DATA = Path(__file__).resolve().parent / "data"
GOOD = ("comma_utf8.csv", (DATA / "comma_utf8.csv").read_bytes())  # three dossiers
SMALL = store.UploadLimits(file_mb=1, batch_mb=2)


def _refusals(outcomes) -> dict[str, str]:
    return {o.file: o.error for o in outcomes if o.result is None}


def _padded_export(megabytes: float) -> bytes:
    """A valid export of three dossiers, padded to about `megabytes` by a column the importer does not keep."""
    lines = (DATA / "comma_utf8.csv").read_text(encoding="utf-8").splitlines()
    pad = "x" * int(megabytes * (1 << 20) / max(len(lines) - 1, 1))
    return "\n".join([lines[0] + ",Ghi chú nội bộ", *(f"{line},{pad}" for line in lines[1:])]).encode("utf-8")


def test_a_file_over_the_size_limit_is_refused_and_the_rest_imported() -> None:
    con = db.connect()
    big = b"Ma ho so,Ma TTHC\n" + b"x" * (1 << 20)
    outcomes = store.import_uploads(con, [("big.csv", big), ("big-stream.csv", io.BytesIO(big)), GOOD],
                                    limits=SMALL)
    refused = _refusals(outcomes)
    assert set(refused) == {"big.csv", "big-stream.csv"}
    assert all("big" in e and "1 MB" in e and "per file" in e and "mỗi tệp" in e for e in refused.values())
    assert outcomes[2].result is not None and outcomes[2].result.inserted == 3
    assert store.import_history(con)["file_name"].tolist() == ["comma_utf8.csv"]
    con.close()


def test_a_batch_over_its_limit_refuses_the_files_past_it() -> None:
    con = db.connect()
    files = [(f"part{i}.csv", _padded_export(0.8)) for i in (1, 2, 3)]
    outcomes = store.import_uploads(con, [*files, ("tiny.csv", (DATA / "semicolon_bom.csv").read_bytes())],
                                    limits=SMALL)
    assert [o.result is not None for o in outcomes] == [True, True, False, True]  # 0.8 + 0.8 MB fit, a third not
    assert "part3.csv" in outcomes[2].error and "2 MB" in outcomes[2].error and "upload it separately" in \
        outcomes[2].error
    con.close()


def _gzip_bomb(megabytes: int) -> bytes:
    """A gzip file of a few kilobytes that unpacks to `megabytes` of a valid header and blank-ish lines."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed:
        packed.write(b"Ma ho so,Ma TTHC,Ngay tiep nhan,Hinh thuc nop,Trang thai\n")
        line = b",,,,\n" * (1 << 17)
        for _ in range(megabytes * 2):
            packed.write(line)
    return out.getvalue()


def test_uploads_whose_content_is_not_what_their_name_says_are_refused() -> None:
    con = db.connect()
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 64
    bomb = _gzip_bomb(40)
    assert len(bomb) < 100_000
    uploads = [
        ("report.xlsx", b"Ma ho so,Ma TTHC\n1,2\n"),  # a text file named .xlsx
        ("tool.csv", exe),  # a program named .csv
        ("old.xls", b"<html><table><tr><td>Ma ho so</td></tr></table></html>"),  # an HTML page named .xls
        ("archive.xlsx", _zip({"data.csv": b"a,b\n"})),  # a ZIP that is no workbook
        ("plain.csv.gz", GOOD[1]),  # not gzipped
        ("bomb.csv.gz", bomb),
        ("binary.csv.gz", gzip.compress(bytes(range(256)) * 64, mtime=0)),
        ("truncated.csv.gz", gzip.compress(GOOD[1], mtime=0)[:-12]),
        GOOD,
        ("good.csv.gz", gzip.compress(GOOD[1], mtime=0)),
    ]
    outcomes = store.import_uploads(con, uploads, limits=SMALL)
    refused = _refusals(outcomes)
    assert list(refused) == [name for name, _ in uploads[:-2]]
    for name, error in refused.items():
        assert name in error, error  # every refusal names its file
    assert "unreadable workbook" in refused["report.xlsx"] and "holds text, not an .xlsx/.xlsm workbook" in \
        refused["report.xlsx"] and "nội dung là văn bản" in refused["report.xlsx"]
    assert "holds a program (.exe), not CSV/TXT/TSV text" in refused["tool.csv"]
    assert "holds an HTML or XML page, not an Excel 97-2003 .xls workbook" in refused["old.xls"]
    assert "holds a ZIP archive, not an .xlsx/.xlsm workbook" in refused["archive.xlsx"]
    assert "holds text, not gzipped CSV/TXT/TSV text" in refused["plain.csv.gz"]
    assert "unpacks to more than 1 MB" in refused["bomb.csv.gz"]
    assert "holds binary data, not CSV/TXT/TSV text" in refused["binary.csv.gz"]
    assert "is corrupt" in refused["truncated.csv.gz"]
    assert [o.result.inserted for o in outcomes if o.result is not None] == [3, 0]  # the same rows again: unchanged
    assert store.summary(con)["dossiers"] == 3
    con.close()


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def test_a_workbook_that_unpacks_too_far_or_is_corrupt_is_refused() -> None:
    good = (DATA / "title_rows.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    inflated = _zip({**parts, "xl/media/padding.bin": bytes(11 << 20)})  # 11 MB of zeros: > 10 x 1 MB unpacked
    corrupt = bytearray(good)
    sheet = corrupt.find(b"xl/worksheets/sheet1.xml") + 60  # inside the sheet's compressed data
    corrupt[sheet:sheet + 8] = b"\x00" * 8
    con = db.connect()
    outcomes = store.import_uploads(con, [("inflated.xlsx", inflated), ("corrupt.xlsx", bytes(corrupt)),
                                          ("title_rows.xlsx", good)], limits=SMALL)
    refused = _refusals(outcomes)
    assert set(refused) == {"inflated.xlsx", "corrupt.xlsx"}
    assert "unpacks to more than 10 MB" in refused["inflated.xlsx"]
    assert "unreadable workbook corrupt.xlsx: the file is corrupt" in refused["corrupt.xlsx"]
    assert outcomes[2].result is not None and outcomes[2].result.inserted > 0
    con.close()


def test_every_field_dialect_passes_the_upload_checks() -> None:
    """The upload checks refuse nothing kpi.sources reads: every test export, the bundled sample."""
    files = [p for p in sorted(DATA.iterdir()) if p.suffix != ".py" and p.name != "unsupported.pdf"]
    files += list(db.SAMPLE_DIR.glob("*.csv.gz"))[:2]
    for path in files:
        store.check_upload(path, path.name, store.UploadLimits())


def test_upload_limits_come_from_the_environment() -> None:
    assert store.UploadLimits.from_env({}) == store.UploadLimits(200, 1000)
    assert store.UploadLimits.from_env({"EGOV_KPI_MAX_UPLOAD_MB": "50"}) == store.UploadLimits(50, 1000)
    assert store.UploadLimits.from_env({"EGOV_KPI_MAX_UPLOAD_MB": "2000"}) == store.UploadLimits(2000, 2000)
    assert store.UploadLimits.from_env({"EGOV_KPI_MAX_UPLOAD_BATCH_MB": "300", "EGOV_KPI_MAX_UPLOAD_MB": ""}) == \
        store.UploadLimits(200, 300)
    for bad in ("0", "-5", "1.5", "lots"):
        with pytest.raises(ValueError, match="EGOV_KPI_MAX_UPLOAD_MB"):
            store.UploadLimits.from_env({"EGOV_KPI_MAX_UPLOAD_MB": bad})
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == store.MAX_UPLOAD_MB == store.UploadLimits().file_mb


def test_upload_names_are_never_paths() -> None:
    assert store.upload_name("C:\\Users\\an\\x.csv") == "x.csv"
    assert store.upload_name("../../etc/passwd.csv") == "passwd.csv"
    assert store.upload_name("..") == store.upload_name("") == "upload"


# --- markup in pages --------------------------------------------------------------------------------

LINK = "[bấm vào](javascript:alert(1))"
IMAGE = "![ảnh](http://evil.example/x.png)"
SCRIPT = "<script>alert(1)</script> & :red[Sở] *đậm*"
MARKDOWN_TEXTS = (LINK, IMAGE, SCRIPT, "- mục 1\n2. hai\n=== ", "www.evil.example a@b.vn https://evil.example/",
                  "$x^2$ `mã` ~~gạch~~ | bảng | # tiêu đề", "\\[thoát\\] &amp; &#60;", ":::warning\n::tip[x]{a=b}")


def _unescape(markdown: str) -> str:
    """What CommonMark shows for text without any construct: each backslash escape of an ASCII mark removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


@pytest.mark.parametrize("text", MARKDOWN_TEXTS)
def test_md_escape_shows_the_text_and_leaves_no_construct(text: str) -> None:
    escaped = md_escape(text)
    assert _unescape(escaped) == text  # what Markdown shows is the text itself
    unescaped_marks = re.findall(r"(?<!\\)((?:\\\\)*)([\[\]<>`*_#|~$&@{}])", escaped)
    assert not unescaped_marks, unescaped_marks
    assert "://" not in escaped and "www." not in escaped.lower()
    for line in escaped.split("\n"):
        assert not re.match(r"\s*([-+=:]|\d+[.)])", line), line  # no list, underline or directive starts a line


@given(st_text())
def test_md_escape_round_trips_any_text(text: str) -> None:
    assert _unescape(md_escape(text)) == text


def test_html_escape_for_plotly_and_st_html() -> None:
    text = '<a href="http://evil.example">x</a> & <b>đậm</b><br>'
    escaped = html_escape(text)
    assert "<" not in escaped and ">" not in escaped and html.unescape(escaped) == text
    assert '"' in escaped  # Plotly decodes &lt; &gt; &amp; only: quotes stay as written
    frame = pd.DataFrame({"group": [text, "Sở A"], "value": [0.5, 0.9], "target": [0.8, 0.8],
                          "status": ["red", "green"], "numerator": [1, 9], "denominator": [2, 10]})
    figure = charts.ranking_bar(frame, "on_time_rate", title="<i>" + LINK + "</i>")
    bar = figure.data[0]
    assert list(bar.y) == ["Sở A", escaped] and list(bar.customdata) == ["Sở A", text]  # a click still names it
    assert all("<a" not in h and "<b>" not in h for h in bar.hovertext)
    assert figure.layout.title.text == html_escape("<i>" + LINK + "</i>")


def test_markdown_frame_escapes_texts_for_st_table() -> None:
    frame = pd.DataFrame({"[Đơn vị](x)": [LINK, IMAGE], "Số": [-1, 2]})
    shown = markdown_frame(frame)
    assert list(shown.columns) == [md_escape("[Đơn vị](x)"), "Số"]
    assert shown.iloc[:, 0].tolist() == [md_escape(LINK), md_escape(IMAGE)] and shown["Số"].tolist() == [-1, 2]


AGENCY_LINK, AGENCY_IMAGE = LINK, IMAGE


@pytest.fixture
def markup_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store whose agencies, sector, localities and procedure are named with Markdown and HTML, for the pages."""
    path = tmp_path / "markup.duckdb"
    con = db.connect(path)
    place = {"sector": SCRIPT, "province": "Tỉnh Phú Thọ", "district": "## Huyện *Một*", "commune": "www.evil.example"}
    insert(con, [
        row("2024-05-02", 10, due="2024-05-10", finished="2024-05-08", agency_name=AGENCY_LINK,
            agency_level="province", procedure_code="P1", **place),
        row("2024-05-03", 10, due="2024-05-06", finished="2024-05-13", agency_name=AGENCY_LINK,
            agency_level="province", procedure_code="P1", **place),
        row("2024-05-04", 10, due="2024-05-20", finished="2024-05-10", agency_name=AGENCY_IMAGE,
            agency_level="province", procedure_code="P1", **place),
    ])
    con.execute("UPDATE dossiers SET procedure_name = $name", {"name": "<a href='http://evil.example'>Thủ tục</a>"})
    con.close()
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path


MAY_URL = {"ky": "month", "nam": "2024", "so": "5"}


def _page(name: str, **params: str):
    at = app_test(ROOT / "pages" / name, "vi", **{**MAY_URL, **params})
    assert not at.exception, at.exception
    return at


def _texts(at) -> list[str]:
    """The Markdown bodies and labels a page drew: markdown, captions, alerts, buttons."""
    return [e.value for e in (*at.markdown, *at.caption, *at.error, *at.warning, *at.info, *at.success)] + \
        [b.label for b in at.button]


def _literal(at, *names: str) -> None:
    """Each name is drawn escaped (so shown as written), and no body holds it raw."""
    texts = _texts(at)
    for name in names:
        assert any(md_escape(name) in text for text in texts), name
        assert not any(name in text for text in texts), name


def test_departments_page_shows_hostile_names_literally(markup_store: Path) -> None:
    at = _page("so_nganh.py")
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = figure["data"][0]
    assert set(bars["y"]) == {html_escape(AGENCY_LINK), html_escape(AGENCY_IMAGE)}  # no HTML in the chart's labels
    assert set(bars["customdata"]) == {AGENCY_LINK, AGENCY_IMAGE}
    at = _page("so_nganh.py", don_vi=AGENCY_LINK, linh_vuc=SCRIPT)  # the breadcrumb names the chosen unit and sector
    _literal(at, AGENCY_LINK, SCRIPT)
    crumbs = [b.label for b in at.button if b.key and b.key.startswith("so-nganh-crumbs")]
    assert [_unescape(c) for c in crumbs] == ["Toàn tỉnh", AGENCY_LINK, f"Lĩnh vực {SCRIPT}"]


def test_meeting_pages_show_the_scope_literally(markup_store: Path) -> None:
    at = _page("bao_cao_hop.py", don_vi=AGENCY_IMAGE)
    cover = next(m.value for m in at.markdown if "Phạm vi" in m.value)
    assert f"- **Phạm vi:** {md_escape(AGENCY_IMAGE)}" in cover and AGENCY_IMAGE not in cover
    at = _page("trinh_chieu.py", don_vi=AGENCY_IMAGE)
    _literal(at, AGENCY_IMAGE)


def test_data_page_shows_a_refused_file_literally(markup_store: Path) -> None:
    name = "[tải về](http://evil.example).csv"
    at = app_test(ROOT / "pages" / "du_lieu.py", "vi", run=False, **MAY_URL)
    at.session_state["data-outcomes"] = [FileOutcome(name, error=f"<b>{name}</b>: không phải văn bản")]
    at.run()
    assert not at.exception, at.exception
    error = next(e.value for e in at.error if "không nhập được" in e.value)
    assert error == f"{md_escape(name)}: không nhập được. {md_escape(f'<b>{name}</b>: không phải văn bản')}"
    assert name not in error and "<b>" not in error


def test_cli_csv_is_inert(tmp_path: Path) -> None:
    """`python -m kpi late` and `kpis --format csv` write the CSV a user opens in Excel: formulas neutralised."""
    path = tmp_path / "hostile.duckdb"
    con = db.connect(path)
    insert(con, _hostile_rows())
    con.execute("UPDATE dossiers SET procedure_name = $name", {"name": PROCEDURE})
    con.close()
    for args in (("late", "--from", "2024-05-01", "--to", "2024-05-31"),
                 ("kpis", "--from", "2024-05-01", "--to", "2024-05-31", "--by", "agency", "--format", "csv")):
        done = subprocess.run([sys.executable, "-m", "kpi", *args, "--db", str(path)], cwd=ROOT, capture_output=True,
                              text=True, encoding="utf-8", timeout=120)
        assert done.returncode == 0, done.stderr
        records = list(csv.reader(io.StringIO(done.stdout, newline="")))
        texts = [cell for record in records for cell in record if not _is_number(cell)]
        assert "'" + AGENCY in texts and all(_is_inert(t) for t in texts), (args, records)
