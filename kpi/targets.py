"""KPI targets set in the dashboard, without Streamlit: an administrator's target for a KPI, for every unit or for
one unit, stored in the store's `kpi_targets` table (kpi/schema.sql) over the registry's default.

The engine reads them (`kpi.engine.Targets.from_store`) whenever a caller passes no targets of its own, so every
page, the meeting pack and the CLI apply them (Biểu 06 counts dossiers, with no target); the CLI's --targets file
still replaces them for its run. Only this module writes the table; imports never touch it. A row per (KPI, unit):
unit '' is every unit, any other a group value as the engine groups by (an agency, a district, a commune); a NULL
target means "no target" (no status colour), and no row means the registry default. Rates are stored as 0-1
ratios, days as days. Who changed what, from which value to which, goes to the audit log (kpi.ui.write_target).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from kpi.engine import Targets, _target_value, has_targets_table
from kpi.fields import nfc
from kpi.formatting import BilingualError, format_datetime, format_value
from kpi.metrics import METRIC_BY_ID, METRICS, Metric

MAX_UNIT_CHARS = 200  # a unit's name as the data write it ("Ủy ban nhân dân xã ..."), never a free text
EVERY_UNIT = ("Toàn tỉnh", "Every unit")  # the label of unit ''
COLUMNS = ("metric", "unit", "target", "default", "updated_at", "updated_by")


class TargetError(BilingualError):
    """A target that cannot be set, with the reason in Vietnamese and in English."""


@dataclass(frozen=True)
class TargetChange:
    """What a write did: the KPI's target for the unit ('' = every unit) as the engine applies it, before and
    after (None: no target). The audit log records it."""

    metric_id: str
    unit: str
    old: float | None
    new: float | None

    @property
    def label(self) -> str:
        """"on_time_rate" or "on_time_rate · Sở Xây dựng": what the audit log names as changed."""
        return f"{self.metric_id} · {self.unit}" if self.unit else self.metric_id


# --- writing ----------------------------------------------------------------------------------------


def set_target(con: duckdb.DuckDBPyConnection, metric_id: str, target: object, *, unit: str = "", by: str,
               now: datetime | None = None) -> TargetChange:
    """Set a KPI's target for every unit (unit '') or for one unit: a rate as a 0-1 ratio or a percent text
    ("98%", "98,5%"), days as a number above 0; None (or "none", "") stores "no target" for that KPI and unit.
    Raises TargetError for an unknown KPI, a rate outside 0-100%, days not above 0, a unit name too long, or
    no administrator named in `by`."""
    m = _metric(metric_id)
    unit, by = _unit(unit), _by(by)
    value = _checked_value(m, target)
    old = _effective(con, m.id, unit)
    con.execute(
        "INSERT INTO kpi_targets (metric_id, unit, target, updated_at, updated_by) "
        "VALUES ($metric_id, $unit, $target, $at, $by) ON CONFLICT DO UPDATE SET target = excluded.target, "
        "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        {"metric_id": m.id, "unit": unit, "target": value, "at": now or datetime.now(), "by": by})
    return TargetChange(m.id, unit, old, _effective(con, m.id, unit))


def reset_target(con: duckdb.DuckDBPyConnection, metric_id: str, *, unit: str = "", by: str) -> TargetChange:
    """Return a KPI's target for the unit ('' = every unit) to what it would be without it: the registry default
    (for a unit, the KPI's target for every unit). `by` names the administrator (the audit log keeps it: the
    row, and its author, are gone)."""
    m = _metric(metric_id)
    unit = _unit(unit)
    _by(by)
    old = _effective(con, m.id, unit)
    con.execute("DELETE FROM kpi_targets WHERE metric_id = $metric_id AND unit = $unit",
                {"metric_id": m.id, "unit": unit})
    return TargetChange(m.id, unit, old, _effective(con, m.id, unit))


def _metric(metric_id: str) -> Metric:
    if metric_id not in METRIC_BY_ID:
        raise TargetError(f"Không có chỉ số {metric_id!r} trong danh mục.", f"No KPI {metric_id!r} in the registry.")
    return METRIC_BY_ID[metric_id]


def _unit(unit: str | None) -> str:
    text = nfc(unit or "").strip()
    if len(text) > MAX_UNIT_CHARS:
        raise TargetError(f"Tên đơn vị dài quá {MAX_UNIT_CHARS} ký tự.",
                          f"The unit's name is longer than {MAX_UNIT_CHARS} characters.")
    if any(not c.isprintable() for c in text):
        raise TargetError("Tên đơn vị có ký tự điều khiển.", "The unit's name holds control characters.")
    return text


def _by(by: str) -> str:
    text = (by or "").strip()
    if not text:
        raise TargetError("Chưa rõ người thay đổi chỉ tiêu.", "Nobody is named as changing the target.")
    return text


def _checked_value(m: Metric, target: object) -> float | None:
    """The target as stored (a 0-1 ratio or days), read as `Targets.from_file` reads a file's values."""
    label = f"{m.label_vi} ({m.id})"
    try:
        value = _target_value(m.id, target)
    except (TypeError, ValueError):
        value = math.nan
    if value is None:
        return None
    if m.unit == "rate" and not (math.isfinite(value) and 0 <= value <= 1):
        raise TargetError(f"{label}: chỉ tiêu là tỷ lệ từ 0% đến 100% (VD: 98% hoặc 0,98), không phải {target!r}.",
                          f"{m.label_en}: the target is a rate from 0% to 100% (e.g. 98% or 0.98), not {target!r}.")
    if m.unit == "days" and not (math.isfinite(value) and value > 0):
        raise TargetError(f"{label}: chỉ tiêu là số ngày lớn hơn 0, không phải {target!r}.",
                          f"{m.label_en}: the target is a number of days above 0, not {target!r}.")
    return value


