"""Hazard intensity per union, defined in the rule-set data and stored with the evaluation:
decayed wind on the threshold band (cyclone), the ensemble's exceedance probability or the
share of area above the flood-depth value where a raster exists (flood)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import xarray as xr

from hazard_feeds.contract import HazardForecast
from triggers.engine import evaluate, explain


def _stage(results, stage_id):
    return next(r for r in results if r.stage_id == stage_id)


def test_cyclone_intensity_is_the_decayed_wind_on_the_threshold_band(fx, rule_sets) -> None:
    near, far, out = "BD40870001", "BD40870002", "BD40470001"
    unions = fx.FakeUnions({near: 10.0, far: 80.0, out: 300.0})
    bulletin = fx.bulletin({"BMD": 180.0, "IMD": 170.0}, lead_hours=36)
    results = evaluate([rule_sets["ocha_cerf_cyclone_2025"]], {"bmd": bulletin}, unions, fx.AS_OF)
    action = _stage(results, "CYCLONE_ACTION")
    assert action.state == "met"
    stored = action.observed["intensity"]
    winds = action.rule_results[-1].observed["union_wind_kmh"]
    # 180 x 0.9807 x e^(-0.03) = 171.3 km/h: above 166, intensity 1
    assert (winds[near], stored["union_intensity"][near]) == (171.3, 1.0)
    # 180 x 0.9807 x e^(-0.24) = 138.9 km/h: (138.9 - 118) / (166 - 118) = 0.435
    assert winds[far] == 138.9
    assert stored["union_intensity"][far] == pytest.approx(0.4354, abs=1e-4)
    assert stored["evidence"][far] == "138.9 km/h"
    assert stored["union_intensity"][out] == 0.0  # below the threshold: 0, and not affected
    assert out not in action.unions
    assert "118–166 km/h band" in stored["definition"]


def test_flood_intensity_is_the_exceedance_probability(fx, rule_sets) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    unions = fx.FakeUnions()
    # 40 of 51 members above RP5 on lead days 2-4, 45 on day 3: peak 45/51 = 0.88
    glofas = fx.glofas(fx.members_matrix([0, 40, 45, 40, 0, 0]))
    results = evaluate([flood], {"glofas": glofas}, unions, fx.AS_OF)
    readiness = _stage(results, "FLOOD_JAMUNA_READINESS")
    assert readiness.state == "met"
    values = readiness.observed["intensity"]["union_intensity"]
    area = unions.district_unions(fx.JAMUNA)
    assert set(values) == set(area)
    assert all(v == pytest.approx(45 / 51, abs=1e-4) for v in values.values())
    evidence = readiness.observed["intensity"]["evidence"][area[0]]
    assert evidence == "88% of members at Bahadurabad"


def test_flood_intensity_takes_the_raster_where_one_exists(fx, rule_sets) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    unions = fx.FakeUnions()
    wet, dry = "BD55490001", "BD55490002"
    unions.raster_shares = {wet: 0.6, dry: 0.05}
    grid = xr.Dataset(
        {"flood_depth_m": (("valid_time", "y", "x"), np.zeros((1, 2, 2)))},
        coords={"valid_time": [np.datetime64(fx.ISSUED.replace(tzinfo=None), "ns")]},
        attrs={"crs": "EPSG:4326", "transform": (1, 0, 0, 0, -1, 0)},
    )
    raster = HazardForecast("raster", "grid", fx.ISSUED, data=grid, raw_sha256="r" * 64)
    glofas = fx.glofas(fx.members_matrix([0, 40, 45, 40]))
    results = evaluate([flood], {"glofas": glofas, "raster": raster}, unions, fx.AS_OF)
    stored = _stage(results, "FLOOD_JAMUNA_READINESS").observed["intensity"]
    assert stored["union_intensity"][wet] == 0.6
    assert stored["union_intensity"][dry] == 0.05
    assert stored["evidence"][wet] == "60% of the area flooded"
    # a union the raster says nothing about keeps the probability
    other = "BD50100001"
    assert stored["union_intensity"][other] == pytest.approx(45 / 51, abs=1e-4)
    # a stale raster is not used
    late = fx.AS_OF + timedelta(hours=60)
    glofas_late = fx.glofas(fx.members_matrix([0, 40, 45, 40]), issued=late - timedelta(hours=6))
    stale = evaluate([flood], {"glofas": glofas_late, "raster": raster}, unions, late)
    kept = _stage(stale, "FLOOD_JAMUNA_READINESS").observed["intensity"]["union_intensity"]
    assert kept[wet] == pytest.approx(45 / 51, abs=1e-4)


def test_every_stage_defines_its_intensity(rule_sets) -> None:
    for rule_set in rule_sets.values():
        for stage in rule_set.stages:
            assert "Hazard intensity:" in explain(stage)
