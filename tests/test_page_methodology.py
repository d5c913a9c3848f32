"""Layer 4: the Methodology page (pages/phuong_phap.py) lists every KPI of the registry and the rules,
in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest import app_test
from kpi_rows import insert, row
from streamlit.testing.v1 import AppTest

from kpi import db, methodology
from kpi.engine import AMBER_BAND
from kpi.index766 import ESTIMATE_LABEL, GROUPS
from kpi.metrics import METRICS

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "phuong_phap.py")


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "methodology.duckdb"
    con = db.connect(path)
    insert(con, [row("2024-05-10", 9, finished="2024-05-12", due="2024-05-15", district="Huyện A")])
    con.close()
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path


def run_page(lang: str) -> AppTest:
    return app_test(PAGE, lang)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_metric_of_the_registry_is_explained(store_path: Path, lang: str) -> None:
    at = run_page(lang)
    assert not at.exception
    en = lang == "en"
    assert at.title[0].value == ("Methodology" if en else "Phương pháp")
    labels = [e.label for e in at.expander]
    assert labels == [f"{m.label_en if en else m.label_vi} · `{m.id}`" for m in METRICS]
    texts = [m.value for m in at.markdown]
    for m in METRICS:
        body = next(t for t in texts if f"`{m.id}`" in t)
        for part in ((m.description_en, m.numerator_en, m.denominator_en) if en
                     else (m.description_vi, m.numerator_vi, m.denominator_vi)):
            assert part in body
        assert m.source in body
        assert methodology.target_text(m, lang) in body
    registry = next(d.value for d in at.dataframe if d.value.columns[0] == ("ID" if en else "Mã"))
    assert registry[registry.columns[0]].tolist() == [m.id for m in METRICS]
    assert registry["Default target" if en else "Mục tiêu mặc định"].tolist()[0] == "≥ 98,00%"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_edge_cases_status_colours_and_766_caveat(store_path: Path, lang: str) -> None:
    at = run_page(lang)
    assert not at.exception
    rules = next(m.value for m in at.markdown if methodology.EDGE_CASES[0].title(lang) in m.value)
    for rule in methodology.rules():
        assert f"**{rule.title(lang)}.** {rule.text(lang)}" in rules
    band = f"{AMBER_BAND['rate'] * 100:g}"
    assert (f"at most {band} percentage points" if lang == "en" else f"không quá {band} điểm phần trăm") in rules
    assert ESTIMATE_LABEL[lang] in rules
    assert ("no data" if lang == "en" else "không có dữ liệu") in rules
    index = next(d.value for d in at.dataframe if d.value.columns[0] == ("Group" if lang == "en" else "Nhóm"))
    assert index[index.columns[0]].tolist() == [g.label_en if lang == "en" else g.label_vi for g in GROUPS]


def test_the_rules_cover_the_engine_docstring() -> None:
    ids = {r.id for r in methodology.rules()}
    assert {"end_date", "day_or_timestamp", "no_due_date", "in_progress", "supplement", "not_accepted", "month",
            "locality_eras", "no_data", "status_colours", "index766"} <= ids
    for rule in methodology.rules():
        assert rule.title_vi and rule.title_en and rule.text_vi and rule.text_en
