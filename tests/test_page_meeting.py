"""Layer 4: the Meeting report page (pages/bao_cao_hop.py) over a store of three bundled sample files (2024 Q1,
2025 Q3, 2026 Q4; the browser tests' fixture), against kpi.pack.build_pack and the KPI engine: the preview
shows the pack's numbers for the period and scope the URL chooses, and the PDF and Excel buttons write their
files only when clicked (Streamlit's deferred download), named after pack.file_stem."""

from __future__ import annotations

import importlib
import io
import shutil
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from apptest import app_test
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from kpi import db, drilldown, followups, meeting, overview, periods
from kpi import pack as pack_model
from kpi.engine import dossier_counts, kpi_table
from kpi.formatting import format_int, format_value
from kpi.metrics import METRICS

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "bao_cao_hop.py")
QUARTER = periods.quarter(2024, 1)  # before the 1 July 2025 reform: districts ranked
QUARTER_URL = {"ky": "quarter", "nam": "2024", "so": "1"}


@pytest.fixture
def store(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(db.DB_ENV, str(sample_db))
    return sample_db


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, str, Callable[[], bytes]]]:
    """The deferred downloads a run registers: file id (the button's `deferred_file_id`) -> (file name, mime,
    the callable the server would run on a click)."""
    made: dict[str, tuple[str, str, Callable[[], bytes]]] = {}
    register = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):  # noqa: ANN001
        file_id = register(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)
        made[file_id] = (file_name, mimetype, data_callable)
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return made


def engine_pack(path: Path, period: periods.Period, where: dict[str, str] | None = None) -> pack_model.Pack:
    con = db.connect(path)
    try:
        return pack_model.build_pack(con, period, where)
    finally:
        con.close()


def engine_table(path: Path, period: periods.Period, **kwargs: object) -> pd.DataFrame:
    con = db.connect(path)
    try:
        return kpi_table(con, period, **kwargs)
    finally:
        con.close()


def run_page(lang: str = "vi", **params: str) -> AppTest:
    at = app_test(PAGE, lang, **params)
    assert not at.exception, at.exception
    return at


def table(at: AppTest, first_header: str, second_header: str | None = None) -> pd.DataFrame:
    """The dataframe whose first columns are these headers."""
    for element in at.dataframe:
        columns = list(element.value.columns)
        if columns[0] == first_header and (second_header is None or columns[1] == second_header):
            return element.value.reset_index(drop=True)
    shown = [list(e.value.columns)[:2] for e in at.dataframe]
    raise AssertionError(f"no table starting with {first_header!r}: {shown}")


