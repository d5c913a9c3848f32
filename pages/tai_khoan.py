"""Tài khoản / Accounts (administrators): who may log in, with which role and units; add, remove, set a
password, disable. Single-sign-on users and identity-provider groups are accounts without a password."""

import streamlit as st

from kpi import access, accounts, ui
from kpi.formatting import md_escape

t = ui.t
who = ui.require("users")
path = ui.app_db()
st.title(t("Tài khoản và quyền", "Accounts and roles"))
st.caption(t("Quản trị: nhập dữ liệu, chỉ tiêu, việc giao, tài khoản, nhật ký. Cấp tỉnh: xem toàn bộ, không sửa. "
             "Đơn vị: xem số liệu của đơn vị mình (và những gì trực thuộc), tổng toàn tỉnh và bảng xếp hạng; không "
             "xem chi tiết hay danh sách hồ sơ của đơn vị khác.",
             "Admin: imports, targets, follow-ups, accounts, audit log. Province: sees everything, read-only. Unit: "
             "its own figures (and what lies under it), the province's totals and the rankings; never another "
             "unit's details or dossier list."))
users = accounts.list_users(path)
ui.data_table(ui.accounts_frame(users), ui.ACCOUNT_LABELS, key="accounts-table", file_stem="tai-khoan")

add, change = st.tabs([t("Thêm tài khoản", "Add an account"), t("Sửa, xoá", "Change, remove")])
with add, st.form("account-add", clear_on_submit=True):
    kind = st.radio(t("Loại", "Kind"), accounts.KINDS, horizontal=True, key="account-kind",
                    format_func=lambda k: t("Người dùng (e-mail)", "User (e-mail)") if k == "user"
                    else t("Nhóm của hệ thống đăng nhập một lần", "Single-sign-on group"))
    name = st.text_input(t("E-mail hoặc tên nhóm", "E-mail or group name"), key="account-name")
    role = st.selectbox(t("Vai trò", "Role"), access.ROLES, index=2, key="account-role",
                        format_func=lambda r: access.role_label(r, ui.lang()))
    units = st.multiselect(t("Đơn vị (vai trò Đơn vị)", "Units (role Unit)"), ui.unit_names(), key="account-units")
    password = st.text_input(t(f"Mật khẩu (để trống: chỉ đăng nhập một lần; ít nhất {accounts.MIN_PASSWORD_CHARS} "
                               "ký tự)", f"Password (empty: single sign-on only; at least "
                               f"{accounts.MIN_PASSWORD_CHARS} characters)"), type="password", key="account-password")
    if st.form_submit_button(t("Thêm", "Add"), type="primary"):
        try:
            accounts.add_user(path, name, role, units if role == "unit" else (), password or None,
                              created_by=who.name, kind=kind)
            st.success(t(f"Đã thêm {md_escape(name)}.", f"{md_escape(name)} added."))
        except accounts.AccountError as error:
            st.error(md_escape(str(error)))
with change:
    names = [u.email for u in users]
    chosen = st.selectbox(t("Tài khoản", "Account"), names, key="account-chosen") if names else None
    if chosen:
        picked = next(u for u in users if u.email == chosen)
        new_password = st.text_input(t("Mật khẩu mới", "New password"), type="password", key="account-new-password",
                                     disabled=picked.kind != "user")
        left, middle, right = st.columns(3)
        try:
            if left.button(t("Đặt mật khẩu", "Set the password"), key="account-set-password",
                           disabled=picked.kind != "user" or not new_password):
                accounts.set_password(path, chosen, new_password, by=who.name)
                st.success(t("Đã đặt mật khẩu.", "Password set."))
            if picked.kind == "user" and middle.button(
                    t("Mở khoá" if picked.disabled else "Khoá tài khoản", "Enable" if picked.disabled else "Disable"),
                    key="account-disable"):
                accounts.set_disabled(path, chosen, not picked.disabled, by=who.name)
                st.rerun()
            if right.button(t("Xoá tài khoản", "Remove the account"), key="account-remove", type="secondary"):
                accounts.remove_user(path, chosen, by=who.name, kind=picked.kind)
                st.rerun()
        except accounts.AccountError as error:
            st.error(md_escape(str(error)))
