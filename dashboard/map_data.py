"""What the Map page sends to the browser, kept small (pure functions, no Streamlit).

Per-union values travel as one character per union (a class index, in the TopoJSON's
feature order, i.e. sorted P-codes) rather than as polygons; hazard shapes go to content-named
files the browser fetches once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

from dashboard.stages import STAGE_ORDER

GDACS_BANDS = {60.0: "#16a34a", 90.0: "#f97316", 120.0: "#dc2626"}


def union_stages(alerts: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Highest stage per union across open alerts."""
    stages: dict[str, str] = {}
    for alert in alerts:
        if alert["status"] != "open":
            continue
        for union in alert["union_codes"]:
            current = stages.get(union)
            if current is None or STAGE_ORDER[alert["stage"]] > STAGE_ORDER[current]:
                stages[union] = alert["stage"]
    return stages


def classes(codes: Sequence[str], values: Mapping[str, float], breaks: Sequence[float]) -> str:
    """One digit per union (its class by `breaks`), "-" where there is no value."""
    out = []
    for code in codes:
        value = values.get(code)
        if value is None or pd.isna(value):
            out.append("-")
        else:
            out.append(str(sum(float(value) >= b for b in breaks)))
    return "".join(out)


def write_hazard(folder: Path, doc: dict[str, Any]) -> str:
    """Write a hazard overlay once under its content hash; returns the file name."""
    body = json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    name = f"hazard-{hashlib.sha256(body.encode()).hexdigest()[:16]}.json"
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(tmp, path)
    return name


def gdacs_document(forecast: Any, labels: Mapping[str, str]) -> dict[str, Any]:
    """Wind bands (weakest first), the uncertainty cone (dashed) and the track as GeoJSON
    with a Leaflet style per feature; coordinates rounded to 3 decimals (about 100 m)."""
    features: list[dict[str, Any]] = []
    bands = forecast.footprints
    if bands is not None and len(bands):
        for row in bands.sort_values("wind_kmh", na_position="first").itertuples():
            cone = row.kind == "cone"
            colour = GDACS_BANDS.get(row.wind_kmh, "#6b7280")
            geometry = shapely.set_precision(row.geometry, 0.001)
            wind = "" if pd.isna(row.wind_kmh) else f"{row.wind_kmh:g}"
            features.append(
                {
                    "type": "Feature",
                    "geometry": json.loads(shapely.to_geojson(geometry)),
                    "properties": {
                        "label": labels.get(row.kind, row.kind).format(wind=wind),
                        "style": {
                            "color": colour,
                            "weight": 1,
                            "fillOpacity": 0.0 if cone else 0.12,
                            "dashArray": "4 4" if cone else None,
                        },
                    },
                }
            )
    track = forecast.payload.get("track") or []
    if track:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[round(p["lon"], 3), round(p["lat"], 3)] for p in track],
                },
                "properties": {
                    "label": str(forecast.payload.get("name", "")),
                    "style": {"color": "#111827", "weight": 2},
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def gdacs_window(forecast: Any) -> tuple[datetime | None, datetime | None]:
    """First and last time the GDACS event's bands and track cover (UTC)."""
    times: list[pd.Timestamp] = []
    bands = forecast.footprints
    if bands is not None and len(bands) and "valid_time" in bands:
        times += [pd.Timestamp(t) for t in bands["valid_time"].dropna()]
    for point in forecast.payload.get("track") or []:
        if point.get("valid_time"):
            times.append(pd.Timestamp(point["valid_time"]))
    if not times:
        return forecast.issued_at, forecast.issued_at
    stamps = [t.tz_localize("UTC") if t.tzinfo is None else t for t in times]
    return min(stamps).to_pydatetime(), max(stamps).to_pydatetime()
