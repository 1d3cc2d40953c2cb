"""What every view starts with: the language and the signed-in principal (or stop)."""

from __future__ import annotations

import streamlit as st

from dashboard.auth import current_principal
from dashboard.i18n import t
from store.user_repo import Principal


def lang() -> str:
    return str(st.session_state.get("lang", "en"))


def require_principal(roles: tuple[str, ...] | None = None) -> Principal:
    principal = current_principal()
    if principal is None:
        st.warning(t("signin_required", lang()))
        st.stop()
        raise RuntimeError("unreachable")  # st.stop() raises; this keeps mypy honest
    if roles is not None and principal.role not in roles:
        st.error(t("not_allowed", lang()))
        st.stop()
    return principal


def require_page(key: str) -> Principal:
    """Sign-in plus the page's roles from dashboard.nav (the same table the menu uses)."""
    from dashboard.nav import ROLE_PAGES

    principal = require_principal(tuple(role for role, pages in ROLE_PAGES.items() if key in pages))
    scenario_banner()
    return principal


def scenario_banner() -> None:
    """Say so, on every page, when the store holds SYNTHETIC scenarios played by the demo."""
    from dashboard.data import scenario_names

    names = scenario_names(lang())
    if names:
        st.sidebar.warning(
            t("demo_scenarios_banner", lang(), names="; ".join(names)),
            icon=":material/science:",
        )
