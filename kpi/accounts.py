"""Accounts and roles: who may use the dashboard, with which role and units, and the built-in password login.

Roles: `admin` (imports, targets, users, follow-ups), `province` (sees everything, read-only) and `unit` (scoped
to one or more units named as they appear in the data: "Huyện Yên Lập", "Sở Xây dựng", "Xã Tân Lập"). A row of
the users table is an official's e-mail (kind 'user') or an identity provider's group (kind 'group': single
sign-on maps a user's groups to a role and units). Passwords are hashed with argon2id (argon2-cffi) and never
stored or logged; repeated failures lock an account for a while. Logins, failures, lockouts and changes to
accounts go to the audit log (kpi.audit) in the same transaction as the change.

Every function takes the app database's path (kpi.appdb.app_db_path of the store).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path

import argon2
import duckdb

from kpi import appdb, audit

ROLES = ("admin", "province", "unit")  # strongest first: a user in several groups gets the strongest role
KINDS = ("user", "group")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # hashing a megabyte-long "password" is a cheap way to tie up the server
MAX_FAILURES = 5  # consecutive wrong passwords that lock an account ...
LOCKOUT_MINUTES = 15  # ... for this long, even for the right password
SESSION_TIMEOUT_MINUTES = 30  # idle time after which the dashboard asks to log in again
SESSION_ENV = "EGOV_KPI_SESSION_MINUTES"

# The hasher: argon2id with the library's defaults (its recommended parameters, raised in new releases; stored
# hashes with older parameters are re-hashed at the next login). Tests may swap in a cheaper one.
HASHER = argon2.PasswordHasher()

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_COLUMNS = "name, kind, role, units, password_hash IS NOT NULL, disabled, failed_logins, locked_until, " \
           "created_at, created_by, last_login_at"


@dataclasses.dataclass(frozen=True)
class Account:
    """One row of the users table, without its password hash. `name` is the e-mail (kind 'user') or the
    identity provider's group; for an account made up from groups (`account_for_sso`), the user's e-mail."""

    email: str
    role: str
    units: tuple[str, ...] = ()
    kind: str = "user"
    has_password: bool = False
    disabled: bool = False
    failed_logins: int = 0
    locked_until: dt.datetime | None = None
    created_at: dt.datetime | None = None
    created_by: str = ""
    last_login_at: dt.datetime | None = None

    @property
    def name(self) -> str:
        return self.email

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class AccountError(ValueError):
    """A request to change accounts that is refused; the message is shown to the person who asked."""


class LoginRefused(Exception):
    """A login that is refused. `reason`: 'credentials' (unknown e-mail or wrong password: one message for both),
    'locked' (`until` says until when), 'disabled' or 'no_password' (single sign-on only)."""

    def __init__(self, reason: str, message: str, until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.until = until


# --- names, roles, passwords -------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    """An e-mail as stored: stripped and lower-case. Raises AccountError when it does not look like one."""
    text = (email or "").strip().lower()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise AccountError(f"Địa chỉ e-mail không hợp lệ (not a valid e-mail address): {email!r}")
    return text


def _group_name(name: str) -> str:
    # As the identity provider sends it (Keycloak: "/egov-kpi/so-xay-dung"): stripped, case kept.
    text = (name or "").strip()
    if not text or len(text) > 254:
        raise AccountError(f"Tên nhóm không hợp lệ (not a valid group name): {name!r}")
    return text


def _name(name: str, kind: str) -> str:
    if kind not in KINDS:
        raise AccountError(f"Loại tài khoản không hợp lệ (unknown kind): {kind!r}")
    return normalise_email(name) if kind == "user" else _group_name(name)


def _checked_role(role: str, units: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    if role not in ROLES:
        raise AccountError(f"Vai trò không hợp lệ (unknown role): {role!r}; dùng (use) {', '.join(ROLES)}")
    if isinstance(units, str):
        units = (units,)
    cleaned = tuple(dict.fromkeys(u.strip() for u in units if u and u.strip()))
    if role == "unit" and not cleaned:
        raise AccountError("Vai trò unit cần ít nhất một đơn vị, ví dụ --unit \"Huyện Yên Lập\" "
                           "(role unit needs at least one unit)")
    if role != "unit" and cleaned:
        raise AccountError(f"Vai trò {role} xem toàn tỉnh, không gắn với đơn vị "
                           f"(role {role} sees the whole province; units are for role unit only)")
    return role, cleaned


def check_password(password: str) -> None:
    """Raises AccountError when a new password is too short (MIN_PASSWORD_CHARS) or unreasonably long."""
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự "
                           f"(the password must have at least {MIN_PASSWORD_CHARS} characters)")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"Mật khẩu dài quá {MAX_PASSWORD_CHARS} ký tự "
                           f"(the password is longer than {MAX_PASSWORD_CHARS} characters)")


def _hash(password: str) -> str:
    check_password(password)
    return HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


_dummy_hashes: dict[int, str] = {}


def _spend_verification(password: str) -> None:
    """Verify against a throw-away hash, so that an unknown e-mail takes as long as a wrong password."""
    key = id(HASHER)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = HASHER.hash("not-a-password-of-anyone")
    _verify(_dummy_hashes[key], password)


# --- reading -----------------------------------------------------------------------------------------------


def _account(row: tuple) -> Account:
    name, kind, role, units, has_password, disabled, failures, locked_until, created_at, created_by, last = row
    return Account(email=name, role=role, units=tuple(units or ()), kind=kind, has_password=bool(has_password),
                   disabled=bool(disabled), failed_logins=failures, locked_until=locked_until,
                   created_at=created_at, created_by=created_by, last_login_at=last)


def list_users(path: str | Path) -> list[Account]:
    """Every account and group, groups after users, each by name."""
    with appdb.opened(path) as con:
        rows = con.execute(f"SELECT {_COLUMNS} FROM users ORDER BY kind DESC, name").fetchall()
    return [_account(r) for r in rows]


def get_user(path: str | Path, name: str, *, kind: str = "user") -> Account | None:
    """The account for an e-mail (or a group, kind='group'), None when there is none."""
    try:
        name = _name(name, kind)
    except AccountError:
        return None
    with appdb.opened(path) as con:
        row = con.execute(f"SELECT {_COLUMNS} FROM users WHERE name = $name AND kind = $kind",
                          {"name": name, "kind": kind}).fetchone()
    return None if row is None else _account(row)


def needs_first_admin(path: str | Path) -> bool:
    """True while no admin account or admin group exists: the dashboard then offers to create the first one."""
    with appdb.opened(path) as con:
        return _admin_count(con) == 0


def _admin_count(con: duckdb.DuckDBPyConnection, *, other_than: str | None = None) -> int:
    """Admin accounts and groups; with `other_than`, the enabled ones besides that one (who would be left to
    manage accounts)."""
    return con.execute("SELECT count(*) FROM users WHERE role = 'admin' AND ($other IS NULL "
                       "OR (name <> $other AND NOT disabled))", {"other": other_than}).fetchone()[0]


# --- changing ----------------------------------------------------------------------------------------------


def add_user(path: str | Path, email: str, role: str, units: Sequence[str] = (), password: str | None = None, *,
             created_by: str, by_role: str = "admin", kind: str = "user", now: dt.datetime | None = None) -> Account:
    """Add an account (kind 'user': an e-mail; without a password it can log in by single sign-on only) or an
    identity-provider group (kind 'group', never a password). Raises AccountError for a bad e-mail, role,
    units, password, or a name that already exists. Recorded in the audit log as users_change by `created_by`."""
    name = _name(email, kind)
    role, units = _checked_role(role, units)
    if kind == "group" and password is not None:
        raise AccountError("Nhóm đăng nhập bằng SSO, không có mật khẩu (a group signs in by SSO; no password)")
    password_hash = None if password is None else _hash(password)
    at = now or dt.datetime.now()
    with appdb.opened(path) as con:
        if con.execute("SELECT 1 FROM users WHERE name = $name", {"name": name}).fetchone():
            raise AccountError(f"Tài khoản đã có (already exists): {name}")
        con.execute("INSERT INTO users (name, kind, role, units, password_hash, created_at, created_by) "
                    "VALUES ($name, $kind, $role, $units, $hash, $at, $by)",
                    {"name": name, "kind": kind, "role": role, "units": list(units), "hash": password_hash,
                     "at": at, "by": created_by})
        audit.record_in(con, actor=created_by, role=by_role, action="users_change", target=name,
                        detail={"change": "add", "kind": kind, "role": role, "units": list(units),
                                "password": password is not None}, at=at)
        row = con.execute(f"SELECT {_COLUMNS} FROM users WHERE name = $name", {"name": name}).fetchone()
    return _account(row)


def remove_user(path: str | Path, email: str, *, by: str, by_role: str = "admin", kind: str = "user",
                now: dt.datetime | None = None) -> None:
    """Remove an account or group. Raises AccountError when there is none, or when it is the last admin
    (nobody could manage accounts any more)."""
    name = _name(email, kind)
    at = now or dt.datetime.now()
    with appdb.opened(path) as con:
        row = con.execute("SELECT role FROM users WHERE name = $name AND kind = $kind",
                          {"name": name, "kind": kind}).fetchone()
        if row is None:
            raise AccountError(f"Không có tài khoản (no such account): {name}")
        if row[0] == "admin" and not _admin_count(con, other_than=name):
            raise AccountError(f"{name} là quản trị viên cuối cùng (is the last admin); thêm một quản trị viên khác "
                               "trước (add another admin first)")
        con.execute("DELETE FROM users WHERE name = $name", {"name": name})
        audit.record_in(con, actor=by, role=by_role, action="users_change", target=name,
                        detail={"change": "remove", "kind": kind, "role": row[0]}, at=at)


def set_password(path: str | Path, email: str, password: str, *, by: str, by_role: str = "admin",
                 now: dt.datetime | None = None) -> None:
    """Set an account's password; also lifts a lockout. Raises AccountError for an unknown e-mail or a password
    that is too short."""
    name = normalise_email(email)
    password_hash = _hash(password)
    at = now or dt.datetime.now()
    with appdb.opened(path) as con:
        if not con.execute("SELECT 1 FROM users WHERE name = $name AND kind = 'user'", {"name": name}).fetchone():
            raise AccountError(f"Không có tài khoản (no such account): {name}")
        con.execute("UPDATE users SET password_hash = $hash, failed_logins = 0, locked_until = NULL "
                    "WHERE name = $name", {"hash": password_hash, "name": name})
        audit.record_in(con, actor=by, role=by_role, action="users_change", target=name,
                        detail={"change": "password"}, at=at)


def set_disabled(path: str | Path, email: str, disabled: bool = True, *, by: str, by_role: str = "admin",
                 now: dt.datetime | None = None) -> None:
    """Disable an account (it can no longer log in, by password or single sign-on) or enable it again; enabling
    also lifts a lockout. Raises AccountError for an unknown e-mail or for disabling the last admin."""
    name = normalise_email(email)
    at = now or dt.datetime.now()
    with appdb.opened(path) as con:
        row = con.execute("SELECT role FROM users WHERE name = $name AND kind = 'user'", {"name": name}).fetchone()
        if row is None:
            raise AccountError(f"Không có tài khoản (no such account): {name}")
        if disabled and row[0] == "admin" and not _admin_count(con, other_than=name):
            raise AccountError(f"{name} là quản trị viên cuối cùng (is the last admin)")
        con.execute("UPDATE users SET disabled = $disabled, failed_logins = 0, locked_until = NULL "
                    "WHERE name = $name", {"disabled": disabled, "name": name})
        audit.record_in(con, actor=by, role=by_role, action="users_change", target=name,
                        detail={"change": "disable" if disabled else "enable"}, at=at)


def create_first_admin(path: str | Path, email: str, password: str, *, now: dt.datetime | None = None) -> Account:
    """The first-run flow: create the first admin, with a password. Raises AccountError once an admin exists
    (from then on only an admin adds accounts)."""
    name = normalise_email(email)
    password_hash = _hash(password)
    at = now or dt.datetime.now()
    with appdb.opened(path) as con:
        if _admin_count(con):
            raise AccountError("Đã có quản trị viên; chỉ quản trị viên thêm được tài khoản "
                               "(an admin already exists; only an admin can add accounts)")
        if con.execute("SELECT 1 FROM users WHERE name = $name", {"name": name}).fetchone():
            raise AccountError(f"Tài khoản đã có (already exists): {name}")
        con.execute("INSERT INTO users (name, kind, role, units, password_hash, created_at, created_by) "
                    "VALUES ($name, 'user', 'admin', [], $hash, $at, 'first-run')",
                    {"name": name, "hash": password_hash, "at": at})
        audit.record_in(con, actor=name, role="admin", action="users_change", target=name,
                        detail={"change": "add", "kind": "user", "role": "admin", "first_run": True}, at=at)
        row = con.execute(f"SELECT {_COLUMNS} FROM users WHERE name = $name", {"name": name}).fetchone()
    return _account(row)


# --- logging in --------------------------------------------------------------------------------------------


def _wrong_credentials() -> LoginRefused:
    return LoginRefused("credentials", "Sai e-mail hoặc mật khẩu (wrong e-mail or password)")


def _locked(until: dt.datetime) -> LoginRefused:
    shown = until.strftime("%H:%M %d/%m/%Y")
    return LoginRefused("locked", f"Tài khoản bị khoá đến {shown} sau {MAX_FAILURES} lần nhập sai mật khẩu "
                                  f"(account locked until {shown} after {MAX_FAILURES} wrong passwords)", until)


def authenticate(path: str | Path, email: str, password: str, now: dt.datetime | None = None) -> Account:
    """The account for an e-mail and password, or LoginRefused. An unknown e-mail and a wrong password get the
    same message and cost the same hash verification. MAX_FAILURES wrong passwords in a row lock the account for
    LOCKOUT_MINUTES, during which even the right password is refused. Success clears the failures and sets
    last_login_at. Every outcome is recorded in the audit log (login, login_failed, lockout)."""
    now = now or dt.datetime.now()
    try:
        name = normalise_email(email)
    except AccountError:
        name = None
    # Read, verify without holding the lock (a verification takes tens of milliseconds), then write the outcome.
    # A refusal known before verifying is recorded at once; the verification is still spent outside the lock.
    refusal: LoginRefused | None = None
    with appdb.opened(path) as con:
        row = None if name is None else con.execute(
            "SELECT password_hash, locked_until, role FROM users WHERE name = $name AND kind = 'user'",
            {"name": name}).fetchone()
        password_hash, locked_until, role = row or (None, None, "")
        if row is None:
            # Not an account: the typed text is kept only when it looks like an e-mail, as a password typed into
            # the e-mail box must never reach the log.
            reason, refusal = "credentials", _wrong_credentials()
        elif locked_until is not None and locked_until > now:
            reason, refusal = "locked", _locked(locked_until)
        elif password_hash is None:
            reason, refusal = "no_password", LoginRefused(
                "no_password", "Tài khoản này đăng nhập bằng SSO, không có mật khẩu "
                               "(this account signs in by single sign-on; it has no password)")
        if refusal is not None:
            audit.record_in(con, actor=name or "(không hợp lệ / invalid)", role=role, action="login_failed",
                            outcome="refused", detail={"reason": reason}, at=now)
    if refusal is not None:
        if refusal.reason != "locked":  # a locked account is refused before any verification
            _spend_verification(password or "")
        raise refusal
    verified = len(password or "") <= MAX_PASSWORD_CHARS and _verify(password_hash, password)
    new_hash = HASHER.hash(password) if verified and HASHER.check_needs_rehash(password_hash) else None
    return _settle(path, name, verified, new_hash, now)


def _settle(path: str | Path, name: str, verified: bool, new_hash: str | None, now: dt.datetime) -> Account:
    """Write a verified or failed attempt, re-reading the row under the lock: another attempt may have come
    first (and locked the account) meanwhile."""
    refusal: LoginRefused | None = None
    account: Account | None = None
    with appdb.opened(path) as con:
        row = con.execute("SELECT role, disabled, failed_logins, locked_until FROM users "
                          "WHERE name = $name AND kind = 'user'", {"name": name}).fetchone()
        if row is None:  # removed meanwhile
            audit.record_in(con, actor=name, role="", action="login_failed", outcome="refused",
                            detail={"reason": "credentials"}, at=now)
            refusal = _wrong_credentials()
        else:
            role, disabled, failures, locked_until = row
            if locked_until is not None and locked_until > now:
                audit.record_in(con, actor=name, role=role, action="login_failed", outcome="refused",
                                detail={"reason": "locked"}, at=now)
                refusal = _locked(locked_until)
            elif not verified:
                # A lockout that has run out starts a fresh count.
                failures = (0 if locked_until is not None else failures) + 1
                until = now + dt.timedelta(minutes=LOCKOUT_MINUTES) if failures >= MAX_FAILURES else None
                con.execute("UPDATE users SET failed_logins = $failures, locked_until = $until WHERE name = $name",
                            {"failures": failures, "until": until, "name": name})
                audit.record_in(con, actor=name, role=role, action="login_failed", outcome="refused",
                                detail={"reason": "credentials", "failures": failures}, at=now)
                if until is not None:
                    audit.record_in(con, actor=name, role=role, action="lockout", outcome="refused",
                                    detail={"until": until.isoformat(timespec="minutes"), "failures": failures},
                                    at=now)
                    refusal = _locked(until)
                else:
                    refusal = _wrong_credentials()
            elif disabled:
                audit.record_in(con, actor=name, role=role, action="login_failed", outcome="refused",
                                detail={"reason": "disabled"}, at=now)
                refusal = LoginRefused("disabled", "Tài khoản đã bị vô hiệu hoá; hãy liên hệ quản trị viên "
                                                   "(this account is disabled; ask an admin)")
            else:
                con.execute("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $now, "
                            "password_hash = coalesce($hash, password_hash) WHERE name = $name",
                            {"now": now, "hash": new_hash, "name": name})
                audit.record_in(con, actor=name, role=role, action="login", detail={"method": "password"}, at=now)
                account = _account(con.execute(f"SELECT {_COLUMNS} FROM users WHERE name = $name",
                                               {"name": name}).fetchone())
    if account is None:
        raise refusal
    return account


# --- single sign-on ----------------------------------------------------------------------------------------


def account_for_sso(path: str | Path, email: str, groups: Sequence[str] = ()) -> Account | None:
    """The account a single-sign-on user gets: the users row for the e-mail when there is one (None when it is
    disabled: the groups do not overrule it); else one made up from the enabled group rows named in `groups`,
    with the strongest of their roles and, for role unit, the union of their units; None when nothing matches
    (the login is refused). Raises AccountError when `email` is not an e-mail. The caller records the login in
    the audit log."""
    name = normalise_email(email)
    group_names = [g.strip() for g in groups if g and g.strip()]
    with appdb.opened(path) as con:
        row = con.execute(f"SELECT {_COLUMNS} FROM users WHERE name = $name AND kind = 'user'",
                          {"name": name}).fetchone()
        rows = [] if row else con.execute("SELECT name, role, units FROM users WHERE kind = 'group' "
                                          "AND NOT disabled AND list_contains($groups, name) ORDER BY name",
                                          {"groups": group_names}).fetchall()
    if row:
        account = _account(row)
        return None if account.disabled else account
    if not rows:
        return None
    role = min((r[1] for r in rows), key=ROLES.index)
    units = tuple(dict.fromkeys(u for r in rows if r[1] == "unit" for u in r[2])) if role == "unit" else ()
    return Account(email=name, role=role, units=units, kind="user", created_by="sso:" + ", ".join(r[0] for r in rows))


# --- sessions ----------------------------------------------------------------------------------------------


def session_minutes() -> int:
    """The idle time before a session expires: `EGOV_KPI_SESSION_MINUTES`, else SESSION_TIMEOUT_MINUTES."""
    text = os.environ.get(SESSION_ENV, "").strip()
    try:
        minutes = int(text)
    except ValueError:
        return SESSION_TIMEOUT_MINUTES
    return minutes if minutes > 0 else SESSION_TIMEOUT_MINUTES


def session_expired(last_seen: dt.datetime | None, now: dt.datetime | None = None, minutes: int | None = None) -> bool:
    """True when a session last seen at `last_seen` has been idle for more than `minutes` (default
    session_minutes()) at `now`; a session never seen has expired."""
    if last_seen is None:
        return True
    now = now or dt.datetime.now()
    return now - last_seen > dt.timedelta(minutes=session_minutes() if minutes is None else minutes)
