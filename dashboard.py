"""egov-kpi dashboard entry: `streamlit run dashboard.py` (see README)."""

import streamlit as st

from kpi import ui

st.set_page_config(page_title="egov-kpi · Chỉ số CCHC", page_icon=":material/analytics:", layout="wide")
ui.language_switch()
ui.connection().close()  # opens the store; fills an empty one with the bundled sample on first start

navigation = st.navigation([
    st.Page("pages/kho_du_lieu.py", title=ui.t("Kho dữ liệu", "Data store"), icon=":material/database:",
            url_path="kho-du-lieu", default=True),
])
navigation.run()
