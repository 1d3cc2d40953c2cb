"""The sidebar every page shares: data versions and provenance."""

from __future__ import annotations

import streamlit as st

from dashboard import loaders
from dashboard.i18n import fmt_int, t


def data_versions(lang: str) -> None:
    info = loaders.union_layer().info()
    src, counts = info["source"], info["counts"]
    with st.sidebar:
        st.subheader(t("data_versions", lang))
        st.caption(
            f"**{t('boundaries_label', lang)}:** {src['name']} — {src['version']} "
            f"({fmt_int(counts['union'], lang)} / {fmt_int(counts['upazila'], lang)} / "
            f"{fmt_int(counts['district'], lang)}) · `{src['fingerprint']}`"
        )
