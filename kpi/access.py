"""Who may see and do what (issue 7): a caller's role and scope, and the one check every query, dossier list,
download, report and meeting pack runs through (`run`: kpi.ui for the dashboard, `--user` on the CLI).

Roles (README, "Accounts and roles"): `admin` sees everything and is the only role that imports data, changes
targets, manages accounts and follow-ups and reads the audit log; `province` sees everything, read-only; `unit`
is scoped to one or more units named as in the data (a department "Sở Xây dựng", a district "Huyện Yên Lập", a
commune "Xã Tân Lập") and what lies under them.

For a unit caller:
1. Every query runs under the caller's scope (`kpi.engine.caller_scope`): the engine sees only the dossiers of
   the scope's units. This is the guarantee; the pages add nothing to it and cannot take anything from it.
2. Comparisons are the one exception: the province's totals and the rankings of units. A call of a comparison
   function (`COMPARISONS`) with no unit filter and grouped by nothing or by a unit level (`RANKING_LEVELS`) runs
   over the whole province: it shows other units' names and figures at that level, and nothing below it.
3. A filter that names a unit outside the scope (another unit's drill-down, reached by a link or an edited URL
   parameter) is refused with `AccessRefused`, whatever the function.
4. Dossier lists, downloads, reports and the meeting pack are never comparisons: they hold the scope only.

A unit name is matched as agency, district and commune at once (names of different kinds do not collide: "Sở",
"Huyện", "Xã" ...); a district also covers, after the July 2025 reform, the new communes of its former area
(`kpi.reference.former_districts`), so its head keeps seeing its territory across the reform.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kpi.accounts import ROLES
from kpi.engine import Scope, caller_scope

# What each permission allows, and the roles that hold it.
PERMISSIONS = {
    "import": ("admin",),      # import exports (Data page upload, `kpi ingest --user`)
    "targets": ("admin",),     # change KPI targets
    "users": ("admin",),       # manage accounts
    "followups": ("admin",),   # add, change, close follow-ups
    "audit": ("admin",),       # read the audit log
    "data": ("admin", "province"),  # the Data page: imports, rejected rows, coverage of every unit
}
# `where` keys that name a unit, and the scope sets that may hold their values.
UNIT_FILTERS = {"district": "districts", "former_district": "districts", "commune": "communes", "agency": "agencies"}
# Groupings that rank units against each other at one level (rule 2), and None: the province's total.
RANKING_LEVELS = (None, "province", "district", "former_district", "commune", "agency", "agency_level")
# The functions whose unfiltered, unit-level calls are comparisons (rule 2), by module and name.
COMPARISONS = frozenset({
    "kpi.engine.kpi_table", "kpi.engine.kpi_tables", "kpi.engine.kpi_value", "kpi.engine.dossier_counts",
    "kpi.overview.headline_tiles", "kpi.overview.monthly_table", "kpi.overview.period_counts",
    "kpi.overview.index766", "kpi.review.review_table", "kpi.review.review_total",
    "kpi.index766.estimate_766", "kpi.index766.estimate_766_parts",
})


class AccessRefused(PermissionError):
    """A request the caller's role or scope does not allow; the message says what and why (Vietnamese first)."""


@dataclass(frozen=True)
class Caller:
    """Who is asking: a name for the audit log (an e-mail, or `cli:<login>`), a role and, for `unit`, the units
    and the engine scope they resolve to (None: everything)."""

    name: str
    role: str
    units: tuple[str, ...] = ()
    scope: Scope | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise AccessRefused(f"vai trò không hợp lệ: {self.role!r} (unknown role; one of {', '.join(ROLES)})")
        if self.role == "unit" and not self.units:
            raise AccessRefused("tài khoản đơn vị chưa được gán đơn vị nào (a unit account with no unit)")
        if self.role == "unit" and self.scope is None:
            object.__setattr__(self, "scope", unit_scope(self.units))

    @property
    def sees_all(self) -> bool:
        return self.role != "unit"

    def may(self, permission: str) -> bool:
        """Whether the role holds `permission` (PERMISSIONS)."""
        return self.role in PERMISSIONS[permission]

    def require(self, permission: str) -> None:
        """`AccessRefused` unless the role holds `permission`."""
        if not self.may(permission):
            raise AccessRefused(f"{self.name} ({role_label(self.role)}) không có quyền {_ACTION_VI[permission]} "
                                f"({role_label(self.role, 'en')} may not {_ACTION_EN[permission]})")

    def check_where(self, where: Mapping[str, object] | None) -> None:
        """`AccessRefused` when a filter names a unit outside the scope (rule 3). A commune or agency beneath a
        district of the scope passes: the query itself runs under the scope (rule 1)."""
        if self.scope is None or not where:
            return
        inside = {key: all(v in getattr(self.scope, UNIT_FILTERS[key]) for v in _values(value))
                  for key, value in where.items() if key in UNIT_FILTERS and value is not None}
        if not inside or all(inside.values()):
            return
        district_inside = inside.get("district") or inside.get("former_district")
        outside = [key for key, ok in inside.items() if not ok
                   and not (key in ("commune", "agency") and district_inside)
                   and not (key == "agency" and (inside.get("commune")))]
        if outside:
            names = ", ".join(v for key in outside for v in _values(where[key]))
            raise AccessRefused(f"{names} nằm ngoài phạm vi của tài khoản {self.name} ({', '.join(self.units)}) "
                                f"({names} is outside the account's scope)")

    def require_own_unit(self, where: Mapping[str, object] | None) -> None:
        """`AccessRefused` for a unit account's report (the meeting pack) without a filter naming a unit: the
        pack of the whole province would hold its own figures under the province's name."""
        if self.scope is not None and not any(k in UNIT_FILTERS and v is not None for k, v in (where or {}).items()):
            raise AccessRefused(
                f"báo cáo họp của tài khoản đơn vị là báo cáo của chính đơn vị: hãy chọn {', '.join(self.units)} "
                f"(a unit account's meeting pack is its own unit's: choose {', '.join(self.units)})")

    def units_text(self, lang: str = "vi") -> str:
        if self.sees_all:
            return "toàn tỉnh" if lang == "vi" else "whole province"
        return ", ".join(self.units)


