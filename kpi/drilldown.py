"""The drill-down pages' data (Localities, Departments), without Streamlit: which level a view ranks, the
breadcrumb back up, the ranking, unit × month and bubble-map frames shaped from engine tables, the dossier
list's pages, and the slowest procedures against their promised time.

Every KPI number here is a `kpi.engine.kpi_table` value, numerator or denominator; this module only picks
the rows of one metric, joins labels and coordinates, and writes display text. The one query of its own,
`promised_days`, reads the engine's per-dossier states (`dossier_states_sql`: same filters, scope and
resolved rule) and binds every value.

Drill paths (DOMAIN §5):

- Localities, before 1 July 2025: province → district → commune → procedure → dossiers;
  from 1 July 2025 and for periods straddling it: province → commune → procedure → dossiers.
- Departments: agency → sector → procedure → dossiers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import duckdb
import pandas as pd

from kpi import reference, views
from kpi.dossier_lists import LIST_COLUMNS
from kpi.engine import AFTER_REFORM, BEFORE_REFORM, DIMENSION_BY_ID, Scope, dossier_states_sql, era_of, rank_groups
from kpi.fields import nfc
from kpi.formatting import NO_DATA, format_decimal, format_int, format_value
from kpi.metrics import metric
from kpi.periods import Period

DOSSIERS = "dossiers"  # the level below a procedure: the late dossiers themselves
UNIT_PATH = ("agency", "sector", "procedure")
LOCALITY_DIMENSIONS = ("province", "district", "commune")
ROOT_LABEL = ("Toàn tỉnh", "Whole province")  # the breadcrumb's first step (browser tests read it)
RANKING_LIMIT = 40  # bars drawn unless the user asks for every unit: the lowest-ranked ones
HEATMAP_MONTHS = 12
SLOWEST_TOP = 15
RECEIVED_METRIC = "online_dossier_rate"  # its denominator is the dossiers received in the period
SLOWEST_METRIC = "avg_days_to_resolve"  # what slowest_procedures reads of a table by procedure
_NAME_CHARS = 60  # a procedure's name is cut after this many characters in labels

# Plural headings of each level, for titles ("Xếp hạng quận/huyện").
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "province": ("tỉnh/thành phố", "provinces"),
    "district": ("quận/huyện", "districts"),
    "commune": ("xã/phường", "communes"),
    "agency": ("sở, ngành, đơn vị", "departments and units"),
    "sector": ("lĩnh vực", "sectors"),
    "procedure": ("thủ tục", "procedures"),
}
# Words put before a value in the breadcrumb where the value does not already say what it is.
_CRUMB_PREFIX = {"sector": ("Lĩnh vực ", "Sector "), "procedure": ("Thủ tục ", "Procedure ")}
STATUS_TEXT = {"green": ("Đạt", "On target"), "amber": ("Gần đạt", "Near target"), "red": ("Chưa đạt", "Below target")}


def _text(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# --- levels and the breadcrumb ----------------------------------------------------------------------


def with_procedure(selection: views.Selection, procedure: str | None) -> views.Selection:
    """The selection with the drilled procedure (the shared sidebar has no procedure filter)."""
    return selection.with_filter("procedure", procedure) if procedure else selection


def locality_child(selection: views.Selection, provinces: Sequence[str]) -> str:
    """The level the Localities page ranks: the locality level below the deepest chosen one (districts
    under the province before the reform, communes after it and across it), then procedures, then the
    dossiers once a procedure is chosen under a commune. A store of one province starts below it."""
    child = selection.locality_child()
    if child == "province" and len(provinces) <= 1:
        child = views.locality_levels(selection.period)[1]
    if child == "procedure" and "procedure" in selection.where:
        return DOSSIERS
    return child


def unit_child(selection: views.Selection) -> str:
    """The level the Departments page ranks: the first of agency, sector, procedure not chosen yet, then
    the dossiers."""
    return next((name for name in UNIT_PATH if name not in selection.where), DOSSIERS)


@dataclass(frozen=True)
class Crumb:
    """One breadcrumb step: its label, and the filters a click on it clears (none for the current step)."""

    label_vi: str
    label_en: str
    clears: tuple[str, ...]

    @property
    def is_current(self) -> bool:
        return not self.clears


def breadcrumb(selection: views.Selection, path: Sequence[str],
               procedure_names: Mapping[str, str] | None = None) -> list[Crumb]:
    """"Toàn tỉnh › Quận X › Phường Y › Thủ tục Z": the whole province, then each chosen filter of `path`
    in path order; a step clears the filters chosen below it."""
    where = selection.where
    chosen = [name for name in path if name in where]
    crumbs = [Crumb(*ROOT_LABEL, tuple(chosen))]
    for i, name in enumerate(chosen):
        value = str(where[name])
        if name == "procedure":
            value = procedure_label(value, procedure_names or {})
        vi, en = _CRUMB_PREFIX.get(name, ("", ""))
        crumbs.append(Crumb(vi + value, en + value, tuple(chosen[i + 1:])))
    return crumbs


ALL_LEVELS = "all"


def agency_levels(levels: Sequence[str]) -> list[str]:
    """The Departments page's level choices: every level, then the levels present (province first)."""
    order = ("province", "district", "commune")
    return [ALL_LEVELS, *sorted((v for v in levels if v in order), key=order.index)]


