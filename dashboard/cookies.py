"""Cookies the browser keeps for the dashboard, written by a tiny script (Streamlit can read
cookies, st.context.cookies, but not set them): the session token (dashboard.auth) and the
chosen language. Strict same-site, Secure over HTTPS, never readable by other sites."""

from __future__ import annotations

import json

import streamlit as st

from dashboard.i18n import LANGUAGES

LANG_COOKIE = "agam_lang"
LANG_MAX_AGE_S = 400 * 24 * 3600  # browsers cap a cookie's life at 400 days


def write_cookie(assignment: str) -> None:
    """Set a cookie: `assignment` is "name=value; Max-Age=N" (values from Agam, never input)."""
    value = json.dumps(f"{assignment}; Path=/; SameSite=Strict")
    st.html(
        "<script>document.cookie = "
        f"{value} + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


def chosen_language() -> str:
    """The language this browser chose last (English when none, or not one of ours)."""
    cookie = st.context.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGUAGES else "en"


def remember_language(lang: str) -> None:
    """Keep `lang` for the next reload or tab of this browser. Written on every run while the
    cookie the page connected with says otherwise: a run cut short by a rerun, or a script the
    browser had not run yet, cannot lose the choice (the write is idempotent)."""
    if lang in LANGUAGES and chosen_language() != lang:
        write_cookie(f"{LANG_COOKIE}={lang}; Max-Age={LANG_MAX_AGE_S}")
