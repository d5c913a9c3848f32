"""Đánh giá tháng / Monthly review: every unit's headline KPIs for a month against the previous month, the
units below target, the biggest improvers and decliners, and the overdue dossiers to chase per unit."""

import streamlit as st

from kpi import review, ui, views
from kpi.engine import DIMENSION_BY_ID
from kpi.formatting import format_date, format_int
from kpi.metrics import metric

t = ui.t
selection = ui.filters()
ui.page_header("Đánh giá tháng", "Monthly review", selection)
span = ui.query(views.data_span)
month, adjusted = review.review_month(selection.period, span["last_day"])
if adjusted:
    st.info(t(f"Kỳ đã chọn ({selection.period.label('vi')}) không phải một tháng: trang này đánh giá tháng cuối có "
              f"dữ liệu của kỳ, {month.label('vi')}. Chọn loại kỳ \"Tháng\" ở thanh bên để đánh giá tháng khác.",
              f"The chosen period ({selection.period.label('en')}) is not a month: this page reviews its last month "
              f"with data, {month.label('en')}. Choose the period type \"Month\" in the sidebar to review another."),
            icon=":material/event:")
lang = ui.lang()
st.subheader(t(f"{month.label('vi')} so với {month.previous().label('vi')}",
               f"{month.label('en')} against {month.previous().label('en')}"))

scope = views.Selection(month, selection.filters)
left, right = st.columns([2, 3])
by = left.radio(t("Đơn vị so sánh", "Units compared"), review.groupings(scope), horizontal=True, key="review-by",
                format_func=lambda d: t(DIMENSION_BY_ID[d].label_vi, DIMENSION_BY_ID[d].label_en))
wanted = ui.remembered("metric")  # shared with the other pages' KPI choice (?chi_so=)
chosen_metric = right.selectbox(
    t("Chỉ số để xếp hạng, tìm đơn vị chưa đạt và tiến bộ", "KPI to sort by, find units below target and movers"),
    views.HEADLINE_METRICS, key="review-metric", format_func=lambda m: t(metric(m).label_vi, metric(m).label_en),
    index=views.HEADLINE_METRICS.index(wanted) if wanted in views.HEADLINE_METRICS else 0)
ui.remember("metric", chosen_metric)

frame = ui.query(review.review_table, month, by=by, where=scope.where)
if not review.has_values(frame):
    ui.no_data(f"không có hồ sơ nào của các đơn vị được chọn trong {month.label('vi')}.",
               f"no dossier of the chosen units in {month.label('en')}.")
    st.stop()

# --- the review's sections: only the open tab is drawn (ui.lazy_tabs) --------------------------------
(table_tab, table_open), (below_tab, below_open), (movers_tab, movers_open), (followups_tab, followups_open), \
    (overdue_tab, overdue_open) = ui.lazy_tabs(
        [t("Bảng chỉ số các đơn vị", "Units × headline KPIs"), t("Đơn vị chưa đạt mục tiêu", "Units below target"),
         t("Tiến bộ và giảm sút nhiều nhất", "Biggest improvers and decliners"),
         t("Việc giao từ cuộc họp trước", "Follow-ups from earlier meetings"),
         t("Hồ sơ quá hạn cần đôn đốc", "Overdue dossiers to chase")], key="review-section")

if table_open:
    with table_tab:
        st.caption(t("Giá trị (🟢 đạt, 🟠 gần đạt, 🔴 chưa đạt mục tiêu), thay đổi so với tháng trước (điểm %) và "
                     "thứ hạng (▲ tăng, ▼ giảm so với tháng trước). Đơn vị xếp theo chỉ số đã chọn.",
                     "Value (🟢 on target, 🟠 near, 🔴 below target), change against the previous month (percentage "
                     "points) and rank (▲ up, ▼ down on the previous month). Units sorted by the chosen KPI."))
        total = ui.query(review.review_total, month, where=scope.where)
        wide = review.wide_table(frame, chosen_metric, total, t("Toàn bộ lựa chọn", "Whole selection"),
                                 t("(Không rõ đơn vị)", "(Unknown unit)"))
        ui.formatted_table(review.display(wide, lang), wide, review.wide_labels(), key="review-table",
                           file_stem=f"danh_gia_{month.start:%Y_%m}", height=min(600, 38 + 35 * len(wide)))

if below_open:
    with below_tab:
        summary = review.status_summary(frame)
        ui.formatted_table(review.display(summary, lang), summary, review.LABELS, key="review-status",
                           file_stem=f"so_don_vi_dat_muc_tieu_{month.start:%Y_%m}")
        below = review.below_target(frame, chosen_metric)
        label = t(metric(chosen_metric).label_vi, metric(chosen_metric).label_en)
        if not review.has_target(frame, chosen_metric):
            st.caption(t(f"{label}: chưa đặt mục tiêu, không đánh giá đạt/chưa đạt.",
                         f"{label}: no target set, so no unit is assessed."))
        elif below.empty:
            st.success(t(f"{label}: mọi đơn vị có số liệu đều đạt mục tiêu.",
                         f"{label}: every unit with data is on target."))
        else:
            st.caption(t(f"{label}: các đơn vị chưa đạt (🔴) và gần đạt (🟠, trong khoảng 5 điểm % dưới mục tiêu).",
                         f"{label}: units below target (🔴) and near it (🟠, within 5 points below)."))
            ui.formatted_table(review.display(below, lang), below, review.LABELS, key="review-below",
                               file_stem=f"chua_dat_{chosen_metric}_{month.start:%Y_%m}")

