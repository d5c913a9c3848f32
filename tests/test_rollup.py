"""A national roll-up from provincial exports (kpi.rollup; issue 6, point 4): each province's figures in the
national store are its own store's, the nation's are computed over all, and nothing else can be mixed in."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from kpi import aggregates, db, rollup, store
from kpi.engine import kpi_table
from kpi.importer import ingest_file
from kpi.periods import Period, month, year
from kpi.sample import generate_dossiers, write_export
from kpi.sources import ImportRefused

PERIODS = (year(2025), month(2026, 9), Period(date(2025, 6, 15), date(2025, 8, 10)))


def _province_store(tmp_path, name: str, province: str | None, rows: int, seed: int, end: date) -> db.Path:
    """A province's store: a sample export imported; `province` renames the sample's province (another
    province's data); `end` is its last received day, so the stores end at different months."""
    export = write_export(generate_dossiers(rows, seed=seed, end=end), tmp_path / f"{name}.csv")
    path = tmp_path / f"{name}.duckdb"
    with db.writing(path) as con:
        ingest_file(con, export)
        if province is not None:
            con.execute("UPDATE dossiers SET province = $province", {"province": province})
            aggregates.refresh_aggregates(con)
    return path


@pytest.fixture(scope="module")
def provinces(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("rollup")
    a = _province_store(folder, "a", None, 4_000, 21, date(2026, 10, 31))
    b = _province_store(folder, "b", "Tỉnh Phú Thọ", 3_000, 22, date(2026, 7, 20))  # its data stops earlier
    exports = []
    for path in (a, b):
        con = db.connect(path, read_only=True)
        exports.append(rollup.export_aggregates(con, folder / f"{path.stem}-export"))
        con.close()
    national = folder / "national.duckdb"
    with db.writing(national) as con:
        summary = rollup.rollup(con, [folder / "a-export", folder / "b-export"])
    return {"folder": folder, "stores": (a, b), "exports": exports, "national": national, "summary": summary}


def _figures(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("metric")[["numerator", "denominator"]].sort_index()


def test_each_province_is_its_own_store(provinces):
    national = db.connect(provinces["national"], read_only=True)
    for path, export in zip(provinces["stores"], provinces["exports"], strict=True):
        own = db.connect(path, read_only=True)
        (name,) = export["provinces"]
        for period in PERIODS:
            mine = _figures(kpi_table(own, period))
            rolled = kpi_table(national, period, by="province")
            rolled = _figures(rolled[rolled["group"] == name])
            pd.testing.assert_frame_equal(mine, rolled, check_dtype=False)
        own.close()


def test_the_nation_is_computed_over_every_province(provinces):
    national = db.connect(provinces["national"], read_only=True)
    stores = [db.connect(p, read_only=True) for p in provinces["stores"]]
    for period in PERIODS:
        total = _figures(kpi_table(national, period))
        parts = [_figures(kpi_table(con, period)) for con in stores]
        additive = [m for m in total.index if m != "full_online_service_share"]  # distinct procedures: not a sum
        summed = sum(p.loc[additive] for p in parts)
        pd.testing.assert_frame_equal(total.loc[additive], summed, check_dtype=False)
        share = total.loc["full_online_service_share"]
        assert max(p.loc["full_online_service_share", "numerator"] for p in parts) <= share["numerator"] \
            <= sum(p.loc["full_online_service_share", "numerator"] for p in parts)


def test_the_summary_and_the_store(provinces):
    summary, exports = provinces["summary"], provinces["exports"]
    assert summary["provinces"] == sorted(p for e in exports for p in e["provinces"])
    assert summary["dossiers"] == sum(e["dossiers"] for e in exports) > 6_000
    assert summary["last_month_end"] == "2026-10-31"
    con = db.connect(provinces["national"], read_only=True)
    assert db.dossier_count(con) == 0  # no dossier left its province
    assert aggregates.is_rolled_up(con)
    sources = con.execute("SELECT provinces, dossiers, last_month_end FROM rollup_sources ORDER BY folder").fetchall()
    assert [s[1] for s in sources] == [e["dossiers"] for e in exports]
    assert str(sources[1][2]) == "2026-07-31"
    manifest = json.loads((provinces["folder"] / "b-export" / rollup.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["provinces"] == ["Tỉnh Phú Thọ"] and manifest["bytes"] > 0


def test_a_roll_up_takes_no_dossier_and_no_duplicate_province(provinces, tmp_path):
    folder = provinces["folder"]
    with pytest.raises(ImportRefused, match="national roll-up"), db.writing(provinces["national"]) as con:
        ingest_file(con, folder / "a.csv")
    with pytest.raises(rollup.RollupError, match="is in two exports"), db.writing(tmp_path / "n.duckdb") as con:
        rollup.rollup(con, [folder / "a-export", folder / "a-export"])
    with pytest.raises(rollup.RollupError, match="holds dossiers"), db.writing(tmp_path / "p.duckdb") as con:
        store.import_uploads(con, [("a.csv", (folder / "a.csv").read_bytes())])
        rollup.rollup(con, [folder / "b-export"])
    stale = tmp_path / "stale"
    stale.mkdir()
    manifest = json.loads((folder / "b-export" / rollup.MANIFEST).read_text(encoding="utf-8"))
    (stale / rollup.MANIFEST).write_text(json.dumps({**manifest, "definition": 1}), encoding="utf-8")
    with pytest.raises(rollup.RollupError, match="aggregate rules 1"):
        rollup.read_manifest(stale)
    con = db.connect(provinces["national"], read_only=True)
    with pytest.raises(rollup.RollupError, match="itself a roll-up"):
        rollup.export_aggregates(con, tmp_path / "again")
