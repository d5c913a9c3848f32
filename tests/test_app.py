"""Layer 4: the dashboard entry over a fixture store (Streamlit AppTest): the landing page is the Overview,
in both languages, and an empty store says so. Each page has its own tests (tests/test_page_*.py); what the
first screen used to show (the store, its imports) is now the Data page's (tests/test_page_data.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest import app_test
from streamlit.testing.v1 import AppTest

from kpi import db
from kpi.importer import ingest_file

ROOT = Path(__file__).resolve().parent.parent
EXPORT = """BÁO CÁO DANH SÁCH HỒ SƠ
Mã hồ sơ;Mã TTHC;Cơ quan giải quyết;Cấp thực hiện;Hình thức nộp;Ngày tiếp nhận;Trạng thái
000.00.12.H26-240105-0001;1.001234;Sở Tư pháp;Cấp tỉnh;Trực tuyến;05/01/2024 08:00;Đã trả kết quả
000.00.12.H26-240105-0002;1.001234;Sở Tư pháp;Cấp tỉnh;Trực tiếp;05/01/2024 09:00;Đang xử lý
000.00.13.H26-240210-0001;1.004567;Sở Xây dựng;Cấp tỉnh;Trực tuyến;10/02/2024;Đã xử lý xong
000.00.13.H26-240210-0002;1.004567;Sở Xây dựng;Cấp tỉnh;Fax;10/02/2024;Đã xử lý xong
"""


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "app.duckdb"
    export = tmp_path / "ho_so_thang_1.csv"
    export.write_text(EXPORT, encoding="utf-8")
    con = db.connect(path)
    ingest_file(con, export)
    con.close()
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path


def run_app(lang: str = "vi", **params: str) -> AppTest:
    return app_test(ROOT / "dashboard.py", lang, **params)


def test_landing_page_is_the_overview(app_db: Path) -> None:
    at = run_app(ky="month", nam="2024", so="2")
    assert not at.exception
    assert at.title[0].value == "Tổng quan"
    assert "Kỳ: Tháng 02/2024" in at.caption[0].value  # the URL's period, on the landing page's freshness line
    assert at.radio(key="lang").value == "vi"


def test_english_labels(app_db: Path) -> None:
    at = run_app("en")
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert at.caption[0].value.startswith("Period: February 2024")  # the newest data's month by default


def test_empty_store_says_no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.DB_ENV, str(tmp_path / "empty.duckdb"))
    monkeypatch.setattr("kpi.store.SAMPLE_DIR", tmp_path / "no-sample")
    at = run_app()
    assert not at.exception
    assert any(i.value.startswith("Không có dữ liệu") for i in at.info)
