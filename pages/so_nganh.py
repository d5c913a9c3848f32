"""Sở, ngành / Departments: a KPI ranked over the agencies, drill-down by clicking a bar (agency → sectors →
procedures → late dossiers) with a breadcrumb back up, and the slowest procedures against their promised
time."""

import streamlit as st

from kpi import charts, drilldown, ui, views
from kpi.engine import kpi_table, kpi_value
from kpi.fields import term_label
from kpi.metrics import metric

selection = ui.filters()
ui.page_header("Sở, ngành", "Departments", selection)
selection = drilldown.with_procedure(selection, ui.remembered("procedure"))
period, where, lang = selection.period, selection.where, ui.lang()
names = ui.query(drilldown.procedure_names)

metric_id = ui.metric_choice(key="so-nganh-metric")
m = metric(metric_id)
ui.breadcrumb(drilldown.breadcrumb(selection, drilldown.UNIT_PATH, names), key="so-nganh-crumbs")
level = drilldown.unit_child(selection)

if level == drilldown.DOSSIERS:
    st.subheader(ui.t("Hồ sơ trễ hạn của thủ tục", "Late dossiers of the procedure"))
    ui.kpi_tile(ui.query(kpi_value, period, metric_id, where=where))
    ui.dossier_list(period, where, key="so-nganh-dossiers", file_stem="ho-so-tre-han")
else:
    heading = drilldown.LEVEL_LABELS[level]
    if level == "agency":  # "Sở, ngành" are the province's departments: their level first, any other on demand
        levels = drilldown.agency_levels(ui.query(views.filter_choices, "agency_level", period, where))
        chosen = st.segmented_control(
            ui.t("Cấp thực hiện", "Level"), levels, key="so-nganh-level",
            default="province" if "province" in levels else drilldown.ALL_LEVELS,
            format_func=lambda c: ui.t("Tất cả", "All") if c == drilldown.ALL_LEVELS else term_label("agency_level", c,
                                                                                                     lang))
        where = drilldown.with_agency_level(where, chosen)
    # the ranked KPI, and the days to resolve that the slowest procedures read when they share this table
    table = ui.query(kpi_table, period, by=level, where=where,
                     metrics=tuple(dict.fromkeys((metric_id, drilldown.SLOWEST_METRIC))) if level == "procedure"
                     else (metric_id,))
    show_all = st.toggle(ui.t("Hiện tất cả đơn vị", "Show every unit"), key=f"so-nganh-all-{level}")
    ranking = drilldown.ranking_frame(table, metric_id, names=names if level == "procedure" else None,
                                      limit=None if show_all else drilldown.RANKING_LIMIT)
    st.subheader(ui.t(f"Xếp hạng {heading[0]} theo {m.label_vi.lower()}", f"{m.label_en} by {heading[1]}"))
    if ranking.empty:
        ui.no_data(f"không có {heading[0]} nào có giá trị chỉ số này trong kỳ (mẫu số bằng 0).",
                   f"no {heading[1]} have a value of this KPI in the period (zero denominator).")
    else:
        st.caption(ui.t(
            f"Bấm vào một thanh để xem chi tiết đơn vị đó. Hiển thị {len(ranking)}/{ranking.attrs['total']} "
            f"{heading[0]} có giá trị (thấp nhất nếu không hiện tất cả); {ranking.attrs['without_value']} không có "
            "dữ liệu cho chỉ số này.",
            f"Click a bar to drill into that unit. Showing {len(ranking)} of {ranking.attrs['total']} {heading[1]} "
            f"with a value (the lowest unless every unit is shown); {ranking.attrs['without_value']} have no data "
            "for this KPI."))
        event = ui.chart_block(charts.ranking_bar(ranking, metric_id, lang), drilldown.ranking_table(ranking, metric_id,
                               lang), drilldown.RANKING_LABELS, key=f"so-nganh-rank-{level}-{'|'.join(where.values())}",
                               file_stem=f"xep-hang-{level}", on_select=True)
        clicked = drilldown.clicked_value(event, ranking)
        if clicked:
            ui.drill_to(**{level: clicked})

    st.subheader(ui.t("Thủ tục giải quyết chậm nhất", "Slowest procedures"))
    st.caption(ui.t(
        f"{drilldown.SLOWEST_TOP} thủ tục có thời gian giải quyết trung bình (ngày lịch, từ ngày tiếp nhận đến ngày "
        "kết thúc, các hồ sơ đã giải quyết trong kỳ) vượt thời hạn nhiều nhất. Dữ liệu hồ sơ không có cột thời hạn "
        "theo quy định, nên thời hạn được tính bằng số ngày trung bình từ ngày tiếp nhận đến ngày hẹn trả của các hồ "
        "sơ đã giải quyết trong kỳ của thủ tục đó (có ngày hẹn trả). Tỷ lệ = thời gian trung bình / thời hạn.",
        f"The {drilldown.SLOWEST_TOP} procedures whose average days to resolve (calendar days from receipt to the "
        "end, over the dossiers resolved in the period) most exceed their promised time. The dossier record has no "
        "statutory-time column, so the promised time is the average days from receipt to the due date over the "
        "procedure's dossiers resolved in the period (those with a due date). Ratio = average / promised."))
    by_procedure = table if level == "procedure" else ui.query(kpi_table, period, by="procedure", where=where,
                                                               metrics=(drilldown.SLOWEST_METRIC,))
    slowest = drilldown.slowest_procedures(by_procedure, ui.query(drilldown.promised_days, period, where=where), names)
    if slowest.empty:
        ui.no_data("không có hồ sơ nào được giải quyết trong kỳ với bộ lọc đã chọn.",
                   "no dossier was resolved in the period under the chosen filters.")
    else:
        event = ui.chart_block(charts.days_against_promise(slowest, lang), drilldown.slowest_table(slowest, lang),
                               drilldown.SLOWEST_LABELS, key=f"so-nganh-slow-{'|'.join(where.values())}",
                               file_stem="thu-tuc-cham-nhat", on_select=True)
        clicked = drilldown.clicked_value(event, slowest)
        if clicked:
            ui.drill_to(procedure=clicked)

# the committee's follow-ups of the chosen department, with its KPI's movement since each meeting
ui.followups_panel(selection.where, period, key="so-nganh-followups", dimensions=("agency",))
