"""Streamlit entry point: `streamlit run dashboard/app.py` (or `agam demo`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.auth import current_principal, persist_session, sign_in_form, sign_out
from dashboard.cookies import chosen_language, remember_language
from dashboard.i18n import LANGUAGES, t
from dashboard.nav import pages_for
from dashboard.unknown_page import alias_for_unknown, not_available

# A local favicon: with none, Streamlit shows each page's Material icon, fetched from
# fonts.gstatic.com (no internet at many sites).
st.set_page_config(
    page_title="Agam · আগাম",
    page_icon=str(Path(__file__).resolve().parent / "static" / "favicon.png"),
    layout="wide",
)

VIEWS = Path(__file__).resolve().parent / "views"
lang = st.session_state.setdefault("lang", chosen_language())  # a reload keeps it
with st.sidebar:
    st.title(f"{t('app_title', 'en')} · {t('app_title', 'bn')}")
    st.caption(t("app_tagline", lang))
    choice = st.segmented_control(
        t("language", lang),
        LANGUAGES,
        key="lang_picker",
        default=lang,
        format_func=lambda c: {"en": "English", "bn": "বাংলা"}[c],
    )
    if choice and choice != lang:
        st.session_state["lang"] = choice
        st.rerun()
    remember_language(lang)

principal = current_principal()
persist_session()  # the session cookie, so a browser reload stays signed in
if principal is None:
    sign_in = st.Page(
        lambda: sign_in_form(lang), title=t("signin_header", lang), url_path="", default=True
    )
    # any other address signs in too (and opens that page after, if it is one of the role's)
    aliases = alias_for_unknown((), lambda: sign_in_form(lang), t("signin_header", lang))
    st.navigation([sign_in, *aliases]).run()
    st.stop()

with st.sidebar:
    st.text(  # plain text: a display name is never a link or an image
        t(
            "signed_in_as",
            lang,
            name=principal.display_name or principal.username,
            role=t(f"role_{principal.role}", lang),
        )
    )
    if st.button(t("signout_button", lang), key="signout"):
        sign_out()
        st.rerun()

available = {p.name for p in VIEWS.glob("*.py")}
specs = pages_for(principal.role, available)
pages = [
    st.Page(
        str(VIEWS / spec.file),
        title=t(spec.title_key, lang),
        icon=spec.icon,
        url_path="" if i == 0 else spec.key,  # the first at the root, its name an alias
        default=(i == 0),
    )
    for i, spec in enumerate(specs)
]
home = specs[0]
unknown = alias_for_unknown(
    {spec.key for spec in specs[1:]},
    lambda: not_available(lang, pages[0]),
    t("page_unknown_header", lang),
    own_names={home.key: (str(VIEWS / home.file), t(home.title_key, lang))},
)
st.navigation([*pages, *unknown]).run()
