"""Map: the national union layer, a district picker that zooms."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import loaders
from dashboard.i18n import fmt_int, t
from dashboard.maps import union_map
from dashboard.page import lang, require_principal
from dashboard.sidebar import data_versions

require_principal()
lg = lang()
cfg = loaders.settings().dashboard
layer = loaders.union_layer()
fingerprint = layer.source.fingerprint
data_versions(lg)

st.header(t("map_header", lg))
options = loaders.districts(fingerprint)
name_key = "name_bn" if lg == "bn" else "name_en"
labels = {d["pcode"]: f"{d[name_key] or d['name_en']} ({d['division']})" for d in options}
choice = st.selectbox(
    t("map_district", lg),
    options=["", *labels],
    format_func=lambda c: labels.get(c, t("map_all_bangladesh", lg)),
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
    lang=lg,
)
caption = t("map_caption", lg, count=fmt_int(len(layer), lg))
if choice:
    caption += " · " + t("map_showing", lg, name=labels[choice])
st.caption(caption)
st_folium(fmap, returned_objects=[], width="stretch", height=620, key="union_map")
