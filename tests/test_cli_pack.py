"""`python -m kpi pack`: both files written under the pack's name, the workbook's numbers the engine's, and
clear errors (exit code 2) for bad filters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from kpi_rows import insert
from openpyxl import load_workbook
from test_pack import MAY, dossiers

from kpi import db
from kpi.engine import kpi_table


@pytest.fixture(scope="module")
def store_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli-pack") / "kpi.duckdb"
    con = db.connect(path)
    insert(con, dossiers())
    con.close()
    return path


def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpi", "pack", *map(str, args)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


def test_pack_writes_the_workbook_and_the_pdf(store_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "hop"
    done = run("--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31", "--out", out)
    xlsx, pdf = out / "bao-cao-cchc_2024-05_toan-tinh.xlsx", out / "bao-cao-cchc_2024-05_toan-tinh.pdf"
    assert xlsx.is_file(), done.stderr
    printed = done.stdout.splitlines()
    assert printed[0] == str(xlsx)
    con = db.connect(store_file, read_only=True)
    engine = kpi_table(con, MAY)
    con.close()
    summary = load_workbook(xlsx)["Tổng hợp chỉ số"]
    rows = list(summary.iter_rows(min_row=9, values_only=True))
    assert [(r[0], r[2], r[3]) for r in rows] == list(zip(engine["metric"], engine["numerator"],
                                                          engine["denominator"], strict=True))
    assert done.returncode == 0, done.stderr
    assert printed == [str(xlsx), str(pdf)]
    assert pdf.read_bytes().startswith(b"%PDF")


def test_pack_for_a_district_in_english(store_file: Path, tmp_path: Path) -> None:
    done = run("--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31", "--where", "district=Huyện Hai",
               "--lang", "en", "--out", tmp_path)
    xlsx = tmp_path / "bao-cao-cchc_2024-05_huyen-hai.xlsx"
    assert done.stdout.splitlines()[0] == str(xlsx), done.stderr
    book = load_workbook(xlsx)
    assert book.sheetnames[0] == "KPI summary" and book["KPI summary"]["B3"].value == "Huyện Hai"
    departments = [r[1] for r in book["Departments ranking"].iter_rows(min_row=2, values_only=True)]
    assert departments == ["UBND Xã Hai", "Sở B"]


@pytest.mark.parametrize(("where", "message"), [
    (["nothing=1"], "DIMENSION=VALUE"),
    (["district"], "DIMENSION=VALUE"),
    (["agency=Sở A", "agency=Sở B"], "one value per filter"),
])
def test_bad_where_is_a_clear_error(store_file: Path, tmp_path: Path, where: list[str], message: str) -> None:
    done = run("--db", store_file, "--from", "2024-05-01", "--to", "2024-05-31", "--where", *where, "--out", tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert not list(tmp_path.iterdir())


def test_a_district_after_the_reform_is_a_clear_error(store_file: Path, tmp_path: Path) -> None:
    done = run("--db", store_file, "--from", "2025-08-01", "--to", "2025-08-31", "--where", "district=Huyện Hai",
               "--out", tmp_path)
    assert done.returncode == 2
    assert "districts were abolished on 1 July 2025" in done.stderr
    assert not list(tmp_path.iterdir())


def test_missing_database_and_backwards_period(tmp_path: Path, store_file: Path) -> None:
    done = run("--db", tmp_path / "none.duckdb", "--from", "2024-05-01", "--to", "2024-05-31", "--out", tmp_path)
    assert done.returncode != 0 and "none.duckdb" in done.stderr
    done = run("--db", store_file, "--from", "2024-05-31", "--to", "2024-05-01", "--out", tmp_path)
    assert done.returncode != 0 and "--to must not be before --from" in done.stderr
