"""Trình chiếu / Presentation: the meeting pack on the meeting-room screen, one headline KPI or ranking per
screen in large type, moved through with the previous and next buttons (the screen's number is in the address,
?trang=3). The same pack, period and scope as the Meeting report page (the sidebar's shared filters)."""

import streamlit as st

from kpi import meeting, ui
from kpi.formatting import md_escape
from kpi.pack import period_text, slides

t = ui.t
selection = ui.filters()
ui.presentation_style(key="slide")
pack = ui.meeting_pack(selection)
if not meeting.has_data(pack):
    st.title(t("Trình chiếu", "Presentation"))
    ui.no_data("không có hồ sơ nào trong kỳ và phạm vi đã chọn.", "no dossier in the chosen period and scope.")
    st.stop()

screens = slides(pack, ui.lang())
number = ui.slide_pager(len(screens), key="slide")
st.caption(f"{period_text(pack.period, ui.lang())} · {md_escape(pack.scope(ui.lang()))} · "
           + t("Kỳ và phạm vi chọn ở thanh bên; phím F11: trình duyệt toàn màn hình.",
               "Period and scope in the sidebar; F11: the browser's full screen."))
ui.slide(screens[number - 1], key="slide")
