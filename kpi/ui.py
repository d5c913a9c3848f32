"""The one Streamlit module: cached connection, cached queries, language, the shared filters (bound to the
URL), the freshness line, and the display helpers every page uses (tiles, chart + data blocks, tables with
CSV and Excel downloads).

Pages import this and the Streamlit-free package; they hold no SQL and no reshaping of their own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kpi import (
    access,
    accounts,
    aggregates,
    appdb,
    audit,
    charts,
    db,
    dossier_lists,
    drilldown,
    exports,
    followups,
    meeting,
    overview,
    store,
    targets,
    views,
)
from kpi.engine import SCOPE_FIELDS, Scope, caller_scope, kpi_tables
from kpi.fields import term_label
from kpi.formatting import (
    BilingualError,
    display_frame,
    format_change,
    format_date,
    format_datetime,
    format_int,
    format_value,
    markdown_frame,
    md_escape,
)
from kpi.metrics import METRICS, metric
from kpi.pack import Pack, Slide, build_pack, with_workbook

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
STATUS_COLOURS = {"green": "green", "amber": "orange", "red": "red"}
STATUS_LABELS = {"green": ("Đạt", "On target"), "amber": ("Gần đạt", "Near target"),
                 "red": ("Chưa đạt", "Below target")}


def lang() -> str:
    """The chosen interface language (Vietnamese first), kept in the URL as ?lang=."""
    return st.session_state.get("lang", st.query_params.get("lang", "vi"))


def t(vi: str, en: str) -> str:
    """A label in the chosen language."""
    return en if lang() == "en" else vi


def language_switch() -> None:
    """Sidebar language switch bound to the URL."""
    current = st.query_params.get("lang", "vi")
    choice = st.sidebar.radio("Ngôn ngữ / Language", list(LANGUAGES), format_func=LANGUAGES.get,
                              index=list(LANGUAGES).index(current) if current in LANGUAGES else 0,
                              horizontal=True, key="lang")
    st.query_params["lang"] = choice


# --- connection and cached queries -----------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _reader(db_path: str) -> db.StoreReader:
    return db.StoreReader(db_path)


_PINNED = "_store_version"  # session state: the store version this run reads (pin_store)


def pin_store() -> None:
    """At the start of every run (dashboard.py): prepare the store on a session's first run (see `_prepare`)
    and pin the version on disk now, so that every query of this run reads it even if an import puts a new one
    in place meanwhile; the next run reads the new one."""
    st.session_state[_PINNED] = _store().key


def _store() -> db.StoreVersion:
    """The store version this run reads: the pinned one while the reader still holds it, else the current one."""
    path = str(db.default_db_path())
    if st.session_state.get("_store_prepared") != path:
        _prepare(path)
        st.session_state["_store_prepared"] = path
    reader = _reader(path)
    return reader.kept(st.session_state.get(_PINNED)) or reader.current()


def _prepare(path: str) -> None:
    """Make the store ready to read, through a writer when it must change: created with the current schema,
    the bundled sample loaded when it holds no dossier (first start), the aggregate tables built."""
    try:
        cur = _reader(path).current().cursor()
        try:
            ready = db.schema_current(cur) and aggregates.aggregate_state(cur) is not None \
                and (db.dossier_count(cur) > 0 or not store.sample_files())
        finally:
            cur.close()
    except (FileNotFoundError, duckdb.Error):
        ready = False
    if ready:
        return
    bar = st.progress(0.0, text="Đang chuẩn bị kho dữ liệu… / Preparing the store…")

    def progress(index: int, total: int, name: str) -> None:
        bar.progress(index / max(total, 1), text=f"Đang nạp / loading {name} ({index + 1}/{total})")

    with db.writing(path) as con:
        store.load_sample_if_empty(con, progress=progress)
    bar.empty()
    clear_cache()


def connection() -> duckdb.DuckDBPyConnection:
    """A read-only cursor on the store named by EGOV_KPI_DB (default data/egov_kpi.duckdb), on the version this
    run reads. A cursor per caller: one DuckDB connection is not thread-safe. Writes go through `writing`."""
    return _store().cursor()


@contextlib.contextmanager
def writing(timeout: float = db.LOCK_TIMEOUT_S, *,
            permission: str = "import") -> Iterator[duckdb.DuckDBPyConnection]:
    """db.writing on the dashboard's store, for a caller whose role holds `permission` (kpi.access: imports and
    follow-ups are the administrators'): a connection to a new version, put in place when the block ends (a
    writer in another process, such as a nightly import, makes it wait up to `timeout` seconds). The cached
    queries need no clearing: they are keyed by the last import (data_version)."""
    who = caller()
    who.require(permission)
    with db.writing(db.default_db_path(), timeout=timeout) as con:
        yield con


def import_files(files: Sequence[tuple[str, object]], progress: Callable[[float, str], None] | None = None) -> list:
    """Import uploaded files (kpi.store.import_uploads) into a new version of the store, as an administrator
    (`writing` refuses others), recording each file's import in the audit log with what it did."""
    who = caller()
    with writing() as con:
        outcomes = store.import_uploads(con, files, progress=progress)
    for outcome in outcomes:
        summary = outcome.summary()
        _audit(who, "import", target=str(outcome.file), outcome="ok" if outcome.result is not None else "error",
               detail={k: v for k, v in summary.items() if k not in ("file", "error")}
               | ({"error": str(outcome.error)[:300]} if outcome.result is None else {}))
    return outcomes


_FACTS: dict[tuple, tuple] = {}  # (store path, version key) -> _version_facts: a version's content never changes
_FACTS_KEPT = 64


def _version_facts(version: db.StoreVersion) -> tuple:
    """What the cache keys read of a store version: its last import, its targets' revision (kpi.targets) and its
    follow-ups' revision (kpi.followups). Read once per version: every write makes a new version (kpi.db.writing),
    so the figures of one never change, and a page's queries need not ask them again."""
    key = (str(db.default_db_path()), version.key)
    found = _FACTS.get(key)
    if found is None:
        cur = version.cursor()
        try:
            imports = cur.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchone()[0]
            found = (imports, targets.revision(cur), followups.revision(cur))
        finally:
            cur.close()
        if len(_FACTS) >= _FACTS_KEPT:
            _FACTS.pop(next(iter(_FACTS)), None)  # the oldest first
        _FACTS[key] = found
    return found


def data_version(version: db.StoreVersion | None = None) -> tuple[str, int, int, int]:
    """Cache key part that changes with every import and every change of the KPI targets (kpi.targets.revision:
    a KPI's status depends on its target), so cached queries are never stale (a follow-up write gives a new store
    version but the same imports and targets: the KPI results stay cached)."""
    imports, targets_revision, _ = _version_facts(version or _store())
    return str(db.default_db_path()), imports, *targets_revision


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(version: tuple, module: str, name: str, args: tuple, kwargs: tuple, scope: tuple | None,
            _store_version: db.StoreVersion) -> object:  # the version the key was read from (not hashed)
    function = getattr(importlib.import_module(module), name)
    _computed[0] += 1
    cur = _store_version.cursor()
    try:
        with caller_scope(_scope_from_key(scope)):  # the caller's scope is part of the key: never shared wider
            return function(cur, *args, **dict(kwargs))
    finally:
        cur.close()


