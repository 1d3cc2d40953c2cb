"""Pure folium builders: no Streamlit here, so they are testable on their own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import folium

from dashboard.i18n import t

BANGLADESH_CENTER = (23.7, 90.35)
UNION_STYLE = {"color": "#3b5b7a", "weight": 0.4, "fillColor": "#9ec3e6", "fillOpacity": 0.25}
HIGHLIGHT_STYLE = {"color": "#c2410c", "weight": 1.2, "fillColor": "#fdba74", "fillOpacity": 0.35}
TOOLTIP_KEYS = ("tooltip_union", "tooltip_upazila", "tooltip_district")
STAGE_FILL = {"readiness": "#f59e0b", "action": "#dc2626", "observational": "#7c3aed"}


LEAFLET_DIR = "leaflet-1.9.4"


def use_local_assets(fmap: folium.Map, asset_base_url: str) -> folium.Map:
    """Load Leaflet from our own static folder instead of CDNs (sites without internet)."""
    if asset_base_url:
        base = asset_base_url.rstrip("/")
        fmap.default_js = [("leaflet", f"{base}/{LEAFLET_DIR}/leaflet.js")]
        fmap.default_css = [("leaflet_css", f"{base}/{LEAFLET_DIR}/leaflet.css")]
    return fmap


def _stage_style(feature: dict[str, Any]) -> dict[str, Any]:
    fill = STAGE_FILL.get(feature["properties"].get("stage", ""), "#9ca3af")
    return {"color": "#7f1d1d", "weight": 0.8, "fillColor": fill, "fillOpacity": 0.65}


def union_map(
    national_geojson: str,
    *,
    focus_geojson: str | None = None,
    focus_bounds: list[list[float]] | None = None,
    lang: str = "en",
    height_px: int = 620,
    tiles: str | None = "OpenStreetMap",
    asset_base_url: str = "",
    alert_geojson: str | None = None,
    overlays: Sequence[Callable[[folium.Map], None]] = (),
) -> folium.Map:
    """The national union layer (light) plus, when a district is chosen, its detailed unions."""
    fmap = folium.Map(
        location=BANGLADESH_CENTER,
        zoom_start=7,
        tiles=tiles,
        prefer_canvas=True,
        control_scale=True,
        height=height_px,
    )
    aliases = [t(key, lang) for key in TOOLTIP_KEYS]
    fields = ["adm4_en", "adm3_en", "adm2_en"]
    folium.GeoJson(
        national_geojson,
        name="Unions",
        style_function=lambda _f: UNION_STYLE,
        highlight_function=lambda _f: HIGHLIGHT_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        smooth_factor=1.0,
    ).add_to(fmap)
    if focus_geojson is not None:
        folium.GeoJson(
            focus_geojson,
            name="Selected district",
            style_function=lambda _f: HIGHLIGHT_STYLE,
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        ).add_to(fmap)
    if alert_geojson is not None:
        folium.GeoJson(
            alert_geojson,
            name=t("map_layer_alerts", lang),
            style_function=_stage_style,
            highlight_function=lambda _f: HIGHLIGHT_STYLE,
            tooltip=folium.GeoJsonTooltip(
                fields=[*fields, "stage_label"],
                aliases=[*aliases, t("overview_stage", lang)],
                sticky=True,
            ),
        ).add_to(fmap)
    if focus_bounds is not None:
        fmap.fit_bounds(focus_bounds)
    else:
        fmap.fit_bounds([[20.59, 88.0], [26.64, 92.68]])
    for overlay in overlays:  # before the layer control, which must see every layer
        overlay(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return use_local_assets(fmap, asset_base_url)
