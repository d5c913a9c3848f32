"""The meeting pack's PDF (kpi.pack_pdf) on the bundled sample: the text poppler extracts holds the engine's
KPI values as kpi.formatting writes them, every Vietnamese letter survives, every dossier overdue at the
period end is listed under a header repeated on each page, pages are numbered "Trang N/M", fonts are
embedded, every page renders to a non-blank image, charts are images (or a note without a browser), empty
sections say why, and the English variant is English.

Poppler (pdftotext, pdftoppm, pdffonts, pdfimages) and Chromium are installed by scripts/test; elsewhere the
tests that need them are skipped, except in CI (CI=true), where a missing tool fails."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from kpi import db, periods
from kpi.dossier_lists import late_dossiers
from kpi.engine import kpi_table, rank_groups
from kpi.followups import add_followup, for_report
from kpi.formatting import format_change, format_int, format_value
from kpi.importer import ingest_files
from kpi.metrics import METRICS
from kpi.pack import REPORT_TITLE, build_pack, figures
from kpi.pack_pdf import FONT_DIR, FONT_FILES, OVERDUE_HEADER, find_browser, write_pack_pdf

# Five quarters: 2025 and the fourth quarter of 2024 (the quarter tested a year earlier).
SAMPLE_FILES = ("ho_so_2024_q4.csv.gz", "ho_so_2025_q1.csv.gz", "ho_so_2025_q2.csv.gz", "ho_so_2025_q3.csv.gz",
                "ho_so_2025_q4.csv.gz")
MONTH, QUARTER = periods.month(2025, 5), periods.quarter(2025, 4)
SMALL_SCOPE = {"commune": "Xã Trung Giã"}  # a commune with few overdue dossiers
NO_BROWSER = "/nonexistent/chromium"
POPPLER = ("pdftotext", "pdftoppm", "pdffonts", "pdfimages", "pdfinfo")
FOLLOWUP_TASK = "Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng"


def _missing_tool(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module", autouse=True)
def poppler() -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        _missing_tool(f"poppler-utils missing ({', '.join(missing)}); scripts/test installs it")


@pytest.fixture(scope="module")
def chromium() -> str:
    browser = find_browser()
    if browser is None:
        _missing_tool("no Chromium to export the charts; scripts/test installs Debian's chromium")
    return browser


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """The sample's 2025 exports and two 2024 quarters in a fresh store, with one follow-up assigned at the
    meeting on the third quarter of 2025."""
    path = tmp_path_factory.mktemp("pack-pdf") / "sample.duckdb"
    con = db.connect(path)
    outcomes = ingest_files(con, [db.SAMPLE_DIR / name for name in SAMPLE_FILES])
    assert all(o.result is not None for o in outcomes)
    add_followup(con, period=periods.quarter(2025, 3), unit_dimension="agency", unit="Sở Xây dựng",
                 metric_id="on_time_rate", task=FOLLOWUP_TASK, owner="Giám đốc Sở Xây dựng",
                 due_date=date(2025, 11, 30), note="báo cáo tại cuộc họp quý IV")
    yield con
    con.close()


class Pdf:
    """A written PDF and what poppler reads from it: the text page by page (layout and raw), the page count."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pages = _run("pdftotext", "-layout", str(path), "-").split("\f")[:-1]
        self.raw = _run("pdftotext", "-raw", str(path), "-")
        self.count = int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(path)), re.M).group(1))

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    def flat(self) -> str:
        """The raw text with every run of whitespace one space (lines wrapped inside a cell joined again)."""
        return " ".join(self.raw.split())

    def page_of(self, heading: str) -> int:
        """The 0-based page where a section's heading starts a line (the cover's contents list not counted)."""
        return next(i for i, p in enumerate(self.pages) if i > 0 and re.search(rf"^\s*{re.escape(heading)}", p, re.M))

    def section_pages(self, first: str, following: str) -> list[int]:
        """The 0-based pages of the section headed `first`, which the section headed `following` ends."""
        start, end = self.page_of(first), self.page_of(following)
        lines = [line.strip() for line in self.pages[end].splitlines() if line.strip()]
        shares_its_page = next(i for i, line in enumerate(lines) if line.startswith(following)) > 1
        return list(range(start, end + 1 if end == start or shares_its_page else end))


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, encoding="utf-8").stdout


