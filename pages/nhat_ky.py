"""Nhật ký / Audit log (administrators): who logged in, imported, changed follow-ups, downloaded or generated
which report, when and in which scope, newest first, with filters and downloads."""

import datetime as dt

import streamlit as st

from kpi import audit, ui
from kpi.formatting import format_int

t = ui.t
ui.require("audit")
st.title(t("Nhật ký hoạt động", "Audit log"))
st.caption(t("Mọi lần đăng nhập (cả lần sai), nhập dữ liệu, thay đổi việc giao và tài khoản, tải về và lập báo cáo, "
             "cùng những yêu cầu bị từ chối. Nhật ký lưu trong cơ sở dữ liệu cạnh kho hồ sơ và còn nguyên sau khi "
             "khởi động lại.",
             "Every login (failed ones too), import, change of follow-ups and accounts, download and report, and "
             "every refused request. The log is kept in a database beside the dossier store and survives restarts."))
today = dt.date.today()
left, middle, right, last = st.columns([2, 2, 3, 2])
days = left.date_input(t("Từ ngày – đến ngày", "From – to"), (today - dt.timedelta(days=30), today),
                       format="DD/MM/YYYY", key="audit-days")
actor = middle.text_input(t("Người thực hiện (một phần e-mail)", "Who (part of the e-mail)"), key="audit-actor")
actions = right.multiselect(t("Hành động", "Actions"), audit.ACTIONS, key="audit-actions",
                            format_func=lambda a: t(*ui.AUDIT_ACTION_LABELS[a]))
outcomes = last.multiselect(t("Kết quả", "Outcome"), audit.OUTCOMES, key="audit-outcomes",
                            format_func=lambda o: t(*ui.AUDIT_OUTCOME_LABELS[o]))
since, until = (tuple(days) + (None, None))[:2] if isinstance(days, tuple | list) else (days, None)
frame = audit.events(ui.app_db(), since=since, until=until or since, actor=actor or None, action=actions or None,
                     outcome=outcomes or None, limit=ui.AUDIT_PAGE_LIMIT)
if frame.empty:
    ui.no_data("không có sự kiện nào khớp bộ lọc.", "no event matches the filters.")
else:
    shown, limit = format_int(len(frame)), format_int(ui.AUDIT_PAGE_LIMIT)
    st.caption(t(f"{shown} sự kiện, mới nhất trước", f"{shown} events, newest first")
               + (t(f" (tối đa {limit}; thu hẹp bộ lọc để xem cũ hơn)", f" (at most {limit}; narrow the filters)")
                  if len(frame) >= ui.AUDIT_PAGE_LIMIT else ""))
    ui.data_table(ui.audit_frame(frame), ui.AUDIT_LABELS, key="audit-table", file_stem="nhat-ky")
