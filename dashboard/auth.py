"""Who is signed in: the one function every page asks, `current_principal()`.

Every principal comes from the store after a verification (store.identity):
- an identity provider ([auth] in Streamlit secrets, `st.login`): the provider's subject is
  bound to an invited account (store/oidc_repo.py); refusals are audited once per session;
- otherwise a local password (throttled with growing waits, never locked out; the same answer
  for unknown users and wrong passwords; every failure audited), which opens a dashboard
  session: a signed, expiring, revocable token kept in a cookie, so a browser reload stays
  signed in. The token is re-checked on every run: sign-out, a disabled account or a password
  reset ends it wherever the cookie is.
Tests may sign a user in without the form only when AGAM_TEST_IDENTITY=1, no provider is
configured, and the password is given in AGAM_TEST_PASSWORD: the seam verifies it like the form.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import streamlit as st

from dashboard import loaders
from dashboard.cookies import write_cookie
from store import audit, oidc_repo, session_repo, throttle, user_repo
from store.identity import Principal

TEST_IDENTITY_ENV = "AGAM_TEST_IDENTITY"
TEST_PASSWORD_ENV = "AGAM_TEST_PASSWORD"  # noqa: S105 (the variable's name)
SESSION_KEY_ENV = "AGAM_SESSION_KEY"
COOKIE = "agam_session"
log = logging.getLogger(__name__)
ORIGIN_LOGGED = "agam_origin_logged"
TOKEN = "agam_session_token"  # noqa: S105 (a session_state key)
TEST_USER = "agam_test_user"
OIDC_REFUSED = "agam_oidc_refused"
OIDC_AUDITED = "agam_oidc_audited"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


@st.cache_resource(show_spinner=False)
def session_key() -> bytes:
    """The key that signs session tokens: $AGAM_SESSION_KEY (hex), else a file made once in
    <data_dir>/secrets/ (owner-only). Not in the database."""
    if os.environ.get(SESSION_KEY_ENV):
        return bytes.fromhex(os.environ[SESSION_KEY_ENV])
    folder = loaders.settings().data_dir / "secrets"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "session.key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32))
        except FileExistsError:
            pass  # another server process made it first
    return bytes.fromhex(Path(path).read_text(encoding="ascii").strip())


def client() -> str:
    """The browser's address: the peer's, or behind the reverse proxy (Streamlit on loopback)
    the address the proxy put LAST in X-Forwarded-For. Entries before it are whatever the
    browser sent; taking the first let anyone pick a new "address" for every sign-in attempt
    (and write any text into the audit log). Not an IP address: "unreadable"."""
    peer = st.context.ip_address or "unknown"
    forwarded = st.context.headers.get("X-Forwarded-For", "")
    if peer in ("127.0.0.1", "::1") and forwarded:
        peer = proxied_peer(forwarded)
    return f"dashboard:{peer}"


def same_origin() -> bool:
    """Did a page of the dashboard's own origin open this connection? A page on another origin
    (another port or site: Streamlit lets localhost and the server's own addresses through)
    that opens the websocket would get the browser's cookie and act as its user; it gets no
    session. Compares the handshake's Origin with its Host, port included (the proxy passes
    the browser's Host on). No Origin: not a browser, so no browser cookie to misuse."""
    origin, host = st.context.headers.get("Origin"), st.context.headers.get("Host")
    if origin_matches(origin, host):
        return True
    if not st.session_state.get(ORIGIN_LOGGED):  # once a session: a proxy dropping the port
        st.session_state[ORIGIN_LOGGED] = True  # from Host refuses every browser this way
        log.warning("dashboard: no session for Origin %.80r on Host %.80r", origin, host)
    return False


def origin_matches(origin: str | None, host: str | None) -> bool:
    if origin is None:
        return True
    return bool(host) and urlsplit(origin).netloc.lower() == str(host).lower()


def proxied_peer(forwarded: str) -> str:
    """The address the nearest proxy added to an X-Forwarded-For header."""
    try:
        return str(ipaddress.ip_address(forwarded.rsplit(",", 1)[-1].strip()))
    except ValueError:
        return "unreadable"


def _from_oidc() -> Principal | None:
    user: Any = st.user
    if not getattr(user, "is_logged_in", False):
        return None
    claims = user.to_dict() if hasattr(user, "to_dict") else dict(user)
    subject = str(claims.get("sub") or "")
    refused = st.session_state.get(OIDC_REFUSED)
    if refused == subject:
        return None  # refused (and audited) once in this session already
    with loaders.store().session() as session:
        result = oidc_repo.sign_in(session, claims, loaders.now(), client())
        if result.principal is not None and st.session_state.get(OIDC_AUDITED) != subject:
            audit.append(
                session,
                at=loaders.now(),
                actor=result.principal.username,
                action="session.sign_in",
                entity="user",
                entity_id=result.principal.username,
                payload={"client": client(), "via": "oidc"},
            )
            st.session_state[OIDC_AUDITED] = subject
    if result.principal is None:
        st.session_state[OIDC_REFUSED] = subject
    return result.principal


def _from_token() -> Principal | None:
    token = st.session_state.get(TOKEN) or st.context.cookies.get(COOKIE)
    if not token:
        return None
    with loaders.store().session() as session:
        principal = session_repo.principal_for(session, str(token), session_key(), loaders.now())
    if principal is None:
        st.session_state.pop(TOKEN, None)
    else:
        st.session_state[TOKEN] = token
    return principal


def _test_sign_in() -> None:
    """The test seam: a password sign-in without the form (see the module docstring)."""
    username = st.session_state.get("test_username")
    password = os.environ.get(TEST_PASSWORD_ENV)
    if not username or not password or st.session_state.get(TEST_USER) == username:
        return
    with loaders.store().session() as session:
        result = user_repo.authenticate(session, str(username), password, loaders.now(), "test")
        if result.principal is not None:
            token = session_repo.create(session, result.principal, session_key(), loaders.now())
            st.session_state[TOKEN] = token
            st.session_state[TEST_USER] = username


def current_principal() -> Principal | None:
    if not same_origin():
        return None
    if oidc_configured():
        return _from_oidc()
    if os.environ.get(TEST_IDENTITY_ENV) == "1":
        _test_sign_in()
    return _from_token()


def persist_session() -> None:
    """Keep the browser's cookie in step with the session: set it after a sign-in so a reload
    stays signed in, clear it once the session is gone. (Streamlit reads cookies when the page
    connects; only the browser can write them.)"""
    if oidc_configured() or not same_origin():
        return
    token = st.session_state.get(TOKEN)
    cookie = st.context.cookies.get(COOKIE)
    if token and cookie != token:
        max_age = int(throttle.policy().sessions.hours * 3600)
        write_cookie(f"{COOKIE}={token}; Max-Age={max_age}")
    elif not token and (cookie or st.session_state.pop("agam_clear_cookie", False)):
        write_cookie(f"{COOKIE}=; Max-Age=0")


def sign_in_form(lang: str) -> None:
    """Local sign-in (or the identity provider's button when one is configured)."""
    from dashboard.i18n import t

    st.header(t("signin_header", lang))
    if not same_origin():
        st.error(t("signin_other_origin", lang))
        return
    if oidc_configured():
        if st.session_state.get(OIDC_REFUSED) and getattr(st.user, "is_logged_in", False):
            st.error(t("signin_oidc_refused", lang))
            if st.button(t("signout_button", lang), key="oidc_signout"):
                st.session_state.pop(OIDC_REFUSED, None)
                st.logout()
            return
        if st.button(t("signin_provider", lang), type="primary"):
            st.login()
        return
    with st.form("signin"):
        username = st.text_input(t("signin_username", lang), key="signin_username")
        password = st.text_input(t("signin_password", lang), type="password", key="signin_password")
        submitted = st.form_submit_button(t("signin_button", lang), type="primary")
    if submitted:
        _password_sign_in(username, password, lang)


def _password_sign_in(username: str, password: str, lang: str) -> None:
    from dashboard.i18n import fmt_int, t

    at = loaders.now()
    with loaders.store().session() as session:
        result = user_repo.authenticate(session, username.strip().lower(), password, at, client())
    if result.principal is None:
        if result.wait_s > 0:
            st.error(t("signin_locked", lang, seconds=fmt_int(int(result.wait_s) + 1, lang)))
        else:
            st.error(t("signin_failed", lang))
        return
    with loaders.store().session() as session:
        token = session_repo.create(session, result.principal, session_key(), at)
        audit.append(
            session,
            at=at,
            actor=result.principal.username,
            action="session.sign_in",
            entity="user",
            entity_id=result.principal.username,
            payload={"client": client()},
        )
    st.session_state[TOKEN] = token
    st.session_state["signed_in_at"] = at
    st.rerun()


def sign_out() -> None:
    """End the session in the store (the cookie dies with it) and in this browser."""
    token = st.session_state.pop(TOKEN, None) or st.context.cookies.get(COOKIE)
    st.session_state.pop("test_username", None)
    st.session_state.pop(TEST_USER, None)
    st.session_state["agam_clear_cookie"] = True
    if token and not oidc_configured():
        with loaders.store().session() as session:
            username = session_repo.revoke(session, str(token), session_key(), loaders.now())
            if username is not None:
                audit.append(
                    session,
                    at=loaders.now(),
                    actor=username,
                    action="session.sign_out",
                    entity="user",
                    entity_id=username,
                )
    if oidc_configured():
        st.logout()