@pytest.fixture(scope="module")
def written(sample, chromium, tmp_path_factory) -> dict[str, Pdf]:
    """The PDFs the tests read: the province's quarter with charts, the province's month, the quarter in
    English and a commune's quarter (these three without a browser: the charts' notes)."""
    out = tmp_path_factory.mktemp("pdfs")
    quarter = build_pack(sample, QUARTER)
    made = {
        "quarter": write_pack_pdf(quarter, out / "quarter.pdf", browser=chromium),
        "month": write_pack_pdf(build_pack(sample, MONTH), out / "month.pdf", browser=NO_BROWSER),
        "english": write_pack_pdf(quarter, out / "english.pdf", lang="en", browser=NO_BROWSER),
        "small": write_pack_pdf(build_pack(sample, QUARTER, SMALL_SCOPE), out / "small.pdf", browser=NO_BROWSER),
    }
    return {name: Pdf(path) for name, path in made.items()}


# --- numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "period", "lang"), [("month", MONTH, "vi"), ("quarter", QUARTER, "vi"),
                                                      ("english", QUARTER, "en")])
def test_headline_values_as_the_engine_gives_them(sample, written, name, period, lang) -> None:
    """Each registry KPI's row shows the engine's value as kpi.formatting writes it, its numerator and
    denominator, and its change on the previous period, on one line of the headline table."""
    pdf = written[name]
    page = pdf.pages[pdf.page_of("1. Headline KPIs" if lang == "en" else "1. Các chỉ số chính")]
    lines = page.splitlines()
    engine = kpi_table(sample, period).set_index("metric")
    assert set(engine.index) == {m.id for m in METRICS}
    for m in METRICS:
        row = engine.loc[m.id]
        value = format_value(row["value"], m.unit, lang)
        cells = [value, format_int(row["numerator"]), format_int(row["denominator"])]
        change = format_change(row["previous_change_pp"], m.unit, lang)
        if change is not None:
            cells.append(change)
        assert any(all(f" {c}" in f" {line}" for c in cells) for line in lines), (m.id, cells)
    assert "98,00%" in page  # on_time_rate's default target, written the Vietnamese way in both languages


def test_every_overdue_dossier_is_listed_under_a_repeated_header(sample, written) -> None:
    pdf = written["quarter"]
    overdue = late_dossiers(sample, QUARTER, kind="overdue_in_progress", limit=10**6)
    assert len(overdue) > 40  # enough for the list to run over pages
    flat = pdf.flat()
    for code in overdue["dossier_code"]:
        assert code in flat
    pages = pdf.section_pages("7. Hồ sơ đang giải quyết quá hạn", "8. Theo dõi")
    listed = [p for p in pages if any(code in pdf.pages[p] for code in overdue["dossier_code"])]
    assert len(listed) >= 2
    for p in listed:
        assert all(word in pdf.pages[p] for word in ("Mã hồ sơ", "Ngày hẹn", "Số ngày")), p + 1
    header = OVERDUE_HEADER["vi"]
    assert header[0] == "Mã hồ sơ"


