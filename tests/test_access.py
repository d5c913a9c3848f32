"""Scope enforcement in the package (issue 7, point 3): kpi.access.run and the engine's caller scope."""

from __future__ import annotations

import json
from datetime import date

import pytest
from kpi_rows import row, small_store

from kpi import access
from kpi.dossier_lists import late_dossiers
from kpi.engine import Scope, ScopeRefused, caller_scope, current_scope, kpi_table
from kpi.periods import Period

Q2 = Period(date(2024, 4, 1), date(2024, 6, 30))
YL, TT = "Huyện Yên Lập", "Huyện Tam Thanh"


@pytest.fixture(scope="module")
def con():
    """Two districts: Yên Lập resolves 2 dossiers (one late), Tam Thanh 3 (two late); one department."""
    return small_store([
        row("2024-05-02", 10, district=YL, commune="Xã Mỹ Lung", agency_name="UBND huyện Yên Lập",
            due="2024-05-10", finished="2024-05-08"),
        row("2024-05-03", 10, district=YL, commune="Xã Mỹ Lung", agency_name="UBND huyện Yên Lập",
            due="2024-05-10", finished="2024-05-20"),
        row("2024-05-04", 10, district=TT, commune="Xã Hương Nộn", agency_name="UBND huyện Tam Thanh",
            due="2024-05-10", finished="2024-05-21"),
        row("2024-05-05", 10, district=TT, commune="Xã Hương Nộn", agency_name="UBND huyện Tam Thanh",
            due="2024-05-10", finished="2024-05-22"),
        row("2024-05-06", 10, district=TT, commune="Xã Dị Nậu", agency_name="UBND huyện Tam Thanh",
            due="2024-05-10", finished="2024-05-09"),
        row("2024-05-07", 10, agency_name="Sở Xây dựng", agency_level="province",
            due="2024-05-10", finished="2024-05-09"),
    ])


def on_time(frame) -> dict:
    picked = frame[frame["metric"] == "on_time_rate"]
    return {g: (int(n), int(d)) for g, n, d in zip(picked["group"], picked["numerator"], picked["denominator"],
                                                   strict=True)}


UNIT = access.Caller("yl@phutho.gov.vn", "unit", (YL,))


def test_a_unit_caller_sees_its_own_figures_only(con):
    mine = access.run(UNIT, kpi_table, con, Q2, by="channel", metrics=["on_time_rate"])
    assert on_time(mine) == {"direct": (1, 2)}  # a breakdown that ranks no unit: the scope's dossiers only
    operator = access.run(access.operator(), kpi_table, con, Q2, by="channel", metrics=["on_time_rate"])
    assert on_time(operator) == {"direct": (3, 6)}
    own_total = access.run(UNIT, kpi_table, con, Q2, where={"district": YL}, metrics=["on_time_rate"])
    assert on_time(own_total) == {None: (1, 2)}


def test_province_totals_and_rankings_are_comparisons(con):
    total = access.run(UNIT, kpi_table, con, Q2, metrics=["on_time_rate"])
    assert on_time(total) == {None: (3, 6)}  # the province's total
    ranking = access.run(UNIT, kpi_table, con, Q2, by="district", metrics=["on_time_rate"])
    assert on_time(ranking) == {YL: (1, 2), TT: (1, 3), None: (1, 1)}  # other units' names and figures


def test_another_units_drill_down_is_refused(con):
    with pytest.raises(access.AccessRefused, match="Tam Thanh"):
        access.run(UNIT, kpi_table, con, Q2, where={"district": TT}, by="commune", metrics=["on_time_rate"])
    with pytest.raises(access.AccessRefused, match="Hương Nộn"):
        access.run(UNIT, kpi_table, con, Q2, where={"commune": ["Xã Hương Nộn"]}, metrics=["on_time_rate"])
    # beneath the own district: allowed, and still within the scope
    below = access.run(UNIT, kpi_table, con, Q2, where={"district": YL, "commune": "Xã Mỹ Lung"},
                       metrics=["on_time_rate"])
    assert on_time(below) == {None: (1, 2)}


def test_dossier_lists_are_never_comparisons(con):
    late = access.run(UNIT, late_dossiers, con, Q2, kind="resolved_late")
    assert late["district"].tolist() == [YL] and late["commune"].tolist() == ["Xã Mỹ Lung"]
    everyone = access.run(access.operator(), late_dossiers, con, Q2, kind="resolved_late")
    assert sorted(everyone["district"]) == [TT, TT, YL]


def test_an_explicit_scope_may_narrow_the_callers_but_not_widen_it(con):
    with caller_scope(UNIT.scope):
        assert current_scope(None) == UNIT.scope
        narrow = Scope(districts={YL})
        assert current_scope(narrow) == narrow
        with pytest.raises(ScopeRefused):
            current_scope(Scope(districts={TT}))
        with pytest.raises(ScopeRefused):
            kpi_table(con, Q2, scope=Scope(districts={TT}), metrics=["on_time_rate"])
    assert current_scope(None) is None  # the block's scope does not outlive it


def test_a_district_keeps_its_former_area_after_the_reform():
    scope = access.unit_scope(["Quận Long Biên"])
    assert "Phường Bồ Đề" in scope.communes and "Quận Long Biên" in scope.districts


