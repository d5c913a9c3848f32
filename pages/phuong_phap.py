"""Phương pháp / Methodology: every KPI of the registry (definition, numerator and denominator, source,
unit, direction, default target), how the dashboard treats the edge cases, the status colours and the
Decision 766 caveat, and the registry as a downloadable table."""

import streamlit as st

from kpi import methodology, ui
from kpi.metrics import METRICS

t = ui.t
lang = ui.lang()
selection = ui.filters()  # keeps the shared filters (and the link) as they are while reading
ui.page_header("Phương pháp", "Methodology", selection)
st.markdown(t("Mọi con số của bảng điều khiển được tính từ dữ liệu hồ sơ Một cửa theo đúng các định nghĩa dưới "
              "đây; mỗi chỉ số luôn đi kèm tử số và mẫu số.",
              "Every number of the dashboard is computed from the one-stop dossier data by the definitions below; "
              "each KPI always comes with its numerator and denominator."))

st.subheader(t("Các chỉ số", "The KPIs"))
for m in METRICS:
    with st.expander(f"{t(m.label_vi, m.label_en)} · `{m.id}`"):
        st.markdown(methodology.metric_markdown(m, lang))

st.subheader(t("Cách xử lý các trường hợp đặc biệt", "How the dashboard treats edge cases"))
st.markdown(methodology.rules_markdown(lang))

st.subheader(t("Bộ chỉ số 766: phần tính được từ dữ liệu hồ sơ", "Decision 766 index: what dossier data can score"))
ui.data_table(methodology.index766_frame(lang), methodology.INDEX766_LABELS, key="methodology-766",
              file_stem="bo_chi_so_766_phuong_phap")

st.subheader(t("Danh mục chỉ số", "KPI registry"))
ui.data_table(methodology.registry_frame(lang), methodology.REGISTRY_LABELS, key="methodology-registry",
              file_stem="danh_muc_chi_so")
