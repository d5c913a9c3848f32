"""The Data page (AppTest) over fixture stores with known counts, and the import of uploaded files that it
calls (kpi.store.import_uploads) with real small exports."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from apptest import app_test
from kpi_rows import insert, row
from streamlit.testing.v1 import AppTest

from kpi import db, periods, store
from kpi.engine import DATA_QUALITY_COUNTS, dossier_counts
from kpi.importer import ingest_file

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
PAGE = str(ROOT / "pages" / "du_lieu.py")
EXPORT = """BÁO CÁO DANH SÁCH HỒ SƠ
Mã hồ sơ;Mã TTHC;Cơ quan giải quyết;Cấp thực hiện;Hình thức nộp;Ngày tiếp nhận;Trạng thái
000.00.12.H26-240105-0001;1.001234;Sở Tư pháp;Cấp tỉnh;Trực tuyến;05/01/2024 08:00;Đã trả kết quả
000.00.12.H26-240105-0002;1.001234;Sở Tư pháp;Cấp tỉnh;Trực tiếp;05/01/2024 09:00;Đang xử lý
000.00.13.H26-240210-0001;1.004567;Sở Xây dựng;Cấp tỉnh;Trực tuyến;10/02/2024;Đã xử lý xong
000.00.13.H26-240210-0002;1.004567;Sở Xây dựng;Cấp tỉnh;Fax;10/02/2024;Đã xử lý xong
"""


@pytest.fixture
def imported_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store filled by one import of a small export with one rejected row."""
    path = tmp_path / "app.duckdb"
    export = tmp_path / "ho_so_thang_1.csv"
    export.write_text(EXPORT, encoding="utf-8")
    con = db.connect(path)
    ingest_file(con, export)
    con.close()
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path


PLACE = {"province": "Tỉnh Thử", "district": "Huyện Một", "commune": "Xã Một", "agency_level": "district"}


def quality_rows() -> list[dict]:
    """January 2024 with one of each data problem, and a March without any dossier of Sở A."""
    a = {**PLACE, "agency_name": "Sở A"}
    return [
        row("2024-01-03", 10, due="2024-01-10", finished="2024-01-08", **a),  # clean
        row("2024-01-03", 10, finished="2024-01-05", **a),  # resolved without due date
        row("2024-01-04", 9, finished="2024-01-06", **a),  # resolved without due date
        row("2024-01-05", 4, **a),  # in progress without due date
        row("2024-01-05", 10, due="2024-01-30", **a),  # terminal without end date
        row("2024-01-06", 4, due="2024-03-30", **{**PLACE, "agency_level": None}),  # no agency
        row("2024-01-06", 4, due="2024-03-30", **{**a, "commune": None}),  # no commune
        row("2024-01-07", 10, due="2024-01-10", finished="2024-01-08", **{**PLACE, "agency_name": "Sở B"}),
        row("2024-02-07", 10, due="2024-02-10", finished="2024-02-08", **a),
        row("2024-04-07", 10, due="2024-04-10", finished="2024-04-08", **a),
    ]


@pytest.fixture
def quality_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "quality.duckdb"
    con = db.connect(path)
    insert(con, quality_rows())
    con.close()
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path


def run_page(lang: str = "vi", *, tables: bool = True, **params: str) -> AppTest:
    return app_test(PAGE, lang, tables=tables, **params)


def table(at: AppTest, *headers: str) -> pd.DataFrame:
    """The dataframe whose first columns are these headers."""
    for element in at.dataframe:
        if tuple(element.value.columns)[:len(headers)] == headers:
            return element.value
    raise AssertionError(f"no table starting with {headers}: {[list(e.value.columns)[:3] for e in at.dataframe]}")


# --- what the store holds and the import history (formerly the first screen) -------------------------


