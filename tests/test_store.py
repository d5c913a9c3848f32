"""The store's overview queries and the first-start sample loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi import db, store

EXPORT = """Mã hồ sơ,Mã TTHC,Cơ quan giải quyết,Cấp thực hiện,Hình thức nộp,Ngày tiếp nhận,Trạng thái
000.00.12.H26-240105-0001,1.001234,Sở Tư pháp,Cấp tỉnh,2,05/01/2024,10
000.00.12.H26-240106-0001,1.001234,Sở Tư pháp,Cấp tỉnh,1,06/01/2024,4
000.00.13.H26-240210-0001,1.004567,Sở Xây dựng,Cấp tỉnh,2,10/02/2024,9
"""


@pytest.fixture
def sample_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    folder.mkdir()
    (folder / "ho_so_2024_q1.csv").write_text(EXPORT, encoding="utf-8")
    later = EXPORT.replace("06/01/2024,4", "06/01/2024,10").splitlines()
    (folder / "ho_so_2024_q2.csv").write_text("\n".join([later[0], later[2]]) + "\n", encoding="utf-8")
    (folder / "README.md").write_text("not an export", encoding="utf-8")
    return folder


def test_sample_files_in_import_order(sample_folder: Path) -> None:
    assert [p.name for p in store.sample_files(sample_folder)] == ["ho_so_2024_q1.csv", "ho_so_2024_q2.csv"]


def test_empty_store_is_filled_once(sample_folder: Path) -> None:
    con = db.connect()
    results = store.load_sample_if_empty(con, sample_folder)
    assert [(r.inserted, r.updated) for r in results] == [(3, 0), (0, 1)]
    assert store.load_sample_if_empty(con, sample_folder) == []  # not empty any more: left alone
    assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 2
    info = store.summary(con)
    assert (info["dossiers"], info["agencies"], info["imports"]) == (3, 2, 2)
    by_month = store.dossiers_by_month(con)
    assert by_month.groupby(by_month["month"].astype(str))["dossiers"].sum().to_dict() == {
        "2024-01-01": 2, "2024-02-01": 1}
    by_unit = store.dossiers_by_unit(con).set_index("unit")
    assert by_unit.loc["Sở Tư pháp", ["dossiers", "resolved"]].tolist() == [2, 2]
    history = store.import_history(con)
    assert history["file_name"].tolist() == ["ho_so_2024_q2.csv", "ho_so_2024_q1.csv"]