def with_agency_level(where: Mapping[str, object], level: str | None) -> dict[str, object]:
    """The filters with the agencies' level (Cấp tỉnh/huyện/xã) added, unless every level is chosen."""
    return {**where, "agency_level": level} if level and level != ALL_LEVELS else dict(where)


def locality_path(period: Period) -> tuple[str, ...]:
    """The Localities page's drill filters below the province for the period's hierarchy."""
    return (*[d for d in views.locality_levels(period) if d != "province"], "procedure")


def hierarchy_note(period: Period) -> tuple[str, str]:
    """Which locality hierarchy a view of this period uses, in Vietnamese and English."""
    era = era_of(period)
    if era == BEFORE_REFORM:
        return ("Hệ địa bàn trước 01/07/2025: tỉnh → quận/huyện → xã/phường → thủ tục → hồ sơ.",
                "Hierarchy before 1 July 2025: province → district → commune → procedure → dossiers.")
    if era == AFTER_REFORM:
        return ("Hệ địa bàn từ 01/07/2025 (sau sắp xếp, không còn cấp huyện): tỉnh → xã/phường → thủ tục → hồ sơ.",
                "Hierarchy from 1 July 2025 (after the reform, no districts): province → commune → procedure "
                "→ dossiers.")
    return ("Kỳ này trải qua mốc 01/07/2025 nên không dùng cấp huyện: xếp hạng theo xã/phường, gồm xã cũ (hồ sơ "
            "trước 01/07/2025) và xã mới (từ 01/07/2025).",
            "This period straddles 1 July 2025, so there is no district level: communes are ranked, old ones "
            "(dossiers before 1 July 2025) and new ones (from 1 July 2025) alike.")


def procedure_label(code: str, names: Mapping[str, str]) -> str:
    """"1.001234 · Đăng ký khai sinh" (the name cut to a readable length), or the code alone."""
    name = names.get(code)
    if not name:
        return code
    return f"{code} · {name if len(name) <= _NAME_CHARS else name[:_NAME_CHARS - 1] + '…'}"