if movers_open:
    with movers_tab:
        min_denominator = st.columns([1, 2])[0].number_input(
            t("Mẫu số tối thiểu (cả hai tháng)", "Minimum denominator (both months)"), min_value=1, step=5,
            value=review.DEFAULT_MIN_DENOMINATOR, key="review-min-denominator",
            help=t("Đơn vị có quá ít hồ sơ thay đổi tỷ lệ rất mạnh chỉ vì một hồ sơ: chỉ xét đơn vị có mẫu số từ "
                   "ngưỡng "
                   "này trở lên ở cả tháng này và tháng trước.",
                   "Units with very few dossiers swing by many points on a single dossier: only units whose "
                   "denominator "
                   "reaches this threshold in both this month and the previous one are compared."))
        st.caption(t(f"{label}: chỉ xét đơn vị có mẫu số ≥ {min_denominator} ở cả hai tháng.",
                     f"{label}: only units with a denominator of at least {min_denominator} in both months."))
        improved, declined = review.movers(frame, chosen_metric, int(min_denominator))
        for movers, title, empty, key, stem in (
                (improved, ("Tiến bộ nhất", "Most improved"), ("tăng", "improved"), "review-up", "tien_bo"),
                (declined, ("Giảm sút nhất", "Most declined"), ("giảm", "declined"), "review-down", "giam_sut")):
            st.markdown("**" + t(*title) + "**")
            if movers.empty:
                ui.no_data(f"không đơn vị nào đủ ngưỡng mà {empty[0]}.", f"no unit above the threshold {empty[1]}.")
            else:
                ui.formatted_table(review.display(movers, lang), movers, review.LABELS, key=key,
                                   file_stem=f"{stem}_{chosen_metric}_{month.start:%Y_%m}")

if followups_open:
    with followups_tab:
        ui.followups_panel(scope.where, month, key="review-followups", earlier_only=True, heading=False)

if overdue_open:
    with overdue_tab:
        st.caption(t(f"Hồ sơ chưa giải quyết xong và đã quá hạn tại ngày cuối tháng ({format_date(month.end)}).",
                     "Dossiers not yet resolved and past their due date on the month's last day "
                     f"({format_date(month.end)})."))
        overdue = ui.query(review.overdue_by_unit, month, by=by, where=scope.where)
        if overdue.empty:
            st.success(t("Không có hồ sơ quá hạn tại cuối tháng.", "No overdue dossier at the month end."))
        else:
            ui.formatted_table(review.display(overdue, lang), overdue, review.LABELS, key="review-overdue",
                               file_stem=f"qua_han_theo_don_vi_{month.start:%Y_%m}",
                               height=min(400, 38 + 35 * len(overdue)))
            units = overdue["group"].tolist()
            left, middle, right = st.columns([3, 1, 1])
            unit = left.selectbox(t("Đơn vị", "Unit"), units, key="review-unit",
                                  format_func=lambda g: t("(Không rõ đơn vị)", "(Unknown unit)") if g is None else g)
            where = review.unit_where(scope.where, by, unit)
            count = review.overdue_count(overdue, unit)
            size = middle.selectbox(t("Số dòng mỗi trang", "Rows per page"), (25, 50, 100, 500), index=1,
                                    key="review-page-size")
            pages = max(1, -(-count // size))
            page = right.number_input(t(f"Trang (1–{pages})", f"Page (1–{pages})"), min_value=1, max_value=pages,
                                      value=1, key=f"review-page-{unit}-{size}")
            rows = ui.query(review.chase_list, month, where=where, limit=size, offset=(int(page) - 1) * size)
            st.caption(t(f"{format_int(count)} hồ sơ, trang {page}/{pages}, quá hạn lâu nhất trước.",
                         f"{format_int(count)} dossiers, page {page} of {pages}, longest overdue first."))
            ui.data_table(rows, review.LIST_LABELS, key="review-list", terms={"status": "status"},
                          file_stem=f"ho_so_qua_han_trang_{page}_{month.start:%Y_%m}")
            st.caption(t(f"Tải toàn bộ {format_int(count)} hồ sơ của đơn vị:",
                         f"Download all {format_int(count)} dossiers of the unit:"))
            everything = ui.deferred_query(review.chase_list, month, where=where, limit=count)  # read when clicked
            ui.downloads(lambda: review.headed(everything(), review.LIST_LABELS, lang), key="review-list-all",
                         file_stem=f"ho_so_qua_han_{month.start:%Y_%m}")
