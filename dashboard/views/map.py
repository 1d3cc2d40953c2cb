"""Map: the national union layer (a cached TopoJSON file), open alerts by stage, current
hazards, and a district picker that zooms without resending the national layer."""

from __future__ import annotations

from typing import Any

import streamlit as st

from agam.pipeline.evaluate import latest_forecasts
from boundaries.topology import asset_folder, ensure_district, ensure_national
from dashboard import data, labels, loaders, map_data
from dashboard.i18n import fmt_date, fmt_int, fmt_time, t
from dashboard.map_widget import APP_ROOT, BANGLADESH_BOUNDS, agam_map, tiles
from dashboard.page import lang, require_page
from dashboard.sidebar import data_versions
from dashboard.stages import STAGE_FILLS
from dashboard.widgets import stage_badge

DENSITY_BREAKS = (1.0, 5.0, 20.0, 50.0)
DENSITY_COLOURS = ("#eff6ff", "#bfdbfe", "#60a5fa", "#2563eb", "#1e3a8a")
RASTER_BREAKS = (0.1, 0.5, 1.0, 2.0)
RASTER_COLOURS = ("#f0f9ff", "#bae6fd", "#38bdf8", "#0284c7", "#0c4a6e")

principal = require_page("map")
lg = lang()
settings = loaders.settings()
cfg = settings.dashboard
layer = loaders.union_layer()
fingerprint = layer.source.fingerprint
names = loaders.names(lg)
data_versions(lg)

st.header(t("map_header", lg))
options = loaders.districts(fingerprint)
choice = st.selectbox(
    t("map_district", lg),
    options=["", *[d["pcode"] for d in options]],
    format_func=lambda c: (
        f"{names.get(c, c)} ({names.get(c[:4], '')})" if c else t("map_all_bangladesh", lg)
    ),
    key="district",
)
folder = asset_folder(settings.cache_dir, fingerprint, cfg.simplify_tolerance_deg)
with st.spinner(t("map_preparing", lg)):
    ensure_national(layer.frame, folder, cfg.simplify_tolerance_deg)
geo_base = f"{APP_ROOT}/agam/geo/{folder.name}"
focus = None
if choice and ensure_district(layer.frame, folder, choice) is not None:
    part = layer.frame[layer.frame["adm2_pcode"] == choice]
    west, south, east, north = (float(v) for v in part.total_bounds)
    focus = {
        "code": choice,
        "bounds": [[south, west], [north, east]],
        "detail": f"{geo_base}/district-{choice}.json",
    }

alerts = data.alerts_table(principal)
stages = map_data.union_stages(alerts)
codes = sorted(layer.frame["adm4_pcode"].astype(str))
forecasts = latest_forecasts(loaders.app_context(), loaders.now())
now = loaders.now()
overlays: list[dict[str, Any]] = []
if "gdacs" in forecasts and forecasts["gdacs"].footprints is not None:
    gdacs = forecasts["gdacs"]
    first, last = map_data.gdacs_window(gdacs)
    current = last is None or last >= now
    doc = map_data.gdacs_document(
        gdacs, {"cone": t("map_gdacs_cone", lg), "wind_band": t("map_gdacs_band", lg)}
    )
    overlays.append(
        {
            "id": "gdacs",
            "kind": "geojson",
            "label": t(
                "map_layer_gdacs_dated" if current else "map_layer_gdacs_past",
                lg,
                name=str(gdacs.payload.get("name") or ""),
                start=fmt_date(first, lg),
                end=fmt_date(last, lg),
            ),
            "show": current,
            "url": f"{geo_base}/{map_data.write_hazard(folder, doc)}",
        }
    )
if "raster" in forecasts:
    values = loaders.raster_union_values(fingerprint, forecasts["raster"].raw_sha256 or "")
    if values:
        overlays.append(
            {
                "id": "raster",
                "kind": "classes",
                "label": t(
                    "map_layer_raster_dated", lg, at=fmt_date(forecasts["raster"].issued_at, lg)
                ),
                "show": True,
                "classes": map_data.classes(codes, values, RASTER_BREAKS),
                "colours": list(RASTER_COLOURS),
                "legend": [t(f"map_raster_class_{i}", lg) for i in range(len(RASTER_COLOURS))],
            }
        )
density = loaders.density_values(fingerprint)
if density:
    overlays.append(
        {
            "id": "density",
            "kind": "classes",
            "label": t("map_layer_density", lg),
            "show": False,
            "classes": map_data.classes(codes, density, DENSITY_BREAKS),
            "colours": list(DENSITY_COLOURS),
            "legend": [t(f"map_density_class_{i}", lg) for i in range(len(DENSITY_COLOURS))],
        }
    )
points = loaders.app_context().feed("glofas").config.points
overlays.append(
    {
        "id": "stations",
        "kind": "points",
        "label": t("map_layer_stations", lg),
        "show": True,
        "points": [
            {"name": labels.station(name, lg), "lat": lat, "lon": lon}
            for name, (lon, lat) in points.items()
        ],
    }
)
args = {
    "geo": f"{geo_base}/national.json",
    "basemap": f"{APP_ROOT}/app/static/basemap/neighbours.json",
    "tiles": tiles(cfg.tiles),
    "credits": "" if cfg.tiles else t("map_credits", lg),
    "height": 620,
    "lang": lg,
    "bounds": BANGLADESH_BOUNDS,
    "focus": focus,
    "stages": stages,
    "stage_colours": STAGE_FILLS,
    "stage_labels": {s: labels.stage(s, lg) for s in STAGE_FILLS},
    "labels": {
        "unions": t("map_layer_unions", lg),
        "union": t("tooltip_union", lg),
        "upazila": t("tooltip_upazila", lg),
        "district": t("tooltip_district", lg),
        "stage": t("overview_stage", lg),
        "km": t("unit_km", lg),
        "m": t("unit_m", lg),
    },
    "legend": [
        {"colour": STAGE_FILLS[s], "label": t("map_legend_stage", lg, stage=labels.stage(s, lg))}
        for s in ("readiness", "action", "observational")
    ],
    "overlays": overlays,
}
caption = t("map_caption", lg, count=fmt_int(len(layer), lg))
if choice:
    caption += " · " + t("map_showing", lg, name=names.get(choice, choice))
st.caption(caption)
if stages:
    st.caption(t("map_alert_legend", lg, count=fmt_int(len(stages), lg)))
clicked = agam_map(args, key="union_map")
st.caption(t("map_click_hint", lg))

code = (clicked or {}).get("code")
if isinstance(code, str) and code in names:
    st.subheader(t("map_union_details", lg))
    row = layer.frame[layer.frame["adm4_pcode"] == code].iloc[0]
    st.text(
        " › ".join(
            f"{names.get(str(row[f'{k}_pcode']), '')} ({row[f'{k}_pcode']})"
            for k in ("adm1", "adm2", "adm3", "adm4")
        )
    )
    for a in alerts:
        if code in a["union_codes"]:
            st.markdown(
                f"{stage_badge(a['stage'], lg)} {labels.rule_set(a['rule_set'], lg)} · "
                f"{labels.alert_status(a['status'], lg)}"
            )
            for e in a["events"]:
                st.text(f"{fmt_time(e['at'], lg)}: {data.explain_event(e, lg)[0]}")
