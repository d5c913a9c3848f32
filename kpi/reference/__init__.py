"""Bundled official division lists for Hà Nội (both hierarchies and the old->new mapping).

The CSVs were extracted once by `scripts/build_reference.py` from the MIT-licensed PyPI package
`vietnamadminunits` (see README.md here); the runtime reads only these files. Codes are kept as text
because they carry leading zeros.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

PROVINCE = "Thành phố Hà Nội"
PROVINCE_CODE = "H26"  # level-1 unit identifier of Hà Nội (QCVN 102:2016/BTTTT)

_TEXT = {"district": str, "district_code": str, "commune": str, "commune_code": str, "new_commune": str}


def _read(name: str) -> pd.DataFrame:
    with resources.files(__name__).joinpath(name).open("rb") as handle:
        return pd.read_csv(handle, dtype=_TEXT, encoding="utf-8", keep_default_na=False)


def units_before_reform() -> pd.DataFrame:
    """Districts and communes of Hà Nội before 1 July 2025.

    Columns: district, district_code, commune, commune_code, lat, lon (commune centroid).
    """
    return _read("ha_noi_2024.csv")


def units_after_reform() -> pd.DataFrame:
    """Communes and wards of Hà Nội from 1 July 2025 (no districts). Columns: commune, commune_code, lat, lon."""
    return _read("ha_noi_2025.csv")


def old_to_new() -> pd.DataFrame:
    """Old (district, commune) -> new commune; a split old commune has several rows, exactly one is_default."""
    frame = _read("ha_noi_old_to_new.csv")
    frame["is_default"] = frame["is_default"].astype(int).astype(bool)
    return frame


def former_districts() -> pd.DataFrame:
    """Each new commune's former district area (DOMAIN §5: after 1 July 2025 "district" is only an
    analytical layer). Columns: province, commune, former_district, districts (how many former districts
    the commune straddles). A straddling commune is attributed to the district that gave it the most old
    communes (ties: alphabetical), which is why `districts` is kept."""
    mapping = old_to_new()
    counts = mapping.groupby(["new_commune", "district"]).size().reset_index(name="old_communes")
    counts = counts.sort_values(["new_commune", "old_communes", "district"], ascending=[True, False, True])
    first = counts.drop_duplicates("new_commune")
    spread = counts.groupby("new_commune")["district"].nunique()
    return pd.DataFrame({
        "province": PROVINCE,
        "commune": first["new_commune"].to_numpy(),
        "former_district": first["district"].to_numpy(),
        "districts": spread.reindex(first["new_commune"]).to_numpy(),
    })