def procedure_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The name of every procedure code in the store (the first name it has for the code)."""
    rows = con.execute(
        "SELECT procedure_code, min(procedure_name) FROM dossiers WHERE procedure_name IS NOT NULL "
        "GROUP BY procedure_code").fetchall()
    return {code: name for code, name in rows}


def clicked_value(event: Mapping | None, frame: pd.DataFrame) -> str | None:
    """The unit (`key`) of the bar a chart selection event points at (its customdata, else its y label),
    or None when nothing is selected. `frame` has columns key and group (the label drawn)."""
    try:
        points = event["selection"]["points"] if event else []
    except (KeyError, TypeError):
        return None
    for point in points or []:
        label = point.get("customdata", point.get("y"))
        if isinstance(label, list | tuple):
            label = label[0] if label else None
        found = frame.loc[frame["group"] == label, "key"]
        if not found.empty:
            return str(found.iloc[0])
    return None


# --- the ranking ------------------------------------------------------------------------------------


def ranking_frame(table: pd.DataFrame, metric_id: str, *, names: Mapping[str, str] | None = None,
                  limit: int | None = None) -> pd.DataFrame:
    """The groups of an engine table (kpi_table by one dimension) with a value of `metric_id`, ranked by
    the engine (1 = best); with `limit`, only the `limit` lowest-ranked (the units that need attention).
    `names` labels procedure codes. Columns: key (the group value), group (its label), value, target,
    status, numerator, denominator, rank, previous_value, previous_change_pp; `attrs["total"]` counts the
    ranked groups, `attrs["without_value"]` those without a value."""
    m = metric(metric_id)
    rows = table[(table["metric"] == m.id) & table["group"].notna()]
    with_value = rows[rows["value"].notna()]
    ranks = rank_groups(table, m.id).set_index("group")["rank"]
    frame = pd.DataFrame({
        "key": with_value["group"].astype(str).to_numpy(),
        "group": [procedure_label(g, names) if names is not None else g for g in with_value["group"]],
        "value": with_value["value"].to_numpy(),
        "target": with_value["target"].to_numpy(),
        "status": with_value["status"].to_numpy(),
        "numerator": with_value["numerator"].astype("int64").to_numpy(),
        "denominator": with_value["denominator"].astype("int64").to_numpy(),
        "rank": [int(ranks[g]) for g in with_value["group"]],
        "previous_value": with_value["previous_value"].to_numpy(),
        "previous_change_pp": with_value["previous_change_pp"].to_numpy(),
    })
    frame = frame.sort_values(["rank", "key"]).reset_index(drop=True)
    frame.attrs.update(total=len(frame), without_value=len(rows) - len(with_value))
    if limit is not None and len(frame) > limit:
        frame = frame.tail(limit).reset_index(drop=True)
    for column in ("value", "target", "status", "previous_value", "previous_change_pp"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


RANKING_LABELS: dict[str, tuple[str, str]] = {
    "rank": ("Hạng", "Rank"), "group": ("Đơn vị", "Unit"), "value_text": ("Giá trị", "Value"),
    "numerator": ("Tử số", "Numerator"), "denominator": ("Mẫu số", "Denominator"),
    "target_text": ("Mục tiêu", "Target"), "status_text": ("Đánh giá", "Status"),
    "change_text": ("So với kỳ trước", "Change on the previous period"),
}


def ranking_table(frame: pd.DataFrame, metric_id: str, lang: str = "vi") -> pd.DataFrame:
    """The rows of a ranking as its data tab shows them (best first), with the values written out."""
    m = metric(metric_id)
    unit_suffix = ("", "") if m.unit != "rate" else (" điểm %", " pts")
    return pd.DataFrame({
        "rank": frame["rank"].astype("int64"),
        "group": frame["group"],
        "value_text": [format_value(v, m.unit, lang) for v in frame["value"]],
        "numerator": frame["numerator"].astype("int64"),
        "denominator": frame["denominator"].astype("int64"),
        "target_text": ["" if v is None else format_value(v, m.unit, lang) for v in frame["target"]],
        "status_text": ["" if s is None else _text(STATUS_TEXT[s], lang) for s in frame["status"]],
        "change_text": ["" if c is None else _change_text(c, m.unit, lang) + _text(unit_suffix, lang)
                        for c in frame["previous_change_pp"]],
    }).reset_index(drop=True)


def _change_text(change: float, unit: str, lang: str) -> str:
    # change is in percentage points for rates, days for days (engine *_change_pp)
    text = format_decimal(change, 2 if unit == "rate" else 1)
    return ("+" + text if change > 0 else text) + ("" if unit == "rate" else (" ngày" if lang != "en" else " days"))


# --- unit × month heat map --------------------------------------------------------------------------


def heatmap_months(period: Period, level: str) -> tuple[list[Period], bool]:
    """The months a unit × month heat map shows: the 12 months ending with a one-month period, else the
    period's months (its last 12 at most). For locality levels only the months of the same hierarchy as
    the last one are kept (a name does not mean the same area across 1 July 2025). Returns the months
    and whether months were left out."""
    if period.kind() == "month":
        months = [period.shift_months(-k) for k in range(HEATMAP_MONTHS - 1, -1, -1)]
    else:
        months = period.months()
    cut = len(months) > HEATMAP_MONTHS
    months = months[-HEATMAP_MONTHS:]
    if level in LOCALITY_DIMENSIONS:
        era = era_of(months[-1])
        same = [m for m in months if era_of(m) == era]
        cut = cut or len(same) < len(months)
        months = same
    return months, cut


def unit_month_frame(tables: Sequence[pd.DataFrame], months: Sequence[Period], metric_id: str,
                     units: pd.DataFrame) -> pd.DataFrame:
    """Long frame for `charts.heatmap`: one row per (unit, month) of the engine tables (one kpi_table by
    the unit's dimension per month, in the order of `months`), for the units of `units` (a ranking frame:
    key and group label) only; a unit without dossiers in a month has value None. Columns: key, group,
    month ("YYYY-MM"), value, numerator, denominator."""
    m = metric(metric_id)
    units = dict(zip(units["key"], units["group"], strict=True))
    rows = []
    for month, table in zip(months, tables, strict=True):
        part = table[table["metric"] == m.id].set_index("group")
        label = month.start.strftime("%Y-%m")
        for key, group in units.items():
            found = part.loc[key] if key in part.index else None
            rows.append({
                "key": key, "group": group, "month": label,
                "value": None if found is None or pd.isna(found["value"]) else float(found["value"]),
                "numerator": 0 if found is None else int(found["numerator"]),
                "denominator": 0 if found is None else int(found["denominator"]),
            })
    frame = pd.DataFrame(rows, columns=["key", "group", "month", "value", "numerator", "denominator"])
    frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), None)
    return frame


def heatmap_table(frame: pd.DataFrame, metric_id: str, lang: str = "vi") -> pd.DataFrame:
    """The heat map as its data tab shows it: a row per unit (sorted as drawn), a column per month
    ("MM/YYYY") holding the value written out (numerator/denominator)."""
    m = metric(metric_id)
    cells = frame.assign(
        month_label=[f"{v[5:7]}/{v[:4]}" for v in frame["month"]],
        text=[format_value(v, m.unit, lang) + (f" ({format_int(n)}/{format_int(d)})" if d else "")
              for v, n, d in zip(frame["value"], frame["numerator"], frame["denominator"], strict=True)],
    )
    order = list(dict.fromkeys(cells["month_label"]))
    wide = cells.pivot(index="group", columns="month_label", values="text").reindex(columns=order).sort_index()
    wide = wide.reset_index().rename(columns={"group": "unit"})
    wide.columns.name = None
    return wide


# --- bubble map -------------------------------------------------------------------------------------


class BubbleData(NamedTuple):
    """The communes of a bubble map: `frame` (commune, lat, lon, received, value, numerator, denominator,
    status, value_text), how many of the data's communes were `matched` to coordinates out of `total`."""

    frame: pd.DataFrame
    matched: int
    total: int


