"""The boundary cases of the OCHA/CERF 2025 Bangladesh flood and cyclone frameworks,
evaluated with the shipped rule sets."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from hazard_feeds.contract import HazardForecast, QualityIssue
from triggers.engine import StageEvaluation, evaluate
from triggers.model import RuleSet

Forecasts = dict[str, HazardForecast]


def run(
    rule_set: RuleSet, forecasts: Forecasts, fx: SimpleNamespace, unions: Any = None, **kw: Any
) -> dict[str, StageEvaluation]:
    as_of = kw.pop("as_of", fx.AS_OF)
    out = evaluate([rule_set], forecasts, unions or fx.FakeUnions(), as_of, **kw)
    return {e.stage_id: e for e in out}


def readiness_days(*runs_: tuple[int, int], days: int = 15) -> list[int]:
    """Members above per lead day 1..days: (first lead day, count) pairs, 0 elsewhere."""
    above = [0] * days
    for day, n in runs_:
        above[day - 1] = n
    return above


@pytest.fixture
def flood(rule_sets: dict[str, RuleSet]) -> RuleSet:
    return rule_sets["ocha_cerf_flood_2025"]


@pytest.fixture
def cyclone(rule_sets: dict[str, RuleSet]) -> RuleSet:
    return rule_sets["ocha_cerf_cyclone_2025"]


# --- Flood readiness --------------------------------------------------------------------------


def test_readiness_26_of_51_on_3_days_within_15_days_fires(flood: RuleSet, fx: Any) -> None:
    above = readiness_days((6, 26), (7, 27), (8, 26))
    got = run(flood, {"glofas": fx.glofas(fx.members_matrix(above))}, fx)
    stage = got["FLOOD_JAMUNA_READINESS"]
    assert stage.state == "met"
    assert stage.explanation == (
        "26 of 51 members (51%) reach or exceed 100,000 m³/s at Bahadurabad on 3 consecutive days "
        "(11–13 Jul) within 15 days: readiness met."
    )
    assert stage.affected_districts == tuple(sorted(fx.JAMUNA))
    assert all(u[:6] in fx.JAMUNA for u in stage.affected_unions)
    assert stage.inputs[0].feed_id == "glofas"
    assert stage.inputs[0].raw_sha256 == "a" * 64
    assert stage.result.observed["threshold_m3s"] == 100_000


def test_readiness_25_of_51_does_not_fire(flood: RuleSet, fx: Any) -> None:
    above = readiness_days((6, 25), (7, 25), (8, 25), (9, 25))
    stage = run(flood, {"glofas": fx.glofas(fx.members_matrix(above))}, fx)
    assert stage["FLOOD_JAMUNA_READINESS"].state == "not_met"
    assert stage["FLOOD_JAMUNA_READINESS"].affected_unions == ()
    assert "At most 25 of 51 members (49%)" in stage["FLOOD_JAMUNA_READINESS"].explanation


def test_readiness_on_2_days_or_with_a_gap_does_not_fire(flood: RuleSet, fx: Any) -> None:
    for above in (
        readiness_days((6, 40), (7, 40)),
        readiness_days((6, 40), (7, 40), (9, 40), (10, 40)),
    ):
        got = run(flood, {"glofas": fx.glofas(fx.members_matrix(above))}, fx)
        assert got["FLOOD_JAMUNA_READINESS"].state == "not_met"


def test_readiness_outside_the_lead_window_does_not_fire(flood: RuleSet, fx: Any) -> None:
    above = readiness_days((14, 40), (15, 40), (16, 40), (17, 40), days=18)
    got = run(flood, {"glofas": fx.glofas(fx.members_matrix(above))}, fx)
    assert got["FLOOD_JAMUNA_READINESS"].state == "not_met"
    above = readiness_days((13, 40), (14, 40), (15, 40), days=18)
    got = run(flood, {"glofas": fx.glofas(fx.members_matrix(above))}, fx)
    assert got["FLOOD_JAMUNA_READINESS"].state == "met"


def test_padma_readiness_window_is_12_to_15_days_and_says_provisional(
    flood: RuleSet, fx: Any
) -> None:
    def goalundo(first_day: int) -> HazardForecast:
        above = readiness_days(*((d, 40) for d in range(first_day, first_day + 3)))
        # 130,000 / 110,000 m3/s: either side of the provisional 120,000
        matrix = np.where(fx.members_matrix(above) > fx.THRESHOLD, 130_000.0, 110_000.0)
        return fx.glofas({"Bahadurabad": fx.members_matrix([0] * 15), "Goalundo": matrix})

    inside = run(flood, {"glofas": goalundo(12)}, fx)["FLOOD_PADMA_READINESS"]
    assert inside.state == "met"
    assert "(provisional threshold)" in inside.explanation
    assert inside.result.observed["threshold_provisional"] is True
    assert run(flood, {"glofas": goalundo(10)}, fx)["FLOOD_PADMA_READINESS"].state == "not_met"


def test_below_member_quorum_is_unknown_never_not_met(flood: RuleSet, fx: Any) -> None:
    values = fx.members_matrix(readiness_days((6, 10)))
    values[40:, :] = np.nan  # 40 valid members, quorum 46
    stage = run(flood, {"glofas": fx.glofas(values)}, fx)["FLOOD_JAMUNA_READINESS"]
    assert stage.state == "unknown"
    assert "quorum 46" in stage.explanation
    values = fx.members_matrix(readiness_days((6, 26), (7, 26), (8, 26)))
    values[46:, :] = np.nan  # 46 valid: 26 of 46 above
    assert run(flood, {"glofas": fx.glofas(values)}, fx)["FLOOD_JAMUNA_READINESS"].state == "met"


def test_partial_forecast_cannot_be_not_met(flood: RuleSet, fx: Any) -> None:
    issue = QualityIssue("missing_timestep", "12 of 15 lead days present")
    forecast = fx.glofas(fx.members_matrix([0] * 12), quality=(issue,))
    assert run(flood, {"glofas": forecast}, fx)["FLOOD_JAMUNA_READINESS"].state == "unknown"


def test_stale_missing_or_future_forecast_is_unknown(flood: RuleSet, fx: Any) -> None:
    forecast = fx.glofas(fx.members_matrix(readiness_days((6, 40), (7, 40), (8, 40))))
    late = fx.AS_OF + timedelta(hours=31)  # 37 h after issue, limit 36 h
    stale = run(flood, {"glofas": forecast}, fx, as_of=late)["FLOOD_JAMUNA_READINESS"]
    assert stale.state == "unknown"
    assert "37 h old" in stale.explanation
    assert run(flood, {}, fx)["FLOOD_JAMUNA_READINESS"].state == "unknown"
    early = fx.ISSUED - timedelta(hours=1)
    assert run(flood, {"glofas": forecast}, fx, as_of=early)["FLOOD_JAMUNA_READINESS"].state == (
        "unknown"
    )


# --- Flood action -----------------------------------------------------------------------------


def action(flood: RuleSet, fx: Any, levels: list[float], trend: np.ndarray | None = None) -> Any:
    forecasts = {"ffwc": fx.ffwc(levels), "glofas": fx.glofas(
        {"Bahadurabad": fx.sustained() if trend is None else trend}
    )}  # fmt: skip
    return run(flood, forecasts, fx)["FLOOD_JAMUNA_ACTION"]


def test_action_at_dl_plus_085_with_the_trend_fires(flood: RuleSet, fx: Any) -> None:
    stage = action(flood, fx, [19.80, 20.35, 20.10, 19.90, 19.70])
    assert stage.state == "met"
    observed = stage.result.observed
    assert observed["danger_level_m"] == 19.5
    assert observed["trigger_level_m"] == 20.35
    assert observed["crossing_dates"] == ["2024-07-07"]
    assert stage.explanation.startswith("FFWC forecasts 20.35 m at Bahadurabad on 7 Jul")
    assert stage.explanation.endswith("m³/s): action met.")
    assert {r.feed_id for r in stage.inputs} == {"ffwc", "glofas"}


def test_action_1_cm_below_does_not_fire(flood: RuleSet, fx: Any) -> None:
    stage = action(flood, fx, [19.80, 20.34, 20.10, 19.90, 19.70])
    assert stage.state == "not_met"
    assert "at most 20.34 m" in stage.explanation


def test_action_danger_level_comes_from_the_forecast(flood: RuleSet, fx: Any) -> None:
    forecasts = {"ffwc": fx.ffwc([19.95, 19.9], danger_m=19.05), "glofas": fx.glofas(
        {"Bahadurabad": fx.sustained()}
    )}  # fmt: skip
    stage = run(flood, forecasts, fx)["FLOOD_JAMUNA_ACTION"]
    assert stage.state == "met"
    assert stage.result.observed["trigger_level_m"] == 19.90


def test_action_with_a_falling_trend_is_not_met(flood: RuleSet, fx: Any) -> None:
    falling = np.tile(120_000 * 0.95 ** np.arange(15), (51, 1))
    stage = action(flood, fx, [20.5, 20.5, 20.5, 20.5, 20.5], trend=falling)
    assert stage.state == "not_met"
    assert "falls on" in stage.explanation


def test_action_trend_tolerance_is_data(flood: RuleSet, fx: Any) -> None:
    slight = np.tile(120_000 * 0.99 ** np.arange(15), (51, 1))  # -1 %/day, tolerance 2 %
    assert action(flood, fx, [20.5] * 5, trend=slight).state == "met"


def test_action_without_glofas_is_unknown(flood: RuleSet, fx: Any) -> None:
    stage = run(flood, {"ffwc": fx.ffwc([20.5] * 5)}, fx)["FLOOD_JAMUNA_ACTION"]
    assert stage.state == "unknown"


def test_padma_action_needs_3_to_5_days_lead(flood: RuleSet, fx: Any) -> None:
    def padma(levels: list[float]) -> str:
        forecasts = {
            "ffwc": fx.ffwc({"SW46.9L": [10.0] * 5, "SW93.5L": levels}, danger_m=6.11),
            "glofas": fx.glofas({"Goalundo": fx.sustained(start=60_000)}),
        }
        return run(flood, forecasts, fx)["FLOOD_PADMA_ACTION"].state

    assert padma([6.0, 6.0, 6.61, 6.0, 6.0]) == "met"
    assert padma([6.61, 6.61, 6.0, 6.0, 6.0]) == "not_met"  # only at 1-2 days' lead
    assert padma([6.0, 6.0, 6.60, 6.0, 6.0]) == "not_met"


# --- Cyclone ----------------------------------------------------------------------------------


def winds(**kw: float) -> dict[str, float]:
    return {"BMD": 90.0, "IMD": 90.0, "ECMWF": 90.0, "GFS": 90.0, "JTWC": 90.0} | kw


def test_two_of_five_models_at_118_fire_readiness(cyclone: RuleSet, fx: Any) -> None:
    got = run(cyclone, {"bmd": fx.bulletin(winds(ECMWF=118.0, GFS=125.0))}, fx)
    stage = got["CYCLONE_READINESS"]
    assert stage.state == "met"
    assert stage.explanation.startswith("2 of 5 models (ECMWF, GFS) forecast ≥ 118 km/h")
    assert got["CYCLONE_ACTION"].state == "not_met"  # 96 h ahead: outside 0-72 h


@pytest.mark.parametrize("models", [winds(ECMWF=130.0), winds(ECMWF=117.9, GFS=130.0), winds()])
def test_one_model_or_117_9_does_not_fire(
    cyclone: RuleSet, fx: Any, models: dict[str, float]
) -> None:
    assert run(cyclone, {"bmd": fx.bulletin(models)}, fx)["CYCLONE_READINESS"].state == "not_met"


def test_missing_models_that_could_agree_make_it_unknown(cyclone: RuleSet, fx: Any) -> None:
    got = run(cyclone, {"bmd": fx.bulletin({"BMD": 130.0, "IMD": 100.0})}, fx)
    assert got["CYCLONE_READINESS"].state == "unknown"


def test_action_needs_a_system_and_72_hours(cyclone: RuleSet, fx: Any) -> None:
    def act(system: str | None, lead: float) -> str:
        forecast = fx.bulletin(winds(BMD=120.0, IMD=121.0), lead_hours=lead, system=system)
        return run(cyclone, {"bmd": forecast}, fx)["CYCLONE_ACTION"].state

    assert act("depression", 48) == "met"
    assert act("well_marked_low", 72) == "met"
    assert act("low", 48) == "not_met"
    assert act(None, 48) == "unknown"
    assert act("depression", 73) == "not_met"


def test_observational_only_when_action_did_not_fire(cyclone: RuleSet, fx: Any) -> None:
    landfall = {"BMD": 125.0}
    quiet = fx.bulletin(winds(), lead_hours=6, observed=landfall)
    got = run(cyclone, {"bmd": quiet}, fx)
    assert got["CYCLONE_ACTION"].state == "not_met"
    assert got["CYCLONE_OBSERVATIONAL"].state == "met"
    stormy = fx.bulletin(winds(BMD=130.0, IMD=130.0), lead_hours=6, observed=landfall)
    got = run(cyclone, {"bmd": stormy}, fx)
    assert got["CYCLONE_ACTION"].state == "met"
    assert got["CYCLONE_OBSERVATIONAL"].state == "not_met"
    assert got["CYCLONE_OBSERVATIONAL"].suppressed_by == "CYCLONE_ACTION"
    earlier = run(
        cyclone, {"bmd": quiet}, fx, already_fired={"ocha_cerf_cyclone_2025": ["CYCLONE_ACTION"]}
    )
    assert earlier["CYCLONE_OBSERVATIONAL"].state == "not_met"
    assert (
        "does not apply because CYCLONE_ACTION fired"
        in earlier["CYCLONE_OBSERVATIONAL"].explanation
    )


def test_observational_from_two_of_the_other_models(cyclone: RuleSet, fx: Any) -> None:
    def obs(observed: dict[str, float]) -> str:
        forecast = fx.bulletin(winds(), lead_hours=6, observed=observed)
        return run(cyclone, {"bmd": forecast}, fx)["CYCLONE_OBSERVATIONAL"].state

    assert obs({"ECMWF": 118.0, "JTWC": 140.0}) == "met"
    assert obs({"ECMWF": 118.0, "BMD": 110.0}) == "not_met"
    assert obs({}) == "not_met"


def test_union_wind_decay_flags_the_nearest_unions(cyclone: RuleSet, fx: Any) -> None:
    # 150 km/h x 0.9807 x exp(-0.003 d) >= 118 km/h  <=>  d <= 73.5 km
    unions = fx.FakeUnions({"BD40870001": 0.0, "BD40870002": 73.0, "BD10780001": 74.0})
    forecast = fx.bulletin(winds(ECMWF=150.0, GFS=140.0), lead_hours=96)
    stage = run(cyclone, {"bmd": forecast}, fx, unions)["CYCLONE_READINESS"]
    assert stage.state == "met"
    assert stage.affected_unions == ("BD40870001", "BD40870002")
    assert stage.affected_districts == ("BD4087",)
    decay = stage.rule_results[-1]
    assert decay.kind == "union_wind_decay"
    assert decay.observed["union_wind_kmh"]["BD40870001"] == pytest.approx(147.1, abs=0.05)
    assert "nearest Union 0001 at 0 km" in stage.explanation


def test_bdrcs_eap_needs_the_signal_too(rule_sets: dict[str, RuleSet], fx: Any) -> None:
    eap = rule_sets["bdrcs_cyclone_eap_2021"]
    assert eap.enabled_by_default is False

    def pre(signal: int) -> str:
        forecast = fx.bulletin(winds(ECMWF=125.0, GFS=125.0), signals={"Mongla": signal})
        return run(eap, {"bmd": forecast}, fx)["BDRCS_CYCLONE_PRE_ACTIVATION"].state

    assert pre(4) == "met"
    assert pre(3) == "not_met"
    activation = fx.bulletin(winds(IMD=125.0), lead_hours=36, signals={"Mongla": 7})
    got = run(eap, {"bmd": activation}, fx)
    assert got["BDRCS_CYCLONE_ACTIVATION"].state == "met"