def _values(value: object) -> list[str]:
    """A filter's values: one, or several (the CLI's repeated --where, the engine's lists)."""
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return [str(value)]


_ACTION_VI = {"import": "nhập dữ liệu", "targets": "thay đổi chỉ tiêu", "users": "quản lý tài khoản",
              "followups": "giao và cập nhật việc", "audit": "xem nhật ký", "data": "xem trang Dữ liệu"}
_ACTION_EN = {"import": "import data", "targets": "change targets", "users": "manage accounts",
              "followups": "assign or update follow-ups", "audit": "read the audit log", "data": "open the Data page"}
_ROLE_LABELS = {"admin": ("Quản trị", "Administrator"), "province": ("Cấp tỉnh (chỉ xem)", "Province (read-only)"),
                "unit": ("Đơn vị", "Unit")}


def role_label(role: str, lang: str = "vi") -> str:
    vi, en = _ROLE_LABELS.get(role, (role, role))
    return en if lang == "en" else vi


def operator(name: str = "cli") -> Caller:
    """The server's operator (the CLI without `--user`: a shell on the server is an administrator's): sees all."""
    return Caller(name=name, role="admin")


def unit_scope(units: Sequence[str]) -> Scope:
    """The engine scope of a unit account: every name as agency, district and commune, plus the new communes
    of a district's former area after the reform."""
    from kpi.reference import former_districts  # reads the bundled mapping once (cached there)

    names = frozenset(str(u).strip() for u in units if str(u).strip())
    areas = former_districts()
    communes = set(areas.loc[areas["former_district"].isin(names), "commune"])
    return Scope(agencies=names, districts=names, communes=names | communes)


def qualified_name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _call_arguments(function: Callable, args: tuple, kwargs: Mapping[str, object]) -> Mapping[str, object]:
    """The call's arguments by name (the connection is the first parameter of every query function)."""
    try:
        bound = inspect.signature(function).bind_partial(None, *args, **kwargs)
    except TypeError:
        return kwargs
    return bound.arguments


def is_comparison(function: Callable, arguments: Mapping[str, object]) -> bool:
    """Rule 2: a call (its arguments by name) of a comparison function with no unit filter, grouped by nothing or
    by a unit level."""
    if qualified_name(function) not in COMPARISONS:
        return False
    where = arguments.get("where") or {}
    if any(key in UNIT_FILTERS and value is not None for key, value in dict(where).items()):
        return False
    if arguments.get("scope") is not None:
        return False
    return arguments.get("by") in RANKING_LEVELS


def query_scope(caller: Caller, function: Callable, args: tuple, kwargs: Mapping[str, object]) -> Scope | None:
    """The scope the call runs under (rules 1–3): None for a caller who sees all and for a comparison, else the
    caller's scope; `AccessRefused` for a filter outside the scope."""
    if caller.scope is None:
        return None
    arguments = _call_arguments(function, args, kwargs)
    where = arguments.get("where")
    caller.check_where(dict(where) if where else None)
    return None if is_comparison(function, arguments) else caller.scope


def run(caller: Caller, function: Callable, con: object, *args: object, **kwargs: object) -> object:
    """Call `function(con, *args, **kwargs)` as `caller`: under the scope `query_scope` gives."""
    with caller_scope(query_scope(caller, function, args, kwargs)):
        return function(con, *args, **kwargs)


def scoped(caller: Caller) -> object:
    """A context manager running the block under the caller's whole scope (no comparison): for reports, packs,
    dossier lists and downloads computed by several calls."""
    return caller_scope(caller.scope)


def in_scope_rows(caller: Caller, frame: object, columns: Mapping[str, str] | None = None) -> object:
    """The rows of a pandas frame a caller may download: all for a caller who sees all; else, as the engine's
    scope reads a dossier, the rows one of whose unit columns (`columns`: frame column -> UNIT_FILTERS key;
    default: the frame's columns named like the keys, and `agency_name`) names a unit of the scope, and the rows
    with every unit column blank (totals)."""
    if caller.scope is None:
        return frame
    columns = columns or {c: k for c, k in {"district": "district", "former_district": "former_district",
                                            "commune": "commune", "agency": "agency", "agency_name": "agency"}.items()
                          if c in getattr(frame, "columns", ())}
    if not columns:
        return frame
    matched = blank = None
    for column, key in columns.items():
        values = frame[column]
        hit = values.astype(str).isin(getattr(caller.scope, UNIT_FILTERS[key])) & values.notna()
        matched = hit if matched is None else matched | hit
        blank = values.isna() if blank is None else blank & values.isna()
    return frame[matched | blank]


__all__ = ["COMPARISONS", "PERMISSIONS", "RANKING_LEVELS", "ROLES", "UNIT_FILTERS", "AccessRefused", "Caller",
           "in_scope_rows", "is_comparison", "operator", "qualified_name", "query_scope", "role_label", "run",
           "scoped", "unit_scope"]