def bubble_frame(table: pd.DataFrame, metric_id: str, period: Period, *, district: str | None = None,
                 lang: str = "vi") -> BubbleData:
    """Communes of an engine table by commune placed on the bundled Hà Nội centroids (kpi.reference):
    the list before 1 July 2025 for a period before it, the new communes otherwise. Before the reform a
    commune name is matched within `district` when one is chosen, else only when the name is unique in
    the province. Size = dossiers received in the period, colour = the KPI."""
    m = metric(metric_id)
    rows = table[table["group"].notna()]
    kpi = rows[rows["metric"] == m.id].set_index("group")
    received = rows[rows["metric"] == RECEIVED_METRIC].set_index("group")["denominator"]
    if era_of(period) == BEFORE_REFORM:
        units = reference.units_before_reform()
        if district is not None:
            units = units[units["district"].map(nfc) == nfc(district)]
        else:
            units = units[~units["commune"].duplicated(keep=False)]
    else:
        units = reference.units_after_reform()
    places = {nfc(c).strip(): (float(lat), float(lon)) for c, lat, lon in
              zip(units["commune"], units["lat"], units["lon"], strict=True)}
    out = []
    for commune, row in kpi.iterrows():
        place = places.get(nfc(str(commune)).strip())
        if place is None:
            continue
        value = None if pd.isna(row["value"]) else float(row["value"])
        out.append({"commune": commune, "lat": place[0], "lon": place[1],
                    "received": int(received.get(commune, 0)), "value": value,
                    "numerator": int(row["numerator"]), "denominator": int(row["denominator"]),
                    "status": row["status"], "value_text": format_value(value, m.unit, lang)})
    columns = ["commune", "lat", "lon", "received", "value", "numerator", "denominator", "status", "value_text"]
    frame = pd.DataFrame(out, columns=columns).sort_values("commune").reset_index(drop=True)
    frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), None)
    return BubbleData(frame, len(frame), len(kpi))


