"""Layer 4: the dashboard's first screen over a fixture store (Streamlit AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def run_app(lang: str = "vi") -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params["lang"] = lang
    return at.run()


def test_first_screen_shows_the_store(app_db: Path) -> None:
    at = run_app()
    assert not at.exception
    assert at.title[0].value == "Kho dữ liệu hồ sơ"
    assert "3 hồ sơ tiếp nhận từ 05/01/2024 đến 10/02/2024; 1 lần nhập dữ liệu." in [c.value for c in at.caption]
    tables = {tuple(d.value.columns)[:2]: d.value for d in at.dataframe}
    by_unit = tables[("Đơn vị", "Cấp")]
    assert dict(zip(by_unit["Đơn vị"], by_unit["Số hồ sơ"], strict=True)) == {"Sở Tư pháp": "2", "Sở Xây dựng": "1"}
    assert set(by_unit["Cấp"]) == {"Cấp tỉnh"} and set(by_unit["Tiếp nhận từ"]) == {"05/01/2024", "10/02/2024"}
    history = tables[("Lần nhập", "Tệp")]
    assert history.iloc[0][["Tệp", "Dòng đọc", "Thêm mới", "Bị loại"]].tolist() == ["ho_so_thang_1.csv", "4", "3", "1"]
    reasons = tables[("Loại", "Cột")]
    assert reasons.iloc[0]["Cột"] == "channel" and "Fax" not in reasons.iloc[0]["Lý do"]
    assert reasons.iloc[0]["Dòng đầu tiên"] == "6"


def test_english_labels(app_db: Path) -> None:
    at = run_app("en")
    assert not at.exception
    assert at.title[0].value == "Dossier store"
    assert any("3 dossiers received 05/01/2024 to 10/02/2024" in c.value for c in at.caption)


def test_empty_store_says_no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.DB_ENV, str(tmp_path / "empty.duckdb"))
    monkeypatch.setattr("kpi.store.SAMPLE_DIR", tmp_path / "no-sample")
    at = run_app()
    assert not at.exception
    assert at.info and at.info[0].value.startswith("Không có dữ liệu")