def test_data_page_shows_the_store_and_its_import(imported_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="1")
    assert not at.exception
    assert at.title[0].value == "Dữ liệu"
    assert "3 hồ sơ tiếp nhận từ 05/01/2024 đến 10/02/2024; 1 lần nhập dữ liệu." in [c.value for c in at.caption]
    by_unit = table(at, "Đơn vị", "Cấp", "Số hồ sơ")
    assert dict(zip(by_unit["Đơn vị"], by_unit["Số hồ sơ"], strict=True)) == {"Sở Tư pháp": "2", "Sở Xây dựng": "1"}
    assert set(by_unit["Cấp"]) == {"Cấp tỉnh"} and set(by_unit["Tiếp nhận từ"]) == {"05/01/2024", "10/02/2024"}
    history = table(at, "Lần nhập", "Tệp")
    assert history.iloc[0][["Tệp", "Dòng đọc", "Thêm mới", "Bị loại"]].tolist() == ["ho_so_thang_1.csv", "4", "3", "1"]
    reasons = table(at, "Loại", "Cột")
    assert reasons.iloc[0]["Cột"] == "channel" and "Fax" not in reasons.iloc[0]["Lý do"]
    assert reasons.iloc[0]["Dòng đầu tiên"] == "6"
    by_month = table(at, "Tháng", "Hình thức nộp")
    assert by_month["Số hồ sơ"].tolist() == ["1", "1", "1"]
    assert by_month["Hình thức nộp"].tolist() == ["Trực tiếp", "Trực tuyến", "Trực tuyến"]


def test_only_the_open_section_is_drawn(imported_db: Path) -> None:
    at = run_page(tables=False, ky="month", nam="2024", so="1")
    assert [tuple(d.value.columns)[0] for d in at.dataframe] == ["Vấn đề"]  # data quality, the first tab
    at.session_state["data-section"] = "Lịch sử nhập"  # what a click on the tab sets
    at.run()
    assert not at.exception
    assert table(at, "Lần nhập", "Tệp")["Tệp"].tolist() == ["ho_so_thang_1.csv"]
    assert "Vấn đề" not in [tuple(d.value.columns)[0] for d in at.dataframe]


def test_choosing_an_import_lists_its_rows(imported_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="1")
    at.selectbox(key="import").set_value(1).run()
    assert not at.exception
    rows = table(at, "Loại", "Dòng", "Cột")
    # two "returned" dossiers without an end date (warnings) and the fax one (rejected), in file order
    assert rows[["Dòng", "Cột", "Giá trị"]].values.tolist() == [["3", "finished_at", ""], ["5", "finished_at", ""],
                                                                ["6", "channel", "Fax"]]


def test_english_labels(imported_db: Path) -> None:
    at = run_page("en", ky="month", nam="2024", so="1")
    assert not at.exception
    assert at.title[0].value == "Data"
    assert any("3 dossiers received 05/01/2024 to 10/02/2024" in c.value for c in at.caption)
    quality = table(at, "Problem", "Dossiers")
    # January: two dossiers received without a due date, one returned without an end date, none with a place
    assert dict(zip(quality["Problem"], quality["Dossiers"], strict=True)) == {
        "Dossiers resolved in the period without a due date": "0",
        "Dossiers in progress at the period end without a due date": "2",
        "Finished dossiers without a finish or return date": "1",
        "Dossiers received in the period with no agency name": "0",
        "Dossiers received in the period with no province or commune": "2"}


def test_empty_store_says_no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.DB_ENV, str(tmp_path / "empty.duckdb"))
    monkeypatch.setattr("kpi.store.SAMPLE_DIR", tmp_path / "no-sample")
    at = run_page()
    assert not at.exception
    assert any(i.value.startswith("Không có dữ liệu") for i in at.info)
    assert at.button(key="data-import").disabled  # nothing uploaded yet


# --- data quality and coverage -----------------------------------------------------------------------

QUALITY_JANUARY = {
    "Hồ sơ đã giải quyết trong kỳ không có ngày hẹn trả": "2",
    "Hồ sơ đang giải quyết cuối kỳ không có ngày hẹn trả": "1",
    "Hồ sơ đã kết thúc nhưng không có ngày kết thúc hay ngày trả": "1",
    "Hồ sơ tiếp nhận trong kỳ không rõ cơ quan (thiếu tên cơ quan)": "1",
    "Hồ sơ tiếp nhận trong kỳ không rõ địa bàn (thiếu tỉnh hoặc xã/phường)": "1",
}


def test_quality_warnings_have_the_known_counts(quality_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="1")
    assert not at.exception
    quality = table(at, "Vấn đề", "Số hồ sơ")
    assert dict(zip(quality["Vấn đề"], quality["Số hồ sơ"], strict=True)) == QUALITY_JANUARY
    assert any("thiếu dữ liệu" in w.value for w in at.warning)
    con = db.connect(quality_db)
    engine = dossier_counts(con, periods.month(2024, 1)).iloc[0]
    con.close()
    assert [str(engine[name]) for name in DATA_QUALITY_COUNTS] == quality["Số hồ sơ"].tolist()[:3]