def has_coordinates(provinces: Sequence[str], selection: views.Selection) -> bool:
    """Whether the bundled coordinates (Hà Nội only) cover the view: its province is Hà Nội."""
    chosen = selection.where.get("province")
    names = [chosen] if chosen else list(provinces)
    return len(names) == 1 and nfc(str(names[0])) == nfc(reference.PROVINCE)


BUBBLE_LABELS: dict[str, tuple[str, str]] = {
    "commune": ("Xã/Phường", "Commune"), "lat": ("Vĩ độ", "Latitude"), "lon": ("Kinh độ", "Longitude"),
    "received": ("Hồ sơ tiếp nhận", "Dossiers received"), "value_text": ("Giá trị", "Value"),
    "numerator": ("Tử số", "Numerator"), "denominator": ("Mẫu số", "Denominator"),
}


def bubble_table(data: BubbleData) -> pd.DataFrame:
    """The bubble map's communes as its data tab shows them (coordinates to five decimals)."""
    frame = data.frame[["commune", "received", "value_text", "numerator", "denominator"]].copy()
    for column in ("lat", "lon"):
        frame[column] = [format_decimal(v, 5) for v in data.frame[column]]
    return frame


# --- the dossier list -------------------------------------------------------------------------------

DOSSIER_PAGE_SIZES = (50, 100, 200)
DOSSIER_LABELS: dict[str, tuple[str, str]] = {
    "dossier_code": ("Mã hồ sơ", "Dossier code"), "procedure_code": ("Mã thủ tục", "Procedure code"),
    "procedure_name": ("Tên thủ tục", "Procedure"), "sector": ("Lĩnh vực", "Sector"),
    "agency_name": ("Cơ quan", "Agency"), "district": ("Quận/Huyện", "District"),
    "commune": ("Xã/Phường", "Commune"), "received_at": ("Ngày tiếp nhận", "Received"),
    "due_at": ("Hạn xử lý", "Due"), "finished_at": ("Ngày kết thúc", "Finished"),
    "status": ("Trạng thái", "Status"), "days_late": ("Số ngày quá hạn", "Days late"),
}
DOSSIER_COLUMNS = tuple(c for c in LIST_COLUMNS if c != "kind")


def page_count(total: int, size: int) -> int:
    """How many pages of `size` rows a list of `total` rows has (at least one)."""
    return max(1, math.ceil(total / size))


