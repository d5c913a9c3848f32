"""Issue 7, point 6: a unit account of one district sees no dossier, no drill-down and no pack page of another
district on any page, also through edited URL parameters; administrators' pages refuse it; the audit log
records what it did (AppTest, logged in by single sign-on through `at.user`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from apptest import account, app_test
from kpi_rows import row, store_file
from streamlit.testing.v1 import AppTest

from kpi import accounts, appdb, audit, db, ui

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "pages"
HN = "Thành phố Hà Nội"
BA_DINH, HOAN_KIEM = "Quận Ba Đình", "Quận Hoàn Kiếm"
UNIT = "bd@hanoi.gov.vn"  # the head of Ba Đình


def dossier(code: str, received: str, status: int, district: str, commune: str, **values: object) -> dict:
    return row(received, status, dossier_code=code, province=HN, district=district, commune=commune,
               agency_name=f"UBND {district.lower()}", agency_level="district", sector="Hộ tịch", **values)


# March 2025: Ba Đình and Hoàn Kiếm each with late and overdue dossiers (codes BD-* and HK-*).
ROWS = [
    dossier("BD-1", "2025-03-03", 10, BA_DINH, "Phường Phúc Xá", due="2025-03-10", finished="2025-03-07"),
    dossier("BD-2", "2025-03-04", 10, BA_DINH, "Phường Phúc Xá", due="2025-03-10", finished="2025-03-14"),
    dossier("BD-3", "2025-03-05", 4, BA_DINH, "Phường Trúc Bạch", due="2025-03-12"),
    dossier("HK-1", "2025-03-06", 10, HOAN_KIEM, "Phường Hàng Bạc", due="2025-03-13", finished="2025-03-20"),
    dossier("HK-2", "2025-03-07", 10, HOAN_KIEM, "Phường Hàng Bạc", due="2025-03-14", finished="2025-03-12"),
    dossier("HK-3", "2025-03-07", 4, HOAN_KIEM, "Phường Hàng Đào", due="2025-03-10"),
]
MARCH = {"ky": "month", "nam": "2025", "so": "3"}
FOREIGN_DOSSIERS = ("HK-1", "HK-2", "HK-3")
FOREIGN_BELOW = ("Phường Hàng Bạc", "Phường Hàng Đào")  # what lies under Hoàn Kiếm: its drill-down


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = store_file(tmp_path_factory.mktemp("access") / "access.duckdb", ROWS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(db.DB_ENV, str(path))
        yield path


def as_unit(page: str, **params: str) -> AppTest:
    return app_test(PAGES / page, user=UNIT, role="unit", units=(BA_DINH,), **MARCH, **params)


def everything_shown(at: AppTest) -> str:
    """All the text a person can see on the page: titles, captions, messages, tables and charts."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success", "metric", "exception"):
        parts += [str(getattr(e, "value", "")) + " " + str(getattr(e, "label", "")) for e in at.get(kind)]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    for chart in at.get("plotly_chart"):
        parts.append(json.dumps(json.loads(chart.proto.spec), ensure_ascii=False))
    return "\n".join(parts)


PAGES_WITH_DATA = ["tong_quan.py", "dia_ban.py", "so_nganh.py", "danh_gia_thang.py", "theo_doi.py", "bao_cao_hop.py",
                   "trinh_chieu.py", "phuong_phap.py"]


@pytest.mark.parametrize("page", PAGES_WITH_DATA)
def test_a_unit_sees_no_dossier_of_another_district_on_any_page(store_path: Path, page: str) -> None:
    at = as_unit(page)
    assert not at.exception, at.exception
    shown = everything_shown(at)
    assert not [code for code in (*FOREIGN_DOSSIERS, *FOREIGN_BELOW) if code in shown]


@pytest.mark.parametrize("page", ["tong_quan.py", "dia_ban.py", "so_nganh.py", "danh_gia_thang.py", "bao_cao_hop.py",
                                  "trinh_chieu.py"])
@pytest.mark.parametrize("edited", [{"huyen": HOAN_KIEM}, {"huyen": HOAN_KIEM, "xa": "Phường Hàng Bạc"},
                                    {"don_vi": f"UBND {HOAN_KIEM.lower()}"}])
def test_an_edited_address_never_widens_the_scope(store_path: Path, page: str, edited: dict) -> None:
    at = as_unit(page, **edited)
    assert not at.exception, at.exception
    if "huyen" in edited:  # another district's drill-down: refused. Another agency: only its part of Ba Đình
        assert any("ngoài phạm vi" in e.value for e in at.error), [e.value for e in at.error]
    shown = everything_shown(at)
    assert not [code for code in (*FOREIGN_DOSSIERS, *FOREIGN_BELOW) if code in shown]


