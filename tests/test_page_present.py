"""Layer 4: the Presentation page (pages/trinh_chieu.py) over a store of three bundled sample files (2024 Q1,
2025 Q3, 2026 Q4; the browser tests' fixture): one screen of kpi.pack.slides at a time, moved with the previous
and next buttons, the screen's number in the address (?trang=N), the numbers those of the KPI engine."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import pytest
from apptest import app_test
from streamlit.testing.v1 import AppTest

from kpi import db, meeting, periods
from kpi import pack as pack_model
from kpi.engine import kpi_table
from kpi.formatting import format_int, format_value
from kpi.views import HEADLINE_METRICS

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "trinh_chieu.py")
QUARTER = periods.quarter(2025, 3)  # after the 1 July 2025 reform: communes ranked
QUARTER_URL = {"ky": "quarter", "nam": "2025", "so": "3"}


@pytest.fixture
def store(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(db.DB_ENV, str(sample_db))
    return sample_db


@pytest.fixture
def screens(store: Path) -> list[pack_model.Slide]:
    """The screens the page must show for QUARTER, from the pack built straight from the store."""
    con = db.connect(store)
    try:
        return pack_model.slides(pack_model.build_pack(con, QUARTER))
    finally:
        con.close()


def run_page(lang: str = "vi", **params: str) -> AppTest:
    at = app_test(PAGE, lang, **params)
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> tuple[str, str, str]:
    """(counter, title, big value) of the screen drawn."""
    texts = [m.value for m in at.markdown]
    return texts[0], at.title[0].value, texts[1] if len(texts) > 1 else ""


def test_first_screen_then_next(store: Path, screens: list[pack_model.Slide]) -> None:
    count = len(screens)
    assert count == 15 and [s.kind for s in screens[:2]] == ["cover", "kpi"]
    at = run_page(**QUARTER_URL)
    assert shown(at)[:2] == (f"1/{count}", "Báo cáo kết quả thực hiện các chỉ số cải cách hành chính")
    assert at.query_params["trang"] == "1"
    cover = at.table[0].value  # the headline summary, in large type
    assert list(cover.iloc[:, 0]) == list(screens[0].table.iloc[:, 0])
    at.button(key="slide-next").click().run()
    assert not at.exception
    assert shown(at) == (f"2/{count}", screens[1].title, screens[1].value_text)
    assert at.query_params["trang"] == "2"
    at.button(key="slide-next").click().run()
    assert shown(at)[:2] == (f"3/{count}", screens[2].title)
    at.button(key="slide-previous").click().run()
    assert shown(at)[:2] == (f"2/{count}", screens[1].title) and at.query_params["trang"] == "2"


def test_address_opens_its_screen(store: Path, screens: list[pack_model.Slide]) -> None:
    count = len(screens)
    for number in (5, count):
        at = run_page(**QUARTER_URL, trang=str(number))
        assert shown(at)[:2] == (f"{number}/{count}", screens[number - 1].title)
    at.button(key="slide-next").click().run()  # past the last screen: stays there
    assert shown(at)[0] == f"{count}/{count}" and at.query_params["trang"] == str(count)
    for wrong, number in (("999", count), ("0", 1), ("abc", 1)):
        at = run_page(**QUARTER_URL, trang=wrong)
        assert shown(at)[0] == f"{number}/{count}" and at.query_params["trang"] == str(number)


def test_previous_from_the_first_stays_there(store: Path, screens: list[pack_model.Slide]) -> None:
    at = run_page(**QUARTER_URL, trang="1")
    at.button(key="slide-previous").click().run()
    assert not at.exception
    assert shown(at)[:2] == (f"1/{len(screens)}", screens[0].title) and at.query_params["trang"] == "1"


def test_kpi_screens_show_the_engine_values(store: Path, screens: list[pack_model.Slide]) -> None:
    con = db.connect(store)
    engine = kpi_table(con, QUARTER).set_index("metric")
    con.close()
    for number, metric_id in enumerate(HEADLINE_METRICS[:3], start=2):
        at = run_page(**QUARTER_URL, trang=str(number))
        counter, _, value = shown(at)
        row = engine.loc[metric_id]
        assert value == format_value(row["value"], "rate") and "," in value and value.endswith("%")
        detail = [m.value for m in at.markdown][2]
        assert f"{format_int(row['numerator'])} / {format_int(row['denominator'])}" in detail
        assert row["denominator"] > 0
    assert value == screens[number - 1].value_text


def test_ranking_screen_has_a_large_chart(store: Path, screens: list[pack_model.Slide]) -> None:
    number = next(i for i, s in enumerate(screens, start=1) if s.kind == "localities")
    at = run_page(**QUARTER_URL, trang=str(number))
    assert shown(at)[1] == "Xếp hạng xã, phường theo tỷ lệ giải quyết đúng hạn"
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    figure = json.loads(charts[0].proto.spec)
    drawn = figure["data"][0]["y"]
    assert len(drawn) == min(len(screens[number - 1].figure.data[0].y), pack_model.CHART_UNITS) > 10
    assert figure["layout"]["height"] >= 600 and figure["layout"]["font"]["size"] >= 20


def test_english(store: Path) -> None:
    at = run_page("en", **QUARTER_URL)
    assert at.title[0].value == "Administrative reform KPI report"
    assert at.button(key="slide-next").label == "Next" and at.button(key="slide-previous").label == "Previous"
    # (a click would re-send the sidebar's choices, which AppTest formats outside the page's language)
    assert run_page("en", **QUARTER_URL, trang="2").title[0].value == "On-time resolution rate"


# --- kpi.meeting without Streamlit ------------------------------------------------------------------


def test_slide_number_and_counter() -> None:
    assert [meeting.slide_number(raw, 15) for raw in ("3", 3, " 7 ", "15", "16", "0", "-2", "abc", None, "2.5")] == \
        [3, 3, 7, 15, 15, 1, 1, 1, 1, 1]
    assert meeting.slide_number("4", 0) == 1  # no screen: the first, never 0
    assert meeting.counter_text(3, 12) == "3/12"


def test_screen_table_and_long_values(screens: list[pack_model.Slide]) -> None:
    below = next(s for s in screens if s.kind == "below_target")
    head, left_out = meeting.screen_table(below.table)
    assert len(below.table) > meeting.SCREEN_TABLE_ROWS  # the sample has many units below target
    assert head.equals(below.table.head(meeting.SCREEN_TABLE_ROWS).reset_index(drop=True))
    assert left_out == len(below.table) - meeting.SCREEN_TABLE_ROWS
    assert meeting.screen_table(None) == (None, 0)
    assert meeting.is_long_value(screens[0]) and not meeting.is_long_value(screens[1])  # the period, "97,16%"
    assert meeting.detail_lines(screens[1])[0].startswith("Tử số / mẫu số: ")


def test_screen_figure_keeps_the_data() -> None:
    figure = go.Figure(go.Bar(x=[0.5, 0.9], y=["Sở A", "Sở B"], orientation="h", text=["50,00%", "90,00%"]))
    figure.update_layout(title="Xếp hạng", height=320)
    big = meeting.screen_figure(figure)
    assert big.layout.height == meeting.SCREEN_HEIGHT and big.layout.font.size == meeting.SCREEN_FONT
    assert big.layout.title.text is None and big.data[0].textfont.size == meeting.SCREEN_FONT
    assert list(big.data[0].y) == ["Sở A", "Sở B"] and list(big.data[0].text) == ["50,00%", "90,00%"]
    assert figure.layout.height == 320  # the dashboard's figure is left as it was
    tall = meeting.screen_figure(go.Figure(go.Bar(x=list(range(40)), y=[f"Xã {i}" for i in range(40)],
                                                  orientation="h")))
    assert tall.layout.height == 40 * meeting.SCREEN_BAR_PX + 120
