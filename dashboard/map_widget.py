"""The Map page's browser component (dashboard/map_component: Leaflet, no build step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

_COMPONENT = components.declare_component(
    "agam_map", path=str(Path(__file__).resolve().parent / "map_component")
)
# From the component's page (/component/<name>/index.html) to the app's own routes; relative,
# so a server.baseUrlPath keeps working.
APP_ROOT = "../.."
BANGLADESH_BOUNDS = [[20.59, 88.0], [26.64, 92.68]]
ONLINE_TILES = {
    "OpenStreetMap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
    )
}


def tiles(setting: str, attribution: str = "") -> dict[str, str] | None:
    """None: the offline basemap; else a tile URL template (or a known name) to use."""
    if not setting:
        return None
    url, default = ONLINE_TILES.get(setting, (setting, ""))
    return {"url": url, "attribution": attribution or default}


def agam_map(args: dict[str, Any], key: str) -> dict[str, Any] | None:
    """Draw the map; returns {"code": union P-code, "at": ms} after a click, else None."""
    value = _COMPONENT(key=key, default=None, **args)
    return value if isinstance(value, dict) else None