def test_the_own_district_shows_its_dossiers_and_the_province_its_ranking(store_path: Path) -> None:
    at = as_unit("dia_ban.py", xa="Phường Phúc Xá", thu_tuc="1.000001")  # down to its procedure's dossiers
    shown = everything_shown(at)
    assert "BD-2" in shown and not any("ngoài phạm vi" in e.value for e in at.error)  # its late dossier
    at = as_unit("dia_ban.py")  # opens on the account's own district
    at.selectbox(key="filter-district").set_value(ui._ALL).run()  # "all": the province's ranking, names included
    assert not at.exception, at.exception
    ranking = everything_shown(at)
    assert HOAN_KIEM in ranking and not [c for c in FOREIGN_DOSSIERS if c in ranking]


@pytest.mark.parametrize("page", ["du_lieu.py", "tai_khoan.py", "nhat_ky.py"])
def test_administrators_pages_refuse_a_unit(store_path: Path, page: str) -> None:
    at = as_unit(page)
    assert not at.exception, at.exception
    assert any("không có quyền" in e.value for e in at.error)
    assert not at.dataframe


def test_the_audit_log_records_logins_and_refusals(store_path: Path) -> None:
    as_unit("tong_quan.py", huyen=HOAN_KIEM)
    events = audit.events(appdb.app_db_path(store_path), actor=UNIT)
    actions = set(zip(events["action"], events["outcome"], strict=True))
    assert {("login", "ok"), ("refused", "refused")} <= actions
    refused = events[events["action"] == "refused"].iloc[0]
    assert HOAN_KIEM in refused["detail"] and refused["scope"] == BA_DINH


# --- the built-in login (no single sign-on configured) ----------------------------------------------


def built_in(page: str = "tong_quan.py") -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=120)
    at.query_params.update(MARCH)
    return at.run()


def submit(at: AppTest, **fields: str) -> AppTest:
    for key, value in fields.items():
        at.text_input(key=key).input(value)
    return next(b for b in at.button if "FormSubmitter" in str(b.id) or b.key is None).click().run()


def test_first_run_creates_the_administrator_then_logs_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = store_file(tmp_path / "new.duckdb", ROWS)
    monkeypatch.setenv(db.DB_ENV, str(path))
    at = built_in()
    assert any("tạo tài khoản quản trị" in s.value.lower() for s in at.subheader)
    at = submit(at, **{"first-admin-email": "Admin@Tinh.gov.vn", "first-admin-password": "mot-mat-khau-dai",
                       "first-admin-again": "mot-mat-khau-dai"})
    assert not at.exception and not at.error
    assert at.title and at.title[0].value == "Tổng quan"  # logged in: the page itself
    assert accounts.get_user(appdb.app_db_path(path), "admin@tinh.gov.vn").role == "admin"


def test_built_in_login_refuses_wrong_passwords_and_locks_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "login.duckdb"
    store_file(path, ROWS)
    monkeypatch.setenv(db.DB_ENV, str(path))
    app = appdb.app_db_path(path)
    accounts.add_user(app, "quantri@tinh.gov.vn", "admin", (), "mat-khau-dung-1", created_by="tests")
    at = built_in()
    for attempt in range(accounts.MAX_FAILURES):
        at = submit(at, **{"login-email": "quantri@tinh.gov.vn", "login-password": f"sai-{attempt}"})
        assert at.error and at.title[0].value != "Tổng quan"
    at = submit(at, **{"login-email": "quantri@tinh.gov.vn", "login-password": "mat-khau-dung-1"})
    assert any("khoá" in e.value.lower() for e in at.error), [e.value for e in at.error]  # locked, right or not
    events = audit.events(app, actor="quantri@tinh.gov.vn")
    assert (events["action"] == "login_failed").sum() >= accounts.MAX_FAILURES
    assert (events["action"] == "lockout").sum() == 1


def test_built_in_login_then_the_session_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    path = tmp_path / "login.duckdb"
    store_file(path, ROWS)
    monkeypatch.setenv(db.DB_ENV, str(path))
    accounts.add_user(appdb.app_db_path(path), "quantri@tinh.gov.vn", "admin", (), "mat-khau-dung-1",
                      created_by="tests")
    at = submit(built_in(), **{"login-email": "quantri@tinh.gov.vn", "login-password": "mat-khau-dung-1"})
    assert not at.exception and at.title[0].value == "Tổng quan"
    at.session_state["_egov_last_seen"] = dt.datetime.now() - dt.timedelta(minutes=accounts.session_minutes() + 1)
    at.run()
    assert any("hết hạn" in i.value for i in at.info) and at.text_input(key="login-password")
    events = audit.events(appdb.app_db_path(path), actor="quantri@tinh.gov.vn")
    assert {"login", "logout"} <= set(events["action"])