def _effective(con: duckdb.DuckDBPyConnection, metric_id: str, unit: str) -> float | None:
    return Targets.from_store(con).target_for(metric_id, unit or None)


# --- the form's units -------------------------------------------------------------------------------


def entered(metric_id: str, shown: float) -> float:
    """A target as the form takes it (percent for rates, days for days) as stored (a 0-1 ratio, days)."""
    return round(shown / 100, 10) if _metric(metric_id).unit == "rate" else float(shown)


def shown(metric_id: str, target: float | None) -> float | None:
    """A stored target as the form shows it (percent for rates, days for days); None stays None."""
    if target is None:
        return None
    return round(target * 100, 8) if _metric(metric_id).unit == "rate" else float(target)


def applied(frame: pd.DataFrame, metric_id: str, unit: str = "") -> tuple[float | None, bool]:
    """From a targets_table frame: the target the engine applies to the KPI for the unit ('' = every unit), and
    whether it is set for exactly that unit (what a reset would remove)."""
    rows = {r.unit: r for r in frame.itertuples(index=False) if r.metric == metric_id}
    unit = _unit(unit)
    if unit in rows:
        return rows[unit].target, rows[unit].updated_at is not None
    every = rows.get("")
    return (every.target if every is not None else _metric(metric_id).default_target), False


def form_value(metric_id: str, target: float | None) -> float:
    """The number the form starts from: the target (in the form's unit), else the registry default, else 0."""
    for value in (target, _metric(metric_id).default_target):
        if value is not None:
            return shown(metric_id, value)
    return 0.0


# --- reading ----------------------------------------------------------------------------------------


