"""Accounts: argon2id hashing, lockout, the first admin, single-sign-on mapping, sessions, their audit rows, and
`python -m kpi users ...` run as an administrator runs it."""

from __future__ import annotations

import datetime as dt
import getpass
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import argon2
import pytest
from conftest import PROJECT_ROOT

from kpi import accounts, appdb, audit, db
from kpi.__main__ import main
from kpi.accounts import AccountError, LoginRefused

NOW = dt.datetime(2025, 3, 10, 8, 0)
ADMIN = "admin@phutho.gov.vn"
HEAD = "truongphong@yenlap.phutho.gov.vn"
PASSWORD = "Cai-cach-2025"
WRONG = "sai-mat-khau-1"


class CountingHasher(argon2.PasswordHasher):
    """Cheap parameters (tests only; production keeps the library's defaults) and a count of verifications."""

    def __init__(self, **params: int) -> None:
        super().__init__(**{"time_cost": 1, "memory_cost": 8, "parallelism": 1, **params})
        self.verified = 0

    def verify(self, hash: str, password: str) -> bool:  # noqa: A002 (the library's own name)
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    cheap = CountingHasher()
    monkeypatch.setattr(accounts, "HASHER", cheap)
    return cheap


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> dict[str, Path]:
    """App databases built once and copied for each test (every access opens DuckDB, a tenth of a second):
    'path' holds an admin and a head of a district's office (role unit), both with a password; 'groups' also
    four identity-provider groups."""
    folder = tmp_path_factory.mktemp("prepared")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "HASHER", CountingHasher())
        path = folder / "path.access.duckdb"
        accounts.create_first_admin(path, ADMIN, PASSWORD, now=NOW)
        accounts.add_user(path, HEAD, "unit", ["Huyện Yên Lập"], PASSWORD, created_by=ADMIN, now=NOW)
        groups = folder / "groups.access.duckdb"
        shutil.copy(path, groups)
        for name, role, units in [("/cchc/quan-tri", "admin", ()), ("/cchc/lanh-dao", "province", ()),
                                  ("/cchc/yen-lap", "unit", ("Huyện Yên Lập", "Xã Tân Lập")),
                                  ("/cchc/so-xd", "unit", ("Sở Xây dựng", "Xã Tân Lập"))]:
            accounts.add_user(groups, name, role, units, created_by=ADMIN, kind="group", now=NOW)
    return {"path": path, "groups": groups}


def copied(source: Path, tmp_path: Path) -> Path:
    target = appdb.app_db_path(tmp_path / "egov_kpi.duckdb")
    shutil.copy(source, target)
    return target


@pytest.fixture
def path(prepared, tmp_path, hasher) -> Path:
    """An app database with an admin and a head of a district's office (role unit), both with a password."""
    return copied(prepared["path"], tmp_path)


@pytest.fixture
def groups(prepared, tmp_path, hasher) -> Path:
    """`path` with the groups /cchc/quan-tri (admin), /cchc/lanh-dao (province), /cchc/yen-lap (unit: Huyện Yên
    Lập, Xã Tân Lập) and /cchc/so-xd (unit: Sở Xây dựng, Xã Tân Lập)."""
    return copied(prepared["groups"], tmp_path)


def stored_hash(path, name: str) -> str | None:
    with appdb.opened(path) as con:
        return con.execute("SELECT password_hash FROM users WHERE name = $name", {"name": name}).fetchone()[0]


def refusal(path, email: str, password: str, now: dt.datetime = NOW) -> LoginRefused:
    with pytest.raises(LoginRefused) as caught:
        accounts.authenticate(path, email, password, now=now)
    return caught.value


def audit_rows(path, **filters) -> list[tuple]:
    frame = audit.events(path, limit=None, **filters).sort_values("id")
    return list(frame[["actor", "action", "target", "outcome"]].itertuples(index=False, name=None))


# --- passwords ---------------------------------------------------------------------------------------------


def test_production_hasher_is_argon2id_with_the_library_defaults():
    default = argon2.PasswordHasher()
    assert accounts.HASHER.type is argon2.Type.ID
    assert (accounts.HASHER.time_cost, accounts.HASHER.memory_cost, accounts.HASHER.parallelism) == (
        default.time_cost, default.memory_cost, default.parallelism)