def _scope_key(scope: Scope | None) -> tuple | None:
    """A cache key part for the scope a query runs under (None: everything)."""
    if scope is None:
        return None
    return tuple(tuple(sorted(getattr(scope, n))) for n in SCOPE_FIELDS)


def _scope_from_key(key: tuple | None) -> Scope | None:
    return None if key is None else Scope(*(frozenset(names) for names in key))


# --- who is asking (issue 7: accounts, login, scope) ------------------------------------------------
#
# The dashboard runs every query as the logged-in caller (kpi.access.run's rules: the caller's scope, comparisons
# of units the one exception). Two logins: single sign-on through st.login when `[auth]` is configured in
# .streamlit/secrets.toml (the identity provider's e-mail and groups mapped to an account of the users table),
# else the built-in accounts (kpi.accounts: argon2 hashes, lockout, and a first-run form for the first admin).

_CALLER = "_egov_caller"  # session state: the access.Caller of the logged-in account
_SEEN = "_egov_last_seen"  # session state: when the session last ran (idle timeout)


def app_db() -> Path:
    """The accounts and audit database beside the store (kpi.appdb)."""
    return appdb.app_db_path(db.default_db_path())


def single_sign_on() -> bool:
    """Whether `[auth]` is configured (st.login through the provincial identity provider)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def login_page() -> None:
    """The page shown at any address before the login (dashboard.py): the login, after which the run starts
    again with the caller's pages, at the same address."""
    caller()


def logged_in() -> bool:
    """Whether this session has a caller whose session has not expired."""
    return st.session_state.get(_CALLER) is not None and not accounts.session_expired(st.session_state.get(_SEEN))


def caller() -> access.Caller:
    """The logged-in caller. When nobody is (or the session was idle too long), the login screen, or the
    first-run form that creates the first administrator, is drawn instead and the run stops there."""
    found = st.session_state.get(_CALLER)
    now = dt.datetime.now()
    if found is not None and accounts.session_expired(st.session_state.get(_SEEN), now):
        _end_session(found, "timeout")
        st.info(t("Phiên làm việc đã hết hạn do không hoạt động; hãy đăng nhập lại.",
                  "The session expired after a period of inactivity; please log in again."))
        found = None
    if found is None:
        account = _sso_account() if single_sign_on() else _password_account()
        st.session_state[_CALLER] = access.Caller(account.email, account.role, account.units)
        st.session_state[_SEEN] = now
        st.rerun()  # logged in: the run starts again without the login screen
    st.session_state[_SEEN] = now
    return found


def _audit(who: access.Caller | None, action: str, target: str = "", outcome: str = "ok",
           detail: Mapping[str, object] | None = None) -> None:
    audit.record(app_db(), actor=who.name if who else "", role=who.role if who else "", action=action,
                 target=target, scope=who.units_text() if who else "", outcome=outcome,
                 detail=dict(detail) if detail else None)


def _end_session(who: access.Caller, reason: str) -> None:
    _audit(who, "logout", detail={"reason": reason})
    for key in (_CALLER, _SEEN):
        st.session_state.pop(key, None)
    if single_sign_on() and st.user.is_logged_in:
        st.logout()


def logout() -> None:
    """Log the caller out (the sidebar's button)."""
    who = st.session_state.get(_CALLER)
    if who is not None:
        _end_session(who, "logout")


def _login_title() -> None:
    st.title("egov-kpi · " + t("Chỉ số cải cách hành chính", "Administrative reform KPIs"))


def _sso_account() -> accounts.Account:
    """The account of the single-sign-on user, or the sign-in button (and stop)."""
    if not st.user.is_logged_in:
        _login_title()
        st.button(t("Đăng nhập bằng tài khoản của tỉnh (SSO)", "Log in with the province's account (SSO)"),
                  on_click=st.login, type="primary", icon=":material/login:")
        st.stop()
    email, groups = str(st.user.get("email") or ""), st.user.get("groups") or []
    account = accounts.account_for_sso(app_db(), email, [str(g) for g in groups])
    if account is None:
        audit.record(app_db(), actor=email, role="", action="login", outcome="refused",
                     detail={"via": "sso", "reason": "no account"})
        _login_title()
        shown = md_escape(email)
        st.error(t(f"Tài khoản {shown} chưa được cấp quyền xem bảng điều khiển; hãy liên hệ Văn phòng UBND tỉnh.",
                   f"The account {shown} has not been given access to the dashboard; ask the provincial office."))
        st.button(t("Đăng xuất", "Log out"), on_click=st.logout)
        st.stop()
    audit.record(app_db(), actor=account.email, role=account.role, action="login",
                 scope=", ".join(account.units) or "toàn tỉnh", detail={"via": "sso"})
    return account


def _password_account() -> accounts.Account:
    """The built-in login: the first-run form while there is no administrator, else e-mail and password."""
    path = app_db()
    _login_title()
    if accounts.needs_first_admin(path):
        st.subheader(t("Thiết lập lần đầu: tạo tài khoản quản trị", "First run: create the administrator"))
        st.caption(t("Chưa có tài khoản quản trị nào. Tài khoản tạo ở đây quản lý dữ liệu, chỉ tiêu và người dùng.",
                     "There is no administrator yet. The account made here manages data, targets and users."))
        with st.form("first-admin"):
            email = st.text_input(t("Thư điện tử", "E-mail"), key="first-admin-email")
            password = st.text_input(t(f"Mật khẩu (ít nhất {accounts.MIN_PASSWORD_CHARS} ký tự)",
                                       f"Password (at least {accounts.MIN_PASSWORD_CHARS} characters)"),
                                     type="password", key="first-admin-password")
            again = st.text_input(t("Nhập lại mật khẩu", "Password again"), type="password", key="first-admin-again")
            created = st.form_submit_button(t("Tạo tài khoản quản trị", "Create the administrator"), type="primary")
        if created:
            if password != again:
                st.error(t("Hai mật khẩu không khớp.", "The two passwords differ."))
            else:
                try:
                    return accounts.create_first_admin(path, email, password)
                except accounts.AccountError as error:
                    st.error(md_escape(str(error)))
        st.stop()
    with st.form("login"):
        st.subheader(t("Đăng nhập", "Log in"))
        email = st.text_input(t("Thư điện tử", "E-mail"), key="login-email")
        password = st.text_input(t("Mật khẩu", "Password"), type="password", key="login-password")
        submitted = st.form_submit_button(t("Đăng nhập", "Log in"), type="primary")
    if submitted:
        try:
            return accounts.authenticate(path, email, password)
        except accounts.LoginRefused as refused:
            st.error(md_escape(str(refused)))
        except accounts.AccountError as error:
            st.error(md_escape(str(error)))
    st.stop()
    raise AssertionError("unreachable")  # st.stop() ends the run


ACCOUNT_LABELS = {"name": ("Tài khoản", "Account"), "kind": ("Loại", "Kind"), "role": ("Vai trò", "Role"),
                  "units": ("Đơn vị", "Units"), "password": ("Mật khẩu", "Password"),
                  "disabled": ("Đã khoá", "Disabled"), "locked_until": ("Tạm khoá đến", "Locked until"),
                  "last_login_at": ("Đăng nhập gần nhất", "Last login")}


