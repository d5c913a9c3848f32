"""Địa bàn / Localities: a KPI ranked over the districts (communes after 1 July 2025), drill-down by
clicking a bar (district → communes → procedures → late dossiers) with a breadcrumb back up, a unit ×
month heat map and a bubble map of communes on the bundled coordinates."""

import streamlit as st

from kpi import charts, drilldown, ui, views
from kpi.engine import kpi_table, kpi_tables, kpi_value
from kpi.metrics import metric

selection = ui.filters()
ui.page_header("Địa bàn", "Localities", selection)
selection = drilldown.with_procedure(selection, ui.remembered("procedure"))
period, where, lang = selection.period, selection.where, ui.lang()
provinces = ui.query(views.filter_choices, "province", period, {})  # the sidebar's own query (cached)
level = drilldown.locality_child(selection, provinces)
# procedure names label the procedure ranking and a chosen procedure's breadcrumb step only
names = ui.query(drilldown.procedure_names) if level == "procedure" or "procedure" in where else {}

metric_id = ui.metric_choice(key="dia-ban-metric")
m = metric(metric_id)
# the KPIs the ranking and the map show: the chosen one, and the dossiers received (the bubbles' size)
shown = tuple(dict.fromkeys((metric_id, drilldown.RECEIVED_METRIC)))
st.caption(":material/account_tree: " + ui.t(*drilldown.hierarchy_note(period)))
ui.breadcrumb(drilldown.breadcrumb(selection, drilldown.locality_path(period), names), key="dia-ban-crumbs")

if not provinces:
    ui.no_data("không có hồ sơ nào tiếp nhận trong kỳ đã chọn.", "no dossier was received in the chosen period.")
elif level == drilldown.DOSSIERS:
    st.subheader(ui.t("Hồ sơ trễ hạn của thủ tục", "Late dossiers of the procedure"))
    ui.kpi_tile(ui.query(kpi_value, period, metric_id, where=where))
    ui.dossier_list(period, where, key="dia-ban-dossiers", file_stem="ho-so-tre-han")
