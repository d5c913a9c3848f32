"""Dữ liệu / Data: import exports, what each import did, the import history, data-quality warnings, what the
store holds (by month and by unit) and which units sent data for which months."""

import streamlit as st

from kpi import charts, db, store, ui
from kpi.fields import term_label
from kpi.formatting import format_int, md_escape

t = ui.t
who = ui.require("data")  # administrators and the province's read-only accounts; units are refused
selection = ui.filters()
ui.page_header("Dữ liệu", "Data", selection)
lang = ui.lang()

# --- import -----------------------------------------------------------------------------------------
st.subheader(t("Nhập dữ liệu", "Import data"))
if not who.may("import"):
    st.caption(t("Chỉ tài khoản quản trị được nhập dữ liệu.", "Only administrators import data."))
uploads = None if not who.may("import") else st.file_uploader(
    t("Tệp xuất từ hệ thống Một cửa (.csv, .txt, .xlsx, .xls, .gz; chọn được nhiều tệp)",
      "Exports from the one-stop system (.csv, .txt, .xlsx, .xls, .gz; several files at once)"),
    type=list(store.UPLOAD_TYPES), accept_multiple_files=True, key="data-upload",
    max_upload_size=store.UploadLimits.from_env().file_mb,
    help=t("Mỗi tệp được nhập trong một giao dịch riêng: tệp lỗi không làm thay đổi dữ liệu. Nhập lại cùng một "
           "tệp không tạo hồ sơ trùng (hồ sơ được cập nhật nếu tiến triển hơn).",
           "Each file is imported in its own transaction: a failing file leaves the data unchanged. Importing "
           "the same file again creates no duplicate (a dossier is updated when it has progressed)."))
if who.may("import") and st.button(t("Nhập dữ liệu", "Import"), key="data-import", type="primary",
                                   disabled=not uploads, icon=":material/upload:"):
    bar = st.progress(0.0, text=t("Đang nhập…", "Importing…"))

    def progress(fraction: float, name: str) -> None:
        shown = md_escape(name)  # names and reasons come from the upload: shown as written, never as Markdown
        bar.progress(min(fraction, 1.0), text=t(f"Đang nhập {shown}…", f"Importing {shown}…") if name else "")

    try:  # into a new version of the store, put in place at the end: other sessions read the old one meanwhile
        outcomes = ui.import_files([(f.name, f) for f in uploads], progress=progress)
    except db.StoreBusy as busy:
        outcomes = []
        st.error(str(busy), icon=":material/hourglass_top:")
    bar.empty()
    ui.clear_cache()
    st.session_state["data-outcomes"] = outcomes

outcomes = st.session_state.get("data-outcomes")
if outcomes:
    st.markdown("#### " + t("Kết quả lần nhập vừa rồi", "Result of this import"))
    ui.data_table(store.import_summary(outcomes), store.OUTCOME_LABELS, key="data-outcome", file_stem="ket_qua_nhap")
    for number, outcome in enumerate(outcomes):
        file = md_escape(outcome.file)
        if outcome.result is None:
            st.error(t(f"{file}: không nhập được. {md_escape(outcome.error)}",
                       f"{file}: not imported. {md_escape(outcome.error)}"), icon=":material/block:")
        elif outcome.result.rejected or outcome.result.warnings:
            with st.expander(t(f"{file}: {format_int(outcome.result.rejected)} dòng bị loại, "
                               f"{format_int(outcome.result.warnings)} cảnh báo",
                               f"{file}: {format_int(outcome.result.rejected)} rejected rows, "
                               f"{format_int(outcome.result.warnings)} warnings")):
                ui.data_table(ui.query(store.problem_rows, outcome.result.import_id), store.PROBLEM_LABELS,
                              key=f"data-outcome-rows-{number}", file_stem=f"dong_bi_loai_{outcome.result.import_id}")

info = ui.query(store.summary)
if not info["dossiers"]:
    ui.no_data("kho chưa có hồ sơ nào. Hãy nhập tệp xuất từ hệ thống Một cửa.",
               "the store holds no dossier yet. Import an export from the one-stop system.")
    st.stop()
st.caption(ui.store_caption(info))

# --- the store, section by section: only the open tab is drawn (ui.lazy_tabs) ------------------------
sections = ui.lazy_tabs([t("Chất lượng dữ liệu", "Data quality"), t("Hồ sơ theo tháng", "Dossiers by month"),
                         t("Độ phủ dữ liệu", "Coverage"), t("Lịch sử nhập", "Import history"),
                         t("Theo đơn vị tiếp nhận", "By receiving unit")], key="data-section")
(quality_tab, quality_open), (month_tab, month_open), (coverage_tab, coverage_open), (history_tab, history_open), \
    (unit_tab, unit_open) = sections

