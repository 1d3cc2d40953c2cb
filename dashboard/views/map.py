"""Map: the national union layer, a district picker that zooms."""

from __future__ import annotations

from functools import partial

import streamlit as st
from streamlit_folium import st_folium

from agam.pipeline.evaluate import latest_forecasts
from dashboard import data, loaders
from dashboard.alert_layer import alert_geojson, union_stages
from dashboard.hazard_layers import add_density, add_gdacs, add_raster_unions, add_stations
from dashboard.i18n import fmt_int, fmt_time, t
from dashboard.maps import union_map
from dashboard.page import lang, require_page
from dashboard.sidebar import data_versions

principal = require_page("map")
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
alerts = data.alerts_table(principal)
stages = union_stages(alerts)
forecasts = latest_forecasts(loaders.app_context(), loaders.now())
points = [
    {"name": name, "lat": lat, "lon": lon}
    for name, (lon, lat) in loaders.app_context().feed("glofas").config.points.items()
]
overlays = [partial(add_stations, stations=points, label=t("map_layer_stations", lg))]
density = loaders.density_geojson(fingerprint, cfg.simplify_tolerance_deg, cfg.coordinate_decimals)
if density is not None:
    overlays.append(
        partial(
            add_density,
            unions_geojson=density,
            label=t("map_layer_density", lg),
            tooltip_label=f"{t('tooltip_union', lg)}|{t('map_density_unit', lg)}",
        )
    )
if "raster" in forecasts:
    hazard = loaders.raster_union_geojson(
        fingerprint,
        forecasts["raster"].raw_sha256 or "",
        cfg.simplify_tolerance_deg,
        cfg.coordinate_decimals,
    )
    if hazard is not None:
        overlays.append(
            partial(
                add_raster_unions,
                unions_geojson=hazard,
                label=t("map_layer_raster", lg),
                aliases=[
                    t("tooltip_union", lg),
                    t("map_raster_mean", lg),
                    t("map_raster_max", lg),
                    t("map_raster_share", lg),
                ],
            )
        )
if "gdacs" in forecasts and forecasts["gdacs"].footprints is not None:
    overlays.append(partial(add_gdacs, forecast=forecasts["gdacs"], label=t("map_layer_gdacs", lg)))
fmap = union_map(
    national,
    focus_geojson=focus,
    focus_bounds=bounds,
    tiles=cfg.tiles or None,
    asset_base_url=cfg.asset_base_url,
    lang=lg,
    alert_geojson=alert_geojson(layer.frame, stages, lg),
    overlays=overlays,
)
caption = t("map_caption", lg, count=fmt_int(len(layer), lg))
if choice:
    caption += " · " + t("map_showing", lg, name=labels[choice])
st.caption(caption)
if stages:
    st.caption(t("map_alert_legend", lg, count=fmt_int(len(stages), lg)))
# Only a click reruns the page (for the union details); panning and zooming do not.
clicked = st_folium(
    fmap, returned_objects=["last_object_clicked"], width="stretch", height=620, key="union_map"
)
st.caption(t("map_click_hint", lg))
point = (clicked or {}).get("last_object_clicked")
hit = layer.find(point["lng"], point["lat"]) if point else None
if hit:
    st.subheader(t("map_union_details", lg))
    st.text(
        " › ".join(
            f"{hit[k]['name_en']} ({hit[k]['pcode']})" for k in ("adm1", "adm2", "adm3", "adm4")
        )
    )
    for a in alerts:
        if hit["adm4"]["pcode"] in a["union_codes"]:
            st.markdown(f"**{t('stage_' + a['stage'], lg)}** · {a['rule_set']} · {a['status']}")
            for e in a["events"]:
                st.text(f"{fmt_time(e['at'], lg)}: {e['explanation']}")