def assert_frame(shown: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(shown.astype(str), expected.reset_index(drop=True).astype(str), check_dtype=False)


def test_preview_shows_the_pack_and_the_engine_numbers(store: Path) -> None:
    at = run_page(**QUARTER_URL)
    pack = engine_pack(store, QUARTER)
    assert at.title[0].value == "Báo cáo họp"
    headings = [h.value for h in at.subheader]
    assert headings[:3] == ["Tệp báo cáo cho cuộc họp", "Báo cáo kết quả thực hiện các chỉ số cải cách hành chính",
                            "Các chỉ số chính"]
    cover = next(m.value for m in at.markdown if m.value.startswith("- **Kỳ báo cáo:**"))
    assert "Quý I/2024 (từ 01/01/2024 đến 31/03/2024)" in cover
    assert "**Phạm vi:** Toàn tỉnh" in cover and "**Bộ lọc:** Không lọc (toàn bộ dữ liệu)" in cover
    assert f"**Dữ liệu:** {pack_model.freshness_text(pack)}" in cover

    # every KPI of the registry, as the pack writes it, and as the engine computes it
    headline = table(at, "Chỉ số", "Giá trị")
    assert_frame(headline, pack_model.headline_table(pack))
    assert len(headline) == len(METRICS)
    engine = engine_table(store, QUARTER).set_index("metric")
    on_time = headline.set_index("Chỉ số").loc["Tỷ lệ giải quyết đúng hạn"]
    assert on_time["Giá trị"] == format_value(engine.at["on_time_rate", "value"], "rate")
    assert on_time["Tử số"] == format_int(engine.at["on_time_rate", "numerator"])
    assert on_time["Mẫu số"] == format_int(engine.at["on_time_rate", "denominator"])
    assert on_time["Tử số"] != "0"

    # the 766 index, the two rankings (their data tabs, TABLES_OPEN), below target, late procedures
    assert overview.index766_total(pack.index766, "vi") in [m.value for m in at.markdown]
    departments = table(at, "Hạng", "Đơn vị")
    assert_frame(departments, drilldown.ranking_table(pack.departments, "on_time_rate", "vi").rename(
        columns={k: v[0] for k, v in drilldown.RANKING_LABELS.items()}))
    agencies = engine_table(store, QUARTER, by="agency", where={"agency_level": "province"},
                            metrics=["on_time_rate"]).set_index("group")
    for unit, value in zip(departments["Đơn vị"], departments["Giá trị"], strict=True):
        assert value == format_value(agencies.at[unit, "value"], "rate")
    assert "Xếp hạng quận, huyện theo tỷ lệ giải quyết đúng hạn" in headings
    localities = [e.value for e in at.dataframe if list(e.value.columns)[:2] == ["Hạng", "Đơn vị"]][1]
    assert localities["Đơn vị"].tolist() == pack.localities["group"].tolist() and len(localities) > 10
    assert_frame(table(at, "Cấp", "Đơn vị"), pack_model.below_target_table(pack))
    assert_frame(table(at, "Mã TTHC"), pack_model.late_procedures_table(pack))

    # the overdue dossiers per unit: the engine's in-progress-overdue count of each unit at the period end
    overdue = table(at, "Đơn vị", "Hồ sơ quá hạn")
    con = db.connect(store)
    counts = dossier_counts(con, QUARTER, by="agency")
    con.close()
    expected = counts.loc[counts["in_progress_overdue"] > 0]
    assert dict(zip(overdue["Đơn vị"], overdue["Hồ sơ quá hạn"], strict=True)) == {
        "(không rõ)" if unit is None else unit: format_int(n)
        for unit, n in zip(expected["group"], expected["in_progress_overdue"], strict=True)}
    assert len(overdue) > 3


@pytest.mark.parametrize(("params", "period", "label"), [
    ({"ky": "month", "nam": "2024", "so": "2"}, periods.month(2024, 2), "Tháng 02/2024"),
    ({"ky": "half_year", "nam": "2024", "so": "1"}, periods.half_year(2024, 1), "6 tháng đầu năm 2024"),
    ({"ky": "nine_months", "nam": "2025"}, periods.nine_months(2025), "9 tháng 2025"),
    ({"ky": "year", "nam": "2026"}, periods.year(2026), "Năm 2026"),
])
def test_url_period_changes_the_numbers(store: Path, params: dict[str, str], period: periods.Period,
                                        label: str) -> None:
    at = run_page(**params)
    assert period.label("vi") == label
    cover = next(m.value for m in at.markdown if m.value.startswith("- **Kỳ báo cáo:**"))
    assert pack_model.period_text(period) in cover
    engine = engine_table(store, period).set_index("metric")
    shown = table(at, "Chỉ số", "Giá trị").set_index("Chỉ số")
    assert shown.at["Tỷ lệ hồ sơ trực tuyến", "Giá trị"] == format_value(engine.at["online_dossier_rate", "value"],
                                                                          "rate")
    assert shown.at["Tỷ lệ hồ sơ trực tuyến", "Mẫu số"] == format_int(engine.at["online_dossier_rate", "denominator"])


def test_url_scope_changes_the_numbers(store: Path) -> None:
    whole = table(run_page(**QUARTER_URL), "Chỉ số", "Giá trị")
    at = run_page(**QUARTER_URL, huyen="Huyện Ba Vì")
    where = {"district": "Huyện Ba Vì"}
    pack = engine_pack(store, QUARTER, where)
    cover = next(m.value for m in at.markdown if m.value.startswith("- **Kỳ báo cáo:**"))
    assert "**Phạm vi:** Huyện Ba Vì" in cover and "**Bộ lọc:** Quận/Huyện: Huyện Ba Vì" in cover
    headline = table(at, "Chỉ số", "Giá trị")
    assert_frame(headline, pack_model.headline_table(pack))
    engine = engine_table(store, QUARTER, where=where).set_index("metric")
    assert headline.at[0, "Mẫu số"] == format_int(engine.at["on_time_rate", "denominator"])
    assert headline.at[0, "Mẫu số"] != whole.at[0, "Mẫu số"]
    # a district's pack ranks every agency working there, and the district's communes
    assert "Xếp hạng xã, phường theo tỷ lệ giải quyết đúng hạn" in [h.value for h in at.subheader]


def test_downloads_are_written_on_click(store: Path, deferred: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[str] = []
    for module, name in (("kpi.pack_pdf", "write_pack_pdf"), ("kpi.pack_excel", "write_pack_xlsx")):
        original = getattr(importlib.import_module(module), name)

        def counted(*args: object, _original=original, _name=name, **kwargs: object) -> Path:  # noqa: ANN001
            written.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(f"{module}.{name}", counted)
    at = run_page(**QUARTER_URL)
    stem = pack_model.file_stem(engine_pack(store, QUARTER))
    assert stem == "bao-cao-cchc_2024-q1_toan-tinh"
    buttons = {b.label: b.proto for b in at.get("download_button")}
    pdf, xlsx = buttons["Tải báo cáo PDF"], buttons["Tải bảng tính Excel"]
    assert pdf.deferred_file_id and xlsx.deferred_file_id and not pdf.url and not xlsx.url
    assert written == [], "a file was written on the page's run, not on a click"

    name, mime, make = deferred[pdf.deferred_file_id]
    assert (name, mime) == (f"{stem}.pdf", "application/pdf")
    data = make()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    name, mime, make = deferred[xlsx.deferred_file_id]
    assert (name, mime) == (f"{stem}.xlsx", meeting.XLSX_MIME)
    with zipfile.ZipFile(io.BytesIO(make())) as workbook:
        assert "xl/workbook.xml" in workbook.namelist()
    assert written == ["write_pack_pdf", "write_pack_xlsx"]

    at.radio(key="meeting-file-lang").set_value("en").run()
    buttons = {b.label: b.proto for b in at.get("download_button")}
    assert deferred[buttons["Tải bảng tính Excel"].deferred_file_id][0] == f"{stem}-en.xlsx"
    assert deferred[buttons["Tải báo cáo PDF"].deferred_file_id][0] == f"{stem}-en.pdf"


def test_english(store: Path) -> None:
    at = run_page("en", **QUARTER_URL)
    pack = engine_pack(store, QUARTER)
    assert at.title[0].value == "Meeting report"
    assert "Administrative reform KPI report" in [h.value for h in at.subheader]
    assert_frame(table(at, "KPI", "Value"), pack_model.headline_table(pack, "en"))
    assert at.radio(key="meeting-file-lang").value == "en"  # the files default to the page's language
    assert {b.label for b in at.get("download_button")} >= {"Download the PDF report", "Download the Excel workbook"}


def test_period_without_dossiers_says_so(store: Path) -> None:
    at = run_page(ky="custom", tu="2023-06-01", den="2023-06-30")  # the fixture's first dossier: January 2024
    assert [i.value for i in at.info] == ["Không có dữ liệu: không có hồ sơ nào trong kỳ và phạm vi đã chọn."]
    assert not at.get("download_button") and not at.dataframe


def test_followups_recorded_after_the_pack_was_cached_are_shown(sample_db: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A follow-up changes no import (the pack's cache key): it shows at once all the same."""
    path = tmp_path / "followups.duckdb"
    shutil.copyfile(sample_db, path)
    monkeypatch.setenv(db.DB_ENV, str(path))
    at = run_page(**QUARTER_URL, huyen="Huyện Ba Vì")
    assert any("chưa có việc nào được giao" in i.value for i in at.info)
    con = db.connect(path)
    followups.add_followup(con, period=periods.month(2023, 12), unit_dimension="district", unit="Huyện Ba Vì",
                           metric_id="on_time_rate", task="Giảm hồ sơ quá hạn lĩnh vực đất đai", owner="UBND huyện",
                           due_date=date(2024, 2, 15))
    con.close()
    at = run_page(**QUARTER_URL, huyen="Huyện Ba Vì")
    shown = table(at, "Đơn vị", "Chỉ số")
    assert shown["Nhiệm vụ"].tolist() == ["Giảm hồ sơ quá hạn lĩnh vực đất đai"]
    value = engine_table(path, QUARTER, where={"district": "Huyện Ba Vì"}).set_index("metric").at["on_time_rate",
                                                                                                   "value"]
    assert shown.at[0, "Hiện nay"] == format_value(value, "rate")
