"""One line per new forecast for the demo's progress: what the feed just said."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from agam.core.timeutil import to_dhaka
from hazard_feeds.contract import HazardForecast


def glofas(forecast: HazardForecast) -> str:
    data = forecast.data
    parts = []
    thresholds = sorted(
        forecast.payload.get("thresholds", []), key=lambda t: t["return_period_years"]
    )
    for t in thresholds[:1]:  # the lowest return period the feed knows
        if t["station"] not in data["station"].values:
            continue
        q = data["discharge_m3s"].sel(station=t["station"]).values  # (member, lead)
        share = (q >= t["value"]).mean(axis=0)
        best = int(np.argmax(share))
        parts.append(
            f"{t['station']} ≥ {t['value']:,.0f} m³/s (RP{t['return_period_years']:g}) "
            f"in up to {share[best]:.0%} of {q.shape[0]} members (lead day {best + 1})"
        )
    return f"GloFAS run {to_dhaka(forecast.issued_at):%d %b}: " + ("; ".join(parts) or "—")


def ffwc(forecast: HazardForecast) -> str:
    data = forecast.data
    parts = []
    for k, code in enumerate(data["station"].values):
        levels = data["water_level_m"].isel(station=k, member=0).values
        if np.isnan(levels).all():
            continue
        top = int(np.nanargmax(levels))
        danger = float(data["danger_level_m"].values[k])
        when = to_dhaka(pd.Timestamp(data["valid_time"].values[top]).tz_localize("UTC"))
        parts.append(
            f"{data['name'].values[k] or code} peak {levels[top]:.2f} m "
            f"(danger level {danger:.2f}, {levels[top] - danger:+.2f}) on {when:%d %b}"
        )
    return "FFWC forecast: " + ("; ".join(parts) or "—")


def bmd(forecast: HazardForecast) -> str:
    p: dict[str, Any] = dict(forecast.payload)
    system = p.get("system") or {}
    kind = str(system.get("type", "?")).replace("_", " ")
    signals = ", ".join(f"{port} {n}" for port, n in (p.get("port_signals") or {}).items())
    winds = ", ".join(f"{w['model']} {w['max_wind_kmh']:.0f}" for w in p.get("model_winds", []))
    text = f"BMD {p.get('serial', '').split(' (')[0]}: {kind}"
    text += f"; signals {signals}" if signals else ""
    text += f"; model landfall winds {winds} km/h" if winds else ""
    return text


def gdacs(forecast: HazardForecast) -> str:
    p = forecast.payload
    if not p.get("event_id"):
        return "GDACS: no cyclone in the Bay of Bengal"
    wind = p.get("max_wind_kmh")
    return f"GDACS {p.get('name')} episode {p.get('episode_id')}: {p.get('alert_level')}" + (
        f", {wind:.0f} km/h" if isinstance(wind, int | float) else ""
    )


HEADLINES = {"glofas": glofas, "ffwc": ffwc, "bmd": bmd, "gdacs": gdacs}


def headline(feed_id: str, forecast: HazardForecast) -> str | None:
    maker = HEADLINES.get(feed_id)
    return maker(forecast) if maker else None