def test_roles_and_permissions():
    assert access.operator().may("import")
    province = access.Caller("p@x.vn", "province")
    assert province.sees_all and not province.may("import") and province.may("data")
    with pytest.raises(access.AccessRefused, match="nhập dữ liệu"):
        UNIT.require("import")
    with pytest.raises(access.AccessRefused):
        access.Caller("u@x.vn", "unit")  # a unit account needs a unit
    with pytest.raises(access.AccessRefused):
        access.Caller("u@x.vn", "root")


def test_download_rows_within_the_scope():
    import pandas as pd

    frame = pd.DataFrame({"district": [YL, TT, None], "value": [1, 2, 3]})
    assert access.in_scope_rows(UNIT, frame)["value"].tolist() == [1, 3]
    assert access.in_scope_rows(access.operator(), frame)["value"].tolist() == [1, 2, 3]


# --- the CLI's --user -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory, con):
    """The module's dossiers in a store file, with a unit account of Yên Lập and a province account."""
    from kpi import accounts, appdb, db

    path = tmp_path_factory.mktemp("cli") / "store.duckdb"
    con.execute("ATTACH $path AS file_store", {"path": str(path)})
    try:
        con.execute("COPY FROM DATABASE memory TO file_store")
    finally:
        con.execute("DETACH file_store")
    db.connect(path).close()
    app = appdb.app_db_path(path)
    accounts.add_user(app, "yl@phutho.gov.vn", "unit", [YL], created_by="tests")
    accounts.add_user(app, "tinh@phutho.gov.vn", "province", created_by="tests")
    return path


def cli(capsys, store, *args: str) -> tuple[int, str, str]:
    from kpi.__main__ import main

    code = main([*args[:1], "--db", str(store), *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def cli_events(store) -> list[tuple[str, str, str]]:
    from kpi import appdb, audit

    frame = audit.events(appdb.app_db_path(store))
    return list(zip(frame["actor"], frame["action"], frame["outcome"], strict=True))


def test_cli_kpis_as_a_unit_compares_but_never_drills(capsys, cli_store):
    period = ("--from", "2024-04-01", "--to", "2024-06-30")
    code, out, _ = cli(capsys, cli_store, "kpis", *period, "--by", "district", "--format", "json",
                       "--user", "yl@phutho.gov.vn")
    rows = {r["district"]: (r["numerator"], r["denominator"]) for r in json.loads(out) if r["metric"] == "on_time_rate"}
    assert code == 0 and rows == {YL: (1, 2), TT: (1, 3), None: (1, 1)}  # a ranking: every district
    code, out, _ = cli(capsys, cli_store, "kpis", *period, "--by", "channel", "--format", "json",
                       "--user", "yl@phutho.gov.vn")
    rows = {r["channel"]: (r["numerator"], r["denominator"]) for r in json.loads(out) if r["metric"] == "on_time_rate"}
    assert rows == {"direct": (1, 2)}  # not a ranking of units: its own dossiers only
    code, out, err = cli(capsys, cli_store, "kpis", *period, "--where", f"district={TT}", "--user", "yl@phutho.gov.vn")
    assert code == 4 and not out and TT in err and "ngoài phạm vi" in err
    assert ("yl@phutho.gov.vn", "report", "refused") in cli_events(cli_store)
    assert ("yl@phutho.gov.vn", "report", "ok") in cli_events(cli_store)


def test_cli_late_as_a_unit_lists_its_own_dossiers(capsys, cli_store):
    period = ("--from", "2024-04-01", "--to", "2024-06-30")
    code, out, _ = cli(capsys, cli_store, "late", *period, "--kind", "resolved_late", "--format", "json",
                       "--user", "yl@phutho.gov.vn")
    assert code == 0 and [r["district"] for r in json.loads(out)] == [YL]
    code, out, _ = cli(capsys, cli_store, "late", *period, "--kind", "resolved_late", "--format", "json",
                       "--user", "tinh@phutho.gov.vn")
    assert code == 0 and sorted(r["district"] for r in json.loads(out)) == [TT, TT, YL]
    assert ("yl@phutho.gov.vn", "download", "ok") in cli_events(cli_store)


def test_cli_refusals(capsys, cli_store, tmp_path):
    export = tmp_path / "x.csv"
    export.write_text("Mã hồ sơ\nH-1\n", encoding="utf-8")
    code, _, err = cli(capsys, cli_store, "ingest", str(export), "--user", "tinh@phutho.gov.vn")
    assert code == 4 and "nhập dữ liệu" in err  # a province account reads only
    code, _, err = cli(capsys, cli_store, "pack", "--from", "2024-04-01", "--to", "2024-06-30", "--where",
                       f"district={TT}", "--out", str(tmp_path), "--user", "yl@phutho.gov.vn")
    assert code == 4 and TT in err and not list(tmp_path.glob("*.pdf"))
    with pytest.raises(SystemExit, match="no active account"):
        cli(capsys, cli_store, "kpis", "--from", "2024-04-01", "--to", "2024-06-30", "--user", "ai@x.vn")
    actions = cli_events(cli_store)
    assert ("tinh@phutho.gov.vn", "import", "refused") in actions and ("yl@phutho.gov.vn", "pack", "refused") in actions
