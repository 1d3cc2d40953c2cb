"""Boundary cases straight from the 2025 framework texts, on the shipped rule sets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from triggers.engine import TriggerEvaluation, district_stages, evaluate, load_rule_sets

SETS = {s.id: s for s in load_rule_sets()}
FLOOD, CYCLONE = SETS["ocha_cerf_flood_2025"], SETS["ocha_cerf_cyclone_2025"]
AS_OF_OFFSET = timedelta(hours=6)


def run(rule_set: Any, forecasts: dict[str, Any], unions: Any) -> dict[str, TriggerEvaluation]:
    as_of = max(f.issued_at for f in forecasts.values()) + AS_OF_OFFSET
    return {r.trigger_id: r for r in evaluate([rule_set], forecasts, unions, as_of)}


@pytest.mark.parametrize(
    ("above", "state"),
    [
        ([0, 0, 26, 26, 26, 0] + [0] * 9, "met"),  # 26 of 51 on 3 consecutive days
        ([0, 0, 25, 25, 25, 0] + [0] * 9, "not_met"),  # 25 of 51 (49 %) is not "more than 50 %"
        ([0, 0, 30, 30, 0, 30] + [0] * 9, "not_met"),  # only 2 consecutive days
        ([0] * 14 + [51], "not_met"),
    ],
)
def test_jamuna_readiness(
    builders: dict[str, Callable[..., Any]], unions: Any, above: list[int], state: str
) -> None:
    result = run(FLOOD, {"glofas": builders["glofas"](above)}, unions)["FLOOD_JAMUNA_READINESS"]
    assert result.state == state
    assert "Bahadurabad" in result.explanation
    if state == "met":
        assert "26 of 51 members (51%)" in result.explanation
        assert set(result.districts) == {"BD5010", "BD4539", "BD5532", "BD5549", "BD5088"}
        assert result.unions


def test_readiness_outside_the_15_day_window(
    builders: dict[str, Callable[..., Any]], unions: Any
) -> None:
    result = run(FLOOD, {"glofas": builders["glofas"]([0] * 15 + [51, 51, 51])}, unions)
    assert result["FLOOD_JAMUNA_READINESS"].state == "not_met"


def test_partial_ensemble_is_unknown(builders: dict[str, Callable[..., Any]], unions: Any) -> None:
    forecast = builders["glofas"]([51] * 15, members=40)
    result = run(FLOOD, {"glofas": forecast}, unions)["FLOOD_JAMUNA_READINESS"]
    assert result.state == "unknown"
    assert "Only 40 valid ensemble members" in result.explanation


def _rising(days: int = 15, start: float = 90_000, step: float = 2_000) -> np.ndarray:
    return np.tile(start + step * np.arange(days), (51, 1))


@pytest.mark.parametrize(("peak", "state"), [(20.35, "met"), (20.34, "not_met")])
def test_jamuna_action_at_dl_plus_085(
    builders: dict[str, Callable[..., Any]], unions: Any, peak: float, state: str
) -> None:
    forecasts = {
        "ffwc": builders["ffwc"]([19.6, 19.9, peak, 20.1, 19.8]),
        "glofas": builders["glofas"]([0] * 15, values=_rising()),
    }
    result = run(FLOOD, forecasts, unions)["FLOOD_JAMUNA_ACTION"]
    assert result.state == state
    assert result.observed["danger_level_m"] == 19.5
    assert result.observed["trigger_level_m"] == 20.35
    assert "DL 19.50 + 0.85 = 20.35 m" in result.explanation


def test_jamuna_action_needs_the_trend(
    builders: dict[str, Callable[..., Any]], unions: Any
) -> None:
    falling = _rising(start=120_000, step=-5_000)
    forecasts = {
        "ffwc": builders["ffwc"]([20.5] * 5),
        "glofas": builders["glofas"]([0] * 15, values=falling),
    }
    result = run(FLOOD, forecasts, unions)["FLOOD_JAMUNA_ACTION"]
    assert result.state == "not_met"
    assert "falling" in result.explanation


def test_danger_level_comes_from_the_feed(
    builders: dict[str, Callable[..., Any]], unions: Any
) -> None:
    forecasts = {
        "ffwc": builders["ffwc"]([19.95] * 5, danger_m=19.05),
        "glofas": builders["glofas"]([0] * 15, values=_rising()),
    }
    result = run(FLOOD, forecasts, unions)["FLOOD_JAMUNA_ACTION"]
    assert result.state == "met"  # 19.05 + 0.85 = 19.90
    assert result.observed["trigger_level_m"] == 19.9


@pytest.mark.parametrize(
    ("winds", "state"),
    [
        ({"BMD": 118, "JTWC": 130, "IMD": 100}, "met"),
        ({"BMD": 118, "JTWC": 117.9, "IMD": 100}, "not_met"),
        ({"JTWC": 140, "IMD": 100, "GFS": 90}, "not_met"),
    ],
)
def test_cyclone_readiness_two_of_five(
    builders: dict[str, Callable[..., Any]], unions: Any, winds: dict[str, float], state: str
) -> None:
    result = run(CYCLONE, {"bmd": builders["bulletin"](winds, lead_hours=96)}, unions)
    assert result["CYCLONE_READINESS"].state == state
    assert result["CYCLONE_ACTION"].state == "not_met"  # 96 h is beyond the 72 h action lead


def test_cyclone_action_needs_a_formed_system(
    builders: dict[str, Callable[..., Any]], unions: Any
) -> None:
    winds = {"BMD": 150, "ECMWF": 140}
    formed = run(CYCLONE, {"bmd": builders["bulletin"](winds, lead_hours=48)}, unions)
    assert formed["CYCLONE_ACTION"].state == "met"
    assert formed["CYCLONE_ACTION"].unions  # unions above 118 km/h after decay
    weak = run(CYCLONE, {"bmd": builders["bulletin"](winds, lead_hours=48, system="low")}, unions)
    assert weak["CYCLONE_ACTION"].state == "not_met"


def test_union_wind_decay_flags_the_nearest_unions(
    builders: dict[str, Callable[..., Any]], unions: Any
) -> None:
    result = run(
        CYCLONE, {"bmd": builders["bulletin"]({"BMD": 150, "ECMWF": 140}, lead_hours=48)}, unions
    )
    action = result["CYCLONE_ACTION"]
    winds = action.observed["union_wind_kmh"]
    assert winds["BD40870001"] == pytest.approx(150 * 0.9807, abs=0.1)  # at the boundary
    assert all(winds[u] >= 118 for u in action.unions)
    assert "BD40870002" not in action.unions  # 150 km away: 150 x 0.9807 x e^-0.45 = 94 km/h


def test_observational_only_when_action_did_not_fire(
    builders: dict[str, Callable[..., Any]], unions: Any
) -> None:
    observed = {"BMD": 125.0}
    no_action = run(
        CYCLONE,
        {"bmd": builders["bulletin"]({"BMD": 100}, lead_hours=48, observed=observed)},
        unions,
    )
    assert no_action["CYCLONE_OBSERVATIONAL"].state == "met"
    with_action = run(
        CYCLONE,
        {"bmd": builders["bulletin"]({"BMD": 150, "JTWC": 150}, lead_hours=48, observed=observed)},
        unions,
    )
    assert with_action["CYCLONE_ACTION"].state == "met"
    assert with_action["CYCLONE_OBSERVATIONAL"].state == "not_met"
    assert "Not applied: the action stage fired" in with_action["CYCLONE_OBSERVATIONAL"].explanation


def test_stale_and_missing_inputs_are_unknown(
    builders: dict[str, Callable[..., Any]], unions: Any
) -> None:
    forecast = builders["glofas"]([51] * 15)
    late = forecast.issued_at + timedelta(hours=40)  # max age 36 h
    result = {r.trigger_id: r for r in evaluate([FLOOD], {"glofas": forecast}, unions, late)}
    assert result["FLOOD_JAMUNA_READINESS"].state == "unknown"
    assert "40 h old" in result["FLOOD_JAMUNA_READINESS"].explanation
    assert result["FLOOD_JAMUNA_ACTION"].state == "unknown"  # no FFWC at all
    stages = district_stages(list(result.values()))
    stage, unknown, _ = stages[("ocha_cerf_flood_2025", "BD4539")]
    assert (stage, unknown) == (None, True)
