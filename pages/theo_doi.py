"""Việc giao / Follow-ups: the tasks the steering committee assigns at a meeting to a unit on one KPI (owner,
due date, note), the list with the KPI's movement since the meeting, and marking them done or reopening them
with a note. The meeting is the one on the sidebar's period; writes go through ui.write_followup."""

import streamlit as st

from kpi import drilldown, followups, ui, views
from kpi.metrics import METRICS

t = ui.t
selection = ui.filters()
ui.page_header("Việc giao", "Follow-ups", selection)
period, where, lang = selection.period, selection.where, ui.lang()
state = st.session_state
ADDED, SAVED = "_fu-added", "_fu-saved"  # the last write's outcome: (id or None, reason or None)


def record() -> None:
    """The form's submit: record the follow-up; on success a fresh form for the next task."""
    new, error = ui.write_followup(followups.add_followup, period=period, unit_dimension=state["fu-dimension"],
                                  unit=state["fu-unit"], metric_id=state["fu-metric"], task=state["fu-task"],
                                  owner=state["fu-owner"], due_date=state["fu-due"], note=state["fu-note"])
    state[ADDED] = (new, error)
    if error is None:
        state["fu-task"] = state["fu-note"] = ""


def save(followup_id: int) -> None:
    """The update form's submit: the status and the note in one write."""
    done = state[f"fu-edit-status-{followup_id}"] == "done"
    _, error = ui.write_followup(followups.mark_done, followup_id, done=done, note=state[f"fu-edit-note-{followup_id}"])
    state[SAVED] = (followup_id, error)


# --- record -----------------------------------------------------------------------------------------
editor = ui.caller().may("followups")  # administrators record and update; others read
if not editor:
    st.caption(t("Chỉ tài khoản quản trị ghi và cập nhật việc giao.", "Only administrators record and update "
                 "follow-ups."))
else:
    st.subheader(t("Ghi việc giao mới", "Record a follow-up"))
    st.caption(t(f"Cuộc họp xem xét số liệu {period.label('vi')} (đổi kỳ ở thanh bên). Người chịu trách nhiệm là "
                 "cơ quan, phòng ban hoặc chức danh, không ghi họ tên, số điện thoại hay giấy tờ của công dân.",
                 f"The meeting reviews the figures of {period.label('en')} (change the period in the sidebar). The "
                 "owner is an agency, an office or a post: no citizen's name, phone or ID number."))
    dimension = st.selectbox(t("Loại đơn vị", "Unit type"), followups.dimension_choices(period), key="fu-dimension",
                             format_func=lambda d: followups.dimension_label(d, lang))
    units = ui.query(views.filter_choices, dimension, period, {})
    names = ui.query(drilldown.procedure_names) if dimension == "procedure" else {}
    if not units:
        ui.no_data(f"không có đơn vị loại này có hồ sơ trong {period.label('vi')}.",
                   f"no unit of this type has dossiers in {period.label('en')}.")
    else:
        with st.form("fu-add"):
            st.selectbox(t("Đơn vị", "Unit"), units, key="fu-unit",
                         format_func=lambda u: drilldown.procedure_label(u, names) if names else u)
            st.selectbox(t("Chỉ số", "KPI"), [m.id for m in METRICS], key="fu-metric",
                         format_func=lambda i: followups.metric_label(i, lang))
            st.text_area(t("Nội dung việc giao", "Task"), key="fu-task", max_chars=followups.MAX_TASK_CHARS,
                         placeholder=t("VD: Giảm hồ sơ quá hạn lĩnh vực cấp phép xây dựng",
                                       "e.g. Reduce the overdue building-permit dossiers"))
            st.text_input(t("Chịu trách nhiệm", "Owner"), key="fu-owner", max_chars=followups.MAX_OWNER_CHARS,
                          placeholder=t("VD: Sở Xây dựng", "e.g. Sở Xây dựng"))
            st.date_input(t("Hạn hoàn thành", "Due date"), followups.default_due_date(period), format="DD/MM/YYYY",
                          key="fu-due")
            st.text_area(t("Ghi chú", "Note"), key="fu-note", max_chars=followups.MAX_NOTE_CHARS)
            st.form_submit_button(t("Ghi việc giao", "Record"), type="primary", key="fu-add-submit", on_click=record)
        added, error = state.pop(ADDED, (None, None))
        if error:
            st.error(error, icon=":material/error:")
        elif added is not None:
            st.success(t(f"Đã ghi việc giao số {added}.", f"Follow-up {added} recorded."), icon=":material/check:")

# --- the list ---------------------------------------------------------------------------------------
st.subheader(t("Danh sách việc giao", "Follow-ups"))
status = st.segmented_control(t("Trạng thái", "Status"), list(followups.LIST_FILTERS), default="open", key="fu-status",
                              format_func=lambda s: followups.label(followups.LIST_FILTERS[s], lang)) or "open"
ui.followups_panel(where, period, key="fu-list", status=followups.list_status(status), heading=False)

# --- mark done, reopen, note ------------------------------------------------------------------------
if editor:
    st.subheader(t("Cập nhật việc giao", "Update a follow-up"))
    every = ui.followups_query(followups.list_followups, where=where)
    if every.empty:
        st.caption(t("Chưa có việc giao nào để cập nhật.", "No follow-up to update yet."))
    else:
        labels = followups.option_labels(every, lang)
        chosen = st.selectbox(t("Việc giao", "Follow-up"), list(labels), format_func=labels.get, key="fu-pick")
        current = followups.by_id(every, chosen)
        with st.form("fu-edit"):
            st.radio(t("Trạng thái", "Status"), list(followups.STATUSES), horizontal=True,
                     key=f"fu-edit-status-{chosen}", index=followups.STATUSES.index(current["status"]),
                     format_func=lambda s: followups.label(followups.STATUS_LABELS[s], lang))
            st.text_area(t("Ghi chú", "Note"), current["note"], key=f"fu-edit-note-{chosen}",
                         max_chars=followups.MAX_NOTE_CHARS)
            st.form_submit_button(t("Lưu", "Save"), key="fu-edit-submit", on_click=save, args=(chosen,))
        saved, error = state.pop(SAVED, (None, None))
        if error:
            st.error(error, icon=":material/error:")
        elif saved is not None:
            st.success(t(f"Đã lưu việc giao số {saved}.", f"Follow-up {saved} saved."), icon=":material/check:")
