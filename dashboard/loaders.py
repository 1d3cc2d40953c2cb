"""Cached loaders shared by all sessions. Only non-personal data is cached here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from agam.core.settings import Settings, load_settings
from agam.pipeline.context import AppContext
from boundaries.layer import UnionLayer
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
def played_scenarios() -> list[dict[str, Any]]:
    """The SYNTHETIC scenarios `agam demo` played into this store (audit log): name, title
    and the period they stand for (play_from, play_to, UTC)."""
    from agam.core.errors import NotFound
    from agam.scenarios.spec import load_scenario
    from store import audit

    with store().session() as session:
        payloads = [e.payload for e in audit.entries_for(session, "scenario.played")]
    out: dict[str, dict[str, Any]] = {}
    for p in payloads:
        if not isinstance(p, dict) or not p.get("title"):
            continue
        name = str(p.get("scenario") or "")
        item: dict[str, Any] = {"name": name, "title": str(p["title"])}
        try:
            spec = load_scenario(name)
            item |= {"play_from": spec.play_from, "play_to": spec.play_to}
        except NotFound:
            item |= {"play_from": None, "play_to": None}
        out[item["title"]] = item
    return [out[k] for k in sorted(out)]


def now() -> datetime:
    return app_context().now()


@st.cache_resource(show_spinner=False)
def configured_rule_sets() -> list[Any]:
    """The rule sets the engine runs with: shipped plus [triggers] rule_set_files (newest
    version of each id). Stored evaluations are explained with `rule_sets_as_used`."""
    return list(app_context().rule_sets())


@st.cache_resource(show_spinner=False, ttl=600)
def rule_sets_as_used() -> list[Any]:
    """For explaining stored evaluations: each rule set version as the store recorded it at
    its first use (what the evaluation was judged with, also after its file was replaced),
    then the configured ones no evaluation has used yet."""
    from agam.pipeline.versions_in_use import recorded_rule_sets

    with store().read() as session:
        recorded = recorded_rule_sets(session)
    used = {(s.id, s.version) for s in recorded}
    return recorded + [s for s in configured_rule_sets() if (s.id, s.version) not in used]


@st.cache_data(show_spinner=False, max_entries=16)
def registry_changes(list_id: int, registry: tuple[int, int, int]) -> Any:
    """`payee_repo.changes` of a list, read once per registry version: a list's pinned payees
    never change, and beneficiaries change only in ways that move `registry`
    (`frames.registry_version`: an import, or an edit outside one). Paging through a
    national-scale list no longer joins every payee to the registry at each rerun, and a
    list whose registry has not moved since its payees were pinned is not compared at all."""
    from store import payee_repo

    with store().read() as session:
        return payee_repo.changes_since_pinning(session, list_id)


def active_rule_sets() -> list[Any]:
    """The configured rule sets in force today and enabled, as the engine selects them."""
    from triggers.engine import active

    enabled = settings().triggers.enabled_rule_sets
    return active(configured_rule_sets(), now().date(), enabled)


@st.cache_resource(show_spinner="Loading the union layer…")
def union_layer() -> UnionLayer:
    return app_context().union_layer()


@st.cache_data(show_spinner=False, max_entries=4)
def place_names(fingerprint: str, lang: str) -> dict[str, str]:
    """P-code -> name of every division, district, upazila and union, in Bangla where the
    layer has it (else the layer's English spelling, which is the official one)."""
    del fingerprint
    frame = union_layer().frame
    out: dict[str, str] = {}
    for level in ("adm1", "adm2", "adm3", "adm4"):
        table = frame.drop_duplicates(f"{level}_pcode")
        english = table[f"{level}_en"].astype(str)
        bangla = table[f"{level}_bn"].fillna("").astype(str).str.strip()
        local = bangla.where(bangla != "", english)
        names = local if lang == "bn" else english
        out |= dict(zip(table[f"{level}_pcode"].astype(str), names.astype(str), strict=True))
    return out


def names(lang: str) -> dict[str, str]:
    return place_names(union_layer().source.fingerprint, lang)


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
def density_values(fingerprint: str) -> dict[str, float]:
    """Beneficiary households per km² by union from the exposure table (aggregates only)."""
    del fingerprint
    from allowances.exposure import exposure_by_union

    exposure = exposure_by_union(store())
    if exposure.empty:
        return {}
    frame = union_layer().frame.merge(
        exposure[["adm4_pcode", "households"]], how="left", on="adm4_pcode"
    )
    per_km2 = (frame["households"].fillna(0) / frame["area_km2"]).round(1)
    return dict(zip(frame["adm4_pcode"].astype(str), per_km2.astype(float), strict=True))


@st.cache_data(show_spinner=False, max_entries=4)
def raster_union_values(fingerprint: str, raw_sha256: str) -> dict[str, float]:
    """Mean of the newest hazard raster per union (cached per raster and layer)."""
    del fingerprint, raw_sha256  # cache keys
    from affine import Affine

    from agam.pipeline.evaluate import latest_forecasts
    from boundaries.zonal import build_zone_index, zonal_stats

    grid = latest_forecasts(app_context(), now()).get("raster")
    if grid is None:
        return {}
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
    means = stats["mean"].dropna().round(2)
    return {str(code): float(v) for code, v in means.items()}


def station_rules(kind: type, on: datetime | None) -> dict[str, tuple[str, Any]]:
    """station -> (stage, rule) for rules of `kind` in the rule sets active on that day."""
    from triggers.engine import active
    from triggers.model import walk

    if on is None:
        return {}
    enabled = settings().triggers.enabled_rule_sets
    out: dict[str, tuple[str, Any]] = {}
    for rule_set in active(configured_rule_sets(), on.date(), enabled):
        for stage in rule_set.stages:
            for rule in walk(stage.rule):
                if isinstance(rule, kind):
                    out.setdefault(str(getattr(rule, "station", "")), (stage.stage, rule))
    return out
