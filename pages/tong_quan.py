"""Tổng quan / Overview: the headline KPIs of the selection with their trend, the period's dossier counts
and the estimated Decision 766 index score by group."""

import streamlit as st

from kpi import charts, overview, ui, views
from kpi.metrics import METRICS, metric

t = ui.t
selection = ui.filters()
ui.page_header("Tổng quan", "Overview", selection)
period, where = selection.period, selection.where

facts = ui.query(views.freshness, period, where)
reason = overview.empty_reason(facts, None)
counts = None if reason else ui.query(overview.period_counts, period, where)
reason = reason or overview.empty_reason(facts, counts)
if reason:
    ui.no_data(*reason)
    st.stop()

st.markdown(overview.counts_line(counts, ui.lang()))

# --- headline tiles ---------------------------------------------------------------------------------
st.subheader(t("Chỉ số chính", "Headline KPIs"))
# the tiles (with their changes against the previous period and a year earlier), and the sparklines: each
# month of the series cached on its own
tiles = ui.query(overview.headline_tiles, period, where)
monthly = ui.monthly_series(period, where, overview.SPARK_MONTHS, views.HEADLINE_METRICS)
sparks = overview.sparklines(monthly)
for start in range(0, len(tiles), 4):
    for column, row in zip(st.columns(4), tiles[start:start + 4], strict=False):
        with column:
            ui.kpi_tile(row, sparks[row["metric"]])
st.caption(overview.spark_caption(period, ui.lang()))

# --- trend of one KPI -------------------------------------------------------------------------------
st.subheader(t("Xu hướng theo tháng", "Monthly trend"))
left, right = st.columns([3, 1])
metric_ids = [m.id for m in METRICS]
chosen = left.selectbox(t("Chỉ số", "KPI"), metric_ids, index=metric_ids.index(overview.DEFAULT_TREND_METRIC),
                        format_func=lambda i: t(metric(i).label_vi, metric(i).label_en), key="overview-trend-metric")
months = right.radio(t("Số tháng", "Months"), overview.TREND_MONTHS, horizontal=True, key="overview-trend-months")
history = monthly if months == overview.SPARK_MONTHS and chosen in views.HEADLINE_METRICS else ui.monthly_series(
    period, where, months, (chosen,))
rows = overview.trend(history, chosen, months)
if overview.has_values(rows):
    title = t(metric(chosen).label_vi, metric(chosen).label_en)
    ui.chart_block(charts.trend_line(rows, chosen, ui.lang(), title=title),
                   overview.trend_table(rows, chosen, ui.lang()), overview.TREND_LABELS,
                   key="overview-trend", file_stem=f"xu_huong_{chosen}")
else:
    ui.no_data(f"chỉ số này không có giá trị trong {months} tháng đến hết kỳ đã chọn.",
               f"this KPI has no value in the {months} months up to the end of the chosen period.")

# --- Decision 766 estimate --------------------------------------------------------------------------
st.subheader(t("Điểm Bộ chỉ số 766 (ước tính từ dữ liệu hồ sơ)",
               "Decision 766 index score (estimated from dossier data)"))
estimate = ui.query(overview.index766, period, where)
if overview.has_index766(estimate):
    st.markdown(overview.index766_total(estimate, ui.lang()))
    ui.chart_block(overview.index766_chart(estimate, ui.lang()), overview.index766_table(estimate, ui.lang()),
                   overview.INDEX766_LABELS, key="overview-766", file_stem="chi_so_766_uoc_tinh")
    st.caption(t("Ước tính từ dữ liệu hồ sơ: chỉ những tiêu chí mà tệp xuất hồ sơ cho phép chấm mới được tính; "
                 "xem trang Phương pháp.",
                 "Estimated from dossier data: only the criteria a dossier export can score are counted; see the "
                 "Methodology page."))
else:
    ui.no_data("không nhóm nào của Bộ chỉ số 766 tính được từ dữ liệu hồ sơ của kỳ đã chọn.",
               "no group of the Decision 766 index can be computed from the dossier data of the chosen period.")
