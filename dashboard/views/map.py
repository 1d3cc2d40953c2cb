"""Map: the national union layer, a district picker that zooms."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import loaders
from dashboard.maps import union_map
from dashboard.sidebar import data_versions

cfg = loaders.settings().dashboard
layer = loaders.union_layer()
fingerprint = layer.source.fingerprint
data_versions()

st.header("Union map")
options = loaders.districts(fingerprint)
labels = {d["pcode"]: f"{d['name_en']} ({d['division']})" for d in options}
choice = st.selectbox(
    "District",
    options=["", *labels],
    format_func=lambda c: labels.get(c, "All Bangladesh"),
    key="district",
)
national = loaders.national_geojson(
    fingerprint, cfg.simplify_tolerance_deg, cfg.coordinate_decimals
)
focus, bounds = loaders.district_geojson(fingerprint, choice) if choice else (None, None)
fmap = union_map(
    national,
    focus_geojson=focus,
    focus_bounds=bounds,
    tiles=cfg.tiles or None,
    asset_base_url=cfg.asset_base_url,
)
st.caption(
    f"{len(layer):,} unions · hover a union for its upazila and district"
    + (f" · showing {labels[choice]}" if choice else "")
)
st_folium(fmap, returned_objects=[], use_container_width=True, height=620, key="union_map")
