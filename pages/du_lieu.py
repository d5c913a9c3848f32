"""Kho dữ liệu / Data store: what the store holds, by month and by unit, and the import history."""

import streamlit as st

from kpi import store, ui

t = ui.t
st.title(t("Kho dữ liệu hồ sơ", "Dossier store"))
info = ui.query(store.summary)
if not info["dossiers"]:
    st.info(t("Không có dữ liệu: kho chưa có hồ sơ nào. Hãy nhập tệp xuất từ hệ thống Một cửa.",
              "No data: the store holds no dossier yet. Import an export from the one-stop system."))
    st.stop()
st.caption(ui.store_caption(info))

by_month = ui.query(store.dossiers_by_month)
st.subheader(t("Hồ sơ tiếp nhận theo tháng và hình thức nộp", "Dossiers received by month and channel"))
chart, table = st.tabs([t("Biểu đồ", "Chart"), t("Xem bảng số liệu", "See the data")])
chart.plotly_chart(ui.monthly_chart(by_month), width="stretch", key="by-month-chart")
with table:
    ui.data_table(by_month, {"month": ("Tháng", "Month"), "channel": ("Hình thức nộp", "Channel"),
                             "dossiers": ("Số hồ sơ", "Dossiers")}, key="by-month", file_stem="ho_so_theo_thang",
                  terms={"channel": "channel"})

st.subheader(t("Hồ sơ theo đơn vị tiếp nhận", "Dossiers by receiving unit"))
ui.data_table(ui.query(store.dossiers_by_unit),
              {"unit": ("Đơn vị", "Unit"), "agency_level": ("Cấp", "Level"), "dossiers": ("Số hồ sơ", "Dossiers"),
               "resolved": ("Đã giải quyết", "Resolved"), "first_received": ("Tiếp nhận từ", "First received"),
               "last_received": ("Tiếp nhận đến", "Last received")},
              key="by-unit", file_stem="ho_so_theo_don_vi", height=400, terms={"agency_level": "agency_level"})

st.subheader(t("Lịch sử nhập dữ liệu", "Import history"))
history = ui.query(store.import_history)
ui.data_table(history, {
    "import_id": ("Lần nhập", "Import"), "file_name": ("Tệp", "File"), "file_format": ("Định dạng", "Format"),
    "encoding": ("Mã hóa", "Encoding"), "delimiter": ("Dấu phân cách", "Separator"), "sheet_name": ("Trang", "Sheet"),
    "header_row": ("Dòng tiêu đề", "Header row"), "started_at": ("Bắt đầu", "Started"),
    "finished_at": ("Kết thúc", "Finished"), "rows_read": ("Dòng đọc", "Rows read"),
    "inserted": ("Thêm mới", "Inserted"), "updated": ("Cập nhật", "Updated"), "unchanged": ("Không đổi", "Unchanged"),
    "rejected": ("Bị loại", "Rejected"), "warnings": ("Cảnh báo", "Warnings"), "skipped": ("Bỏ qua", "Skipped"),
    "file_sha256": ("SHA-256", "SHA-256")}, key="history", file_stem="lich_su_nhap")

st.subheader(t("Lý do loại dòng và cảnh báo", "Rejected rows and warnings"))
options = [None, *history["import_id"].tolist()]
chosen = st.selectbox(t("Lần nhập", "Import"), options, key="import",
                      format_func=lambda i: t("Tất cả", "All") if i is None else
                      f"#{i} · {history.set_index('import_id').at[i, 'file_name']}")
reasons = ui.query(store.rejection_reasons, chosen)
if reasons.empty:
    st.success(t("Không có dòng bị loại hay cảnh báo.", "No rejected rows and no warnings."))
else:
    ui.data_table(reasons, {"kind": ("Loại", "Kind"), "column_name": ("Cột", "Column"), "reason": ("Lý do", "Reason"),
                            "rows": ("Số dòng", "Rows"), "first_row": ("Dòng đầu tiên", "First row")},
                  key="reasons", file_stem="ly_do_loai")
    if chosen is not None:
        with st.expander(t("Từng dòng", "Row by row")):
            ui.data_table(ui.query(store.problem_rows, chosen),
                          {"kind": ("Loại", "Kind"), "row_number": ("Dòng", "Row"), "column_name": ("Cột", "Column"),
                           "header": ("Tiêu đề trong tệp", "File header"), "value": ("Giá trị", "Value"),
                           "reason": ("Lý do", "Reason")}, key="rows", file_stem="dong_bi_loai")
st.caption(t(f"Cơ sở dữ liệu: {ui.db_label()}", f"Database: {ui.db_label()}"))