def accounts_frame(users: Sequence[accounts.Account]) -> pd.DataFrame:
    """The accounts as a table (ACCOUNT_LABELS' columns), role and kind in the chosen language."""
    yes, no = t("có", "yes"), t("không", "no")
    return pd.DataFrame([{
        "name": u.email, "kind": t("nhóm SSO", "SSO group") if u.kind == "group" else t("người dùng", "user"),
        "role": access.role_label(u.role, lang()), "units": ", ".join(u.units),
        "password": yes if u.has_password else no, "disabled": yes if u.disabled else no,
        "locked_until": u.locked_until, "last_login_at": u.last_login_at,
    } for u in users], columns=list(ACCOUNT_LABELS))


AUDIT_LABELS = {"at": ("Thời điểm", "When"), "actor": ("Người thực hiện", "Who"), "role": ("Vai trò", "Role"),
                "action": ("Hành động", "Action"), "target": ("Đối tượng", "What"), "scope": ("Phạm vi", "Scope"),
                "outcome": ("Kết quả", "Outcome"), "detail": ("Chi tiết", "Detail")}
AUDIT_ACTION_LABELS = {
    "login": ("Đăng nhập", "Login"), "login_failed": ("Đăng nhập sai", "Failed login"),
    "lockout": ("Tạm khoá do sai nhiều lần", "Locked out"), "logout": ("Đăng xuất", "Logout"),
    "import": ("Nhập dữ liệu", "Import"), "target_change": ("Đổi chỉ tiêu", "Target change"),
    "followup_change": ("Việc giao", "Follow-up change"), "download": ("Tải về", "Download"),
    "report": ("Lập báo cáo", "Report"), "pack": ("Bộ tài liệu họp", "Meeting pack"),
    "users_change": ("Đổi tài khoản", "Account change"), "refused": ("Bị từ chối", "Refused"),
}
AUDIT_OUTCOME_LABELS = {"ok": ("Thành công", "Done"), "refused": ("Bị từ chối", "Refused"), "error": ("Lỗi", "Error")}
AUDIT_PAGE_LIMIT = 5000  # events shown at once; narrower filters reach older ones


def audit_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Audit events (kpi.audit.events) for the table: actions, roles and outcomes in the chosen language."""
    shown = frame.drop(columns=["id"], errors="ignore").copy()
    shown["action"] = [t(*AUDIT_ACTION_LABELS.get(a, (a, a))) for a in shown["action"]]
    shown["outcome"] = [t(*AUDIT_OUTCOME_LABELS.get(o, (o, o))) for o in shown["outcome"]]
    shown["role"] = [access.role_label(r, lang()) if r else "" for r in shown["role"]]
    return shown


def unit_names() -> list[str]:
    """The districts, communes and agencies of the store (the units an account can be given)."""
    return query(views.unit_names)


def account_box() -> None:
    """The sidebar's line of who is logged in, with the log-out button."""
    who = caller()
    with st.sidebar:
        st.caption(md_escape(f"{who.name} · {access.role_label(who.role, lang())}"
                             + (f" · {', '.join(who.units)}" if who.units else "")))
        st.button(t("Đăng xuất", "Log out"), on_click=logout, key="logout", icon=":material/logout:")


def refused(error: access.AccessRefused) -> None:
    """Show a refusal (recorded in the audit log) and stop the run: a page reached by an edited address never
    shows more than the caller's scope."""
    _audit(st.session_state.get(_CALLER), "refused", detail={"reason": str(error)[:300]}, outcome="refused")
    st.error(md_escape(str(error)), icon=":material/block:")  # it names what the address asked for: shown as text
    st.stop()


def require(permission: str) -> access.Caller:
    """The caller, when its role holds `permission` (kpi.access.PERMISSIONS); else a refusal."""
    who = caller()
    try:
        who.require(permission)
    except access.AccessRefused as error:
        refused(error)
    return who


def query_scope(function: Callable, args: tuple, kwargs: Mapping[str, object]) -> Scope | None:
    """The scope the caller's call of `function` runs under (kpi.access.query_scope); a refusal stops the run."""
    try:
        return access.query_scope(caller(), function, args, kwargs)
    except access.AccessRefused as error:
        refused(error)
        raise


PROFILE_ENV = "EGOV_KPI_PROFILE"  # "1": time every data call of the pages (stderr and PROFILE_LOG)
PROFILE_LOG: list[dict[str, object]] = []  # with EGOV_KPI_PROFILE=1: function, arguments, seconds, computed
_computed = [0]  # how many times _cached ran its function (a cache miss) in this process


def _profiled(function: Callable, args: tuple, kwargs: Mapping[str, object], call: Callable[[], object]) -> object:
    """`call()`; with EGOV_KPI_PROFILE=1 its seconds (and whether anything was computed rather than found in a
    cache) also go to stderr and PROFILE_LOG. Every way a page reads data goes through here (query,
    query_periods, followups_query), so that the log sums to the time of a page's queries."""
    if os.environ.get(PROFILE_ENV) != "1":
        return call()
    started, computed = time.perf_counter(), _computed[0] + _period_computations[0]
    result = call()
    record = {"function": f"{function.__module__}.{function.__name__}", "args": args, "kwargs": dict(kwargs),
              "seconds": time.perf_counter() - started,
              "computed": _computed[0] + _period_computations[0] > computed}
    PROFILE_LOG.append(record)
    print(f"[query] {record['seconds']:7.3f} s {'computed' if record['computed'] else 'cached  '} "
          f"{record['function']}{args!r} {dict(kwargs)!r}"[:300], file=sys.stderr)
    return result


def query(function: Callable, *args: object, **kwargs: object) -> object:
    """Call a package query `function(con, *args, **kwargs)` through the cache, keyed by database, data
    version, function and arguments (arguments must be hashable or plain data)."""
    items = tuple(sorted(kwargs.items()))
    scope = _scope_key(query_scope(function, args, kwargs))

    def call() -> object:
        version = _store()
        return _cached(data_version(version), function.__module__, function.__name__, args, items, scope, version)

    return _profiled(function, args, kwargs, call)


def query_periods(function: Callable, periods_: Sequence[views.Period], **kwargs: object) -> list[object]:
    """A batch query `function(con, periods, **kwargs)` giving one result per period (engine.kpi_tables) with
    each period's result cached on its own, keyed like query(): the periods not cached yet are computed
    together in one call. A series that moves by a month (the twelve months up to February share eleven with
    those up to March) computes only what it did not hold yet."""

    scope = query_scope(function, (periods_,), kwargs)

    def call() -> list[object]:
        store_version = _store()
        version = data_version(store_version)
        key = (function.__module__, function.__name__, _frozen(kwargs), _scope_key(scope))
        cache = _period_cache()
        with cache["lock"]:
            found = {p: cache["items"].get((version, key, p)) for p in periods_}
        missing = [p for p, result in found.items() if result is None]
        if missing:
            _period_computations[0] += len(missing)
            cur = store_version.cursor()
            try:
                with caller_scope(scope):
                    results = function(cur, missing, **kwargs)
            finally:
                cur.close()
            with cache["lock"]:
                for period, result in zip(missing, results, strict=True):
                    found[period] = cache["items"][(version, key, period)] = result
                while len(cache["items"]) > PERIOD_CACHE_ENTRIES:
                    cache["items"].pop(next(iter(cache["items"])))  # the oldest first
        return [found[p].copy() if hasattr(found[p], "copy") else found[p] for p in periods_]

    return _profiled(function, tuple(periods_), kwargs, call)


