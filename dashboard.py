"""egov-kpi dashboard entry: `streamlit run dashboard.py` (see README)."""

import streamlit as st

from kpi import ui

st.set_page_config(page_title="egov-kpi · Chỉ số CCHC", page_icon=":material/analytics:", layout="wide")
ui.language_switch()

# (file, Vietnamese title, English title, icon, URL path); the first is the landing page.
PAGES = (
    ("pages/tong_quan.py", "Tổng quan", "Overview", ":material/dashboard:", "tong-quan"),
    ("pages/dia_ban.py", "Địa bàn", "Localities", ":material/location_on:", "dia-ban"),
    ("pages/so_nganh.py", "Sở, ngành", "Departments", ":material/account_balance:", "so-nganh"),
    ("pages/danh_gia_thang.py", "Đánh giá tháng", "Monthly review", ":material/event_note:", "danh-gia-thang"),
    ("pages/theo_doi.py", "Việc giao", "Follow-ups", ":material/task_alt:", "viec-giao"),
    ("pages/bao_cao_hop.py", "Báo cáo họp", "Meeting report", ":material/summarize:", "bao-cao-hop"),
    ("pages/trinh_chieu.py", "Trình chiếu", "Presentation", ":material/slideshow:", "trinh-chieu"),
    ("pages/du_lieu.py", "Dữ liệu", "Data", ":material/database:", "du-lieu"),
    ("pages/phuong_phap.py", "Phương pháp", "Methodology", ":material/menu_book:", "phuong-phap"),
    ("pages/chi_tieu.py", "Chỉ tiêu", "Targets", ":material/flag:", "chi-tieu"),
    ("pages/tai_khoan.py", "Tài khoản", "Accounts", ":material/manage_accounts:", "tai-khoan"),
    ("pages/nhat_ky.py", "Nhật ký", "Audit log", ":material/history:", "nhat-ky"),
)
# The pages a role may open (kpi.access.PERMISSIONS); each of these pages checks it again itself.
NEEDS = {"du-lieu": "data", "tai-khoan": "users", "nhat-ky": "audit"}
if not ui.logged_in():  # the login at every page's address, so that a shared link opens its page after it
    st.navigation([st.Page(ui.login_page, title=ui.t(vi, en), url_path=url, default=(i == 0))
                   for i, (_, vi, en, _, url) in enumerate(PAGES)], position="hidden").run()
who = ui.caller()  # the login (or the first-run form) until someone is logged in; every query runs as them
ui.account_box()
ui.pin_store()  # this run reads the store as it is now; an empty one is filled with the bundled sample first
navigation = st.navigation([
    st.Page(path, title=ui.t(vi, en), icon=icon, url_path=url, default=(i == 0))
    for i, (path, vi, en, icon, url) in enumerate(PAGES) if url not in NEEDS or who.may(NEEDS[url])
])
navigation.run()
