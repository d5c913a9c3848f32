"""Layer 5: the dashboard in a real browser (Debian's Chromium through Playwright; harness in tests/browser.py).

Every page the sidebar navigation lists is opened, so a page added to `dashboard.py` is covered without
touching this file. Screenshots go to test-output/screenshots/ (vi-<page>.png, en-<page>.png).
"""

from __future__ import annotations

import re
import textwrap

import pytest

pytest.register_assert_rewrite("browser")  # its helpers' asserts explain themselves, as in a test module
from browser import (  # noqa: E402
    assert_no_exception,
    choose_radio,
    click_nav,
    click_plotly_bar,
    nav_links,
    open_page,
    screenshot,
    streamlit_server,
    title,
    with_query,
)

pytest_plugins = ["browser"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Letters that only Vietnamese writes (tone marks, ă â đ ê ô ơ ư): none may appear in an English label.
VIETNAMESE = re.compile("[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE)


def slug(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] if url.rstrip("/").count("/") > 2 else "home"


def headings(page) -> list[str]:
    return [text.strip() for text in page.locator('[data-testid="stMain"] :is(h1, h2, h3)').all_inner_texts()
            if text.strip()]


def check_pages(page, pages: list[tuple[str, str]], visit, checks, prefix: str) -> None:
    """For every page: `visit(url)`, no exception, a title, `checks()`, a screenshot `<prefix>-<page>.png`.
    All pages are tried before failing, so one broken page does not hide another."""
    problems = []
    for label, url in pages:
        try:
            visit(url)
            assert_no_exception(page)
            assert title(page), "no title (h1)"
            checks()
        except Exception as exc:  # noqa: BLE001 - reported together below
            problems.append(f"{label or url}: {exc}")
        try:
            screenshot(page, f"{prefix}-{slug(url)}")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{label or url}: no screenshot: {exc}")
    assert not problems, "\n\n".join(problems)


def test_every_page_renders(page, dashboard_pages: list[tuple[str, str]]) -> None:
    """Each page, opened by its link (?lang=vi), runs without an exception and shows a title."""
    check_pages(page, dashboard_pages, lambda url: open_page(page, with_query(url, lang="vi")), lambda: None, "vi")


def test_english_labels(page, dashboard_url: str, dashboard_pages: list[tuple[str, str]]) -> None:
    """Opened with ?lang=en, then going from page to page through the sidebar (one session, as a person
    does): every page's headings and the navigation are in English (no Vietnamese letters), and the
    navigation differs from the Vietnamese one."""
    pages = dashboard_pages
    vietnamese_nav = [name for name, _ in pages]
    open_page(page, with_query(dashboard_url, lang="en"))

    def visit(url: str) -> None:
        if len(pages) > 1:
            click_nav(page, url)

    def in_english() -> None:
        vietnamese = [h for h in headings(page) if VIETNAMESE.search(h)]
        assert not vietnamese, f"Vietnamese headings in English: {vietnamese}"
        english_nav = [name for name, _ in nav_links(page)]
        assert not [n for n in english_nav if VIETNAMESE.search(n)], f"navigation not in English: {english_nav}"
        if len(pages) > 1:
            assert english_nav != vietnamese_nav, "navigation labels do not change with ?lang=en"

    check_pages(page, pages, visit, in_english, "en")


def test_language_radio(page, dashboard_url: str) -> None:
    """Choosing English in the sidebar switches the page to English and keeps it in the URL."""
    open_page(page, with_query(dashboard_url, lang="vi"))
    vietnamese_title = title(page)
    choose_radio(page, "English", label="Language")
    assert_no_exception(page)
    assert "lang=en" in page.evaluate("location.search")
    assert title(page) != vietnamese_title and not VIETNAMESE.search(title(page))


PLOTLY_APP = """
import plotly.graph_objects as go
import streamlit as st

stacked = go.Figure()
stacked.add_bar(x=["Hà Nội", "Huế", "Đà Nẵng"], y=[3, 5, 2], name="online")
stacked.add_bar(x=["Hà Nội", "Huế", "Đà Nẵng"], y=[1, 2, 4], name="direct")
stacked.update_layout(barmode="stack")
event = st.plotly_chart(stacked, on_select="rerun", key="cities")
st.plotly_chart(go.Figure(go.Bar(x=["2024-01-01", "2024-02-01", "2024-03-01"], y=[4, 6, 5])),
                on_select="rerun", key="months")
st.plotly_chart(go.Figure(go.Bar(y=["Sở A", "Sở B"], x=[7, 9], orientation="h")), on_select="rerun", key="units")
st.markdown("cities: " + ", ".join(f"{p['x']}/{p['curve_number']}" for p in event.selection.points))
st.markdown("months: " + ", ".join(p["x"] for p in st.session_state.months.selection.points))
st.markdown("units: " + ", ".join(p["y"] for p in st.session_state.units.selection.points))
"""


@pytest.fixture(scope="module")
def plotly_app_url(tmp_path_factory, browser):
    folder = tmp_path_factory.mktemp("plotly_app")
    (folder / "app.py").write_text(textwrap.dedent(PLOTLY_APP), encoding="utf-8")
    with streamlit_server(folder / "app.py", cwd=folder) as url:
        yield url


def test_click_plotly_bar_returns_the_selection(page, plotly_app_url: str) -> None:
    """The drill-down helper: a click on a bar reaches the app as its chart selection."""
    open_page(page, plotly_app_url)

    def shown(prefix: str) -> str:
        return page.get_by_text(re.compile(f"^{prefix}:")).inner_text()

    click_plotly_bar(page, 0, "Huế")
    assert shown("cities") == "cities: Huế/0"
    click_plotly_bar(page, 0, "Đà Nẵng", trace="direct")
    assert shown("cities") == "cities: Đà Nẵng/1"
    click_plotly_bar(page, 1, "2024-02-01")
    assert shown("months") == "months: 2024-02-01"
    click_plotly_bar(page, 2, "Sở B")
    assert shown("units") == "units: Sở B"
    assert_no_exception(page)
    screenshot(page, "plotly-click")
    with pytest.raises(AssertionError, match="no bar"):
        click_plotly_bar(page, 0, "Cần Thơ")
