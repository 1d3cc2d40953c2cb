"""Unions under open alerts as a small GeoJSON overlay (the national layer stays light)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from agam.core.reference import vocabulary
from dashboard.geojson import light_geojson
from dashboard.i18n import t


def union_stages(alerts: list[dict[str, Any]]) -> dict[str, str]:
    """Highest stage per union across open alerts."""
    stages: dict[str, str] = {}
    for alert in alerts:
        if alert["status"] != "open":
            continue
        for union in alert["union_codes"]:
            current = stages.get(union)
            rank = vocabulary().stage_rank
            if current is None or rank(alert["stage"]) > rank(current):
                stages[union] = alert["stage"]
    return stages


def alert_geojson(frame: gpd.GeoDataFrame, stages: dict[str, str], lang: str) -> str | None:
    if not stages:
        return None
    part = frame[frame["adm4_pcode"].isin(stages)].copy()
    part["stage"] = part["adm4_pcode"].map(stages)
    part["stage_label"] = part["stage"].map(lambda s: t(f"stage_{s}", lang))
    return light_geojson(part, 0.0005, 5, extra_columns=("stage", "stage_label"))
