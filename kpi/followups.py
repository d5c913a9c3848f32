"""Follow-ups (việc giao), without Streamlit: the tasks the steering committee assigns at a meeting to a unit
on one KPI ("Sở Xây dựng: giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng, hạn 30/11"), with owner, due date
and note, and the KPI's movement since the meeting.

The follow-ups live in the store's `followups` table (kpi/schema.sql). Only this module writes it; imports,
re-imports and aggregate rebuilds never touch it, and opening a store from before it adds it (kpi.db.connect
applies the schema). A follow-up records the period the meeting reviewed (`period_start`, `period_end`), the
unit as an engine dimension and the value the filters use (`unit_dimension`, `unit`), and a registry KPI.

Movement: the KPI for that unit (`where={unit_dimension: unit}`) in the meeting's period ("value_then") and in a
later period ("value_now"), both from the KPI engine (`kpi_tables`), the change in percentage points (rates) or
days, the status of the value now against its target, and whether the task is open past its due date.

Scope (which follow-ups a view shows, `where` as `views.Selection.where`): the follow-ups of the units the
filters name (district, commune, agency, sector, procedure: any of them); with none of those, a province filter
shows the province's own follow-ups and those of every unit with dossiers in that province; no filter at all
shows every follow-up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from kpi.aggregates import ensure_aggregates
from kpi.engine import DIMENSION_BY_ID, Targets, change, current_scope, hierarchy_for, kpi_tables
from kpi.fields import nfc
from kpi.formatting import BilingualError, format_date, format_decimal, format_value
from kpi.metrics import METRIC_BY_ID, metric
from kpi.periods import Period

# The engine dimensions a follow-up can be assigned to (a unit of the filters and drill-downs).
UNIT_DIMENSIONS = ("province", "district", "commune", "agency", "sector", "procedure")
STATUSES = ("open", "done")
MAX_TASK_CHARS, MAX_OWNER_CHARS, MAX_NOTE_CHARS = 500, 200, 2000
TABLE_COLUMNS = ("id", "period_start", "period_end", "unit_dimension", "unit", "metric_id", "task", "owner",
                 "due_date", "note", "status", "created_at", "done_at", "updated_at")
# What for_report and movement return: the pack's columns first (in this order), then the details.
REPORT_COLUMNS = ("id", "unit_dimension", "unit", "metric", "task", "owner", "due_date", "status", "note",
                  "value_then", "value_now", "change", "overdue",
                  "period_start", "period_end", "kpi_unit", "target", "kpi_status", "numerator_then",
                  "denominator_then", "numerator_now", "denominator_now", "created_at", "done_at")

# Personal data must not enter the store (DOMAIN §3): a phone number (0 or +84 and 9-10 more digits, spaces or
# dots allowed) or a 9- or 12-digit identity number in a free-text field is refused.
_PERSONAL_NUMBER = re.compile(r"(?<![\d.])(?:\+84|0)(?:[ .]?\d){8,10}(?![\d])|(?<!\d)(?:\d{12}|\d{9})(?!\d)")


class FollowupError(BilingualError):
    """A follow-up that cannot be recorded, with the reason in Vietnamese and in English."""


# --- writing ----------------------------------------------------------------------------------------


def add_followup(con: duckdb.DuckDBPyConnection, *, period: Period, unit_dimension: str, unit: str, metric_id: str,
                 task: str, owner: str, due_date: date, note: str = "", now: datetime | None = None) -> int:
    """Record a follow-up assigned at the meeting that reviewed `period`; returns its id. Raises FollowupError
    (a ValueError) when the unit's dimension or the KPI is unknown, a text is empty, too long or holds a phone
    or ID number, the due date is missing or before the period, or a district is given for a period from 1 July
    2025 (districts were abolished)."""
    values = _checked(period=period, unit_dimension=unit_dimension, unit=unit, metric_id=metric_id, task=task,
                      owner=owner, due_date=due_date, note=note)
    at = now or datetime.now()
    return con.execute(
        "INSERT INTO followups (period_start, period_end, unit_dimension, unit, metric_id, task, owner, due_date, "
        "note, status, created_at, updated_at) VALUES ($period_start, $period_end, $unit_dimension, $unit, "
        "$metric_id, $task, $owner, $due_date, $note, 'open', $at, $at) RETURNING id",
        {**values, "at": at}).fetchone()[0]


def update_followup(con: duckdb.DuckDBPyConnection, followup_id: int, *, period: Period | None = None,
                    unit_dimension: str | None = None, unit: str | None = None, metric_id: str | None = None,
                    task: str | None = None, owner: str | None = None, due_date: date | None = None,
                    note: str | None = None, now: datetime | None = None) -> None:
    """Change the given fields of a follow-up (None keeps a field), with add_followup's checks on the result."""
    current = _stored(con, followup_id)
    merged = {
        "period": period or Period(current["period_start"], current["period_end"]),
        "unit_dimension": current["unit_dimension"] if unit_dimension is None else unit_dimension,
        "unit": current["unit"] if unit is None else unit,
        "metric_id": current["metric_id"] if metric_id is None else metric_id,
        "task": current["task"] if task is None else task,
        "owner": current["owner"] if owner is None else owner,
        "due_date": current["due_date"] if due_date is None else due_date,
        "note": current["note"] if note is None else note,
    }
    values = _checked(**merged)
    con.execute(
        "UPDATE followups SET period_start = $period_start, period_end = $period_end, unit_dimension = "
        "$unit_dimension, unit = $unit, metric_id = $metric_id, task = $task, owner = $owner, due_date = $due_date, "
        "note = $note, updated_at = $at WHERE id = $id",
        {**values, "at": now or datetime.now(), "id": followup_id})