def dossier_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A page of a late-dossier list as shown (the list kind is the page's heading, not a column)."""
    return frame[list(DOSSIER_COLUMNS)]


# --- slowest procedures -----------------------------------------------------------------------------


def promised_days(con: duckdb.DuckDBPyConnection, period: Period, *, where: Mapping[str, object] | None = None,
                  scope: Scope | None = None) -> pd.DataFrame:
    """Per procedure, the promised time in calendar days: the mean days from the received date to the due
    date over the dossiers resolved in the period that have a due date (the dossier record carries no
    statutory-time column; the due date is the received date plus the statutory time). Same filters,
    scope and resolved rule as the engine. Columns: procedure, promised_days, with_due_date."""
    procedure = DIMENSION_BY_ID["procedure"].sql
    states, params = dossier_states_sql({0: period}, columns=(f"{procedure} AS procedure",), period=period,
                                        where=where, scope=scope)
    sql = (f"{states}SELECT procedure, avg(date_diff('day', received_day, due_at::DATE)) AS promised_days, "
           "count(*) AS with_due_date\nFROM flags WHERE wid = 0 AND is_resolved AND due_at IS NOT NULL "
           "AND procedure IS NOT NULL\nGROUP BY procedure ORDER BY procedure")
    frame = con.cursor().execute(sql, params).df()
    frame["with_due_date"] = frame["with_due_date"].astype("int64")
    return frame


def slowest_procedures(table: pd.DataFrame, promised: pd.DataFrame, names: Mapping[str, str] | None = None,
                       *, top: int = SLOWEST_TOP) -> pd.DataFrame:
    """The `top` procedures whose average days to resolve (engine kpi_table by procedure,
    avg_days_to_resolve) most exceed their promised days (`promised_days`). Columns: key (code), group
    (label), resolved, avg_days, promised_days, over_days (average - promised), ratio (average / promised;
    None when the promise is 0 days)."""
    rows = table[(table["metric"] == SLOWEST_METRIC) & table["group"].notna() & table["value"].notna()]
    merged = rows[["group", "value", "denominator"]].merge(
        promised[["procedure", "promised_days"]], left_on="group", right_on="procedure", how="inner")
    frame = pd.DataFrame({
        "key": merged["group"].astype(str),
        "group": [procedure_label(g, names or {}) for g in merged["group"]],
        "resolved": merged["denominator"].astype("int64"),
        "avg_days": merged["value"].astype(float),
        "promised_days": merged["promised_days"].astype(float),
    })
    frame["over_days"] = frame["avg_days"] - frame["promised_days"]
    frame["ratio"] = [a / p if p > 0 else None for a, p in zip(frame["avg_days"], frame["promised_days"], strict=True)]
    frame = frame.sort_values(["over_days", "key"], ascending=[False, True]).head(top).reset_index(drop=True)
    frame["ratio"] = frame["ratio"].astype(object).where(frame["ratio"].notna(), None)
    return frame


SLOWEST_LABELS: dict[str, tuple[str, str]] = {
    "group": ("Thủ tục", "Procedure"), "resolved": ("Hồ sơ đã giải quyết", "Dossiers resolved"),
    "avg_days_text": ("Thời gian giải quyết TB", "Average days to resolve"),
    "promised_text": ("Thời hạn hẹn trả TB", "Promised time (average)"),
    "over_text": ("Chênh lệch", "Over the promised time"), "ratio_text": ("Tỷ lệ so với hạn", "Ratio to promise"),
}


def slowest_table(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """The slowest procedures as their data tab shows them."""
    days = " ngày" if lang != "en" else " days"
    return pd.DataFrame({
        "group": frame["group"],
        "resolved": frame["resolved"].astype("int64"),
        "avg_days_text": [format_value(v, "days", lang) for v in frame["avg_days"]],
        "promised_text": [format_value(v, "days", lang) for v in frame["promised_days"]],
        "over_text": [("+" if v > 0 else "") + format_decimal(v, 1) + days for v in frame["over_days"]],
        "ratio_text": [NO_DATA.get(lang, NO_DATA["vi"]) if r is None else format_decimal(r, 2) + "×"
                       for r in frame["ratio"]],
    })


__all__ = [
    "agency_levels", "ALL_LEVELS", "breadcrumb", "bubble_frame", "bubble_table", "BubbleData", "clicked_value",
    "Crumb", "dossier_table", "DOSSIERS", "has_coordinates", "heatmap_months", "heatmap_table", "hierarchy_note",
    "locality_child", "locality_path", "page_count", "procedure_label", "procedure_names", "promised_days",
    "ranking_frame", "ranking_table", "slowest_procedures", "slowest_table", "unit_child", "unit_month_frame",
    "with_agency_level", "with_procedure"
]