def monthly_series(period: views.Period, where: Mapping[str, object], months: int,
                   metrics: Sequence[str]) -> pd.DataFrame:
    """overview.monthly_table's values (the `months` months ending with the period's last one, by month) with
    each month cached on its own (query_periods), without the previous-period and year-earlier columns: a
    series draws values only, and leaving out the comparison windows halves its cost."""
    parts = overview.months_ending(period, months).months()
    return overview.monthly_frame(query_periods(kpi_tables, parts, where=where, metrics=tuple(metrics),
                                                comparisons=False), parts)


PERIOD_CACHE_ENTRIES = 4096  # one period's result of one query each (a few kB: one KPI of tens of units)
_period_computations = [0]  # how many period results query_periods computed in this process (tests)


@st.cache_resource
def _period_cache() -> dict[str, object]:
    """query_periods' results, shared by the sessions (insertion order: the oldest is dropped first)."""
    return {"lock": threading.Lock(), "items": {}}


def _frozen(value: object) -> object:
    """A hashable, order-independent form of plain data (dicts, lists, tuples, scalars)."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def clear_cache() -> None:
    """Forget every cached query (after an import)."""
    st.cache_data.clear()
    cache = _period_cache()
    with cache["lock"]:
        cache["items"].clear()


# --- shared filters ---------------------------------------------------------------------------------

# URL parameter of each filter: a view is shared by its link and survives a reload.
URL_KEYS = {"kind": "ky", "year": "nam", "number": "so", "start": "tu", "end": "den", "province": "tinh",
            "district": "huyen", "commune": "xa", "agency": "don_vi", "sector": "linh_vuc", "procedure": "thu_tuc",
            "metric": "chi_so"}
_ALL = "\x00all"  # the "every value" choice of a filter (never a real value)
FILTER_LABELS = {"province": ("Tỉnh/Thành phố", "Province"), "district": ("Quận/Huyện", "District"),
                 "commune": ("Xã/Phường", "Commune"), "agency": ("Sở, ngành, đơn vị", "Department or unit"),
                 "sector": ("Lĩnh vực", "Sector")}


def remembered(name: str) -> str | None:
    """A filter's starting value: this session's last choice, else the URL's."""
    state_key = f"_filter_{name}"
    if state_key in st.session_state:
        return st.session_state[state_key]
    return st.query_params.get(URL_KEYS[name])


def remember(name: str, value: object) -> None:
    """Keep a filter's value for this session and in the URL (None removes it)."""
    text = None if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    st.session_state[f"_filter_{name}"] = text
    key = URL_KEYS[name]
    if text is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != text:
        st.query_params[key] = text


def _choice(name: str, label: str, options: Sequence, format_func: Callable[[object], str], default: object,
            parse: Callable[[str], object] = str) -> object:
    """A sidebar selectbox whose value starts from the session or the URL and is written back to both."""
    raw = remembered(name)
    options = list(options)
    try:
        wanted = parse(raw) if raw is not None else default
    except ValueError:
        wanted = default
    if raw is None and f"_filter_{name}" in st.session_state and _ALL in options:
        wanted = _ALL  # "all" chosen earlier in the session: not the default (a unit account's own unit)
    index = options.index(wanted) if wanted in options else (options.index(default) if default in options else 0)
    value = st.sidebar.selectbox(label, options, index=index, format_func=format_func, key=f"filter-{name}")
    remember(name, None if value == _ALL else value)  # "all" is no filter: nothing in the link
    return value


