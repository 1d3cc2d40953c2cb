"""Every comparison the frameworks state, tested exactly at its boundary and one step across,
with the shipped rule sets. Flipping any comparison (in the code or in the data) fails here.

- "more than 50%" of members (gt): 23 of 46 valid members is exactly 50% and does NOT fire,
  24 of 46 does;
- discharge "exceeds / crosses" the RP5 (ge): a member exactly at 100,000 m3/s counts;
- FFWC water level "≥ DL + 0.85 m" (Jamuna) and "≥ DL + 0.5 m" (Padma) (ge), at centimetres;
- wind "≥ 118 km/h" (ge): a model at exactly 118 counts, 117.9 does not; a union whose decayed
  wind is exactly 118.0 km/h is targeted, 117.9 is not; an observed landfall of exactly 118
  km/h fires the observational stage.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from triggers.engine import StageEvaluation, evaluate
from triggers.model import RuleSet

RP5 = 100_000.0


def _stages(rule_set: RuleSet, forecasts: dict, fx: Any, unions: Any = None) -> dict:
    out = evaluate([rule_set], forecasts, unions or fx.FakeUnions(), fx.AS_OF)
    return {e.stage_id: e for e in out}


def _members(above: int, valid: int, days: int = 3, total: int = 51, at: float = RP5 + 1_000):
    """(members, days): `above` members at `at`, the other valid ones below, the rest NaN."""
    values = np.full((total, days), RP5 - 1_000.0)
    values[:above, :] = at
    values[valid:, :] = np.nan
    return values


@pytest.mark.parametrize(("above", "state"), [(23, "not_met"), (24, "met")])
def test_more_than_50_percent_at_exactly_half(
    rule_sets: dict[str, RuleSet], fx: Any, above: int, state: str
) -> None:
    """46 valid members (the quorum): 23 above is exactly 50%, not "more than 50%"."""
    flood = rule_sets["ocha_cerf_flood_2025"]
    stage = _stages(flood, {"glofas": fx.glofas(_members(above, 46))}, fx)
    readiness = stage["FLOOD_JAMUNA_READINESS"]
    assert readiness.state == state
    day = readiness.result.observed["days"][0]
    assert (day["valid_members"], day["members_above"]) == (46, above)
    assert day["day_state"] == ("above" if state == "met" else "below")


@pytest.mark.parametrize(("value", "state"), [(RP5, "met"), (RP5 - 0.01, "not_met")])
def test_discharge_exactly_at_the_return_period_counts(
    rule_sets: dict[str, RuleSet], fx: Any, value: float, state: str
) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    forecast = fx.glofas(_members(30, 51, at=value))  # 30 of 51 members at `value`
    assert _stages(flood, {"glofas": forecast}, fx)["FLOOD_JAMUNA_READINESS"].state == state


@pytest.mark.parametrize(
    ("stage_id", "station", "danger", "offset", "days"),
    [
        ("FLOOD_JAMUNA_ACTION", "SW46.9L", 19.50, 0.85, (0, 1)),
        ("FLOOD_PADMA_ACTION", "SW93.5L", 6.11, 0.50, (3, 4)),
    ],
)
@pytest.mark.parametrize(("delta_cm", "crosses"), [(0, True), (-1, False)])
def test_water_level_exactly_at_danger_level_plus_offset(
    rule_sets: dict[str, RuleSet],
    fx: Any,
    stage_id: str,
    station: str,
    danger: float,
    offset: float,
    days: tuple[int, int],
    delta_cm: int,
    crosses: bool,
) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    level = round(danger + offset + delta_cm / 100, 2)
    levels = [danger - 1.0] * 5
    levels[days[1]] = level  # a lead day inside the stage's window
    forecasts = {
        "ffwc": fx.ffwc({station: levels}, danger_m=danger),
        "glofas": fx.glofas({"Bahadurabad": fx.sustained(), "Goalundo": fx.sustained()}),
    }
    stage = _stages(flood, forecasts, fx)[stage_id]
    observed = stage.result.observed
    assert observed["trigger_level_m"] == round(danger + offset, 2)
    assert bool(observed["crossing_dates"]) is crosses
    assert stage.state == ("met" if crosses else "not_met")


@pytest.mark.parametrize(("wind", "state"), [(118.0, "met"), (117.9, "not_met")])
def test_models_exactly_at_118_kmh(
    rule_sets: dict[str, RuleSet], fx: Any, wind: float, state: str
) -> None:
    cyclone = rule_sets["ocha_cerf_cyclone_2025"]
    for stage_id, lead in (("CYCLONE_READINESS", 96), ("CYCLONE_ACTION", 36)):
        forecast = fx.bulletin({"BMD": wind, "IMD": wind, "ECMWF": 90, "GFS": 90, "JTWC": 90},
                               lead_hours=lead)  # fmt: skip
        assert _stages(cyclone, {"bmd": forecast}, fx)[stage_id].state == state


@pytest.mark.parametrize(("union_kmh", "targeted"), [(118.0, True), (117.9, False)])
def test_a_union_whose_decayed_wind_is_exactly_118_is_targeted(
    rule_sets: dict[str, RuleSet], fx: Any, union_kmh: float, targeted: bool
) -> None:
    """Landfall at 130 km/h: the coast union (0 km) gets 127.5 km/h; another is placed where
    130 x 0.9807 x e^(-0.003 d) is exactly `union_kmh` (rounded to 0.1 km/h as stored)."""
    cyclone = rule_sets["ocha_cerf_cyclone_2025"]
    coast, edge = "BD40870001", "BD40870002"
    at = math.log(130 * 0.9807 / union_kmh) / 0.003
    unions = fx.FakeUnions({coast: 0.0, edge: at})
    forecast = fx.bulletin({"BMD": 130.0, "IMD": 130.0}, lead_hours=36)
    action: StageEvaluation = _stages(cyclone, {"bmd": forecast}, fx, unions)["CYCLONE_ACTION"]
    decay = action.rule_results[-1]
    assert decay.observed["union_wind_kmh"][edge] == union_kmh
    assert coast in action.unions
    assert (edge in decay.unions) is targeted
    assert (edge in action.unions) is targeted


@pytest.mark.parametrize(("observed", "state"), [(118.0, "met"), (117.9, "not_met")])
def test_an_observed_landfall_of_exactly_118_kmh(
    rule_sets: dict[str, RuleSet], fx: Any, observed: float, state: str
) -> None:
    cyclone = rule_sets["ocha_cerf_cyclone_2025"]
    forecast = fx.bulletin(
        {m: 60.0 for m in ("BMD", "IMD", "ECMWF", "GFS", "JTWC")},
        lead_hours=-6,  # winds valid before the bulletin: after landfall
        observed={"BMD": observed},
    )
    got = _stages(cyclone, {"bmd": forecast}, fx)
    assert got["CYCLONE_ACTION"].state == "not_met"
    assert got["CYCLONE_OBSERVATIONAL"].state == state


def test_the_boundaries_stated_are_the_rule_sets_comparisons(rule_sets) -> None:
    """The data says what the tests above check; a flipped comparison in the TOML fails here
    and a flipped one in the code fails above."""
    flood, cyclone = rule_sets["ocha_cerf_flood_2025"], rule_sets["ocha_cerf_cyclone_2025"]
    readiness = flood.ensemble_rule("FLOOD_JAMUNA_READINESS")
    assert (readiness.probability_comparison, readiness.comparison) == ("gt", "ge")
    assert {s.rule.comparison for s in flood.stages if s.stage == "action"} == {"ge"}
    comparisons = {
        r.comparison
        for s in cyclone.stages
        for r in (s.rule, s.targeting)
        if r is not None and hasattr(r, "comparison")
    }
    assert comparisons == {"ge"}
