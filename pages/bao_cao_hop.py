"""Báo cáo họp / Meeting report: the steering committee's pack for the sidebar's period and scope, previewed
section by section as the PDF lays it out, with the PDF report and the Excel workbook written on click."""

import streamlit as st

from kpi import drilldown, meeting, overview, ui
from kpi import pack as meeting_pack
from kpi.formatting import format_int, md_escape
from kpi.metrics import metric

t = ui.t
selection = ui.filters()
ui.page_header("Báo cáo họp", "Meeting report", selection)
lang = ui.lang()
pack = ui.meeting_pack(selection)
if not meeting.has_data(pack):
    ui.no_data("không có hồ sơ nào trong kỳ và phạm vi đã chọn.", "no dossier in the chosen period and scope.")
    st.stop()

# --- the files --------------------------------------------------------------------------------------
st.subheader(t("Tệp báo cáo cho cuộc họp", "The meeting's files"))
file_lang = st.radio(t("Ngôn ngữ của tệp", "Language of the files"), list(meeting.FILE_LANGUAGES),
                     index=list(meeting.FILE_LANGUAGES).index(lang) if lang in meeting.FILE_LANGUAGES else 0,
                     format_func=meeting.FILE_LANGUAGES.get, horizontal=True, key="meeting-file-lang")
ui.pack_downloads(pack, file_lang, key="meeting-files")
st.caption(t("Báo cáo PDF (khổ A4) và bảng tính Excel của đúng kỳ và phạm vi đang xem; tệp được lập khi bấm nút "
             "(vài giây). Xem trước nội dung bên dưới.",
             "The PDF report (A4) and the Excel workbook of the period and scope shown; a file is made when its "
             "button is clicked (a few seconds). The contents are previewed below."))

# --- cover ------------------------------------------------------------------------------------------
st.subheader(meeting_pack.REPORT_TITLE["en" if lang == "en" else "vi"])
st.markdown("\n".join(f"- **{label}:** {md_escape(text)}" for label, text in meeting_pack.cover_facts(pack, lang)))

# --- headline KPIs ----------------------------------------------------------------------------------
st.subheader(t("Các chỉ số chính", "Headline KPIs"))
ui.shown_table(meeting_pack.headline_table(pack, lang), key="meeting-headline", height="content")

# --- Decision 766 index by group --------------------------------------------------------------------
st.subheader(t("Điểm Bộ chỉ số 766 theo nhóm (ước tính)", "Decision 766 index by group (estimated)"))
charts = meeting_pack.figures(pack, lang)
if "index766" in charts:
    st.markdown(overview.index766_total(pack.index766, lang))
    ui.chart_block(charts["index766"], overview.index766_table(pack.index766, lang), overview.INDEX766_LABELS,
                   key="meeting-766", file_stem=f"{meeting_pack.file_stem(pack)}_766")
else:
    ui.no_data("không nhóm nào của Bộ chỉ số 766 tính được từ dữ liệu hồ sơ của kỳ.",
               "no group of the Decision 766 index can be computed from the period's dossier data.")

# --- rankings ---------------------------------------------------------------------------------------
for which, frame in (("departments", pack.departments), ("localities", pack.localities)):
    st.subheader(meeting_pack.ranking_title(pack, which, lang))
    if which not in charts:
        ui.no_data("không đơn vị nào có giá trị chỉ số này trong kỳ.", "no unit has a value of this KPI in the period.")
        continue
    note = meeting_pack.chart_note(frame, lang)
    if note:
        st.caption(note)
    ui.chart_block(charts[which], drilldown.ranking_table(frame, meeting_pack.RANKING_METRIC, lang),
                   drilldown.RANKING_LABELS, key=f"meeting-rank-{which}",
                   file_stem=f"{meeting_pack.file_stem(pack)}_xep-hang-{which}")

# --- units below target -----------------------------------------------------------------------------
st.subheader(t("Đơn vị chưa đạt mục tiêu", "Units below target"))
if pack.below_target.empty:
    st.success(t("Mọi sở, ngành và địa bàn có số liệu đều đạt mục tiêu các chỉ số chính.",
                 "Every department and locality with data is on target for the headline KPIs."))
else:
    st.caption(t("Các chỉ số chính của sở, ngành và địa bàn: chưa đạt trước, rồi đến gần đạt (trong 5 điểm %).",
                 "Departments' and localities' headline KPIs: below target first, then near it (within 5 points)."))
    ui.shown_table(meeting_pack.below_target_table(pack, lang), key="meeting-below", height=400)

# --- procedures with the most late dossiers ---------------------------------------------------------
st.subheader(t("Thủ tục có nhiều hồ sơ trễ hạn nhất", "Procedures with the most late dossiers"))
if pack.late_procedures.empty:
    st.success(t("Không có hồ sơ nào giải quyết trễ hạn trong kỳ.", "No dossier was resolved late in the period."))
else:
    ui.shown_table(meeting_pack.late_procedures_table(pack, lang), key="meeting-late-procedures", height="content")

# --- overdue dossiers per unit ----------------------------------------------------------------------
st.subheader(t("Hồ sơ đang giải quyết quá hạn theo đơn vị", "Overdue dossiers in progress by unit"))
overdue_count = format_int(len(pack.overdue))
st.caption(t(f"Tại ngày cuối kỳ; danh sách từng hồ sơ ({overdue_count}) có trong tệp PDF và Excel.",
             f"At the period's last day; the dossiers themselves ({overdue_count}) are listed in the PDF and Excel "
             "files."))
if pack.overdue.empty:
    st.success(t("Không có hồ sơ quá hạn tại cuối kỳ.", "No overdue dossier at the period end."))
else:
    ui.shown_table(meeting.overdue_units_table(pack, lang), key="meeting-overdue", height=400)

# --- follow-ups -------------------------------------------------------------------------------------
st.subheader(t("Theo dõi thực hiện kết luận các kỳ họp trước", "Follow-ups from earlier meetings"))
if pack.followups.empty:
    ui.no_data("chưa có việc nào được giao ở các kỳ họp trước trong phạm vi này (trang Việc giao).",
               "no task was assigned at earlier meetings in this scope (Follow-ups page).")
else:
    ui.shown_table(meeting_pack.followups_table(pack, lang), key="meeting-followups")
st.caption(t(f"Xếp hạng theo {metric(meeting_pack.RANKING_METRIC).label_vi.lower()}; phụ lục định nghĩa các chỉ số "
             "có trong tệp PDF.",
             f"Rankings on {metric(meeting_pack.RANKING_METRIC).label_en.lower()}; the PDF's appendix defines every "
             "KPI."))