def mark_done(con: duckdb.DuckDBPyConnection, followup_id: int, done: bool = True, note: str | None = None,
              now: datetime | None = None) -> None:
    """Mark a follow-up done (done_at set to now, kept when it was already done) or reopen it (done=False:
    done_at cleared); `note`, when given, replaces the note in the same write."""
    current = _stored(con, followup_id)
    text = current["note"] if note is None else _text(note, "note", MAX_NOTE_CHARS, required=False)
    at = now or datetime.now()
    done_at = (current["done_at"] or at) if done else None
    con.execute("UPDATE followups SET status = $status, done_at = $done_at, note = $note, updated_at = $at "
                "WHERE id = $id", {"status": "done" if done else "open", "done_at": done_at, "note": text,
                                   "at": at, "id": followup_id})


def _stored(con: duckdb.DuckDBPyConnection, followup_id: int) -> dict[str, object]:
    cur = con.execute(f"SELECT {', '.join(TABLE_COLUMNS)} FROM followups WHERE id = $id", {"id": int(followup_id)})
    row = cur.fetchone()
    if row is None:
        raise FollowupError(f"Không có việc giao số {followup_id}.", f"There is no follow-up number {followup_id}.")
    return dict(zip(TABLE_COLUMNS, row, strict=True))


def _checked(*, period: Period, unit_dimension: str, unit: str, metric_id: str, task: str, owner: str,
             due_date: date | None, note: str) -> dict[str, object]:
    """The values to store, validated and NFC-normalised."""
    if not isinstance(period, Period):
        raise FollowupError("Thiếu kỳ của cuộc họp.", "The meeting's period is missing.")
    if unit_dimension not in UNIT_DIMENSIONS:
        known = ", ".join(UNIT_DIMENSIONS)
        raise FollowupError(f"Loại đơn vị không hợp lệ: {unit_dimension!r} (chọn một trong: {known}).",
                            f"Unknown unit dimension {unit_dimension!r} (one of: {known}).")
    if unit_dimension not in hierarchy_for(period).dimensions:
        raise FollowupError(
            f"Không giao việc cho quận/huyện ở kỳ {period.label('vi')}: cấp huyện đã bỏ từ 01/07/2025, hãy giao "
            "cho xã/phường hoặc cơ quan.",
            f"Cannot assign a district for {period.label('en')}: districts were abolished on 1 July 2025; assign "
            "a commune or an agency.")
    if metric_id not in METRIC_BY_ID:
        raise FollowupError(f"Chỉ số không có trong danh mục: {metric_id!r}.",
                            f"Unknown KPI {metric_id!r}: not in the registry.")
    if due_date is None or not isinstance(due_date, date):
        raise FollowupError("Thiếu hạn hoàn thành.", "The due date is missing.")
    due = due_date.date() if isinstance(due_date, datetime) else due_date
    if due < period.start:
        raise FollowupError(f"Hạn hoàn thành {format_date(due)} trước kỳ của cuộc họp ({period.label('vi')}).",
                            f"The due date {format_date(due)} is before the meeting's period ({period.label('en')}).")
    return {"period_start": period.start, "period_end": period.end, "unit_dimension": unit_dimension,
            "unit": _text(unit, "unit", MAX_OWNER_CHARS), "metric_id": metric_id,
            "task": _text(task, "task", MAX_TASK_CHARS), "owner": _text(owner, "owner", MAX_OWNER_CHARS),
            "due_date": due, "note": _text(note, "note", MAX_NOTE_CHARS, required=False)}


