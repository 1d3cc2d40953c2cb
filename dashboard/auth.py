"""Who is signed in: the one function every page asks, `current_principal()`.

With an identity provider configured ([auth] in Streamlit secrets) identity comes from OIDC
(`st.login`) and is mapped to an Agam account by subject or e-mail. Otherwise local accounts
sign in with a password (argon2, throttled in the store). The account is re-read from the
store on every run, so a disabled user or a changed district applies at the next click.
Tests may inject a username only when AGAM_TEST_IDENTITY=1 and no provider is configured.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from agam.core.errors import NotFound
from dashboard import loaders
from store import audit
from store.user_repo import Principal, authenticate, get_user, to_principal

TEST_IDENTITY_ENV = "AGAM_TEST_IDENTITY"
SESSION_KEY = "agam_username"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _load(username: str) -> Principal | None:
    with loaders.store().session() as session:
        try:
            user = get_user(session, username)
        except NotFound:
            return None
        return None if user.disabled else to_principal(user)


def _from_oidc() -> Principal | None:
    user: Any = st.user
    if not getattr(user, "is_logged_in", False):
        return None
    from sqlalchemy import or_, select

    from store.models import User

    subject, email = user.get("sub"), user.get("email")
    with loaders.store().session() as session:
        row = session.scalars(
            select(User).where(or_(User.oidc_subject == subject, User.email == email))
        ).first()
        return None if row is None or row.disabled else to_principal(row)


def current_principal() -> Principal | None:
    if oidc_configured():
        return _from_oidc()
    if os.environ.get(TEST_IDENTITY_ENV) == "1" and st.session_state.get("test_username"):
        return _load(str(st.session_state["test_username"]))
    username = st.session_state.get(SESSION_KEY)
    return _load(str(username)) if username else None


def sign_in_form(lang: str) -> None:
    """Local sign-in (or the identity provider's button when one is configured)."""
    from dashboard.i18n import t

    st.header(t("signin_header", lang))
    if oidc_configured():
        if st.button(t("signin_provider", lang), type="primary"):
            st.login()
        return
    with st.form("signin"):
        username = st.text_input(t("signin_username", lang), key="signin_username")
        password = st.text_input(t("signin_password", lang), type="password", key="signin_password")
        submitted = st.form_submit_button(t("signin_button", lang), type="primary")
    if submitted:
        with loaders.store().session() as session:
            result = authenticate(session, username.strip().lower(), password, loaders.now())
        if result.principal is None:
            st.error(
                t("signin_failed", lang)
                if "too many" not in result.message
                else t("signin_locked", lang)
            )
            return
        with loaders.store().session() as session:
            audit.append(
                session,
                at=loaders.now(),
                actor=result.principal.username,
                action="session.sign_in",
                entity="user",
                entity_id=result.principal.username,
            )
        st.session_state[SESSION_KEY] = result.principal.username
        st.session_state["signed_in_at"] = loaders.now()
        st.rerun()


def sign_out() -> None:
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop("test_username", None)
    if oidc_configured():
        st.logout()