if quality_open:
    with quality_tab:
        st.caption(t(f"Hồ sơ của lựa chọn hiện tại ({selection.period.label('vi')}) cần đơn vị bổ sung dữ liệu.",
                     f"Dossiers of the current selection ({selection.period.label('en')}) whose data the units should "
                     "complete."))
        quality = ui.query(store.data_quality, selection.period, selection.where, lang)
        if quality["dossiers"].any():
            st.warning(t("Có hồ sơ thiếu dữ liệu: xem bảng dưới và đề nghị đơn vị bổ sung.",
                         "Some dossiers lack data: see the table below and ask the units to complete it."),
                       icon=":material/warning:")
        else:
            st.success(t("Không phát hiện vấn đề dữ liệu trong kỳ.", "No data problem found in the period."))
        ui.data_table(quality, store.QUALITY_LABELS, key="quality", file_stem="chat_luong_du_lieu")

if month_open:
    with month_tab:
        st.caption(t("Hồ sơ tiếp nhận theo tháng và hình thức nộp, toàn kho.",
                     "Dossiers received by month and channel, the whole store."))
        by_month = ui.query(store.dossiers_by_month)
        ui.chart_block(ui.monthly_chart(by_month), by_month, store.BY_MONTH_LABELS, key="by-month",
                       file_stem="ho_so_theo_thang", terms={"channel": "channel"})

if coverage_open:
    with coverage_tab:
        left, right = st.columns(2)
        levels = [None, "province", "district", "commune"]
        level = left.selectbox(t("Cấp đơn vị", "Unit level"), levels, index=1, key="coverage-level",
                               format_func=lambda v: t("Tất cả các cấp", "Every level") if v is None else
                               term_label("agency_level", v, lang))
        months = right.radio(t("Số tháng gần nhất", "Latest months"), store.COVERAGE_MONTHS, index=1, horizontal=True,
                             key="coverage-months")
        window = ui.query(store.coverage_months, months)
        grid = ui.query(store.coverage, months, level=level, where=selection.where)
        st.caption(t("Số hồ sơ tiếp nhận mỗi tháng của từng đơn vị (theo bộ lọc địa bàn, sở ngành ở thanh bên); "
                     "ô trống: tháng đơn vị không có hồ sơ nào trong kho.",
                     "Dossiers received per unit and month (under the sidebar's locality and department filters); an "
                     "empty cell: a month without any dossier of that unit in the store."))
        if grid.empty:
            ui.no_data("không có hồ sơ nào của các đơn vị được chọn trong các tháng này.",
                       "no dossier of the chosen units in these months.")
        else:
            gaps = store.coverage_gaps(grid, window)
            ui.chart_block(charts.count_heatmap(grid, window, lang), grid, store.COVERAGE_LABELS, key="coverage",
                           file_stem="do_phu_du_lieu", terms={"agency_level": "agency_level"})
            st.markdown("**" + t("Đơn vị thiếu dữ liệu", "Units with missing months") + "**")
            ui.data_table(gaps, store.GAP_LABELS, key="coverage-gaps", file_stem="don_vi_thieu_du_lieu",
                          height=min(400, 38 + 35 * len(gaps)))

if history_open:
    with history_tab:
        history = ui.query(store.import_history)
        ui.data_table(history, store.HISTORY_LABELS, key="history", file_stem="lich_su_nhap")

        st.markdown("#### " + t("Lý do loại dòng và cảnh báo", "Rejected rows and warnings"))
        options = [None, *history["import_id"].tolist()]
        names = dict(zip(history["import_id"], history["file_name"], strict=True))
        chosen = st.selectbox(t("Lần nhập", "Import"), options, key="import",
                              format_func=lambda i: t("Tất cả", "All") if i is None else f"#{i} · {names[i]}")
        reasons = ui.query(store.rejection_reasons, chosen)
        if reasons.empty:
            st.success(t("Không có dòng bị loại hay cảnh báo.", "No rejected rows and no warnings."))
        else:
            ui.data_table(reasons, store.REASON_LABELS, key="reasons", file_stem="ly_do_loai")
            if chosen is not None:
                with st.expander(t("Từng dòng", "Row by row")):
                    ui.data_table(ui.query(store.problem_rows, chosen), store.PROBLEM_LABELS, key="rows",
                                  file_stem="dong_bi_loai")

if unit_open:
    with unit_tab:
        ui.data_table(ui.query(store.dossiers_by_unit), store.UNIT_LABELS, key="by-unit",
                      file_stem="ho_so_theo_don_vi", height=400, terms={"agency_level": "agency_level"})

st.caption(t(f"Cơ sở dữ liệu: {ui.db_label()}", f"Database: {ui.db_label()}"))
