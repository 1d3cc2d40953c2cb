"""A page address the menu does not have, answered in the reader's language.

Streamlit answers an unknown address (a typo, an old bookmark, a page another role has) with
its own "Page not found" box, in English whatever the dashboard's language. Instead, the
requested name gets a hidden page of our own for this run: signed out, it is the sign-in
form (so a bookmarked page opens once signed in, if the role has it); signed in, a short
notice in the chosen language with the way back. The default page is served at the root
under no name of its own (url_path ""), so its name, too, can be answered: with the page.
The requested name is never shown or stored beyond the session.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import streamlit as st

from dashboard.i18n import t

_ALIAS_KEY = "_agam_unknown_page"


def requested_page_name() -> str | None:
    """The page the browser's address asks for, if it named one (Streamlit's run context;
    None when this Streamlit keeps it elsewhere, which brings its own box back)."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx(suppress_warning=True)
        name = ctx.pages_manager.intended_page_name if ctx is not None else None
    except (ImportError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def alias_for_unknown(
    page_names: Collection[str],
    page: Callable[[], None],
    title: str,
    own_names: Mapping[str, tuple[str, str]] | None = None,
) -> list[st.Page]:
    """A hidden page under the requested name when it is none of `page_names`: for a name
    in `own_names` (the default page's, which is served at the root) that page's script and
    title, else `page`. None when the address names no page, or a name Streamlit could not
    serve. The name is kept for the session: a rerun from that page (a form sent, the
    language changed) names no page, only the page's hash, which must still be there."""
    name = requested_page_name()
    if name:
        st.session_state[_ALIAS_KEY] = name
    else:
        name = st.session_state.get(_ALIAS_KEY)
    if not isinstance(name, str):
        return []
    path = name.strip().strip("/")
    if not path or "/" in path or path in page_names:
        return []
    target, label = (own_names or {}).get(path, (page, title))
    return [st.Page(target, title=label, url_path=path, visibility="hidden")]


def not_available(lang: str, home: st.Page) -> None:
    """The notice for a signed-in reader: what happened and the way back, nothing more."""
    st.header(t("page_unknown_header", lang))
    st.write(t("page_unknown_body", lang))
    st.page_link(home, label=t("page_unknown_home", lang), icon=":material/home:")
