"""Extract the official Hà Nội division lists into kpi/reference/ (run once, by hand).

Reads the data bundled with the PyPI package `vietnamadminunits` (MIT licence): the 63-province
hierarchy before 1 July 2025, the 34-province hierarchy after it, and its old->new ward converter.
The product itself never imports that package; it reads the small CSVs written here.

    .venv/bin/python scripts/build_reference.py
"""

from __future__ import annotations

import csv
import json
import sqlite3
from importlib import resources
from pathlib import Path

PROVINCE = "Thành phố Hà Nội"
OUT_DIR = Path(__file__).resolve().parent.parent / "kpi" / "reference"


def _write(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{path.name}: {len(rows)} rows")


def main() -> None:
    """Write ha_noi_2024.csv, ha_noi_2025.csv and ha_noi_old_to_new.csv."""
    data = resources.files("vietnamadminunits").joinpath("data")
    con = sqlite3.connect(str(data.joinpath("dataset.db")))
    legacy = con.execute(
        "SELECT district, districtCode, ward, wardCode, wardLat, wardLon, provinceKey, districtKey, wardKey "
        "FROM admin_units_legacy WHERE province = ? ORDER BY districtCode, wardCode", (PROVINCE,)).fetchall()
    current = con.execute(
        "SELECT ward, wardCode, wardLat, wardLon, wardKey FROM admin_units WHERE province = ? ORDER BY wardCode",
        (PROVINCE,)).fetchall()
    _write(OUT_DIR / "ha_noi_2024.csv", ["district", "district_code", "commune", "commune_code", "lat", "lon"],
           [row[:6] for row in legacy])
    _write(OUT_DIR / "ha_noi_2025.csv", ["commune", "commune_code", "lat", "lon"], [row[:4] for row in current])

    new_name = {row[4]: row[0] for row in current}
    converter = json.loads(data.joinpath("converter_2025.json").read_text(encoding="utf-8"))
    province_key = legacy[0][6]
    undivided: dict[str, str] = {}
    for new_key, old_keys in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][province_key].items():
        for old_key in old_keys:
            undivided[old_key] = new_key
    divided = converter["DICT_PROVINCE_WARD_DIVIDED"][province_key]
    mapping: list[tuple] = []
    for district, _, ward, _, _, _, pkey, dkey, wkey in legacy:
        old_key = f"{pkey}_{dkey}_{wkey}"
        if old_key in undivided:
            mapping.append((district, ward, new_name[undivided[old_key]], 1))
        elif old_key in divided:
            for part in divided[old_key]:
                mapping.append((district, ward, new_name[part["newWardKey"]], int(part["isDefaultNewWard"])))
        else:
            raise SystemExit(f"no new commune for {old_key}")
    _write(OUT_DIR / "ha_noi_old_to_new.csv", ["district", "commune", "new_commune", "is_default"], mapping)


if __name__ == "__main__":
    main()
