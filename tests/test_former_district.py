"""The former-district area (DOMAIN §5): districts before the reform, the official old->new mapping
after it, so that a year-on-year comparison by district area stays possible across 1 July 2025."""

from __future__ import annotations

from kpi_rows import row, small_store

from kpi.engine import kpi_table
from kpi.periods import quarter
from kpi.reference import former_districts

HN = "Thành phố Hà Nội"


def test_new_communes_map_to_one_former_district_each() -> None:
    areas = former_districts()
    assert len(areas) == 126 and areas["commune"].is_unique
    assert areas.set_index("commune").at["Phường Bồ Đề", "former_district"] == "Quận Long Biên"
    assert (areas["districts"] >= 1).all() and (areas["districts"] > 1).any()  # some straddle two or more


def test_grouping_by_former_district_across_the_reform() -> None:
    con = small_store([
        # Q3 2025, after the reform: no district, new communes
        row("2025-07-10", 10, province=HN, commune="Phường Bồ Đề", due="2025-07-20", finished="2025-07-15"),
        row("2025-07-11", 10, province=HN, commune="Phường Bồ Đề", due="2025-07-20", finished="2025-07-25"),
        row("2025-08-01", 4, province=HN, commune="Xã Không Có"),  # not in the list: no area
        # Q3 2024, before the reform: the district itself
        row("2024-07-10", 10, province=HN, district="Quận Long Biên", commune="Phường Ngọc Lâm",
            due="2024-07-20", finished="2024-07-12"),
    ])
    frame = kpi_table(con, quarter(2025, 3), by="former_district", metrics=["on_time_rate", "online_dossier_rate"])
    on_time = frame[frame["metric"] == "on_time_rate"].set_index("group")
    assert on_time.at["Quận Long Biên", "numerator"] == 1 and on_time.at["Quận Long Biên", "denominator"] == 2
    assert on_time.at["Quận Long Biên", "year_earlier_value"] == 1.0  # Q3 2024 by the district itself
    assert on_time.at["Quận Long Biên", "hierarchy"] == "after_reform"
    received = frame[frame["metric"] == "online_dossier_rate"].set_index("group")["denominator"].to_dict()
    assert received == {"Quận Long Biên": 2, None: 1}
    filtered = kpi_table(con, quarter(2025, 3), where={"former_district": "Quận Long Biên"},
                         metrics=["online_dossier_rate"])
    assert filtered.at[0, "denominator"] == 2
