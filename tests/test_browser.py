"""Layer 5: the dashboard in a real browser (Debian's Chromium through Playwright; harness in tests/browser.py).

Every page the sidebar navigation lists is opened, so a page added to `dashboard.py` is covered without
touching this file. Screenshots go to test-output/screenshots/ (vi-<page>.png, en-<page>.png).

The drill-down tests click a bar of the Localities and Departments rankings and check the breadcrumb, the
address and the numbers drawn against `kpi.engine.kpi_table` over a copy of the same fixture store
(drill-*.png).
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path
from urllib.parse import urljoin

import pytest

from kpi import db, drilldown, periods
from kpi.engine import kpi_table
from kpi.formatting import format_int, format_percent
from kpi.metrics import metric
from kpi.pack import build_pack, slides

pytest.register_assert_rewrite("browser")  # its helpers' asserts explain themselves, as in a test module
from browser import (  # noqa: E402
    add_account,
    assert_no_exception,
    choose_radio,
    click_nav,
    click_plotly_bar,
    grid_rows,
    nav_links,
    new_page,
    open_page,
    open_tab,
    plotly_bars,
    query_params,
    rerun,
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


# --- drill-down -------------------------------------------------------------------------------------

# A month of the fixture store (its samples: 2024 Q1, 2025 Q3, 2026 Q4) before the 1 July 2025 reform, so the
# Localities page drills province → district → commune; the pages' default KPI, written in the address.
DRILL_MONTH = periods.month(2024, 2)
DRILL_METRIC = "on_time_rate"
DRILL_QUERY = {"ky": "month", "nam": "2024", "so": "2", "chi_so": DRILL_METRIC, "lang": "vi"}
ROOT_CRUMB = drilldown.ROOT_LABEL[0]  # "Toàn tỉnh"
DATA_TAB, CHART_TAB = "Xem bảng số liệu", "Biểu đồ"


@pytest.fixture(scope="module", autouse=True)
def engine_db(fixture_db: Path, tmp_path_factory) -> Path:
    """A copy of the fixture store for the tests' own engine queries. Taken before the dashboard's server
    opens the store (an autouse fixture is set up before the other fixtures of its scope): the server holds
    it as DuckDB's one writer, and no other process may open a file a writer holds, not even read-only."""
    copy = tmp_path_factory.mktemp("engine") / fixture_db.name
    shutil.copyfile(fixture_db, copy)
    wal = fixture_db.with_name(fixture_db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    return copy


def engine_ranking(path: Path, by: str, where: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """What a ranking chart of DRILL_METRIC in DRILL_MONTH should show, from the engine over the store at
    `path` (read-only): per unit drawn (the lowest-ranked RANKING_LIMIT, as the pages draw them), its value,
    numerator and denominator written as the page writes them ("98,23%", "1.234")."""
    assert metric(DRILL_METRIC).unit == "rate", "the expected labels are written with format_percent"
    con = db.connect(path, read_only=True)
    try:
        table = kpi_table(con, DRILL_MONTH, by=by, where=where)
    finally:
        con.close()
    frame = drilldown.ranking_frame(table, DRILL_METRIC, limit=drilldown.RANKING_LIMIT)
    return {key: {"value": format_percent(value), "numerator": format_int(numerator),
                  "denominator": format_int(denominator)}
            for key, value, numerator, denominator in
            zip(frame["key"], frame["value"], frame["numerator"], frame["denominator"], strict=True)}


def crumbs(page, key: str) -> list[tuple[str, bool]]:
    """The breadcrumb (`ui.breadcrumb(..., key=key)`): (label, clickable) of each step, in order."""
    buttons = page.locator(f".st-key-{key} button")
    return [(text.strip(), enabled) for text, enabled in buttons.evaluate_all(
        "buttons => buttons.map(b => [b.innerText, !b.disabled])")]


def crumb_button(page, key: str, label: str):
    return page.locator(f".st-key-{key} button").filter(has_text=label).first


def middle_unit(expected: dict[str, dict[str, str]]) -> str:
    """A unit ranked in the middle: its bar is mid-chart, clear of the app's fixed header (in a chart as
    tall as the window, `click_plotly_bar` scrolls the chart, not the bar, into view, and the top bar stays
    under the header, which takes the mouse)."""
    assert len(expected) >= 3, f"too few units to drill into: {list(expected)}"
    return list(expected)[len(expected) // 2]


def assert_ranking(page, expected: dict[str, dict[str, str]], what: str) -> None:
    """The ranking chart (the page's first Plotly chart) draws exactly the `expected` units, each bar
    labelled with the engine's value."""
    drawn = dict(plotly_bars(page, 0))
    assert set(drawn) == set(expected), (
        f"{what}: the ranking draws {sorted(drawn)}, the engine ranks {sorted(expected)}")
    wrong = {unit: (label, expected[unit]["value"]) for unit, label in drawn.items()
             if label != expected[unit]["value"]}
    assert not wrong, f"{what}: bar labels differ from the engine (unit: (drawn, engine)): {wrong}"


def assert_data_tab(page, expected: dict[str, dict[str, str]], what: str) -> None:
    """The ranking's data tab: every row it has drawn (the first dozen or so) holds the engine's value,
    numerator and denominator of its unit. Leaves the chart tab shown."""
    open_tab(page, DATA_TAB)
    try:
        rows = grid_rows(page)
    finally:
        open_tab(page, CHART_TAB)
    assert rows, f"{what}: the data tab shows no row"
    columns = {"value": "Giá trị", "numerator": "Tử số", "denominator": "Mẫu số"}
    wrong = []
    for row in rows:
        unit = row.get("Đơn vị")
        assert unit in expected, f"{what}: the data tab lists {unit!r}, which the engine does not rank: {row}"
        shown = {name: row.get(header) for name, header in columns.items()}
        if shown != expected[unit]:
            wrong.append(f"{unit}: shown {shown}, engine {expected[unit]}")
    assert not wrong, f"{what}: data tab rows differ from the engine:\n" + "\n".join(wrong)


def sidebar_choice(page, label: str) -> str:
    """The value a sidebar selectbox shows."""
    return page.get_by_role("combobox", name=label, exact=True).first.input_value()


def test_drill_down_localities(page, dashboard_url: str, engine_db: Path) -> None:
    """Localities, February 2024 (districts still exist): a click on a district's bar drills into its
    communes (breadcrumb "Toàn tỉnh › <district>", huyen=<district> in the address, the sidebar's district
    filter set, the communes ranked with the engine's numbers); the breadcrumb's "Toàn tỉnh" goes back."""
    districts = engine_ranking(engine_db, "district")
    district = middle_unit(districts)
    communes = engine_ranking(engine_db, "commune", {"district": district})
    assert communes, f"the engine ranks no commune of {district}"

    open_page(page, with_query(urljoin(dashboard_url, "dia-ban"), **DRILL_QUERY))
    assert_no_exception(page)
    assert title(page) == "Địa bàn"
    assert crumbs(page, "dia-ban-crumbs") == [(ROOT_CRUMB, False)]
    assert "huyen" not in query_params(page)
    assert_ranking(page, districts, "province view")
    screenshot(page, "drill-1-province")

    click_plotly_bar(page, 0, district)
    assert_no_exception(page)
    assert crumbs(page, "dia-ban-crumbs") == [(ROOT_CRUMB, True), (district, False)]
    params = query_params(page)
    assert params.get("huyen") == district, f"address after the drill: {page.evaluate('location.href')}"
    assert {k: params.get(k) for k in DRILL_QUERY} == DRILL_QUERY, "the drill changed the period or the KPI"
    assert sidebar_choice(page, "Quận/Huyện") == district
    assert [h for h in headings(page) if h.startswith("Xếp hạng xã/phường ")], headings(page)
    assert_ranking(page, communes, f"communes of {district}")
    screenshot(page, "drill-2-district")
    assert_data_tab(page, communes, f"communes of {district}")
    assert_no_exception(page)

    rerun(page, crumb_button(page, "dia-ban-crumbs", ROOT_CRUMB).click)
    assert_no_exception(page)
    assert crumbs(page, "dia-ban-crumbs") == [(ROOT_CRUMB, False)]
    params = query_params(page)
    assert "huyen" not in params, f"address after going back: {page.evaluate('location.href')}"
    assert {k: params.get(k) for k in DRILL_QUERY} == DRILL_QUERY
    assert sidebar_choice(page, "Quận/Huyện") == "Tất cả"
    assert [h for h in headings(page) if h.startswith("Xếp hạng quận/huyện ")], headings(page)
    assert_ranking(page, districts, "province view after going back")
    screenshot(page, "drill-3-back")


def test_drill_down_departments(page, dashboard_url: str, engine_db: Path) -> None:
    """Departments, February 2024: the agencies of the provincial level (the page's default level) ranked
    with the engine's numbers; a click on an agency's bar puts it in the breadcrumb, the address
    (don_vi=<agency>) and the sidebar's department filter, and ranks its sectors."""
    agencies = engine_ranking(engine_db, "agency", {"agency_level": "province"})
    agency = middle_unit(agencies)
    sectors = engine_ranking(engine_db, "sector", {"agency": agency})
    assert sectors, f"the engine ranks no sector of {agency}"

    open_page(page, with_query(urljoin(dashboard_url, "so-nganh"), **DRILL_QUERY))
    assert_no_exception(page)
    assert title(page) == "Sở, ngành"
    assert crumbs(page, "so-nganh-crumbs") == [(ROOT_CRUMB, False)]
    assert_ranking(page, agencies, "agencies")
    screenshot(page, "drill-departments-1")

    click_plotly_bar(page, 0, agency)
    assert_no_exception(page)
    assert crumbs(page, "so-nganh-crumbs") == [(ROOT_CRUMB, True), (agency, False)]
    params = query_params(page)
    assert params.get("don_vi") == agency, f"address after the drill: {page.evaluate('location.href')}"
    assert {k: params.get(k) for k in DRILL_QUERY} == DRILL_QUERY, "the drill changed the period or the KPI"
    assert sidebar_choice(page, "Sở, ngành, đơn vị") == agency
    assert_ranking(page, sectors, f"sectors of {agency}")
    screenshot(page, "drill-departments-2")


# --- presentation -----------------------------------------------------------------------------------


def test_presentation_next_twice(page, dashboard_url: str, engine_db: Path) -> None:
    """Presentation, the first quarter of 2024: two clicks on "Tiếp" show the third screen (counter "3/N",
    trang=3 in the address, that screen's title), the numbers those of the meeting pack built from the store;
    the "Toàn màn hình" switch folds the sidebar away and the screen's value is in large type."""
    con = db.connect(engine_db, read_only=True)
    try:
        screens = slides(build_pack(con, periods.quarter(2024, 1)))
    finally:
        con.close()
    query = {"ky": "quarter", "nam": "2024", "so": "1", "lang": "vi"}
    open_page(page, with_query(urljoin(dashboard_url, "trinh-chieu"), **query))
    assert_no_exception(page)
    assert title(page) == screens[0].title
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_attribute("data-collapsed") == "false"  # the filters and the pages stay at hand
    rerun(page, page.locator(".st-key-slide-full label").click)  # "Toàn màn hình": the sidebar folds away
    page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]').dataset.collapsed === 'true'")

    def counter() -> str:
        return page.locator(".st-key-slide-counter").inner_text().strip()

    assert counter() == f"1/{len(screens)}"
    for _ in range(2):
        rerun(page, page.locator(".st-key-slide-next button").click)
        assert_no_exception(page)
    assert counter() == f"3/{len(screens)}"
    assert title(page) == screens[2].title
    assert query_params(page).get("trang") == "3"
    value = page.locator(".st-key-slide-value p").first
    assert value.inner_text().strip() == screens[2].value_text
    assert float(value.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 80  # 6rem
    screenshot(page, "presentation-3")


UNIT_EMAIL, UNIT_PASSWORD = "huyen@egov-kpi.test", "mat-khau-don-vi-1"


def test_a_unit_account_logged_in(browser, dashboard_url: str, fixture_db: Path, engine_db: Path) -> None:
    """Issue 7: a district's head logs in through the form. The navigation has no Data, Accounts or Audit log
    page; Localities opens on the district, its communes ranked with the engine's numbers for that district;
    another district's drill-down, asked for by an edited address, is refused and draws no chart or table."""
    districts = engine_ranking(engine_db, "district")
    own, other = list(districts)[0], list(districts)[-1]
    communes = engine_ranking(engine_db, "commune", {"district": own})
    add_account(fixture_db, UNIT_EMAIL, UNIT_PASSWORD, "unit", [own])
    tab = new_page(browser, login=(UNIT_EMAIL, UNIT_PASSWORD))
    try:
        open_page(tab, with_query(urljoin(dashboard_url, "dia-ban"), **DRILL_QUERY))
        assert_no_exception(tab)
        assert title(tab) == "Địa bàn"
        pages = {label for label, _ in nav_links(tab)}
        assert not pages & {"Dữ liệu", "Tài khoản", "Nhật ký"} and "Địa bàn" in pages, pages
        assert sidebar_choice(tab, "Quận/Huyện") == own
        assert_ranking(tab, communes, f"communes of the account's own {own}")
        screenshot(tab, "unit-1-own-district")

        open_page(tab, with_query(urljoin(dashboard_url, "dia-ban"), **DRILL_QUERY, huyen=other))
        refusal = tab.locator('[data-testid="stAlertContentError"]')
        assert refusal.count() and "ngoài phạm vi" in refusal.first.inner_text()
        assert tab.locator('[data-testid="stPlotlyChart"]').count() == 0
        assert tab.locator('[data-testid="stDataFrame"]').count() == 0
        screenshot(tab, "unit-2-other-district-refused")
    finally:
        tab.context.close()