def test_rankings_list_every_unit_with_its_numbers(sample, written) -> None:
    """The departments' and communes' ranking tables: every unit the engine ranks, in rank order, with its
    value as kpi.formatting writes it."""
    flat = written["quarter"].flat()
    for by in ("agency", "commune"):
        table = kpi_table(sample, QUARTER, by=by, metrics=("on_time_rate",))
        ranked = rank_groups(table, "on_time_rate").dropna(subset=["rank"])
        if by == "agency":  # the departments' section ranks the province-level agencies
            levels = kpi_table(sample, QUARTER, by="agency", where={"agency_level": "province"},
                               metrics=("on_time_rate",))
            ranked = ranked[ranked["group"].isin(set(levels["group"]))]
        positions = []
        for group, value in zip(ranked["group"], ranked["value"], strict=True):
            found = flat.find(f"{group} {format_value(value, 'rate')}")
            assert found >= 0, (by, group)
            positions.append(found)
        assert positions == sorted(positions)


def test_followups_of_earlier_meetings(sample, written) -> None:
    report = for_report(sample, QUARTER)
    assert len(report) == 1
    row = report.iloc[0]
    flat = written["quarter"].flat()
    assert FOLLOWUP_TASK in flat
    assert "Giám đốc Sở Xây dựng" in flat
    assert f"{format_value(row['value_then'], 'rate')} → {format_value(row['value_now'], 'rate')}" in flat
    assert "Không có dữ liệu: chưa có nhiệm vụ" in written["month"].flat()  # May's pack: the meeting came later


# --- Vietnamese text, fonts, pages --------------------------------------------------------------------


def test_diacritics_survive_extraction(sample, written) -> None:
    quarter, month = written["quarter"].flat(), written["month"].flat()
    assert REPORT_TITLE["vi"] in quarter
    assert unicodedata.is_normalized("NFC", quarter)
    assert "\ufffd" not in quarter
    communes = kpi_table(sample, QUARTER, by="commune", metrics=("on_time_rate",))["group"].dropna()
    districts = kpi_table(sample, MONTH, by="district", metrics=("on_time_rate",))["group"].dropna()
    agencies = kpi_table(sample, QUARTER, by="agency", metrics=("on_time_rate",))["group"].dropna()
    wards = [c for c in communes if c.startswith("Phường ")]
    assert wards and all(w in quarter for w in wards)
    assert all(d in month for d in districts)
    assert any(a.startswith("Sở ") and a in quarter for a in agencies)
    for letters in ("ư", "ơ", "ă", "đ", "Đ", "ặ", "ễ", "ỗ", "ữ", "ợ", "ẩ"):
        assert letters in quarter + month, letters


def test_fonts_are_the_bundled_ones_embedded() -> None:
    assert all((FONT_DIR / file).is_file() for file in FONT_FILES.values())
    assert "Bitstream Vera" in (FONT_DIR / "LICENSE").read_text(encoding="utf-8")


def test_every_font_is_embedded(written) -> None:
    for name, pdf in written.items():
        rows = _run("pdffonts", str(pdf.path)).splitlines()[2:]
        assert rows, name
        for row in rows:
            columns = row.split()
            assert "DejaVuSans" in columns[0], (name, row)
            assert columns[-5] == "yes", (name, row)  # the "emb" column


def test_pages_are_numbered(written) -> None:
    for name, pdf in written.items():
        assert len(pdf.pages) == pdf.count
        word = "Page" if name == "english" else "Trang"
        for number, page in enumerate(pdf.pages, start=1):
            assert f"{word} {number}/{pdf.count}" in page, (name, number)