# --- the audit log records each action ---------------------------------------------------------------


def test_audit_of_a_followup_a_report_and_a_download(store_path: Path) -> None:
    """A follow-up recorded on its page, the meeting report drawn, and a file written by a download button (the
    deferred file of `ui.audited_file`, as a click writes it) each leave an event with who and what."""
    at = app_test(PAGES / "theo_doi.py", **MARCH)
    at.selectbox(key="fu-dimension").set_value("district").run()
    at.selectbox(key="fu-unit").set_value(BA_DINH)
    at.text_area(key="fu-task").input("Giảm hồ sơ quá hạn")
    at.text_input(key="fu-owner").input("UBND quận")
    at.button(key="fu-add-submit").click()
    at.run()
    assert not at.exception and not at.error
    app_test(PAGES / "bao_cao_hop.py", **MARCH, huyen=BA_DINH)

    def download() -> None:
        import streamlit as st

        from kpi import ui

        written = ui.audited_file(lambda: b"a;b\n1;2\n", "bang-so-lieu.csv", "download")()
        st.write(len(written))

    clicked = AppTest.from_function(download, default_timeout=60)
    clicked.secrets["auth"] = at.secrets["auth"]
    clicked.user = {"is_logged_in": True, "email": "quantri@egov-kpi.test"}
    clicked.run()
    assert not clicked.exception, clicked.exception
    events = audit.events(appdb.app_db_path(store_path), actor="quantri@egov-kpi.test")
    seen = {(a, t.split(";")[0]) for a, t in zip(events["action"], events["target"], strict=True)}
    assert ("followup_change", "add_followup") in seen
    assert ("report", "Tháng 03/2025") in seen
    assert ("download", "bang-so-lieu.csv") in seen
    written = events[events["action"] == "download"].iloc[0]
    assert json.loads(written["detail"]) == {"bytes": 8} and written["role"] == "admin"


def test_audit_of_an_import(store_path: Path, tmp_path: Path) -> None:
    """An import (here the CLI's, as the nightly job runs it) is recorded with the file and its counts."""
    from kpi.__main__ import main
    from kpi.sample import write_sample

    export = write_sample(tmp_path / "dem.csv", rows=30, seed=3)
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store_path.read_bytes())
    assert main(["ingest", "--db", str(copy), str(export)]) == 0
    [event] = audit.events(appdb.app_db_path(copy), action="import").to_dict("records")
    assert event["actor"].startswith("cli:") and event["outcome"] == "ok" and "dem.csv" in event["target"]


def test_a_units_meeting_pack_files_hold_no_other_district(store_path: Path, tmp_path: Path) -> None:
    """The pack a unit account generates (here `pack --user`, the same package code as the page's downloads):
    no sheet cell and no PDF page names the other district, its communes or its dossiers."""
    import shutil
    import subprocess

    from openpyxl import load_workbook

    from kpi.__main__ import main

    account(UNIT, "unit", (BA_DINH,))
    period = ["--from", "2025-03-01", "--to", "2025-03-31"]
    assert main(["pack", "--db", str(store_path), *period, "--out", str(tmp_path), "--user", UNIT]) == 4  # no unit
    assert main(["pack", "--db", str(store_path), *period, "--out", str(tmp_path / "all")]) == 0  # the operator's
    every = " ".join(str(c.value) for book in (tmp_path / "all").glob("*.xlsx") for sheet in load_workbook(book)
                     for row in sheet.iter_rows() for c in row)
    assert HOAN_KIEM in every  # what the unit's pack must leave out is there to be left out
    code = main(["pack", "--db", str(store_path), "--from", "2025-03-01", "--to", "2025-03-31", "--where",
                 f"district={BA_DINH}", "--out", str(tmp_path), "--user", UNIT])
    assert code == 0
    [workbook] = tmp_path.glob("*.xlsx")
    cells = [str(c.value) for sheet in load_workbook(workbook).worksheets for row in sheet.iter_rows() for c in row
             if c.value is not None]
    assert any(BA_DINH in c for c in cells)
    foreign = (HOAN_KIEM, *FOREIGN_DOSSIERS, *FOREIGN_BELOW)
    assert not [c for c in cells if any(f in c for f in foreign)]
    if shutil.which("pdftotext"):  # installed by scripts/test
        [pdf] = tmp_path.glob("*.pdf")
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert BA_DINH in text and not [f for f in foreign if f in text]
