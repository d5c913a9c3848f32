"""Streamlit AppTest of one page or of the whole dashboard, shared by the page tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from kpi import ui


def app_test(script: str | Path, lang: str = "vi", *, tables: bool = True, **params: str) -> AppTest:
    """Run `script` with URL parameters `lang` and `params`.

    `tables`: every chart's "Xem bảng số liệu" tab drawn at once, as if opened (the pages draw it only when
    a person opens it); the tests read the numbers there."""
    at = AppTest.from_file(str(script), default_timeout=120)
    at.query_params.update({"lang": lang, **params})
    if tables:
        at.session_state[ui.TABLES_OPEN] = True
    return at.run()
