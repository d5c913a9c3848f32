"""The one Streamlit module: cached connection, cached queries, language and shared display helpers.

Pages import this and the Streamlit-free package; they hold no SQL and no reshaping of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kpi import db, store
from kpi.fields import term_label
from kpi.formatting import display_frame, format_date, format_int

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}


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


@st.cache_resource(show_spinner=False)
def _connection(db_path: str) -> duckdb.DuckDBPyConnection:
    return db.connect(db_path)


def connection() -> duckdb.DuckDBPyConnection:
    """A cursor on the store named by EGOV_KPI_DB (default data/egov_kpi.duckdb); first start loads the
    bundled sample into an empty store. A cursor per caller: one DuckDB connection is not thread-safe."""
    path = str(db.default_db_path())
    base = _connection(path)
    if st.session_state.get("_sample_checked") != path:
        _load_sample(base)
        st.session_state["_sample_checked"] = path
    return base.cursor()


def _load_sample(base: duckdb.DuckDBPyConnection) -> None:
    if db.dossier_count(base) > 0:
        return
    bar = st.progress(0.0, text="Đang nạp dữ liệu mẫu lần đầu… / Loading the bundled sample…")

    def progress(index: int, total: int, name: str) -> None:
        bar.progress(index / max(total, 1), text=f"Đang nạp / loading {name} ({index + 1}/{total})")

    store.load_sample_if_empty(base, progress=progress)
    bar.empty()
    st.cache_data.clear()


def data_version() -> tuple[str, int]:
    """Cache key part that changes with every import, so cached queries are never stale."""
    cur = connection()
    try:
        return str(db.default_db_path()), cur.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchone()[0]
    finally:
        cur.close()


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(version: tuple[str, int], name: str, args: tuple) -> object:
    cur = connection()
    try:
        return getattr(store, name)(cur, *args)
    finally:
        cur.close()


def query(function: Callable, *args: object) -> object:
    """Call a `kpi.store` query through the cache, keyed by database, data version and arguments."""
    return _cached(data_version(), function.__name__, args)


def data_table(frame: pd.DataFrame, labels: dict[str, tuple[str, str]], *, key: str, file_stem: str,
               height: int | None = None, terms: dict[str, str] | None = None) -> None:
    """A table with translated headers and Vietnamese formats (`terms`: column -> vocabulary shown as
    labels), and a CSV download of the same rows with the raw values."""
    headers = {c: t(*labels[c]) for c in frame.columns if c in labels}
    shown = display_frame(frame, terms, lang()).rename(columns=headers)
    st.dataframe(shown, hide_index=True, width="stretch", height=height or "auto", key=key)
    st.download_button(t("Tải CSV", "Download CSV"),
                       frame.rename(columns=headers).to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"{file_stem}.csv", mime="text/csv", key=f"{key}-csv")


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
