"""Cached loaders shared by all sessions. Only non-personal data is cached here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from agam.core.settings import Settings, load_settings
from agam.pipeline.context import AppContext
from boundaries.layer import UnionLayer
from dashboard.geojson import bounds_of, light_geojson
from store.db import Store


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner=False)
def app_context() -> AppContext:
    return AppContext(settings())


@st.cache_resource(show_spinner=False)
def store() -> Store:
    """One engine per server process; sessions are per call, never shared across users."""
    ctx = app_context()
    ctx.store.upgrade()
    return ctx.store


@st.cache_data(ttl=60, show_spinner=False)
def played_scenarios() -> list[str]:
    """Titles of the SYNTHETIC scenarios `agam demo` played into this store (audit log)."""
    from store import audit

    with store().session() as session:
        payloads = [e.payload for e in audit.entries_for(session, "scenario.played")]
    return sorted({str(p["title"]) for p in payloads if isinstance(p, dict) and p.get("title")})


def now() -> datetime:
    return app_context().now()


@st.cache_resource(show_spinner=False)
def configured_rule_sets() -> list[Any]:
    """The rule sets the engine runs with: shipped plus [triggers] rule_set_files."""
    return list(app_context().rule_sets())


def active_rule_sets() -> list[Any]:
    """The configured rule sets in force today and enabled, as the engine selects them."""
    from triggers.engine import active

    enabled = settings().triggers.enabled_rule_sets
    return active(configured_rule_sets(), now().date(), enabled)


@st.cache_resource(show_spinner="Loading the union layer…")
def union_layer() -> UnionLayer:
    return app_context().union_layer()


@st.cache_data(show_spinner="Preparing the national map…", max_entries=2)
def national_geojson(fingerprint: str, tolerance_deg: float, decimals: int) -> str:
    del fingerprint  # part of the cache key only
    return light_geojson(union_layer().frame, tolerance_deg, decimals)


@st.cache_data(show_spinner=False, max_entries=16)
def district_geojson(fingerprint: str, district_pcode: str) -> tuple[str, list[list[float]]]:
    del fingerprint
    frame = union_layer().frame
    part = frame[frame["adm2_pcode"] == district_pcode]
    return light_geojson(part, 0.0, 5), bounds_of(part)


@st.cache_data(show_spinner=False)
def district_names(fingerprint: str, lang: str) -> dict[str, str]:
    return {
        d["pcode"]: (d["name_bn"] if lang == "bn" and d["name_bn"] else d["name_en"])
        for d in districts(fingerprint)
    }


@st.cache_data(show_spinner=False)
def districts(fingerprint: str) -> list[dict[str, Any]]:
    del fingerprint
    frame = union_layer().frame
    table = frame.drop_duplicates("adm2_pcode").sort_values("adm2_en")
    return [
        {"pcode": r.adm2_pcode, "name_en": r.adm2_en, "name_bn": r.adm2_bn, "division": r.adm1_en}
        for r in table.itertuples()
    ]


@st.cache_data(show_spinner=False, max_entries=4, ttl=300)
def density_geojson(fingerprint: str, tolerance_deg: float, decimals: int) -> str | None:
    """Households per km² by union from the exposure table (aggregates, no personal data)."""
    del fingerprint
    from allowances.exposure import exposure_by_union
    from dashboard.geojson import light_geojson

    exposure = exposure_by_union(store())
    if exposure.empty:
        return None
    frame = union_layer().frame.merge(
        exposure[["adm4_pcode", "households"]], how="left", on="adm4_pcode"
    )
    frame["households_per_km2"] = (frame["households"].fillna(0) / frame["area_km2"]).round(1)
    return light_geojson(frame, tolerance_deg, decimals, extra_columns=("households_per_km2",))


@st.cache_data(show_spinner=False, max_entries=4)
def raster_union_geojson(
    fingerprint: str, raw_sha256: str, tolerance_deg: float, decimals: int
) -> str | None:
    """Mean and max of the newest hazard raster per union (cached per raster and layer)."""
    del fingerprint, raw_sha256  # cache keys
    from affine import Affine

    from agam.pipeline.evaluate import latest_forecasts
    from boundaries.zonal import build_zone_index, zonal_stats
    from dashboard.geojson import light_geojson

    grid = latest_forecasts(app_context(), now()).get("raster")
    if grid is None:
        return None
    data = grid.data
    variable = next(iter(data.data_vars))
    values = data[variable].isel(valid_time=0).values
    index = build_zone_index(
        union_layer().frame,
        values.shape,
        Affine(*data.attrs["transform"]),
        data.attrs["crs"],
        settings().cache_dir,
    )
    stats = zonal_stats(index, values, threshold=0.5)
    frame = union_layer().frame.merge(
        stats[["mean", "max", "frac_above"]].rename(
            columns={"mean": "hazard_mean", "max": "hazard_max", "frac_above": "share_above"}
        ),
        left_on="adm4_pcode",
        right_index=True,
        how="inner",
    )
    frame = frame[frame["hazard_mean"].notna()]
    for col in ("hazard_mean", "hazard_max", "share_above"):
        frame[col] = frame[col].round(2)
    return light_geojson(
        frame, tolerance_deg, decimals, extra_columns=("hazard_mean", "hazard_max", "share_above")
    )
