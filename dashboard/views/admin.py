"""Administration: accounts (add, disable) and the configuration in force (no secrets)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from agam.core.errors import AgamError
from dashboard import labels, loaders
from dashboard.i18n import t
from dashboard.page import lang, require_page
from dashboard.plain_text import md_literal
from store import user_repo

principal = require_page("admin")
lg = lang()
st.header(t("admin_header", lg))

names = loaders.names(lg)
with loaders.store().session() as session:
    users = pd.DataFrame(
        [
            {
                "username": u.username,
                "name": u.display_name,
                "role": u.role,
                "districts": list(u.districts or []),
                "disabled": u.disabled,
            }
            for u in user_repo.list_users(session)
        ]
    )
if not users.empty:
    st.dataframe(
        pd.DataFrame(
            {
                t("signin_username", lg): users["username"],
                t("admin_display_name", lg): users["name"],
                t("admin_role", lg): users["role"].map(lambda r: labels.role(r, lg)),
                t("col_districts", lg): users["districts"].map(
                    lambda ds: ", ".join(names.get(d, d) for d in ds)
                ),
                t("col_account", lg): users["disabled"].map(
                    lambda off: t("admin_state_disabled" if off else "admin_state_active", lg)
                ),
            }
        ),
        hide_index=True,
        width="stretch",
    )

with st.form("add_user"):
    st.subheader(t("admin_add_user", lg))
    username = st.text_input(t("signin_username", lg), key="new_username")
    name = st.text_input(t("admin_display_name", lg), key="new_name")
    role = st.selectbox(
        t("admin_role", lg),
        user_repo.ROLES,
        format_func=lambda r: labels.role(r, lg),
        key="new_role",
    )
    districts = st.text_input(t("admin_districts", lg), key="new_districts")
    email = st.text_input(t("admin_email", lg), key="new_email")
    password = st.text_input(t("signin_password", lg), type="password", key="new_password")
    if st.form_submit_button(t("admin_add_button", lg)):
        try:
            with loaders.store().session() as session:
                user_repo.admin_add_user(
                    session,
                    principal,
                    username=username.strip().lower(),
                    role=role,
                    districts=[d.strip().upper() for d in districts.split(",") if d.strip()],
                    password=password or None,
                    display_name=name,
                    at=loaders.now(),
                    email=email.strip() or None,
                    known_districts=set(loaders.union_layer().frame["adm2_pcode"].astype(str)),
                )
            st.success(t("admin_added", lg, name=username))
        except AgamError as exc:
            st.error(md_literal(str(exc)))

active = [u for u in users.to_dict("records") if not u["disabled"]] if not users.empty else []
target = st.selectbox(
    t("admin_disable", lg), [""] + [u["username"] for u in active], key="disable_user"
)
if target and st.button(t("admin_disable_button", lg), key="do_disable"):
    if target == principal.username:
        st.error(t("admin_not_self", lg))
    else:
        with loaders.store().session() as session:
            user_repo.set_disabled(session, principal, target, True, loaders.now())
        st.success(t("admin_disabled", lg, name=target))

st.subheader(t("admin_config", lg))
settings = loaders.settings()
shown = settings.model_dump(mode="json")
shown["database"]["url"] = settings.database_url.split("@")[-1]  # never show credentials
st.json(shown, expanded=False)
