"""Chỉ tiêu / Targets: every KPI's target (for the whole province and the units' own), which every page, the
meeting pack and the CLI apply; administrators set one, remove it ("no target") or return it to the
registry default. Writes go through ui.write_target (audit log)."""

import streamlit as st

from kpi import targets, ui
from kpi.formatting import md_escape
from kpi.metrics import METRICS, metric

t = ui.t
lang = ui.lang()
selection = ui.filters()  # keeps the shared filters (and the link) as they are
ui.page_header("Chỉ tiêu", "Targets", selection)
state = st.session_state
SAVED = "_tg-saved"  # the last write's outcome: (TargetChange or None, reason or None)


def forget_value() -> None:
    """A new KPI or unit chosen: the number and the checkbox start again from its target."""
    state.pop("tg-value", None)
    state.pop("tg-none", None)


def save() -> None:
    """The form's submit: the target typed (or none) for the chosen KPI and unit."""
    metric_id = state["tg-metric"]
    value = None if state["tg-none"] else targets.entered(metric_id, state["tg-value"])
    state[SAVED] = ui.write_target(targets.set_target, metric_id, value, unit=state["tg-unit"])
    forget_value()


def reset() -> None:
    """Back to the registry default (for a unit: to the KPI's target for every unit)."""
    state[SAVED] = ui.write_target(targets.reset_target, state["tg-metric"], unit=state["tg-unit"])
    forget_value()


st.caption(t("Chỉ tiêu dùng để tô màu đánh giá (🟢 đạt, 🟠 gần đạt, 🔴 chưa đạt) trên mọi trang, trong tài liệu họp "
             "và ở dòng lệnh. Chỉ tiêu riêng của một đơn vị áp dụng khi đơn vị đó được so sánh với các đơn vị "
             "khác (xếp hạng, bảng theo đơn vị); chỉ tiêu toàn tỉnh áp dụng cho các trường hợp còn lại.",
             "Targets colour the assessments (🟢 on target, 🟠 near, 🔴 below) on every page, in the meeting pack "
             "and on the command line. A unit's own target applies where units are compared (rankings, tables "
             "by unit); the province-wide target everywhere else."))
frame = ui.query(targets.targets_table)
ui.formatted_table(targets.display(frame, lang), frame, targets.LABELS, key="targets-table", file_stem="chi_tieu")

if not ui.caller().may("targets"):
    st.caption(t("Chỉ quản trị viên của Văn phòng UBND tỉnh thay đổi chỉ tiêu.",
                 "Only the provincial office's administrators change targets."))
    st.stop()

st.subheader(t("Đặt chỉ tiêu", "Set a target"))
metric_id = st.selectbox(t("Chỉ số", "KPI"), [m.id for m in METRICS], key="tg-metric", on_change=forget_value,
                         format_func=lambda i: targets.metric_label(i, lang))
unit = st.selectbox(t("Áp dụng cho", "Applies to"), ["", *ui.unit_names()], key="tg-unit", on_change=forget_value,
                    format_func=lambda u: targets.unit_label(u, lang))
current, is_set = targets.applied(frame, metric_id, unit)
st.caption(md_escape(t(f"Đang áp dụng: {targets.target_text(metric_id, current, lang)}"
                       + ("" if is_set else " (chưa đặt riêng)"),
                       f"Applied now: {targets.target_text(metric_id, current, lang)}"
                       + ("" if is_set else " (not set here)"))))
with st.form("tg-set"):
    rate = metric(metric_id).unit == "rate"
    st.number_input(targets.input_text(metric_id, lang), min_value=0.0, max_value=100.0 if rate else None,
                    value=targets.form_value(metric_id, current), step=0.5, format="%.2f" if rate else "%.1f",
                    key="tg-value")
    st.checkbox(t("Không đặt chỉ tiêu cho chỉ số này", "No target for this KPI"), value=current is None,
                key="tg-none")
    st.form_submit_button(t("Lưu chỉ tiêu", "Save the target"), type="primary", key="tg-save", on_click=save)
st.button(t("Về mặc định", "Back to the default"), key="tg-reset", on_click=reset, disabled=not is_set,
          help=t("Xoá chỉ tiêu đã đặt: chỉ số dùng lại chỉ tiêu mặc định (với một đơn vị: chỉ tiêu toàn tỉnh).",
                 "Remove the target set here: the KPI goes back to its default (for a unit: the province-wide one)."))
change, error = state.pop(SAVED, (None, None))
if error:
    st.error(md_escape(error), icon=":material/error:")
elif change is not None:
    st.success(md_escape(t("Đã lưu: ", "Saved: ") + targets.change_text(change, lang)), icon=":material/check:")
