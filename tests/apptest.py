"""Streamlit AppTest of one page or of the whole dashboard, shared by the page tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from streamlit.testing.v1 import AppTest

from kpi import accounts, appdb, db, ui

ADMIN = "quantri@egov-kpi.test"  # the administrator the page tests log in as, by single sign-on
# A single-sign-on configuration for AppTest: its presence switches the dashboard to st.login / st.user.
SSO_SECRETS = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "egov-kpi-tests",
               "client_id": "egov-kpi", "client_secret": "tests",
               "server_metadata_url": "https://sso.example.invalid/.well-known/openid-configuration"}


def account(email: str = ADMIN, role: str = "admin", units: Sequence[str] = ()) -> str:
    """Make sure the store's app database (beside EGOV_KPI_DB) has this single-sign-on account; its e-mail."""
    path = appdb.app_db_path(db.default_db_path())
    found = accounts.get_user(path, email)
    if found is not None and (found.role, tuple(found.units)) != (role, tuple(units)):
        accounts.remove_user(path, email, by="tests")  # given another role or units by an earlier test
        found = None
    if found is None:
        accounts.add_user(path, email, role, units, created_by="tests")
    return email


def app_test(script: str | Path, lang: str = "vi", *, tables: bool = True, user: str = ADMIN,
             role: str = "admin", units: Sequence[str] = (), run: bool = True, **params: str) -> AppTest:
    """Run `script` with URL parameters `lang` and `params`, logged in by single sign-on (`at.user`) as `user`
    with `role` and `units` (an administrator by default).

    `tables`: every chart's "Xem bảng số liệu" tab drawn at once, as if opened (the pages draw it only when
    a person opens it); the tests read the numbers there."""
    account(user, role, units)
    at = AppTest.from_file(str(script), default_timeout=120)
    at.secrets["auth"] = dict(SSO_SECRETS)
    at.user = {"is_logged_in": True, "email": user}
    at.query_params.update({"lang": lang, **params})
    if tables:
        at.session_state[ui.TABLES_OPEN] = True
    return at.run() if run else at