def test_quality_follows_the_period_and_filters(quality_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="2")  # February: only a clean dossier received
    quality = table(at, "Vấn đề", "Số hồ sơ")
    # still open at the end of February: the one without a due date and the one without an end date
    assert quality["Số hồ sơ"].tolist() == ["0", "1", "1", "0", "0"]
    at = run_page(ky="month", nam="2024", so="1", don_vi="Sở B")
    assert table(at, "Vấn đề", "Số hồ sơ")["Số hồ sơ"].tolist() == ["0", "0", "0", "0", "0"]
    assert any("Không phát hiện" in s.value for s in at.success)


def test_coverage_shows_units_by_month_and_gaps(quality_db: Path) -> None:
    at = run_page(ky="month", nam="2024", so="1")
    at.selectbox(key="coverage-level").set_value("district").run()
    at.radio(key="coverage-months").set_value(12).run()
    assert not at.exception
    grid = table(at, "Đơn vị", "Cấp", "Tháng")
    assert grid[["Đơn vị", "Tháng", "Số hồ sơ"]].values.tolist() == [
        ["Sở A", "2024-01", "6"], ["Sở A", "2024-02", "1"], ["Sở A", "2024-04", "1"], ["Sở B", "2024-01", "1"]]
    gaps = table(at, "Đơn vị", "Số tháng có dữ liệu")
    assert gaps.values.tolist() == [
        ["Sở B", "1", "2024-01", "2024-01", "0", "Có", "1"],  # nothing since January: first
        ["Sở A", "3", "2024-01", "2024-04", "1", "Không", "8"],  # March missing
    ]
    at.selectbox(key="coverage-level").set_value("commune").run()
    assert any(i.value.startswith("Không có dữ liệu") for i in at.info)


# --- importing uploads (what the page's Import button calls) -----------------------------------------


def test_import_uploads_imports_and_summarises() -> None:
    con = db.connect()
    seen: list[tuple[float, str]] = []
    uploads = [
        ("bad_required.csv", (DATA / "bad_required.csv").read_bytes()),
        ("unsupported.pdf", io.BytesIO((DATA / "unsupported.pdf").read_bytes())),
        ("C:\\Users\\an\\..\\comma_utf8.csv".replace("\\", "/"), io.BytesIO((DATA / "comma_utf8.csv").read_bytes())),
    ]
    outcomes = store.import_uploads(con, uploads, progress=lambda fraction, name: seen.append((fraction, name)))
    summary = store.import_summary(outcomes)
    assert summary["file"].tolist() == ["bad_required.csv", "unsupported.pdf", "comma_utf8.csv"]
    counts = ["rows_read", "inserted", "updated", "unchanged", "rejected", "warnings", "refused"]
    assert summary.loc[0, counts].tolist() == [6, 2, 0, 0, 4, 0, False]
    assert summary.loc[2, counts].tolist() == [3, 3, 0, 0, 0, 0, False]
    assert summary.loc[1, "refused"] and "unsupported file type" in summary.loc[1, "error"]
    assert pd.isna(summary.loc[1, "rows_read"])  # refused: no counts, not zeros
    history = store.import_history(con)
    assert history["file_name"].tolist() == ["comma_utf8.csv", "bad_required.csv"]  # the uploads' own names
    rejected = store.problem_rows(con, int(summary.loc[0, "import_id"]))
    assert rejected[["row_number", "column_name"]].values.tolist() == [
        [3, "dossier_code"], [4, "received_at"], [5, "channel"], [6, "status"]]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] == 0.0
    assert {name for _, name in seen} >= {"bad_required.csv", "unsupported.pdf", "comma_utf8.csv"}
    assert store.summary(con)["dossiers"] == 5
    # the same file again changes nothing
    again = store.import_summary(store.import_uploads(con, uploads[:1]))
    assert again.loc[0, ["inserted", "unchanged", "rejected"]].tolist() == [0, 2, 4]
    con.close()


def test_import_uploads_reports_a_broken_workbook() -> None:
    con = db.connect()
    outcomes = store.import_uploads(con, [("fake.xlsx", b"Ma ho so,Ma TTHC\n")])
    assert outcomes[0].result is None and "unreadable workbook" in outcomes[0].error
    assert "egov-kpi-upload" not in outcomes[0].error and "fake.xlsx" in outcomes[0].error  # no temporary path
    assert store.summary(con)["imports"] == 0
    con.close()