def test_page_count_is_plausible_and_grows_with_the_overdue_list(sample, written) -> None:
    headings = ("1. Các chỉ số chính", "2. Điểm Bộ chỉ số 766", "3. Xếp hạng sở, ngành", "4. Xếp hạng địa bàn",
                "5. Đơn vị chưa đạt mục tiêu", "6. Thủ tục có nhiều hồ sơ", "7. Hồ sơ đang giải quyết quá hạn",
                "8. Theo dõi thực hiện", "Phụ lục: định nghĩa các chỉ số")
    for name in ("quarter", "month", "small"):
        pdf = written[name]
        found = [pdf.page_of(h) for h in headings]
        assert found == sorted(found) and found[0] == 1, name  # the cover, then the sections in order
        assert pdf.count >= 8
    province, small = written["quarter"], written["small"]
    few = late_dossiers(sample, QUARTER, kind="overdue_in_progress", where=SMALL_SCOPE, limit=10**6)
    many = late_dossiers(sample, QUARTER, kind="overdue_in_progress", limit=10**6)
    assert len(few) < 10 < len(many)
    overdue_pages = [len(pdf.section_pages("7. Hồ sơ đang giải quyết quá hạn", "8. Theo dõi"))
                     for pdf in (province, small)]
    assert overdue_pages[0] > overdue_pages[1]
    assert province.count > small.count


def test_every_page_renders_to_a_non_blank_image(written, tmp_path) -> None:
    pdf = written["quarter"]
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf.path), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pdf.count
    for image in images:
        with Image.open(image) as page:
            grey = page.convert("L")
            w, h = grey.size
            body = grey.crop((0, int(h * 0.07), w, int(h * 0.9)))  # without the running header and footer
            inked = sum(body.histogram()[:200])  # pixels darker than light grey
            assert inked > 0.005 * body.size[0] * body.size[1], image.name


# --- charts -------------------------------------------------------------------------------------------


def test_charts_are_images_of_the_dashboards_figures(sample, written) -> None:
    pdf = written["quarter"]
    shown = figures(build_pack(sample, QUARTER))
    assert set(shown) == {"departments", "localities", "index766"}
    listing = [line for line in _run("pdfimages", "-list", str(pdf.path)).splitlines()[2:]
               if line.split()[2] == "image"]  # not their transparency masks
    assert len(listing) == len(shown)
    for line in listing:
        width, height = (int(v) for v in line.split()[3:5])
        assert width >= 2 * 800  # exported at scale ≥ 2 of the 800-pixel figure
    assert "Không xuất được biểu đồ" not in pdf.text


def test_without_a_browser_each_chart_says_why(sample, written) -> None:
    month = written["month"]
    count = month.flat().count("Không xuất được biểu đồ: không tìm thấy trình duyệt Chromium")
    assert count == len(figures(build_pack(sample, MONTH))) == 3
    assert _run("pdfimages", "-list", str(month.path)).splitlines()[2:] == []
    assert written["english"].flat().count("no Chromium browser was found") == 3


# --- empty sections, English ----------------------------------------------------------------------------


def test_empty_sections_say_why(sample, tmp_path) -> None:
    pack = build_pack(sample, periods.month(2023, 1))
    pdf = Pdf(write_pack_pdf(pack, tmp_path / "empty.pdf", browser=NO_BROWSER))
    flat = pdf.flat()
    reason = "kỳ đã chọn kết thúc trước ngày có dữ liệu đầu tiên"
    assert flat.count(f"Không có dữ liệu: {reason}") >= 6  # headline, index, rankings, below target, lists
    assert "Không có dữ liệu: chưa có nhiệm vụ" in flat
    for m in METRICS:  # the headline table and the appendix are still complete
        assert m.label_vi in flat


def test_english_variant(written) -> None:
    flat = written["english"].flat()
    assert REPORT_TITLE["en"] in flat and REPORT_TITLE["vi"] in flat  # the official title stays on the cover
    for heading in ("1. Headline KPIs", "7. Overdue dossiers in progress, by unit", "Appendix: KPI definitions"):
        assert heading in flat
    for m in METRICS:
        assert m.label_en in flat
    assert not re.search(r"Trang \d+/\d+", flat) and "Page 1/" in flat
    assert all(word in flat for word in OVERDUE_HEADER["en"])


def test_format_change_writes_points_and_days() -> None:
    assert format_change(0.4, "rate") == "+0,40 điểm %"
    assert format_change(-1.5, "days", "en") == "-1,5 days"
    assert format_change(None, "rate") is None
