"""The sample generator tells the story the dashboards need, deterministically, in field-export spelling."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi import reference, sample, store
from kpi.fields import FIELDS, TERMINAL_STATUSES

ROWS = 60_000


@pytest.fixture(scope="module")
def dossiers() -> pd.DataFrame:
    return sample.generate_dossiers(ROWS, seed=7)


def _resolved_on_time(frame: pd.DataFrame) -> pd.DataFrame:
    resolved = frame[frame["status"].isin([9, 10])].copy()
    resolved["on_time"] = (resolved["finished_at"].dt.floor("D") <= resolved["due_at"].dt.floor("D")) | resolved[
        "due_at"].isna()
    resolved["year"] = resolved["finished_at"].dt.year
    return resolved


def _read_csv(path: Path) -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        text = handle.read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_reference_lists_cover_both_hierarchies() -> None:
    before, after, mapping = reference.units_before_reform(), reference.units_after_reform(), reference.old_to_new()
    assert before["district"].nunique() == 30 and len(before) == 526
    assert len(after) == 126 and after["commune_code"].str.len().eq(5).all()
    assert mapping.groupby(["district", "commune"])["is_default"].sum().eq(1).all()
    assert set(mapping["new_commune"]) == set(after["commune"])


def test_generation_is_deterministic(tmp_path: Path) -> None:
    a = sample.generate_dossiers(3_000, seed=11)
    b = sample.generate_dossiers(3_000, seed=11)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(sample.generate_dossiers(3_000, seed=12))
    for suffix in (".csv", ".csv.gz"):
        first = sample.write_export(a, tmp_path / f"one{suffix}")
        second = sample.write_export(b, tmp_path / f"two{suffix}")
        assert first.read_bytes() == second.read_bytes()


def test_codes_and_volume(dossiers: pd.DataFrame) -> None:
    assert len(dossiers) == ROWS
    assert dossiers["dossier_code"].is_unique
    parts = dossiers["dossier_code"].str.extract(r"^(.+\.H26)-(\d{6})-(\d{4})$")
    assert parts.notna().all().all()
    assert (parts[0] == dossiers["agency_code"]).all()
    assert (parts[1] == dossiers["received_at"].dt.strftime("%y%m%d")).all()
    base = dossiers["procedure_code"].str[:8]
    assert base.str.fullmatch(r"[12]\.\d{6}").all()
    assert 280 <= base.nunique() <= 320
    assert base.str.endswith("0").any()
    suffixed = dossiers["procedure_code"].str.len() > 8
    assert 0.01 < suffixed.mean() < 0.06
    departments = dossiers.loc[dossiers["agency_level"] == "province", "agency_code"].unique()
    assert len(departments) >= 15
    assert all(code.startswith("000.00.") for code in departments)


def test_both_locality_hierarchies(dossiers: pd.DataFrame) -> None:
    before = dossiers[dossiers["received_at"] < pd.Timestamp(sample.REFORM_DAY)]
    after = dossiers[dossiers["received_at"] >= pd.Timestamp(sample.REFORM_DAY)]
    assert (before["district"] != "").all()
    assert (after["district"] == "").all()
    assert set(after["commune"]) <= set(reference.units_after_reform()["commune"])
    old_pairs = set(zip(before["district"], before["commune"], strict=True))
    assert old_pairs <= set(zip(*reference.units_before_reform()[["district", "commune"]].T.to_numpy(), strict=True))
    assert set(before["agency_level"]) == {"province", "district", "commune"}
    assert set(after["agency_level"]) == {"province", "commune"}
    assert after["agency_name"].str.startswith("UBND huyện").sum() == 0


def test_kpis_in_the_reported_ranges(dossiers: pd.DataFrame) -> None:
    resolved = _resolved_on_time(dossiers)
    for year, rate in resolved.groupby("year")["on_time"].mean().items():
        assert 0.90 <= rate <= 0.99, (year, rate)
    year = dossiers["received_at"].dt.year
    online = (dossiers["channel"] == "online").groupby(year).mean()
    assert online.between(0.20, 0.70).all() and online.is_monotonic_increasing, online
    fee = dossiers[dossiers["fee_vnd"] > 0]
    paid = fee["paid_online"].groupby(fee["received_at"].dt.year).mean()
    assert paid.between(0.20, 0.60).all() and paid.is_monotonic_increasing, paid
    assert 0.01 < (dossiers["channel"] == "postal").mean() < 0.06
    assert (dossiers["fee_vnd"] == 0).mean() > 0.4


def test_units_differ_and_some_improve_or_worsen(dossiers: pd.DataFrame) -> None:
    resolved = _resolved_on_time(dossiers)
    departments = resolved[resolved["agency_level"] == "province"]
    by_year = departments.groupby(["agency_name", "year"])["on_time"].mean().unstack()
    assert by_year[2025].max() - by_year[2025].min() > 0.03
    change = by_year[2026] - by_year[2024]
    assert (change > 0.03).sum() >= 2, change
    assert (change < -0.03).sum() >= 2, change


def test_tet_week_dip(dossiers: pd.DataFrame) -> None:
    weekly = dossiers.set_index("received_at").resample("W-SUN").size()
    normal = weekly.median()
    for tet in sample.TET_DAYS:
        week = weekly[weekly.index >= pd.Timestamp(tet)].iloc[0]
        assert week < 0.5 * normal, (tet, week, normal)
        before = weekly[(weekly.index < pd.Timestamp(tet) - pd.Timedelta(days=6))].iloc[-2:]
        assert before.mean() > normal


def test_statuses_and_open_dossiers(dossiers: pd.DataFrame) -> None:
    share = dossiers["status"].value_counts(normalize=True)
    assert share[10] > 0.8 and share[9] > 0.01
    for status in (3, 7, 8):
        assert 0.003 < share[status] < 0.03
    returned = dossiers[dossiers["status"] == 10]
    assert (returned["returned_at"] >= returned["finished_at"]).all()
    assert dossiers.loc[dossiers["status"] == 9, "returned_at"].isna().all()
    open_ = dossiers[~dossiers["status"].isin(TERMINAL_STATUSES)]
    assert set(open_["status"]) <= {2, 4, 5, 6} and len(open_) > 0
    assert open_["finished_at"].isna().all()
    as_of = pd.Timestamp(sample.default_as_of(sample.SAMPLE_END))
    assert (open_["due_at"] < as_of).sum() > 0  # some are overdue at the export date
    assert 0 < dossiers["due_at"].isna().sum() < 0.01 * len(dossiers)
    assert (dossiers["finished_at"].dropna() >= dossiers.loc[dossiers["finished_at"].notna(), "received_at"]).all()
    rated = dossiers["rating"].value_counts(normalize=True, dropna=False)
    assert rated[np.nan] > 0.6 if np.nan in rated.index else dossiers["rating"].isna().mean() > 0.6
    assert set(dossiers["rating"].dropna()) == {"very_satisfied", "satisfied", "dissatisfied"}


def test_state_as_of_rolls_back_the_timeline(dossiers: pd.DataFrame) -> None:
    as_of = datetime(2025, 3, 31, 12)
    state = sample.state_as_of(dossiers, as_of)
    assert (state["received_at"] <= as_of).all()
    assert (state["finished_at"].dropna() <= as_of).all() and (state["returned_at"].dropna() <= as_of).all()
    later = dossiers.set_index("dossier_code").loc[state["dossier_code"]]
    finished_later = later["_end_at"].to_numpy() > np.datetime64(as_of)
    assert finished_later.sum() > 0
    assert not state["status"].to_numpy()[finished_later].astype(int).tolist().count(10)


def test_export_spelling(tmp_path: Path) -> None:
    frame = sample.generate_dossiers(2_000, seed=3)
    rows = _read_csv(sample.write_export(frame, tmp_path / "x.csv"))
    assert rows[0][0] == "BÁO CÁO DANH SÁCH HỒ SƠ" and rows[1][0].startswith("Từ ngày ")
    header = rows[3]
    expected = ["STT"] + [f.aliases[0] for f in FIELDS if f.name != "agency_code"] + list(sample.PERSONAL_COLUMNS)
    assert header == expected
    assert "Mã đơn vị" not in header
    body = [dict(zip(header, r, strict=True)) for r in rows[4:-1]]
    assert rows[-1][0] == "Tổng cộng" and rows[-1][1] == "2000" and len(body) == 2000
    assert {r["Hình thức nộp"] for r in body} <= {"Trực tiếp", "Trực tuyến", "Bưu chính công ích"}
    assert {r["Trạng thái"] for r in body} >= {"Đã trả kết quả"}
    assert {r["Số hóa"] for r in body} == {"Có", "Không"}
    assert all(len(r["Ngày tiếp nhận"]) == 19 and r["Ngày tiếp nhận"][2] == "/" for r in body)
    fees = {r["Phí, lệ phí"] for r in body}
    assert "0" in fees and any("." in f and f.endswith("000") for f in fees)
    assert all(r["Số CCCD"].isdigit() and len(r["Số CCCD"]) == 12 for r in body)
    assert all(r["Số điện thoại"].startswith("0") and len(r["Số điện thoại"]) == 10 for r in body)
    assert all(r["Họ tên người nộp"].count(" ") >= 2 for r in body)


def test_xlsx_has_real_dates(tmp_path: Path) -> None:
    import openpyxl

    frame = sample.generate_dossiers(300, seed=5)
    path = sample.write_export(frame, tmp_path / "x.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    header = list(rows[3])
    first = dict(zip(header, rows[4], strict=True))
    assert isinstance(first["Ngày tiếp nhận"], datetime)
    returned = [dict(zip(header, r, strict=True))["Ngày trả kết quả"] for r in rows[4:-1]]
    assert all(v is None or isinstance(v, datetime) for v in returned) and None in returned
    assert first["Mã hồ sơ"].endswith("-0001") or "-" in first["Mã hồ sơ"]
    assert rows[-1][0] == "Tổng cộng"


def test_as_of_export_excludes_later_dossiers(tmp_path: Path) -> None:
    frame = sample.generate_dossiers(5_000, seed=9)
    cut = datetime(2025, 1, 1)
    rows = _read_csv(sample.write_export(frame, tmp_path / "cut.csv.gz", as_of=cut, title=False))
    header, body = rows[0], rows[1:-1]
    received = pd.to_datetime([r[header.index("Ngày tiếp nhận")] for r in body], format="%d/%m/%Y %H:%M:%S")
    assert received.max() <= pd.Timestamp(cut)
    assert len(body) == (frame["received_at"] <= cut).sum()


@pytest.mark.slow
def test_bundled_sample_quarters_overlap() -> None:
    files = store.sample_files(Path(__file__).resolve().parent.parent / "data" / "sample")
    assert [f.name for f in files][:2] == ["ho_so_2024_q1.csv.gz", "ho_so_2024_q2.csv.gz"] and len(files) == 12
    assert sum(f.stat().st_size for f in files) < 20e6
    seen: dict[str, str] = {}
    advanced = 0
    total = set()
    for path in files:
        rows = _read_csv(path)
        header = rows[3]
        code, status = header.index("Mã hồ sơ"), header.index("Trạng thái")
        for row in rows[4:-1]:
            if row[code] in seen and seen[row[code]] in ("Được tiếp nhận", "Đang xử lý", "Yêu cầu bổ sung giấy tờ",
                                                         "Yêu cầu thực hiện nghĩa vụ tài chính"):
                advanced += row[status] != seen[row[code]]
            seen[row[code]] = row[status]
            total.add(row[code])
    assert len(total) >= 210_000
    assert advanced > 100
    assert date(2024, 1, 1) <= sample.SAMPLE_START and date(2026, 10, 31) == sample.SAMPLE_END


def test_restating_a_stated_frame_gives_the_later_state(dossiers: pd.DataFrame) -> None:
    early = sample.state_as_of(dossiers, datetime(2025, 3, 31, 12))
    later = sample.state_as_of(early, sample.default_as_of(sample.SAMPLE_END))
    pd.testing.assert_frame_equal(later, dossiers.loc[early.index])
    assert (early["status"] != later["status"]).sum() > 0


def test_sample_parts_are_whole_months_with_rows_by_days() -> None:
    parts = sample._sample_parts(10_000_000)
    assert len(parts) == 10 and sum(n for *_, n in parts) == 10_000_000
    assert parts[0][0] == sample.SAMPLE_START and parts[-1][1] == sample.SAMPLE_END
    for (_, last, _), (first, _, _) in pairwise(parts):
        assert first == last + timedelta(days=1) and first.day == 1
    days = sum((last - first).days + 1 for first, last, _ in parts)
    for first, last, n in parts:
        assert abs(n - 10_000_000 * ((last - first).days + 1) / days) < 1
    assert max(n for *_, n in parts) < 1.25 * sample.CHUNK_ROWS


CHUNKED_ROWS = 7_000


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[int, int]]]:
    """A chunked sample: CHUNK_ROWS lowered so that 7,000 rows are written in 4 parts."""
    calls: list[tuple[int, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sample, "CHUNK_ROWS", 2_000)
        path = sample.write_sample(tmp_path_factory.mktemp("chunked") / "s.csv", rows=CHUNKED_ROWS, seed=5,
                                   progress=lambda done, parts: calls.append((done, parts)))
    return path, calls


def test_chunked_sample_reads_as_one_export(chunked: tuple[Path, list[tuple[int, int]]]) -> None:
    path, calls = chunked
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    rows = _read_csv(path)
    assert path.read_bytes().startswith("\ufeff".encode())
    assert rows[0][0] == sample.TITLE and rows[1][0] == "Từ ngày 01/01/2024 đến ngày 31/10/2026"
    header = rows[3]
    assert header[0] == "STT" and rows.count(header) == 1
    body = rows[4:-1]
    assert [int(r[0]) for r in body] == list(range(1, CHUNKED_ROWS + 1))
    assert [r[0] for r in rows].count(sample.TOTAL_LABEL) == 1 and rows[-1][0] == sample.TOTAL_LABEL
    assert rows[-1][1] == str(CHUNKED_ROWS)
    fee = header.index("Phí, lệ phí")
    assert rows[-1][fee] == f"{sum(int(r[fee].replace('.', '')) for r in body):,}".replace(",", ".")


def test_chunked_sample_imports_like_an_unchunked_one(chunked: tuple[Path, list[tuple[int, int]]],
                                                      tmp_path: Path) -> None:
    from kpi import db
    from kpi.importer import ingest_file

    path, _ = chunked
    con = db.connect(tmp_path / "s.duckdb")
    result = ingest_file(con, path)
    # As for write_sample's single frame: every row read and stored, only the total row skipped.
    assert (result.rows_read, result.inserted, result.rejected, result.warnings, result.skipped) == (
        CHUNKED_ROWS, CHUNKED_ROWS, 0, 0, 1)
    assert con.execute("SELECT count(DISTINCT dossier_code) FROM dossiers").fetchone()[0] == CHUNKED_ROWS
    first, last = con.execute("SELECT min(received_at), max(received_at) FROM dossiers").fetchone()
    assert (first.year, first.month) == (2024, 1) and (last.year, last.month) == (2026, 10)
    # One city: every procedure code names one procedure in all parts.
    codes, pairs = con.execute(
        "SELECT count(DISTINCT procedure_code), count(DISTINCT (procedure_code, procedure_name)) FROM dossiers"
    ).fetchone()
    assert codes == pairs
    # One story: online use keeps rising across parts instead of restarting in each.
    online = con.execute("SELECT avg((channel = 'online')::INT) FROM dossiers GROUP BY year(received_at) "
                         "ORDER BY year(received_at)").fetchall()
    assert online == sorted(online)
    # The first part shows its dossiers' final state, not the one at the end of its months.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sample, "CHUNK_ROWS", 2_000)
        _, part_end, _ = sample._sample_parts(CHUNKED_ROWS)[0]
    statuses = [s for (s,) in con.execute(
        "SELECT status FROM dossiers WHERE received_at >= $from AND received_at < $to",
        {"from": part_end - timedelta(days=13), "to": part_end + timedelta(days=1)}).fetchall()]
    assert len(statuses) > 50
    assert sum(s in TERMINAL_STATUSES for s in statuses) / len(statuses) > 0.99  # ~0.89 as of the part end
    con.close()


def test_chunked_sample_gz_is_deterministic_and_xlsx_refused(chunked: tuple[Path, list[tuple[int, int]]],
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setattr(sample, "CHUNK_ROWS", 2_000)
    packed = sample.write_sample(tmp_path / "s.csv.gz", rows=CHUNKED_ROWS, seed=5)
    assert gzip.decompress(packed.read_bytes()) == chunked[0].read_bytes()
    with pytest.raises(ValueError, match="xlsx"):
        sample.write_sample(tmp_path / "s.xlsx", rows=CHUNKED_ROWS, seed=5)
    assert not (tmp_path / "s.xlsx").exists()


def test_samples_up_to_chunk_rows_keep_their_bytes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sample, "CHUNK_ROWS", 3_000)
    path = sample.write_sample(tmp_path / "s.csv", rows=3_000, seed=11)
    # The hash of this file as written before chunked samples existed.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == (
        "1789270a01396f19d5c0552a6f54964e4400ebe4ea8a3859ef6defa510f2b1db")
    frame = sample.generate_dossiers(3_000, seed=11)
    exported = sample.write_export(frame, tmp_path / "e.csv", period=(sample.SAMPLE_START, sample.SAMPLE_END),
                                   seed=11)
    assert exported.read_bytes() == path.read_bytes()