else:
    heading = drilldown.LEVEL_LABELS[level]
    table = ui.query(kpi_table, period, by=level, where=where, metrics=shown)
    show_all = st.toggle(ui.t("Hiện tất cả đơn vị", "Show every unit"), key=f"dia-ban-all-{level}")
    ranking = drilldown.ranking_frame(table, metric_id, names=names if level == "procedure" else None,
                                      limit=None if show_all else drilldown.RANKING_LIMIT)
    # the ranking (with the drill-down), the unit × month heat map and the commune map: only the open view is
    # drawn (ui.lazy_tabs), the ranking first
    views_ = {"rank": ui.t("Xếp hạng", "Ranking"), "month": ui.t("Theo tháng", "By month")}
    if level in ("district", "commune"):
        views_["map"] = ui.t("Bản đồ", "Map")
    shown_views = dict(zip(views_, ui.lazy_tabs(list(views_.values()), key=f"dia-ban-view-{level}"), strict=True))
    no_value = (f"không có {heading[0]} nào có giá trị chỉ số này trong kỳ (mẫu số bằng 0).",
                f"no {heading[1]} have a value of this KPI in the period (zero denominator).")
    rank_tab, rank_open = shown_views["rank"]
    if rank_open:
        with rank_tab:
            st.subheader(ui.t(f"Xếp hạng {heading[0]} theo {m.label_vi.lower()}", f"{m.label_en} by {heading[1]}"))
            if ranking.empty:
                ui.no_data(*no_value)
            else:
                shown_count, total, without = len(ranking), ranking.attrs["total"], ranking.attrs["without_value"]
                st.caption(ui.t(
                    f"Bấm vào một thanh để xem chi tiết đơn vị đó. Hiển thị {shown_count}/{total} {heading[0]} có giá "
                    f"trị (thấp nhất nếu không hiện tất cả); {without} không có dữ liệu cho chỉ số này.",
                    f"Click a bar to drill into that unit. Showing {shown_count} of {total} {heading[1]} with a value "
                    f"(the lowest unless every unit is shown); {without} have no data for this KPI."))
                event = ui.chart_block(charts.ranking_bar(ranking, metric_id, lang),
                                       drilldown.ranking_table(ranking, metric_id, lang), drilldown.RANKING_LABELS,
                                       key=f"dia-ban-rank-{level}-{'|'.join(where.values())}",
                                       file_stem=f"xep-hang-{level}", on_select=True)
                clicked = drilldown.clicked_value(event, ranking)
                if clicked:
                    ui.drill_to(**{level: clicked})

    month_tab, month_open = shown_views["month"]
    if month_open:
        with month_tab:
            if ranking.empty:
                ui.no_data(*no_value)
            else:
                st.subheader(ui.t(f"{m.label_vi} theo tháng và {heading[0]}",
                                  f"{m.label_en} by month and {heading[1]}"))
                months, cut = drilldown.heatmap_months(period, level)
                # each month's own values only (no comparison), one query for the months not cached yet
                tables = ui.query_periods(kpi_tables, months, by=level, where=where, metrics=(metric_id,),
                                          comparisons=False)
                cells = drilldown.unit_month_frame(tables, months, metric_id, ranking)
                st.caption(ui.t(
                    f"Các tháng {months[0].label('vi')} – {months[-1].label('vi')}; các {heading[0]} của biểu đồ xếp "
                    "hạng; ô trống: không có dữ liệu." + (" Chỉ gồm các tháng cùng hệ địa bàn (tối đa 12 tháng)."
                                                           if cut else ""),
                    f"Months {months[0].label('en')} – {months[-1].label('en')}; the {heading[1]} of the ranking; an "
                    "empty cell has no data." + (" Only months of the same hierarchy (12 at most)." if cut else "")))
                ui.chart_block(charts.heatmap(cells, metric_id, lang), drilldown.heatmap_table(cells, metric_id, lang),
                               {"unit": ("Đơn vị", "Unit")}, key=f"dia-ban-heat-{level}",
                               file_stem=f"theo-thang-{level}")

    map_tab, map_open = shown_views.get("map", (None, False))
    if map_open:
        with map_tab:
            st.subheader(ui.t("Bản đồ xã/phường", "Map of communes"))
            if not drilldown.has_coordinates(provinces, selection):
                ui.no_data("chỉ có tọa độ xã/phường của Hà Nội kèm theo; dữ liệu này thuộc tỉnh khác.",
                           "only Hà Nội's commune coordinates are bundled; this data is from another province.")
            else:
                communes = table if level == "commune" else ui.query(kpi_table, period, by="commune", where=where,
                                                                     metrics=shown)
                bubbles = drilldown.bubble_frame(communes, metric_id, period, district=where.get("district"),
                                                 lang=lang)
                st.caption(ui.t(
                    f"Tọa độ trung tâm xã/phường từ danh mục kèm theo: khớp {bubbles.matched}/{bubbles.total} "
                    "xã/phường của dữ liệu. Kích thước: số hồ sơ tiếp nhận; màu: giá trị chỉ số (xám: không có dữ "
                    "liệu). Không dùng bản đồ nền nên hiển thị được khi không có Internet.",
                    f"Commune centroids from the bundled list: {bubbles.matched} of {bubbles.total} communes of the "
                    "data matched. Size: dossiers received; colour: the KPI (grey: no data). No base map, so it "
                    "renders without internet access."))
                if bubbles.frame.empty:
                    ui.no_data("không xã/phường nào của dữ liệu khớp với danh mục tọa độ.",
                               "no commune of the data matches the coordinate list.")
                else:
                    ui.chart_block(charts.bubble_map(bubbles.frame, metric_id, lang), drilldown.bubble_table(bubbles),
                                   drilldown.BUBBLE_LABELS, key=f"dia-ban-map-{'|'.join(where.values())}",
                                   file_stem="ban-do-xa-phuong")

# the committee's follow-ups of the chosen district or commune, with the KPI's movement since each meeting
ui.followups_panel(selection.where, period, key="dia-ban-followups", dimensions=("district", "commune"))