def stored_targets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The targets set in the dashboard, in the registry's order then by unit ('' first): metric, unit ('' =
    every unit), target (None = no target), default (the registry's), updated_at, updated_by. Empty when none
    are set or the store has no table for them."""
    if not has_targets_table(con):
        return pd.DataFrame(columns=list(COLUMNS))
    rows = con.execute("SELECT metric_id, unit, target, updated_at, updated_by FROM kpi_targets").fetchall()
    order = {m.id: i for i, m in enumerate(METRICS)}
    rows = sorted((r for r in rows if r[0] in METRIC_BY_ID), key=lambda r: (order[r[0]], r[1]))
    return _frame([{"metric": r[0], "unit": r[1], "target": r[2], "default": METRIC_BY_ID[r[0]].default_target,
                    "updated_at": r[3], "updated_by": r[4]} for r in rows])


def targets_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every KPI's target for every unit (the stored one, else the registry default with no updated_at), each
    followed by its units' own targets: the columns of `stored_targets`."""
    stored = stored_targets(con)
    by_key = {(r["metric"], r["unit"]): r for r in stored.to_dict("records")}
    rows = []
    for m in METRICS:
        rows.append(by_key.get((m.id, ""), {"metric": m.id, "unit": "", "target": m.default_target,
                                             "default": m.default_target, "updated_at": None, "updated_by": None}))
        rows.extend(r for (metric_id, unit), r in by_key.items() if metric_id == m.id and unit)
    return _frame(rows)


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("target", "default", "updated_at", "updated_by"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def revision(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Changes with every write to the targets (count, and the latest update time in microseconds; a reset
    deletes a row, a set writes a later time): the dashboard's cache key. (0, 0) without the table."""
    if not has_targets_table(con):
        return 0, 0
    count, latest = con.execute("SELECT count(*), coalesce(max(epoch_us(updated_at)), 0) FROM kpi_targets").fetchone()
    return int(count), int(latest)


# --- display ----------------------------------------------------------------------------------------

LABELS: dict[str, tuple[str, str]] = {
    "metric": ("Chỉ số", "KPI"), "unit": ("Áp dụng cho", "Applies to"), "target": ("Chỉ tiêu", "Target"),
    "default": ("Mặc định", "Default"), "updated_at": ("Thay đổi lúc", "Changed at"),
    "updated_by": ("Người thay đổi", "Changed by"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def metric_label(metric_id: str, lang: str = "vi") -> str:
    """A KPI's label in the chosen language, with its unit: "Tỷ lệ ... (%)", "Số ngày ... (ngày)"."""
    m = _metric(metric_id)
    unit = "%" if m.unit == "rate" else _pick(("ngày", "days"), lang)
    return f"{_pick((m.label_vi, m.label_en), lang)} ({unit})"


def unit_label(unit: str, lang: str = "vi") -> str:
    """A unit as the table names it: '' is the whole province."""
    return unit or _pick(EVERY_UNIT, lang)


def target_text(metric_id: str, target: float | None, lang: str = "vi") -> str:
    """"≥ 98,00%", "≤ 5,0 ngày", or "Không có chỉ tiêu"."""
    m = _metric(metric_id)
    if target is None:
        return _pick(("Không có chỉ tiêu", "No target"), lang)
    return ("≥ " if m.higher_is_better else "≤ ") + format_value(target, m.unit, lang)


def display(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """A stored_targets/targets_table frame as the text the table shows: KPI labels, the unit or the whole
    province, targets with their direction in Vietnamese formats, the time and author of the change (blank: the
    registry default)."""
    rows = [{
        "metric": metric_label(r.metric, lang), "unit": unit_label(r.unit, lang),
        "target": target_text(r.metric, r.target, lang), "default": target_text(r.metric, r.default, lang),
        "updated_at": format_datetime(r.updated_at) if r.updated_at is not None else "",
        "updated_by": r.updated_by or "",
    } for r in frame.itertuples(index=False)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def input_text(metric_id: str, lang: str = "vi") -> str:
    """The form's label for the target's number: "Chỉ tiêu (%)" or "Chỉ tiêu (ngày)"."""
    unit = "%" if _metric(metric_id).unit == "rate" else _pick(("ngày", "days"), lang)
    return _pick(("Chỉ tiêu", "Target"), lang) + f" ({unit})"


def change_text(change: TargetChange, lang: str = "vi") -> str:
    """"Tỷ lệ ... · Sở Xây dựng: ≥ 98,00% → ≥ 95,00%": what a write did, for the page's confirmation."""
    return (f"{metric_label(change.metric_id, lang)} · {unit_label(change.unit, lang)}: "
            f"{target_text(change.metric_id, change.old, lang)} → {target_text(change.metric_id, change.new, lang)}")


__all__ = ["COLUMNS", "EVERY_UNIT", "LABELS", "MAX_UNIT_CHARS", "TargetChange", "TargetError", "applied", "change_text",
           "display", "entered", "form_value", "input_text", "metric_label", "reset_target", "revision",
           "set_target", "shown", "stored_targets", "target_text", "targets_table", "unit_label"]
