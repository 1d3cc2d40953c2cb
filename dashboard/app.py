"""Streamlit entry point: `streamlit run dashboard/app.py` (or `agam demo`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="Agam · আগাম", page_icon="🌊", layout="wide")

VIEWS = Path(__file__).resolve().parent / "views"
navigation = st.navigation(
    [st.Page(str(VIEWS / "map.py"), title="Map", icon="🗺️", url_path="map", default=True)]
)
st.sidebar.title("Agam · আগাম")
st.sidebar.caption("Early warning and anticipatory action for Bangladesh's social protection")
navigation.run()