_FIELD_NAMES = {"unit": ("Đơn vị", "The unit"), "task": ("Nội dung việc giao", "The task"),
                "owner": ("Đơn vị/người chịu trách nhiệm", "The owner"), "note": ("Ghi chú", "The note")}


def _text(value: object, field: str, limit: int, *, required: bool = True) -> str:
    vi, en = _FIELD_NAMES[field]
    text = nfc(str(value or "")).strip()
    if required and not text:
        raise FollowupError(f"{vi} không được để trống.", f"{en} must not be empty.")
    if len(text) > limit:
        raise FollowupError(f"{vi} dài quá {limit} ký tự.", f"{en} is longer than {limit} characters.")
    if _PERSONAL_NUMBER.search(text):
        raise FollowupError(f"{vi} có số điện thoại hoặc số giấy tờ tùy thân: không lưu dữ liệu cá nhân.",
                            f"{en} holds a phone or ID number: personal data is not stored.")
    return text


# --- reading ----------------------------------------------------------------------------------------


def has_table(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has the follow-ups table (a store from before it, opened read-only, has not)."""
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = "
                       "'followups'").fetchone()[0] > 0


def revision(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Changes with every write to the follow-ups (count, and the sum of their update times in microseconds):
    the dashboard's cache key for follow-up reads."""
    if not has_table(con):
        return 0, 0
    count, stamp = con.execute("SELECT count(*), coalesce(sum(epoch_us(updated_at)), 0) FROM followups").fetchone()
    return int(count), int(stamp)


def list_followups(con: duckdb.DuckDBPyConnection, *, where: Mapping[str, object] | None = None,
                   status: str | None = None) -> pd.DataFrame:
    """The follow-ups in the scope of `where` (module docstring), of one status ("open", "done"; None: both),
    open ones first, then by due date and id. Columns: TABLE_COLUMNS."""
    if status is not None and status not in STATUSES:
        raise FollowupError(f"Trạng thái không hợp lệ: {status!r}.", f"Unknown status {status!r}.")
    if not has_table(con):
        return _empty(TABLE_COLUMNS)
    scope_sql, params = _scope_sql(con, where or {})
    caller_sql, caller_params = _caller_sql()
    frame = con.execute(
        f"SELECT {', '.join(TABLE_COLUMNS)} FROM followups WHERE ($status IS NULL OR status = $status) AND {scope_sql} "
        f"AND {caller_sql} ORDER BY status = 'done', due_date, id", {**params, **caller_params, "status": status}).df()
    for column in ("period_start", "period_end", "due_date"):
        frame[column] = [_as_date(v) for v in frame[column]]
    return frame


def _caller_sql() -> tuple[str, dict[str, object]]:
    """The follow-ups a scoped caller (kpi.access: a unit account) may see: those of its districts, communes and
    agencies; everything for a caller who sees all."""
    scope = current_scope()
    if scope is None:
        return "true", {}
    return ("((unit_dimension = 'district' AND list_contains($caller_districts::VARCHAR[], unit)) "
            "OR (unit_dimension = 'commune' AND list_contains($caller_communes::VARCHAR[], unit)) "
            "OR (unit_dimension = 'agency' AND list_contains($caller_agencies::VARCHAR[], unit)))",
            {"caller_districts": sorted(scope.districts), "caller_communes": sorted(scope.communes),
             "caller_agencies": sorted(scope.agencies)})


def _scope_sql(con: duckdb.DuckDBPyConnection, where: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    """The condition over `followups` for a selection's filters, and its parameters."""
    named = {d: _values(v) for d, v in where.items() if d in UNIT_DIMENSIONS and d != "province"}
    if named:
        clauses, params = [], {}
        for i, (dim, values) in enumerate(named.items()):
            clauses.append(f"(unit_dimension = $dim_{i} AND list_contains($units_{i}::VARCHAR[], unit))")
            params.update({f"dim_{i}": dim, f"units_{i}": values})
        return "(" + " OR ".join(clauses) + ")", params
    if "province" in where:
        # a unit is in the province when it has dossiers there (the engine's dimension SQL, over the monthly KPI
        # aggregate when it matches the dossiers: the same units, far fewer rows)
        source = "kpi_monthly" if ensure_aggregates(con) is not None else "dossiers"
        others = [d for d in UNIT_DIMENSIONS if d != "province"]
        inside = " OR ".join(
            f"(unit_dimension = $dim_{i} AND unit IN (SELECT {DIMENSION_BY_ID[dim].sql} FROM {source} "
            "WHERE list_contains($provinces::VARCHAR[], province)))" for i, dim in enumerate(others))
        return (f"((unit_dimension = 'province' AND list_contains($provinces::VARCHAR[], unit)) OR {inside})",
                {"provinces": _values(where["province"]), **{f"dim_{i}": d for i, d in enumerate(others)}})
    return "true", {}


def _values(raw: object) -> list[str]:
    values = raw if isinstance(raw, list | tuple | set | frozenset) else [raw]
    return sorted(nfc(str(v)).strip() for v in values if v is not None)


def _as_date(value: object) -> date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    return value


def _empty(columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


# --- movement ---------------------------------------------------------------------------------------


def movement(con: duckdb.DuckDBPyConnection, followups: pd.DataFrame, period: Period, *,
             targets: Targets | None = None, today: date | None = None) -> pd.DataFrame:
    """The follow-ups (list_followups rows) with the KPI's movement since their meeting: value_then (the
    unit's KPI in the meeting's period), value_now (in `period`), their numerators and denominators, change
    (percentage points for rates, days for days; None without both values), target and kpi_status (the value
    now against the target: green/amber/red), and overdue (open and due before `today`). Every value is the
    engine's: one `kpi_tables` query per dimension over the distinct periods, by that dimension and filtered
    to the units. A district has no value in a period reaching past 30 June 2025 (districts abolished).
    Columns: REPORT_COLUMNS, in the order given."""
    today = today or date.today()
    if followups.empty:
        return _empty(REPORT_COLUMNS)
    targets = targets if targets is not None else Targets.from_store(con)
    wanted: dict[str, dict[str, set]] = {}  # dimension -> periods, units, metrics
    for row in followups.itertuples(index=False):
        want = wanted.setdefault(row.unit_dimension, {"periods": set(), "units": set(), "metrics": set()})
        want["periods"].update({Period(row.period_start, row.period_end), period})
        want["units"].add(row.unit)
        want["metrics"].add(row.metric_id)
    found: dict[tuple[Period, str, str, str], dict[str, object]] = {}
    for dim, want in wanted.items():
        usable = sorted(p for p in want["periods"] if dim in hierarchy_for(p).dimensions)
        if not usable:
            continue
        tables = kpi_tables(con, usable, by=dim, where={dim: sorted(want["units"])}, metrics=sorted(want["metrics"]),
                            targets=targets, comparisons=False)
        for p, table in zip(usable, tables, strict=True):
            for r in table.itertuples(index=False):
                found[(p, dim, r.group, r.metric)] = {"numerator": int(r.numerator), "denominator": int(r.denominator),
                                                      "value": r.value, "target": r.target, "status": r.status}
    rows = []
    for row in followups.itertuples(index=False):
        m = metric(row.metric_id)
        then = _kpi(found, Period(row.period_start, row.period_end), row.unit_dimension, row.unit, row.metric_id)
        now = _kpi(found, period, row.unit_dimension, row.unit, row.metric_id)
        target = now["target"] if now["target"] is not None else targets.target_for(m.id, row.unit)
        rows.append({
            "id": int(row.id), "unit_dimension": row.unit_dimension, "unit": row.unit, "metric": row.metric_id,
            "task": row.task, "owner": row.owner, "due_date": row.due_date, "status": row.status, "note": row.note,
            "value_then": then["value"], "value_now": now["value"], "change": change(m, now["value"], then["value"]),
            "overdue": row.status == "open" and row.due_date < today,
            "period_start": row.period_start, "period_end": row.period_end, "kpi_unit": m.unit, "target": target,
            "kpi_status": now["status"], "numerator_then": then["numerator"], "denominator_then": then["denominator"],
            "numerator_now": now["numerator"], "denominator_now": now["denominator"],
            "created_at": _timestamp(row.created_at), "done_at": _timestamp(row.done_at),
        })
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    for column in ("value_then", "value_now", "change", "target", "kpi_status", "done_at"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    for column in ("numerator_then", "denominator_then", "numerator_now", "denominator_now"):
        frame[column] = frame[column].astype("Int64")
    frame["overdue"] = frame["overdue"].astype(bool)
    return frame


def _kpi(found: Mapping, period: Period, dim: str, unit: str, metric_id: str) -> dict[str, object]:
    """The engine's row for a unit, KPI and period; a unit with no dossier counted there has 0/0 and no value;
    a district in a period past the reform has no numbers at all."""
    if (period, dim, unit, metric_id) in found:
        return found[(period, dim, unit, metric_id)]
    if dim not in hierarchy_for(period).dimensions:
        return {"numerator": None, "denominator": None, "value": None, "target": None, "status": None}
    return {"numerator": 0, "denominator": 0, "value": None, "target": None, "status": None}


def _timestamp(value: object) -> datetime | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def movement_table(con: duckdb.DuckDBPyConnection, period: Period, *, where: Mapping[str, object] | None = None,
                   status: str | None = None, earlier_only: bool = False, targets: Targets | None = None,
                   today: date | None = None) -> pd.DataFrame:
    """list_followups in the scope and status, with their movement to `period` (movement's columns). With
    `earlier_only`, only those assigned at meetings on periods that ended before `period` ends: the follow-ups
    a meeting on `period` takes up from earlier ones (a meeting on October takes up September's, not its own)."""
    frame = list_followups(con, where=where, status=status)
    if earlier_only:
        frame = frame.loc[[end < period.end for end in frame["period_end"]]]
    return movement(con, frame.reset_index(drop=True), period, targets=targets, today=today)


def for_report(con: duckdb.DuckDBPyConnection, period: Period, where: Mapping[str, object] | None = None, *,
               targets: Targets | None = None, today: date | None = None) -> pd.DataFrame:
    """The meeting pack's follow-ups: every follow-up assigned at a meeting on a period that ended before
    `period` ends, in the scope of `where`, open or done, with its state and the KPI's movement from its
    meeting's period to `period`. Open ones first, then by due date. Columns: REPORT_COLUMNS (the first
    thirteen: id, unit_dimension, unit, metric, task, owner, due_date, status, note, value_then, value_now,
    change, overdue); an empty frame with them when there are none (or the store has no follow-ups table)."""
    return movement_table(con, period, where=where, earlier_only=True, targets=targets, today=today)


# --- display ----------------------------------------------------------------------------------------

STATUS_LABELS = {"open": ("Đang thực hiện", "Open"), "done": ("Đã xong", "Done")}
OVERDUE_LABEL = ("Quá hạn", "Overdue")
KPI_STATUS_MARKS = {"green": "🟢", "amber": "🟠", "red": "🔴"}
# The columns the follow-up tables show, in order, and their headers (downloads keep the raw frame).
LABELS: dict[str, tuple[str, str]] = {
    "id": ("Số", "No."), "meeting": ("Kỳ họp", "Meeting period"), "unit_dimension": ("Loại đơn vị", "Unit type"),
    "unit": ("Đơn vị", "Unit"), "metric": ("Chỉ số", "KPI"), "task": ("Nội dung", "Task"),
    "owner": ("Chịu trách nhiệm", "Owner"), "due_date": ("Hạn", "Due"), "status": ("Trạng thái", "Status"),
    "value_then": ("Giá trị kỳ họp", "Value at the meeting"), "value_now": ("Giá trị kỳ này", "Value now"),
    "change": ("Thay đổi", "Change"), "note": ("Ghi chú", "Note"),
    "period_start": ("Kỳ họp từ ngày", "Meeting period from"), "period_end": ("Kỳ họp đến ngày", "Meeting period to"),
    "overdue": ("Quá hạn", "Overdue"), "kpi_unit": ("Đơn vị đo", "KPI unit"), "target": ("Mục tiêu", "Target"),
    "kpi_status": ("Đánh giá chỉ số", "KPI status"), "numerator_then": ("Tử số kỳ họp", "Numerator at the meeting"),
    "denominator_then": ("Mẫu số kỳ họp", "Denominator at the meeting"),
    "numerator_now": ("Tử số kỳ này", "Numerator now"), "denominator_now": ("Mẫu số kỳ này", "Denominator now"),
    "created_at": ("Ghi lúc", "Recorded at"), "done_at": ("Hoàn thành lúc", "Done at"),
}
SHOWN_COLUMNS = ("id", "meeting", "unit", "metric", "task", "owner", "due_date", "status", "value_then", "value_now",
                 "change", "note")


# The list's status filter: its choices and their labels ("all" is no filter).
LIST_FILTERS: dict[str, tuple[str, str]] = {"open": STATUS_LABELS["open"], "done": STATUS_LABELS["done"],
                                            "all": ("Tất cả", "All")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def label(pair: tuple[str, str], lang: str = "vi") -> str:
    """The Vietnamese or English text of a (vi, en) label pair (widget choices: the language is fixed when the
    widget is drawn, not when its labels are read)."""
    return _pick(pair, lang)


def metric_label(metric_id: str, lang: str = "vi") -> str:
    """A KPI's label in the chosen language."""
    m = metric(metric_id)
    return m.label_en if lang == "en" else m.label_vi


def list_status(choice: str) -> str | None:
    """The status a list filter choice keeps: None for "all"."""
    return None if choice == "all" else choice


def dimension_label(dimension_id: str, lang: str = "vi") -> str:
    """"Cơ quan, đơn vị" / "Agency": the engine's label of a unit dimension."""
    dim = DIMENSION_BY_ID[dimension_id]
    return dim.label_en if lang == "en" else dim.label_vi


def dimension_choices(period: Period) -> list[str]:
    """The unit dimensions a follow-up on `period` can name: no district from 1 July 2025."""
    return [d for d in UNIT_DIMENSIONS if d in hierarchy_for(period).dimensions]


def default_due_date(period: Period) -> date:
    """The end of the month after the meeting's period: the next monthly meeting checks it (October -> 30/11)."""
    first_after = period.end + timedelta(days=1)
    return (first_after.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def unit_text(unit_dimension: str, unit: str, lang: str = "vi") -> str:
    """A unit as the tables write it: the value itself for localities and agencies (their names say what
    they are), "Lĩnh vực Xây dựng" for a sector, "Thủ tục 1.000004" for a procedure."""
    if unit_dimension in ("sector", "procedure"):
        return f"{dimension_label(unit_dimension, lang)} {unit}"
    return unit


def status_text(status: str, overdue: bool, lang: str = "vi") -> str:
    """"Đang thực hiện", "⚠️ Quá hạn" (open past its due date), "✅ Đã xong"."""
    if status == "done":
        return "✅ " + _pick(STATUS_LABELS["done"], lang)
    if overdue:
        return "⚠️ " + _pick(OVERDUE_LABEL, lang)
    return _pick(STATUS_LABELS["open"], lang)


def change_text(value: float | None, unit: str, higher_is_better: bool, lang: str = "vi") -> str:
    """"▲ +1,25 điểm %" (better), "▼ -0,5 ngày" (worse for a lower-is-better KPI shows ▲ when it falls):
    the arrow says whether the unit improved; empty without both values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    better = value > 0 if higher_is_better else value < 0
    arrow = "" if value == 0 else ("▲ " if better else "▼ ")
    sign = "+" if value > 0 else ""
    if unit == "rate":
        return arrow + sign + format_decimal(value, 2) + (" pts" if lang == "en" else " điểm %")
    return arrow + sign + format_decimal(value, 1) + (" days" if lang == "en" else " ngày")


def display(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """A movement/for_report frame as the text a table shows (SHOWN_COLUMNS): the meeting's period label, the
    unit, the KPI's label, dates day first, status with overdue, values "98,23%" with the status mark of the
    value now, changes with their direction."""
    rows = []
    for r in frame.itertuples(index=False):
        m = metric(r.metric)
        now = format_value(r.value_now, m.unit, lang)
        mark = KPI_STATUS_MARKS.get(r.kpi_status)
        rows.append({
            "id": str(r.id), "meeting": Period(r.period_start, r.period_end).label(lang),
            "unit": unit_text(r.unit_dimension, r.unit, lang), "metric": m.label_en if lang == "en" else m.label_vi,
            "task": r.task, "owner": r.owner, "due_date": format_date(r.due_date),
            "status": status_text(r.status, bool(r.overdue), lang),
            "value_then": format_value(r.value_then, m.unit, lang),
            "value_now": f"{mark} {now}" if mark and r.value_now is not None else now,
            "change": change_text(r.change, m.unit, m.higher_is_better, lang), "note": r.note,
        })
    return pd.DataFrame(rows, columns=list(SHOWN_COLUMNS))


def option_labels(frame: pd.DataFrame, lang: str = "vi") -> dict[int, str]:
    """id -> "#3 · Sở Xây dựng · Giảm hồ sơ quá hạn… (Đang thực hiện)": the choices of a follow-up picker."""
    out = {}
    for r in frame.itertuples(index=False):
        task = r.task if len(r.task) <= 60 else r.task[:59] + "…"
        state = _pick(STATUS_LABELS.get(r.status, STATUS_LABELS["open"]), lang)
        out[int(r.id)] = f"#{r.id} · {unit_text(r.unit_dimension, r.unit, lang)} · {task} ({state})"
    return out


def by_id(frame: pd.DataFrame, followup_id: int) -> dict[str, object]:
    """One follow-up of a frame as a dict (a picker's current choice); an error when it is not there."""
    match = frame.loc[frame["id"] == followup_id]
    if match.empty:
        raise FollowupError(f"Không có việc giao số {followup_id}.", f"There is no follow-up number {followup_id}.")
    return match.iloc[0].to_dict()


def scope_names_units(where: Mapping[str, object], dimensions: Iterable[str] | None) -> dict[str, object] | None:
    """The filters of `where` that name units of `dimensions` (None: the whole `where`), or None when it names
    none: a unit page shows follow-ups only once a unit of its kind is chosen."""
    if dimensions is None:
        return dict(where)
    named = {d: v for d, v in where.items() if d in tuple(dimensions)}
    return named or None


__all__ = [
    "LABELS", "LIST_FILTERS", "REPORT_COLUMNS", "SHOWN_COLUMNS", "STATUSES", "STATUS_LABELS", "TABLE_COLUMNS",
    "UNIT_DIMENSIONS", "FollowupError", "add_followup", "by_id", "change_text", "default_due_date",
    "dimension_choices", "dimension_label", "display", "for_report", "has_table", "label", "list_followups",
    "list_status", "mark_done", "metric_label", "movement", "movement_table", "option_labels", "revision",
    "scope_names_units", "status_text", "unit_text", "update_followup",
]