def test_password_is_stored_as_an_argon2id_hash_that_verifies(path):
    stored = stored_hash(path, HEAD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert argon2.PasswordHasher().verify(stored, PASSWORD)
    account = accounts.authenticate(path, " TruongPhong@YenLap.PhuTho.gov.vn ", PASSWORD, now=NOW)
    assert (account.email, account.role, account.units) == (HEAD, "unit", ("Huyện Yên Lập",))
    assert account.last_login_at == NOW
    assert refusal(path, HEAD, WRONG).reason == "credentials"


def test_the_password_is_never_written_anywhere(path):
    accounts.set_password(path, HEAD, "Mot-mat-khau-moi", by=ADMIN)
    refusal(path, HEAD, WRONG)
    refusal(path, "nobody@phutho.gov.vn", WRONG)
    refusal(path, WRONG, WRONG)  # a password typed into the e-mail box
    accounts.authenticate(path, HEAD, "Mot-mat-khau-moi", now=NOW)
    with appdb.opened(path) as con:
        text = " ".join(str(v) for t in ("users", "audit_log") for row in con.execute(f"SELECT * FROM {t}").fetchall()
                        for v in row)
    for secret in (PASSWORD, WRONG, "Mot-mat-khau-moi"):
        assert secret not in text


def test_an_outdated_hash_is_replaced_at_the_next_login(path, monkeypatch):
    monkeypatch.setattr(accounts, "HASHER", CountingHasher(time_cost=2))
    before = stored_hash(path, HEAD)
    accounts.authenticate(path, HEAD, PASSWORD, now=NOW)
    after = stored_hash(path, HEAD)
    assert ",t=1," in before and ",t=2," in after
    assert accounts.authenticate(path, HEAD, PASSWORD, now=NOW).email == HEAD


@pytest.mark.parametrize("password", ["", "ngan-9-kt", " " * 9])
def test_short_passwords_are_refused(path, password):
    with pytest.raises(AccountError, match="ít nhất 10 ký tự"):
        accounts.set_password(path, HEAD, password, by=ADMIN)
    with pytest.raises(AccountError, match="at least 10 characters"):
        accounts.add_user(path, "moi@phutho.gov.vn", "province", password=password, created_by=ADMIN)
    assert accounts.get_user(path, "moi@phutho.gov.vn") is None


# --- lockout -----------------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_for_fifteen_minutes_even_for_the_right_password(path):
    for attempt in range(1, accounts.MAX_FAILURES):
        assert refusal(path, HEAD, WRONG, NOW + dt.timedelta(seconds=attempt)).reason == "credentials"
    fifth = NOW + dt.timedelta(minutes=1)
    locked = refusal(path, HEAD, WRONG, fifth)
    until = fifth + dt.timedelta(minutes=15)
    assert (locked.reason, locked.until) == ("locked", until)
    assert "08:16 10/03/2025" in str(locked) and "locked until" in str(locked)
    assert accounts.get_user(path, HEAD).locked_until == until

    during = refusal(path, HEAD, PASSWORD, until - dt.timedelta(seconds=1))
    assert (during.reason, during.until) == ("locked", until)  # attempts while locked do not extend it
    account = accounts.authenticate(path, HEAD, PASSWORD, now=until)
    assert (account.failed_logins, account.locked_until, account.last_login_at) == (0, None, until)


def test_a_lockout_that_ran_out_starts_a_fresh_count(path):
    for attempt in range(accounts.MAX_FAILURES):
        refusal(path, HEAD, WRONG, NOW + dt.timedelta(seconds=attempt))
    later = NOW + dt.timedelta(hours=1)
    assert refusal(path, HEAD, WRONG, later).reason == "credentials"
    assert (accounts.get_user(path, HEAD).failed_logins, accounts.get_user(path, HEAD).locked_until) == (1, None)


def test_success_resets_the_count_of_failures(path):
    for _ in range(accounts.MAX_FAILURES - 1):
        refusal(path, HEAD, WRONG)
    accounts.authenticate(path, HEAD, PASSWORD, now=NOW)
    for _ in range(accounts.MAX_FAILURES - 1):
        assert refusal(path, HEAD, WRONG).reason == "credentials"
    assert accounts.get_user(path, HEAD).failed_logins == accounts.MAX_FAILURES - 1


def test_setting_a_password_lifts_a_lockout(path):
    for _ in range(accounts.MAX_FAILURES):
        refusal(path, HEAD, WRONG)
    accounts.set_password(path, HEAD, "Mot-mat-khau-moi", by=ADMIN, now=NOW)
    assert accounts.authenticate(path, HEAD, "Mot-mat-khau-moi", now=NOW).email == HEAD


# --- refusals that look alike ------------------------------------------------------------------------------


def test_an_unknown_email_reads_like_a_wrong_password_and_costs_a_verification(path, hasher):
    wrong_password = refusal(path, HEAD, WRONG)
    before = hasher.verified
    unknown = refusal(path, "khong-co@phutho.gov.vn", PASSWORD)
    assert hasher.verified == before + 1
    assert (unknown.reason, str(unknown)) == (wrong_password.reason, str(wrong_password))
    assert str(unknown) == "Sai e-mail hoặc mật khẩu (wrong e-mail or password)"
    before = hasher.verified
    assert str(refusal(path, "not an e-mail", PASSWORD)) == str(wrong_password)
    assert hasher.verified == before + 1


def test_a_disabled_account_is_refused_even_with_the_right_password(path):
    accounts.set_disabled(path, HEAD, by=ADMIN)
    assert accounts.get_user(path, HEAD).disabled
    assert refusal(path, HEAD, PASSWORD).reason == "disabled"
    assert refusal(path, HEAD, WRONG).reason == "credentials"  # says nothing more to someone guessing
    accounts.set_disabled(path, HEAD, False, by=ADMIN)
    assert accounts.authenticate(path, HEAD, PASSWORD, now=NOW).email == HEAD


def test_single_sign_on_accounts_and_groups_have_no_password_login(path, hasher):
    accounts.add_user(path, "sso@phutho.gov.vn", "province", created_by=ADMIN)
    accounts.add_user(path, "/egov-kpi/so-xay-dung", "unit", ["Sở Xây dựng"], created_by=ADMIN, kind="group")
    assert not accounts.get_user(path, "sso@phutho.gov.vn").has_password
    before = hasher.verified
    assert refusal(path, "sso@phutho.gov.vn", PASSWORD).reason == "no_password"
    assert hasher.verified == before + 1
    assert refusal(path, "/egov-kpi/so-xay-dung", PASSWORD).reason == "credentials"
    with pytest.raises(AccountError, match="SSO"):
        accounts.add_user(path, "/egov-kpi/so-tu-phap", "province", password=PASSWORD, created_by=ADMIN, kind="group")


# --- accounts ----------------------------------------------------------------------------------------------


def test_first_admin_flow(tmp_path, hasher):
    path = tmp_path / "egov_kpi.access.duckdb"
    assert accounts.needs_first_admin(path)
    with pytest.raises(AccountError):
        accounts.create_first_admin(path, ADMIN, "ngan")
    assert accounts.needs_first_admin(path)
    admin = accounts.create_first_admin(path, " Admin@PhuTho.gov.vn", PASSWORD, now=NOW)
    assert (admin.email, admin.role, admin.has_password, admin.created_by) == (ADMIN, "admin", True, "first-run")
    assert not accounts.needs_first_admin(path)
    with pytest.raises(AccountError, match="already exists"):
        accounts.create_first_admin(path, "ke-gian@phutho.gov.vn", PASSWORD)
    assert accounts.get_user(path, "ke-gian@phutho.gov.vn") is None
    assert accounts.authenticate(path, ADMIN, PASSWORD, now=NOW).role == "admin"


def test_an_admin_group_counts_as_an_admin_for_the_first_run(tmp_path, hasher):
    path = tmp_path / "egov_kpi.access.duckdb"
    accounts.add_user(path, "/egov-kpi/quan-tri", "admin", created_by="cli:root", kind="group")
    assert not accounts.needs_first_admin(path)


@pytest.mark.parametrize(("role", "units", "message"), [
    ("unit", (), "cần ít nhất một đơn vị"),
    ("unit", ("  ",), "at least one unit"),
    ("admin", ("Huyện Yên Lập",), "units are for role unit only"),
    ("province", ("Sở Xây dựng",), "không gắn với đơn vị"),
    ("viewer", (), "unknown role"),
])
def test_role_and_units_must_agree(path, role, units, message):
    with pytest.raises(AccountError, match=message):
        accounts.add_user(path, "moi@phutho.gov.vn", role, units, created_by=ADMIN)
    assert accounts.get_user(path, "moi@phutho.gov.vn") is None


@pytest.mark.parametrize("email", ["", "khong-phai-email", "a@b", "hai@@phutho.gov.vn", "co khoang@phutho.gov.vn"])
def test_emails_are_checked(path, email):
    with pytest.raises(AccountError, match="not a valid e-mail"):
        accounts.add_user(path, email, "province", created_by=ADMIN)


def test_a_name_is_added_once_whatever_its_case(path):
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user(path, HEAD.upper(), "province", created_by=ADMIN)


def test_list_get_and_remove(path):
    accounts.add_user(path, "/egov-kpi/xa-tan-lap", "unit", ["Xã Tân Lập", "Xã Tân Lập", " Huyện Yên Lập "],
                      created_by=ADMIN, kind="group")
    listed = accounts.list_users(path)
    assert [(a.email, a.kind, a.role, a.units, a.has_password) for a in listed] == [
        (ADMIN, "user", "admin", (), True),
        (HEAD, "user", "unit", ("Huyện Yên Lập",), True),
        ("/egov-kpi/xa-tan-lap", "group", "unit", ("Xã Tân Lập", "Huyện Yên Lập"), False),
    ]
    assert accounts.get_user(path, "/egov-kpi/xa-tan-lap") is None  # a group is asked for as a group
    assert accounts.get_user(path, "/egov-kpi/xa-tan-lap", kind="group").units == ("Xã Tân Lập", "Huyện Yên Lập")
    accounts.remove_user(path, HEAD.upper(), by=ADMIN)
    assert accounts.get_user(path, HEAD) is None
    with pytest.raises(AccountError, match="no such account"):
        accounts.remove_user(path, HEAD, by=ADMIN)


def test_the_last_admin_cannot_be_removed_or_disabled(path):
    with pytest.raises(AccountError, match="last admin"):
        accounts.remove_user(path, ADMIN, by=ADMIN)
    with pytest.raises(AccountError, match="last admin"):
        accounts.set_disabled(path, ADMIN, by=ADMIN)
    accounts.add_user(path, "pho@phutho.gov.vn", "admin", password=PASSWORD, created_by=ADMIN)
    accounts.remove_user(path, ADMIN, by="pho@phutho.gov.vn")
    assert [a.email for a in accounts.list_users(path) if a.role == "admin"] == ["pho@phutho.gov.vn"]


# --- single sign-on ----------------------------------------------------------------------------------------


def test_sso_the_users_row_for_the_email_wins(groups):
    account = accounts.account_for_sso(groups, "TruongPhong@YenLap.PhuTho.gov.vn", ["/cchc/quan-tri"])
    assert (account.email, account.role, account.units) == (HEAD, "unit", ("Huyện Yên Lập",))


def test_sso_groups_give_the_union_of_their_units(groups):
    account = accounts.account_for_sso(groups, "can-bo@phutho.gov.vn", ["/cchc/yen-lap", "/khac", "/cchc/so-xd"])
    assert (account.email, account.role) == ("can-bo@phutho.gov.vn", "unit")
    assert sorted(account.units) == ["Huyện Yên Lập", "Sở Xây dựng", "Xã Tân Lập"]


def test_sso_the_strongest_role_wins_and_drops_the_units(groups):
    for names, role in [(["/cchc/yen-lap", "/cchc/lanh-dao"], "province"),
                        (["/cchc/lanh-dao", "/cchc/quan-tri", "/cchc/so-xd"], "admin")]:
        account = accounts.account_for_sso(groups, "can-bo@phutho.gov.vn", names)
        assert (account.role, account.units) == (role, ())


def test_sso_without_a_match_or_when_disabled_gives_nothing(groups):
    assert accounts.account_for_sso(groups, "la@gmail.com", ["/khac", "/CCHC/QUAN-TRI"]) is None
    assert accounts.account_for_sso(groups, "la@gmail.com", []) is None
    accounts.set_disabled(groups, HEAD, by=ADMIN)
    assert accounts.account_for_sso(groups, HEAD, ["/cchc/quan-tri"]) is None


# --- sessions ----------------------------------------------------------------------------------------------


def test_session_expires_after_thirty_idle_minutes_by_default(monkeypatch):
    monkeypatch.delenv(accounts.SESSION_ENV, raising=False)
    assert not accounts.session_expired(NOW, NOW + dt.timedelta(minutes=30))
    assert accounts.session_expired(NOW, NOW + dt.timedelta(minutes=30, seconds=1))
    assert accounts.session_expired(None, NOW)
    assert not accounts.session_expired(NOW, NOW + dt.timedelta(minutes=50), minutes=60)


@pytest.mark.parametrize(("value", "minutes"), [("10", 10), ("120", 120), ("", 30), ("abc", 30), ("0", 30)])
def test_session_minutes_from_the_environment(monkeypatch, value, minutes):
    monkeypatch.setenv(accounts.SESSION_ENV, value)
    assert accounts.session_minutes() == minutes
    assert accounts.session_expired(NOW, NOW + dt.timedelta(minutes=minutes, seconds=1))
    assert not accounts.session_expired(NOW, NOW + dt.timedelta(minutes=minutes))


# --- the audit rows of accounts ----------------------------------------------------------------------------


def test_account_changes_are_audited(path):
    accounts.set_password(path, HEAD, "Mot-mat-khau-moi", by=ADMIN)
    accounts.set_disabled(path, HEAD, by=ADMIN)
    accounts.remove_user(path, HEAD, by=ADMIN)
    with pytest.raises(AccountError):
        accounts.remove_user(path, HEAD, by=ADMIN)
    frame = audit.events(path, action="users_change").sort_values("id")
    assert list(frame[["actor", "role", "target"]].itertuples(index=False, name=None)) == [
        (ADMIN, "admin", ADMIN), (ADMIN, "admin", HEAD), (ADMIN, "admin", HEAD), (ADMIN, "admin", HEAD),
        (ADMIN, "admin", HEAD)]
    assert [d["change"] for d in frame["detail"].map(json.loads)] == [
        "add", "add", "password", "disable", "remove"]  # the refused removal changed nothing, so no row


def test_logins_failures_and_lockout_are_audited(path):
    accounts.authenticate(path, HEAD, PASSWORD, now=NOW)
    refusal(path, "khong-co@phutho.gov.vn", WRONG)
    for _ in range(accounts.MAX_FAILURES):
        refusal(path, HEAD, WRONG)
    refusal(path, HEAD, PASSWORD)
    rows = audit_rows(path, action=["login", "login_failed", "lockout"])
    assert rows == [(HEAD, "login", "", "ok"), ("khong-co@phutho.gov.vn", "login_failed", "", "refused")] + [
        (HEAD, "login_failed", "", "refused")] * 5 + [(HEAD, "lockout", "", "refused"),
                                                     (HEAD, "login_failed", "", "refused")]
    reasons = audit.events(path, action="login_failed", actor=HEAD, limit=None).sort_values("id")["detail"]
    assert [json.loads(d)["reason"] for d in reasons] == ["credentials"] * 5 + ["locked"]


# --- the command line --------------------------------------------------------------------------------------


def users(*args: str, store, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`python -m kpi users ...` in a subprocess, as an administrator runs it."""
    env = {k: v for k, v in os.environ.items() if k != db.DB_ENV}
    env[db.DB_ENV] = str(store)
    return subprocess.run([sys.executable, "-m", "kpi", "users", *args], cwd=PROJECT_ROOT, env=env, input=stdin,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys, hasher):
    """The same command in this process (a subprocess costs a second): returns (status, stdout, stderr)."""
    monkeypatch.setenv(db.DB_ENV, str(tmp_path / "egov_kpi.duckdb"))

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        status = main(["users", *args])
        out, err = capsys.readouterr()
        return status, out, err
    return run


@pytest.mark.slow
def test_cli_adds_lists_and_refuses_in_a_subprocess(tmp_path):
    store = tmp_path / "egov_kpi.duckdb"
    path = appdb.app_db_path(store)
    added = users("add", "Admin@PhuTho.gov.vn", "--role", "admin", "--password-stdin", store=store,
                  stdin=PASSWORD + "\n")
    assert (added.returncode, added.stderr) == (0, ""), added.stderr
    assert added.stdout == f"Đã thêm (added) user {ADMIN}: admin\n"
    assert path == tmp_path / "egov_kpi.access.duckdb" and path.is_file() and not store.exists()
    assert accounts.authenticate(path, ADMIN, PASSWORD).role == "admin"

    refused = users("add", HEAD, "--role", "unit", store=store)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == ("Từ chối (refused): Vai trò unit cần ít nhất một đơn vị, ví dụ --unit \"Huyện Yên Lập\" "
                              "(role unit needs at least one unit)\n")

    listed = users("list", store=store)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and "name" in lines[0] and "last login" in lines[0]
    assert lines[1].split()[:5] == [ADMIN, "user", "admin", "–", "có"]

    actor = f"cli:{getpass.getuser()}"
    frame = audit.events(path, action="users_change").sort_values("id")
    assert list(frame[["actor", "role", "target", "outcome"]].itertuples(index=False, name=None)) == [
        (actor, "cli", ADMIN, "ok"), (actor, "cli", HEAD, "refused")]


def test_cli_manages_accounts_and_groups(cli, tmp_path):
    path = tmp_path / "egov_kpi.access.duckdb"
    assert cli("add", ADMIN, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    status, out, _ = cli("add", HEAD, "--role", "unit", "--unit", "Huyện Yên Lập", "--unit", "Xã Tân Lập")
    assert (status, out) == (0, f"Đã thêm (added) user {HEAD}: unit — Huyện Yên Lập; Xã Tân Lập\n")
    assert cli("add", "/cchc/so-xd", "--group", "--role", "unit", "--unit", "Sở Xây dựng")[0] == 0
    assert cli("passwd", HEAD, "--password-stdin", stdin="Mot-mat-khau-moi\n")[0] == 0
    assert accounts.authenticate(path, HEAD, "Mot-mat-khau-moi").units == ("Huyện Yên Lập", "Xã Tân Lập")
    assert cli("disable", HEAD)[0] == 0
    assert accounts.get_user(path, HEAD).disabled

    status, out, _ = cli("list")
    lines = out.splitlines()
    assert status == 0 and len(lines) == 4
    assert lines[2].split()[:2] == [HEAD, "[vô"] and "Huyện Yên Lập; Xã Tân Lập" in lines[2]
    assert lines[3].split()[:3] == ["/cchc/so-xd", "group", "unit"] and "không (no)" in lines[3]

    assert cli("remove", "/cchc/so-xd", "--group") == (0, "Đã xoá (removed) /cchc/so-xd\n", "")
    assert cli("remove", HEAD.upper()) == (0, f"Đã xoá (removed) {HEAD}\n", "")
    assert [a.email for a in accounts.list_users(path)] == [ADMIN]
    changes = audit.events(path, action="users_change").sort_values("id")
    assert [json.loads(d)["change"] for d in changes["detail"]] == [
        "add", "add", "add", "password", "disable", "remove", "remove"]
    assert set(changes["actor"]) == {f"cli:{getpass.getuser()}"}


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("add", "a@phutho.gov.vn", "--role", "viewer"), "", "Vai trò không hợp lệ (unknown role): 'viewer'"),
    (("add", "a@phutho.gov.vn", "--role", "unit"), "", "role unit needs at least one unit"),
    (("add", "a@phutho.gov.vn", "--role", "admin", "--unit", "Sở Xây dựng"), "", "units are for role unit only"),
    (("add", ADMIN.upper(), "--role", "province"), "", "Tài khoản đã có (already exists): " + ADMIN),
    (("add", "khong-phai-email", "--role", "province"), "", "not a valid e-mail address"),
    (("add", "a@phutho.gov.vn", "--role", "province", "--password-stdin"), "ngan\n", "at least 10 characters"),
    (("remove", "khong-co@phutho.gov.vn"), "", "Không có tài khoản (no such account)"),
    (("passwd", "khong-co@phutho.gov.vn", "--password-stdin"), PASSWORD + "\n", "no such account"),
    (("passwd", ADMIN, "--password-stdin"), "", "at least 10 characters"),
    (("remove", ADMIN), "", "is the last admin"),
])
def test_cli_refuses_with_exit_status_2_and_a_clear_message(cli, path, args, stdin, message):
    status, out, err = cli(*args, stdin=stdin)
    assert (status, out) == (2, "")
    assert err.startswith("Từ chối (refused): ") and message in err, err
    assert [(a.email, a.role) for a in accounts.list_users(path)] == [(ADMIN, "admin"), (HEAD, "unit")]
    assert list(audit.events(path, outcome="refused")["action"]) == ["users_change"]


def test_cli_warns_about_a_unit_the_data_does_not_name(cli, tmp_path):
    con = db.connect(tmp_path / "egov_kpi.duckdb")
    con.execute("INSERT INTO dossiers (dossier_code, procedure_code, district, commune, agency_name, channel, "
                "received_at, status, import_id) VALUES ('H26-1', '1.001234', 'Huyện Yên Lập', 'Xã Tân Lập', "
                "'UBND huyện Yên Lập', 'online', TIMESTAMP '2025-01-02 08:00:00', 4, 1)")
    con.close()
    status, _, err = cli("add", HEAD, "--role", "unit", "--unit", "Huyện Yên Lập", "--unit", "Huyện Yên Lâp")
    assert status == 0
    assert err == ("Cảnh báo (warning): không thấy đơn vị 'Huyện Yên Lâp' trong dữ liệu (unit not found in the data)"
                   "\n")
    assert accounts.get_user(tmp_path / "egov_kpi.access.duckdb", HEAD).units == ("Huyện Yên Lập", "Huyện Yên Lâp")
