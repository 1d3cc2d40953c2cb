"""Hazard overlays for the map (pure folium): GDACS wind bands, cone and track; stations."""

from __future__ import annotations

import html
from typing import Any

import folium

BAND_COLOURS = {60.0: "#16a34a", 90.0: "#f97316", 120.0: "#dc2626"}


def add_gdacs(fmap: folium.Map, forecast: Any, label: str) -> None:
    """Wind bands (60/90/120 km/h, one per timestep), the uncertainty cone and the track."""
    group = folium.FeatureGroup(name=label, show=True)
    bands = forecast.footprints
    if bands is not None and len(bands):
        for row in bands.sort_values("wind_kmh", na_position="first").itertuples():
            colour = BAND_COLOURS.get(row.wind_kmh, "#6b7280")
            dashed = row.kind == "cone"
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda _f, c=colour, d=dashed: {
                    "color": c,
                    "weight": 1,
                    "fillOpacity": 0.0 if d else 0.12,
                    "dashArray": "4 4" if d else None,
                },
                tooltip=html.escape(f"{row.kind} {row.wind_kmh or ''} km/h {row.label}"),
            ).add_to(group)
    track = forecast.payload.get("track") or []
    if track:
        folium.PolyLine(
            [(p["lat"], p["lon"]) for p in track],
            color="#111827",
            weight=2,
            tooltip=html.escape(str(forecast.payload.get("name", ""))),
        ).add_to(group)
    group.add_to(fmap)


def add_stations(fmap: folium.Map, stations: list[dict[str, Any]], label: str) -> None:
    """Reporting points and gauges as small circles with their names (escaped)."""
    group = folium.FeatureGroup(name=label, show=True)
    for s in stations:
        folium.CircleMarker(
            (s["lat"], s["lon"]),
            radius=5,
            color="#1d4ed8",
            fill=True,
            fill_opacity=0.9,
            tooltip=html.escape(s["name"]),
        ).add_to(group)
    group.add_to(fmap)


def add_density(fmap: folium.Map, unions_geojson: str, label: str, tooltip_label: str) -> None:
    """Beneficiary households per km² by union (aggregates only), shaded in five classes."""
    breaks = (1.0, 5.0, 20.0, 50.0)
    colours = ("#eff6ff", "#bfdbfe", "#60a5fa", "#2563eb", "#1e3a8a")

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        value = float(feature["properties"].get("households_per_km2") or 0.0)
        colour = colours[sum(value >= b for b in breaks)]
        return {"color": "#1e3a8a", "weight": 0.2, "fillColor": colour, "fillOpacity": 0.55}

    folium.GeoJson(
        unions_geojson,
        name=label,
        show=False,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(
            fields=["adm4_en", "households_per_km2"],
            aliases=[tooltip_label.split("|")[0], tooltip_label.split("|")[1]],
        ),
    ).add_to(fmap)


def add_raster_unions(
    fmap: folium.Map, unions_geojson: str, label: str, aliases: list[str]
) -> None:
    """Union means of the newest hazard raster (e.g. flood depth, m), shaded by value."""
    breaks = (0.1, 0.5, 1.0, 2.0)
    colours = ("#f0f9ff", "#bae6fd", "#38bdf8", "#0284c7", "#0c4a6e")

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        value = float(feature["properties"].get("hazard_mean") or 0.0)
        return {
            "color": "#0c4a6e",
            "weight": 0.2,
            "fillOpacity": 0.6,
            "fillColor": colours[sum(value >= b for b in breaks)],
        }

    folium.GeoJson(
        unions_geojson,
        name=label,
        show=True,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(
            fields=["adm4_en", "hazard_mean", "hazard_max", "share_above"], aliases=aliases
        ),
    ).add_to(fmap)