def filters(*, units: bool = True) -> views.Selection:
    """The shared sidebar filters: period (kind, year, month/quarter/half or a custom range), locality by
    the hierarchy of the period, and (with `units`) department and sector. Returns the Selection."""
    _apply_drilled()
    span = query(views.data_span)
    last_day = span["last_day"] or date.today()
    kind0, year0, number0 = views.default_period_choice(span["last_day"])
    st.sidebar.subheader(t("Kỳ báo cáo", "Reporting period"))
    kinds = [k.id for k in views.PERIOD_KINDS]
    kind = _choice("kind", t("Loại kỳ", "Period type"), kinds,
                   lambda k: t(views.PERIOD_KIND_BY_ID[k].label_vi, views.PERIOD_KIND_BY_ID[k].label_en), kind0)
    if kind == "custom":
        first = span["first_day"] or last_day
        start0 = views.as_date(remembered("start")) or last_day.replace(day=1)
        end0 = views.as_date(remembered("end")) or last_day
        start = st.sidebar.date_input(t("Từ ngày", "From"), start0, format="DD/MM/YYYY", key="filter-start",
                                      min_value=min(first, start0), max_value=max(last_day, end0))
        end = st.sidebar.date_input(t("Đến ngày", "To"), end0, format="DD/MM/YYYY", key="filter-end",
                                    min_value=min(first, start0), max_value=max(last_day, end0))
        remember("start", start)
        remember("end", end)
        for name in ("year", "number"):
            remember(name, None)
        period = views.choose_period("custom", last_day.year, None, last_day, start, end)
    else:
        years = span["years"] or [year0]
        year = _choice("year", t("Năm", "Year"), years, str, year0, int)
        numbers = views.PERIOD_KIND_BY_ID[kind].numbers
        number = None
        if numbers:
            default_number = number0 if kind == "month" else (
                (number0 - 1) // 3 + 1 if kind == "quarter" else (1 if number0 <= 6 else 2))
            number = _choice("number", t("Kỳ", "Which"), numbers, lambda n: views.number_label(kind, n, lang()),
                             default_number, int)
        else:
            remember("number", None)
        for name in ("start", "end"):
            remember(name, None)
        period = views.choose_period(kind, year, number, last_day)
    selection = views.Selection(period)

    st.sidebar.subheader(t("Địa bàn", "Locality"))
    levels = views.locality_levels(period)
    for name in ("province", "district", "commune"):
        if name not in levels:
            remember(name, None)
            continue
        options = query(views.filter_choices, name, period, selection.where)
        value = _choice(name, t(*FILTER_LABELS[name]), [_ALL, *options], _all_label, _own_unit(options))
        if value != _ALL:
            selection = selection.with_filter(name, value)
    if units:
        st.sidebar.subheader(t("Sở, ngành", "Departments"))
        for name in views.UNIT_FILTERS:
            options = query(views.filter_choices, name, period, selection.where)
            value = _choice(name, t(*FILTER_LABELS[name]), [_ALL, *options], _all_label,
                            _own_unit(options) if not selection.filters else _ALL)
            if value != _ALL:
                selection = selection.with_filter(name, value)
    else:
        for name in views.UNIT_FILTERS:
            remember(name, None)
    hierarchy = t("Trước 01/07/2025: tỉnh → huyện → xã", "Before 1 July 2025: province → district → commune") \
        if selection.hierarchy == views.BEFORE_REFORM else \
        t("Từ 01/07/2025: tỉnh → xã (không còn cấp huyện)", "From 1 July 2025: province → commune (no districts)")
    st.sidebar.caption(t("Hệ địa bàn: ", "Locality hierarchy: ") + hierarchy)
    return selection


def _own_unit(options: Sequence[str]) -> str:
    """A filter's default: a unit account's own unit when the filter offers it (its pages open on its own
    figures; "all" shows the province's totals and rankings), else every value."""
    return next((u for u in caller().units if u in options), _ALL)


def drill_to(**changes: str | None) -> None:
    """Set (or clear, with None) filters by name (URL_KEYS: province, district, commune, agency, sector,
    procedure) and rerun: what a click on a ranking bar or a breadcrumb step does."""
    for name, value in changes.items():
        remember(name, value)
    # A keyed selectbox keeps its identity when its index changes, so the browser would keep (and send back)
    # the old choice: the next run sets the new one through the widgets' state before they are drawn.
    st.session_state.setdefault(_DRILLED, {}).update(changes)
    st.rerun()


_DRILLED = "_drilled_filters"  # filter name -> value chosen by drill_to, for the next run's widgets


def _apply_drilled() -> None:
    """Give the filter widgets the values drill_to chose (a value no longer offered falls back to the
    widget's default); runs before any filter widget of the run is drawn."""
    for name, value in st.session_state.pop(_DRILLED, {}).items():
        st.session_state[f"filter-{name}"] = _ALL if value is None else value


def _all_label(value: object) -> str:
    return t("Tất cả", "All") if value == _ALL else str(value)


def page_header(title_vi: str, title_en: str, selection: views.Selection | None = None) -> None:
    """The page title and the freshness line (newest data, last import, stale-data warning, units with no
    data in the period)."""
    st.title(t(title_vi, title_en))
    period = selection.period if selection else None
    facts = query(views.freshness, period or views.choose_period("year", date.today().year, None, date.today()),
                  selection.where if selection else {})
    parts = [t("Dữ liệu đến ", "Data up to ") + format_date(facts["last_day"]),
             t("lần nhập gần nhất ", "last import ") + format_datetime(facts["last_import_at"])]
    if period is not None:
        parts.insert(0, t("Kỳ: ", "Period: ") + period.label(lang()))
    st.caption(" · ".join(parts))
    if facts["is_stale"]:
        st.warning(t(f"Dữ liệu mới nhất đã cũ {facts['age_days']} ngày (quá {views.STALE_AFTER_DAYS} ngày): hãy "
                     "nhập tệp xuất mới từ hệ thống Một cửa.",
                     f"The newest data is {facts['age_days']} days old (over {views.STALE_AFTER_DAYS} days): "
                     "import a newer export from the one-stop system."), icon=":material/schedule:")
    missing = facts["units_without_data"]
    if period is not None and missing:
        with st.expander(t(f"{format_int(len(missing))} đơn vị không có hồ sơ tiếp nhận trong kỳ",
                           f"{format_int(len(missing))} units received no dossier in the period")):
            st.markdown(md_escape(", ".join(missing)))


def no_data(reason_vi: str, reason_en: str) -> None:
    """The empty state: "Không có dữ liệu" and why."""
    st.info(t("Không có dữ liệu: ", "No data: ") + t(reason_vi, reason_en), icon=":material/info:")


# --- display helpers --------------------------------------------------------------------------------


def data_table(frame: pd.DataFrame, labels: Mapping[str, tuple[str, str]], *, key: str, file_stem: str,
               height: int | None = None, terms: Mapping[str, str] | None = None) -> None:
    """A table with translated headers and Vietnamese formats (`terms`: column -> vocabulary shown as
    labels), and CSV and Excel downloads of the same rows with the raw values."""
    headers = {c: t(*labels[c]) for c in frame.columns if c in labels}
    shown = display_frame(frame, terms, lang()).rename(columns=headers)
    st.dataframe(shown, hide_index=True, width="stretch", height=height or "auto", key=key)
    downloads(access.in_scope_rows(caller(), frame).rename(columns=headers), key=key, file_stem=file_stem)


def downloads(frame: pd.DataFrame | Callable[[], pd.DataFrame], *, key: str, file_stem: str) -> None:
    """CSV and Excel downloads of a frame (or of the frame a callable returns), side by side. The files are
    written when a button is clicked (Streamlit's deferred download), not on every run of the page, and each
    one is recorded in the audit log then. Callers pass only rows within the caller's scope (data_table and
    formatted_table filter them: a ranking seen on screen is downloaded without other units' rows)."""
    make = frame if callable(frame) else (lambda: frame)
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(t("Tải CSV", "Download CSV"), audited_file(lambda: exports.csv_bytes(make()),
                                                                     f"{file_stem}.csv", "download"),
                         file_name=f"{file_stem}.csv", mime="text/csv", key=f"{key}-csv", on_click="ignore",
                         icon=":material/download:")
    right.download_button(t("Tải Excel", "Download Excel"), audited_file(lambda: exports.xlsx_bytes(make()),
                                                                          f"{file_stem}.xlsx", "download"),
                          file_name=f"{file_stem}.xlsx", mime=exports.XLSX_MIME, key=f"{key}-xlsx", on_click="ignore",
                          icon=":material/download:")


def audited_file(make: Callable[[], bytes], file_name: str, action: str) -> Callable[[], bytes]:
    """`make` for a deferred download, recording the download (who, what, scope, bytes) in the audit log when
    the file is written: when the person clicks."""
    who = caller()

    def written() -> bytes:
        data = make()
        _audit(who, action, target=file_name, detail={"bytes": len(data)})
        return data

    return written


def deferred_query(function: Callable, *args: object, **kwargs: object) -> Callable[[], object]:
    """`function(con, *args, **kwargs)` as a callable run later, outside the page's run (a deferred download
    runs on its own thread when clicked): on a cursor of the store in use now, without the query cache."""
    path = str(db.default_db_path())
    scope = query_scope(function, args, kwargs)  # the download runs on another thread: the scope goes with it

    def run() -> object:
        cur = _reader(path).current().cursor()
        try:
            with caller_scope(scope):
                return function(cur, *args, **kwargs)
        finally:
            cur.close()

    return run


def formatted_table(shown: pd.DataFrame, raw: pd.DataFrame, labels: Mapping[str, tuple[str, str]], *, key: str,
                    file_stem: str, height: int | None = None) -> None:
    """A table of text already written for the eye by the package (KPI values "98,23%" with status marks,
    signed changes, rank arrows), with CSV and Excel downloads of the same rows' raw values (`raw`)."""
    st.dataframe(shown.rename(columns={c: t(*labels[c]) for c in shown.columns if c in labels}), hide_index=True,
                 width="stretch", height=height or "auto", key=key)
    headers = {c: t(*labels[c]) for c in raw.columns if c in labels}
    downloads(access.in_scope_rows(caller(), raw).rename(columns=headers), key=key, file_stem=file_stem)


TABLES_OPEN = "ui-tables-open"  # session flag: draw every lazy tab at once (the page tests set it)


def lazy_tabs(labels: Sequence[str], *, key: str) -> list[tuple[object, bool]]:
    """Tabs of which only the open one is drawn: (tab, draw it?) per label; choosing another tab reruns the page.
    A grid, a chart and their download buttons cost the browser far more than the Python that makes them, so
    what nobody looks at is not sent. The session flag TABLES_OPEN draws them all (the page tests)."""
    eager = bool(st.session_state.get(TABLES_OPEN))
    tabs = st.tabs(list(labels), key=key, on_change="ignore" if eager else "rerun")
    return [(tab, eager or bool(tab.open)) for tab in tabs]


def chart_block(figure: go.Figure, frame: pd.DataFrame, labels: Mapping[str, tuple[str, str]], *, key: str,
                file_stem: str, terms: Mapping[str, str] | None = None, on_select: bool = False) -> object:
    """A chart with a "Xem bảng số liệu" tab holding exactly the rows it shows (downloadable as CSV and
    Excel), drawn only when opened (`lazy_tabs`). With `on_select` the chart reports clicks: returns the
    selection state (None while the data tab is open)."""
    (chart_tab, chart_open), (table_tab, table_open) = lazy_tabs(
        [t("Biểu đồ", "Chart"), t("Xem bảng số liệu", "See the data")], key=f"{key}-view")
    event = None
    if chart_open:
        with chart_tab:
            if on_select:
                event = st.plotly_chart(figure, width="stretch", key=f"{key}-chart", on_select="rerun",
                                        selection_mode="points")
            else:
                st.plotly_chart(figure, width="stretch", key=f"{key}-chart")
    if table_open:
        with table_tab:
            data_table(frame, labels, key=f"{key}-table", file_stem=file_stem, terms=terms)
    return event


def kpi_tile(row: Mapping[str, object], spark: Sequence[float | None] | None = None) -> None:
    """One KPI of a kpi_table row: value, numerator/denominator, target and status colour, change against
    the previous period and the same period last year, and a sparkline."""
    m = metric(str(row["metric"]))
    value = row["value"]
    delta = row.get("previous_change_pp")
    delta_text = change_text(delta, m.unit)
    label = t(m.label_vi, m.label_en)
    st.metric(label, format_value(value, m.unit, lang()), delta_text,
              delta_color="normal" if m.higher_is_better else "inverse", border=True,
              help=t(m.description_vi, m.description_en),
              delta_description=t("so với kỳ trước", "vs previous period") if delta_text else None)
    if spark and any(v is not None for v in spark):
        # a small SVG: st.metric's chart_data starts a chart library per tile on every rerun (~0.3 s of the
        # browser's time for seven tiles); the text alternative lists the months' values
        months = "; ".join("–" if v is None else format_value(v, m.unit, lang()) for v in spark)
        st.html(charts.sparkline_img(list(spark), label=t(f"{label}, {len(spark)} tháng: {months}",
                                                          f"{label}, {len(spark)} months: {months}")))
    st.caption(f"{format_int(row['numerator'])} / {format_int(row['denominator'])}")
    status = row.get("status")
    target = row.get("target")
    if target is not None:
        target_text = t("Mục tiêu ", "Target ") + format_value(target, m.unit, lang())
        if status:
            st.badge(f"{t(*STATUS_LABELS[status])} · {target_text}", color=STATUS_COLOURS[status])
        else:
            st.caption(target_text)
    earlier = row.get("year_earlier_change_pp")
    if earlier is not None:
        st.caption(t("So với cùng kỳ năm trước: ", "Against the same period last year: ")
                   + change_text(earlier, m.unit))


def change_text(change: float | None, unit: str) -> str | None:
    """A change as the reports write it: "+0,40 điểm %" for rates (percentage points), "-1,2 ngày" for
    days; None without a comparison value (kpi.formatting.format_change, shared with the meeting pack)."""
    return format_change(change, unit, lang())


def channel_label(code: str) -> str:
    """Display label of a channel code."""
    return term_label("channel", code, lang())


def monthly_chart(frame: pd.DataFrame) -> go.Figure:
    """Stacked bars of dossiers received per month and channel."""
    figure = go.Figure()
    for channel, part in frame.groupby("channel", sort=False):
        figure.add_bar(x=part["month"], y=part["dossiers"], name=channel_label(channel),
                       hovertemplate="%{x|%m/%Y}: %{y:,.0f}<extra>" + channel_label(channel) + "</extra>")
    figure.update_layout(barmode="stack", height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         separators=",.", legend={"orientation": "h"}, xaxis={"tickformat": "%m/%Y"},
                         yaxis={"title": t("Số hồ sơ", "Dossiers"), "tickformat": ",d"})
    return figure


def store_caption(info: dict[str, object]) -> str:
    """One line on what the store holds."""
    return t(
        f"{format_int(info['dossiers'])} hồ sơ tiếp nhận từ {format_date(info['first_received_at'])} đến "
        f"{format_date(info['last_received_at'])}; {format_int(info['imports'])} lần nhập dữ liệu.",
        f"{format_int(info['dossiers'])} dossiers received {format_date(info['first_received_at'])} to "
        f"{format_date(info['last_received_at'])}; {format_int(info['imports'])} imports.",
    )


def db_label() -> str:
    """The database file in use, for the footer."""
    return str(Path(db.default_db_path()))


# --- drill-down widgets (Localities, Departments) ---------------------------------------------------


def metric_choice(*, key: str, default: str = "on_time_rate") -> str:
    """A KPI selectbox over the registry, remembered for the session and in the URL (?chi_so=), with the
    chosen KPI's description below it."""
    ids = [m.id for m in METRICS]
    wanted = remembered("metric")
    value = st.selectbox(t("Chỉ số", "KPI"), ids, index=ids.index(wanted if wanted in ids else default), key=key,
                         format_func=lambda i: t(metric(i).label_vi, metric(i).label_en))
    remember("metric", value)
    st.caption(t(metric(value).description_vi, metric(value).description_en))
    return value


def breadcrumb(crumbs: Sequence[drilldown.Crumb], *, key: str) -> None:
    """The drill-down path as buttons ("Toàn tỉnh › Quận X › Phường Y"): a click on a step clears the
    filters chosen below it; the current step is shown but not clickable."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small", key=key)
    for i, crumb in enumerate(crumbs):
        if i:
            row.markdown("›")
        if row.button(md_escape(t(crumb.label_vi, crumb.label_en)), key=f"{key}-{i}", type="tertiary",
                      disabled=crumb.is_current):
            drill_to(**dict.fromkeys(crumb.clears))


def dossier_list(period: views.Period, where: Mapping[str, object], *, key: str, file_stem: str) -> None:
    """The late dossiers of a selection (resolved late in the period; in progress and overdue at its end),
    one page at a time with a page selector; downloads hold the page shown. Never loads the whole list."""
    counts = {k.id: query(dossier_lists.count_late_dossiers, period, kind=k.id, where=where)
              for k in dossier_lists.LIST_KINDS}
    labels = {k.id: t(k.label_vi, k.label_en) for k in dossier_lists.LIST_KINDS}
    first = dossier_lists.LIST_KINDS[0].id
    kind = st.segmented_control(t("Danh sách", "List"), list(counts), default=first, key=f"{key}-kind",
                                format_func=lambda k: f"{labels[k]} ({format_int(counts[k])})") or first
    total = counts[kind]
    if not total:
        no_data(f"không có {labels[kind].lower()} trong kỳ với bộ lọc đã chọn.",
                f"no {labels[kind].lower()} in the period under the chosen filters.")
        return
    left, right, _ = st.columns([1, 1, 3])
    size = left.selectbox(t("Số dòng mỗi trang", "Rows per page"), drilldown.DOSSIER_PAGE_SIZES, key=f"{key}-size")
    pages = drilldown.page_count(total, size)
    page = int(right.number_input(t(f"Trang (1–{pages})", f"Page (1–{pages})"), min_value=1, max_value=pages,
                                  value=1, step=1, key=f"{key}-page-{kind}-{size}"))
    frame = query(dossier_lists.late_dossiers, period, kind=kind, where=where, limit=size, offset=(page - 1) * size)
    first_row = (page - 1) * size + 1
    st.caption(t(f"Hồ sơ {format_int(first_row)}–{format_int(first_row + len(frame) - 1)} trên tổng số "
                 f"{format_int(total)}; tải về: trang đang xem.",
                 f"Dossiers {format_int(first_row)}–{format_int(first_row + len(frame) - 1)} of "
                 f"{format_int(total)}; downloads hold the page shown."))
    data_table(drilldown.dossier_table(frame), drilldown.DOSSIER_LABELS, key=f"{key}-table",
               file_stem=f"{file_stem}-{kind}-trang-{page}", terms={"status": "status"})


# --- follow-ups (việc giao) -------------------------------------------------------------------------


def followups_query(function: Callable, *args: object, **kwargs: object) -> object:
    """query() for the package functions that read the follow-ups (kpi.followups): keyed also by the
    follow-ups' revision, so a follow-up recorded or changed (in this session or another) shows at once, while
    every KPI query keeps its cache: a follow-up changes no import."""
    scope = _scope_key(query_scope(function, args, kwargs))

    def call() -> object:
        version = _store()
        revision = _version_facts(version)[2]
        return _cached((*data_version(version), *revision), function.__module__, function.__name__, args,
                       tuple(sorted(kwargs.items())), scope, version)

    return _profiled(function, args, kwargs, call)


ADMIN_WRITE_TIMEOUT_S = 120.0  # a follow-up or target saved during a nightly import waits for it this long


def _admin_write(permission: str, function: Callable, args: tuple,
                 kwargs: Mapping[str, object]) -> tuple[object | None, str | None]:
    """`function(con, *args, **kwargs)` in a new version of the store (`writing`) for a caller whose role holds
    `permission`: (its result, None), or (None, why, in the chosen language) when the package refuses it (a
    BilingualError), the caller may not (recorded in the audit log as a refusal) or another writer holds the
    store too long. Safe in a widget callback (draws nothing)."""
    try:
        with writing(ADMIN_WRITE_TIMEOUT_S, permission=permission) as con:
            return function(con, *args, **kwargs), None
    except BilingualError as error:
        return None, t(error.vi, error.en)
    except access.AccessRefused as error:
        _audit(caller(), "refused", target=function.__name__, detail={"reason": str(error)[:300]}, outcome="refused")
        return None, str(error)
    except db.StoreBusy as error:
        return None, str(error)


def write_followup(function: Callable, *args: object, **kwargs: object) -> tuple[object | None, str | None]:
    """A follow-up write of kpi.followups (add_followup, update_followup, mark_done) by an administrator
    (`_admin_write`), recorded in the audit log. The cached follow-up reads (followups_query) are keyed by the
    follow-ups' revision, which the write changes, so every read after it is fresh while the KPI queries keep
    their cache."""
    result, error = _admin_write("followups", function, args, kwargs)
    if error is None:
        _audit(caller(), "followup_change", target=function.__name__,
               detail={k: str(v)[:200] for k, v in kwargs.items() if k != "note"} | {"args": str(args)[:200]})
    return result, error


def write_target(function: Callable, *args: object, **kwargs: object) -> tuple[object | None, str | None]:
    """A target write of kpi.targets (set_target, reset_target) as the logged-in administrator (`by`,
    `_admin_write`): its TargetChange, recorded in the audit log with the target before and after. data_version
    holds the targets' revision, so every KPI read after it applies the new target."""
    who = caller()
    change, error = _admin_write("targets", function, args, {**kwargs, "by": who.name})
    if error is None:
        _audit(who, "target_change", target=change.label,
               detail={"change": function.__name__, "old": change.old, "new": change.new})
    return change, error


def followups_panel(where: Mapping[str, object], period: views.Period, *, key: str,
                    dimensions: Sequence[str] | None = None, earlier_only: bool = False, status: str | None = None,
                    heading: bool = True) -> pd.DataFrame:
    """The follow-ups of the units `where` names, with the KPI's movement from each one's meeting period to
    `period` (kpi.followups.movement_table), as one table with downloads; the one panel of the Departments,
    Localities, Monthly review and Follow-ups pages. `dimensions`: only `where`'s filters of these dimensions
    name units, and nothing is drawn until one is chosen (a unit's page); None: the whole `where`.
    `earlier_only`: only those assigned at meetings on earlier periods (a review takes up the last meetings').
    `status`: "open" or "done" only. Returns the frame shown (empty when none, or nothing was drawn)."""
    scope = followups.scope_names_units(where, dimensions)
    if scope is None:
        return pd.DataFrame(columns=list(followups.REPORT_COLUMNS))
    frame = followups_query(followups.movement_table, period, where=scope, status=status, earlier_only=earlier_only,
                            today=date.today())
    if heading:
        st.subheader(t("Việc giao của đơn vị", "Follow-ups of the unit"))
    if frame.empty:
        st.caption(t("Chưa có việc giao nào" + (" từ các cuộc họp trước." if earlier_only else "."),
                     "No follow-ups" + (" from earlier meetings." if earlier_only else " yet.")))
        return frame
    st.caption(t(f"Giá trị chỉ số của đơn vị ở kỳ cuộc họp giao việc và ở {period.label('vi')}; thay đổi tính bằng "
                 "điểm % (tỷ lệ) hoặc ngày: ▲ tốt lên, ▼ xấu đi. ⚠️ Quá hạn: chưa xong mà đã qua hạn. Ghi, sửa ghi "
                 "chú và đánh dấu hoàn thành ở trang Việc giao.",
                 f"The unit's KPI in the period of the meeting that assigned the task and in {period.label('en')}; "
                 "change in percentage points (rates) or days: ▲ better, ▼ worse. ⚠️ Overdue: open past its due "
                 "date. Record, annotate and close follow-ups on the Follow-ups page."))
    formatted_table(followups.display(frame, lang()), frame, followups.LABELS, key=key, file_stem="viec-giao")
    return frame


# --- meeting pack (Báo cáo họp, Trình chiếu) --------------------------------------------------------


def meeting_pack(selection: views.Selection) -> Pack:
    """The meeting pack of the selection (kpi.pack.build_pack through the query cache), with the follow-ups as
    they are now (followups_query: recording a follow-up changes no import, so the pack's own may be older)."""
    try:
        caller().require_own_unit(selection.where)
    except access.AccessRefused:
        st.info(t("Báo cáo họp của tài khoản đơn vị là báo cáo của chính đơn vị: hãy chọn đơn vị của mình ở thanh "
                  "bên (tổng toàn tỉnh và bảng xếp hạng có ở các trang Tổng quan, Địa bàn, Sở, ngành).",
                  "A unit account's meeting report is its own unit's: choose your unit in the sidebar (the "
                  "province's totals and rankings are on the Overview, Localities and Departments pages)."))
        st.stop()
    with st.spinner(t("Đang tổng hợp báo cáo…", "Assembling the report…")):
        built = query(build_pack, selection.period, selection.where, workbook=False)  # the workbook adds its own
    reported = st.session_state.setdefault("_egov_reported", set())
    if (selection.period, selection.filters) not in reported:  # once per session and selection, not every rerun
        reported.add((selection.period, selection.filters))
        _audit(caller(), "report", target=f"{selection.period.label('vi')}; {built.scope_vi}")
    current = followups_query(followups.for_report, selection.period, selection.where)
    return meeting.with_followups(built, current)


def shown_table(frame: pd.DataFrame, *, key: str, height: int | str = "auto") -> None:
    """A table the package has already written for the eye (text cells, headers in the chosen language);
    `height` in pixels, "auto" (at most about ten rows, then a scroll bar) or "content" (every row)."""
    st.dataframe(frame, hide_index=True, width="stretch", height=height, key=key)


def pack_downloads(pack: Pack, lang: str, *, key: str) -> None:
    """The pack's PDF report and Excel workbook in `lang`, named after pack.file_stem. Each file is written when
    its button is clicked (Streamlit's deferred download), not on every run of the page."""
    left, right, _ = st.columns([1, 1, 2])
    left.download_button(t("Tải báo cáo PDF", "Download the PDF report"),
                         audited_file(lambda: meeting.pdf_bytes(pack, lang), meeting.file_name(pack, ".pdf", lang),
                                      "pack"),
                         file_name=meeting.file_name(pack, ".pdf", lang), mime=meeting.PDF_MIME, key=f"{key}-pdf",
                         on_click="ignore", type="primary", icon=":material/picture_as_pdf:")
    complete = deferred_query(with_workbook, pack)  # the workbook's own frames, read when clicked
    right.download_button(t("Tải bảng tính Excel", "Download the Excel workbook"),
                          audited_file(lambda: meeting.xlsx_bytes(complete(), lang),
                                       meeting.file_name(pack, ".xlsx", lang), "pack"),
                          file_name=meeting.file_name(pack, ".xlsx", lang), mime=meeting.XLSX_MIME, key=f"{key}-xlsx",
                          on_click="ignore", icon=":material/table_view:")


SLIDE_PARAM = "trang"  # the presentation's screen number in the address (?trang=3)


def presentation_style(*, key: str) -> None:
    """Large type for the meeting-room screen, read from the back of a room: slide titles 2.5rem, the value
    6rem (3.5rem when long), dark text on white (the screens drawn by `slide(..., key=key)`, the buttons by
    `slide_pager`)."""
    dark, accent = "#0d1b2a", "#0b3d91"
    st.html(f"""<style>
.st-key-{key} {{ background: #ffffff; color: {dark}; padding: 1.5rem 2rem; border-radius: .75rem;
  border: 1px solid #b0bec5; }}
.st-key-{key} h1 {{ font-size: 2.5rem !important; line-height: 1.2 !important; color: {dark} !important; }}
.st-key-{key}-value p {{ font-size: 6rem !important; font-weight: 700; line-height: 1.05; color: {accent};
  margin: 0; }}
.st-key-{key}-value-long p {{ font-size: 3.5rem !important; font-weight: 700; line-height: 1.1; color: {accent};
  margin: 0; }}
.st-key-{key}-detail p {{ font-size: 1.6rem !important; line-height: 1.45; color: {dark}; }}
.st-key-{key}-table table, .st-key-{key}-table th {{ font-size: 1.35rem !important; color: {dark} !important; }}
.st-key-{key}-nav button p, .st-key-{key}-counter p {{ font-size: 1.5rem !important; font-weight: 700; }}
</style>""")


def slide_pager(count: int, *, key: str) -> int:
    """Previous and next buttons around the counter ("3/12") of a presentation of `count` screens, and a "Toàn
    màn hình" switch that folds the sidebar away; the screen shown is kept for the session and in the address
    (?trang=3), so a link reopens it. Returns its number."""
    state = f"_{key}-number"
    number = meeting.slide_number(st.session_state.get(state, st.query_params.get(SLIDE_PARAM)), count)
    st.session_state[state] = number
    if st.query_params.get(SLIDE_PARAM) != str(number):
        st.query_params[SLIDE_PARAM] = str(number)
    row = st.container(horizontal=True, vertical_alignment="center", key=f"{key}-nav")
    row.button(t("Trước", "Previous"), key=f"{key}-previous", icon=":material/arrow_back:", on_click=_step_slide,
               args=(state, -1, count))
    row.container(key=f"{key}-counter", width="content").markdown(meeting.counter_text(number, count))
    row.button(t("Tiếp", "Next"), key=f"{key}-next", icon=":material/arrow_forward:", icon_position="right",
               on_click=_step_slide, args=(state, 1, count))
    full = row.toggle(t("Toàn màn hình", "Full screen"), key=f"{key}-full",
                      help=t("Thu gọn thanh bên (bộ lọc, các trang); nút » ở góc trên bên trái mở lại. Phím F11: "
                             "trình duyệt toàn màn hình.",
                             "Folds the sidebar (filters, pages) away; » at the top left opens it again. F11: the "
                             "browser's full screen."))
    st.set_page_config(initial_sidebar_state="collapsed" if full else "auto")
    return number


def _step_slide(state: str, step: int, count: int) -> None:
    st.session_state[state] = meeting.slide_number(int(st.session_state.get(state, 1)) + step, count)


def slide(screen: Slide, *, key: str) -> None:
    """One presentation screen in the large type of `presentation_style(key=key)`: the title, the value, the
    line under it, then the chart enlarged for the room, or else the first rows of the screen's table."""
    with st.container(key=key):
        st.title(screen.title, anchor=False)
        if screen.value_text:
            long = "-long" if meeting.is_long_value(screen) else ""
            st.container(key=f"{key}-value{long}").markdown(_plain(screen.value_text))
        if screen.detail_text:
            lines = [_plain(line) for line in meeting.detail_lines(screen)]
            st.container(key=f"{key}-detail").markdown("  \n".join(lines))
        if screen.figure is not None:
            st.plotly_chart(meeting.screen_figure(screen.figure), width="stretch", key=f"{key}-chart",
                            config={"displayModeBar": False})
            return
        table, left_out = meeting.screen_table(screen.table)
        if table is not None:
            st.container(key=f"{key}-table").table(markdown_frame(table), hide_index=True)
        if left_out:
            st.caption(t(f"Và {format_int(left_out)} dòng khác: bảng đầy đủ ở trang Báo cáo họp và trong tệp báo cáo.",
                         f"And {format_int(left_out)} more rows: the full table is on the Meeting report page and in "
                         "the report files."))


def _plain(text: str) -> str:
    """Text shown as it is by st.markdown (kpi.formatting.md_escape)."""
    return md_escape(text)
