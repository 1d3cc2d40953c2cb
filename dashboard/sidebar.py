"""The sidebar every page shares: data versions and provenance."""

from __future__ import annotations

import streamlit as st

from dashboard import loaders


def data_versions() -> None:
    layer = loaders.union_layer()
    info = layer.info()
    src = info["source"]
    with st.sidebar:
        st.subheader("Data versions")
        st.caption(
            f"**Boundaries:** {src['name']} — {src['version']} "
            f"({info['counts']['union']:,} unions, {info['counts']['upazila']} upazilas, "
            f"{info['counts']['district']} districts) · `{src['fingerprint']}`"
        )
