"""Properties: raising any forecast value never lowers a state; results are deterministic and
do not depend on member, station or model order; NaN never counts as above a threshold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from triggers.engine import evaluate, load_rule_sets

SETS = {s.id: s for s in load_rule_sets()}
FLOOD, CYCLONE = SETS["ocha_cerf_flood_2025"], SETS["ocha_cerf_cyclone_2025"]
RANK = {"not_met": 0, "met": 1}
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
discharge = arrays(np.float64, (51, 15), elements=st.floats(60_000, 140_000))


def _states(rule_set: Any, forecasts: dict[str, Any], unions: Any) -> dict[str, str]:
    as_of = max(f.issued_at for f in forecasts.values()) + timedelta(hours=6)
    return {r.trigger_id: r.state for r in evaluate([rule_set], forecasts, unions, as_of)}


@FAST
@given(values=discharge, bump=arrays(np.float64, (51, 15), elements=st.floats(0, 30_000)))
def test_raising_discharge_never_lowers_readiness(
    builders: dict[str, Callable[..., Any]], unions: Any, values: np.ndarray, bump: np.ndarray
) -> None:
    low = _states(FLOOD, {"glofas": builders["glofas"]([0] * 15, values=values)}, unions)
    high = _states(FLOOD, {"glofas": builders["glofas"]([0] * 15, values=values + bump)}, unions)
    key = "FLOOD_JAMUNA_READINESS"
    assert RANK[high[key]] >= RANK[low[key]]


@FAST
@given(
    levels=st.lists(st.floats(18.0, 21.0), min_size=5, max_size=5),
    bump=st.lists(st.floats(0, 1.0), min_size=5, max_size=5),
)
def test_raising_water_level_never_lowers_action(
    builders: dict[str, Callable[..., Any]], unions: Any, levels: list[float], bump: list[float]
) -> None:
    rising = np.tile(90_000 + 2_000 * np.arange(15), (51, 1)).astype(float)
    glofas = builders["glofas"]([0] * 15, values=rising)
    low = _states(FLOOD, {"ffwc": builders["ffwc"](levels), "glofas": glofas}, unions)
    high = _states(
        FLOOD,
        {
            "ffwc": builders["ffwc"]([a + b for a, b in zip(levels, bump, strict=True)]),
            "glofas": glofas,
        },
        unions,
    )
    assert RANK[high["FLOOD_JAMUNA_ACTION"]] >= RANK[low["FLOOD_JAMUNA_ACTION"]]


@FAST
@given(
    winds=st.fixed_dictionaries(
        {m: st.floats(60, 200) for m in ("BMD", "IMD", "ECMWF", "GFS", "JTWC")}
    ),
    bump=st.floats(0, 40),
)
def test_raising_model_wind_never_lowers_cyclone_stages(
    builders: dict[str, Callable[..., Any]], unions: Any, winds: dict[str, float], bump: float
) -> None:
    for lead in (48, 96):
        low = _states(CYCLONE, {"bmd": builders["bulletin"](winds, lead_hours=lead)}, unions)
        stronger = {m: w + bump for m, w in winds.items()}
        high = _states(CYCLONE, {"bmd": builders["bulletin"](stronger, lead_hours=lead)}, unions)
        for key in ("CYCLONE_READINESS", "CYCLONE_ACTION"):
            assert RANK[high[key]] >= RANK[low[key]]


@FAST
@given(values=discharge, seed=st.integers(0, 2**16))
def test_member_order_and_repetition_do_not_matter(
    builders: dict[str, Callable[..., Any]], unions: Any, values: np.ndarray, seed: int
) -> None:
    shuffled = values[np.random.default_rng(seed).permutation(51)]
    a = evaluate(
        [FLOOD],
        {"glofas": builders["glofas"]([0] * 15, values=values)},
        unions,
        builders["glofas"]([0]).issued_at + timedelta(hours=6),
    )
    b = evaluate(
        [FLOOD],
        {"glofas": builders["glofas"]([0] * 15, values=shuffled)},
        unions,
        builders["glofas"]([0]).issued_at + timedelta(hours=6),
    )
    assert [(r.trigger_id, r.state, r.explanation) for r in a] == [
        (r.trigger_id, r.state, r.explanation) for r in b
    ]
    assert [r.input_key for r in a] == [r.input_key for r in b]


@FAST
@given(
    winds=st.fixed_dictionaries(
        {m: st.floats(60, 200) for m in ("BMD", "IMD", "ECMWF", "GFS", "JTWC")}
    )
)
def test_model_and_rule_set_order_do_not_matter(
    builders: dict[str, Callable[..., Any]], unions: Any, winds: dict[str, float]
) -> None:
    reordered = dict(reversed(list(winds.items())))
    as_of = builders["bulletin"]({"BMD": 1}).issued_at + timedelta(hours=6)
    a = evaluate(
        [CYCLONE, FLOOD], {"bmd": builders["bulletin"](winds, lead_hours=48)}, unions, as_of
    )
    b = evaluate(
        [FLOOD, CYCLONE], {"bmd": builders["bulletin"](reordered, lead_hours=48)}, unions, as_of
    )
    assert [(r.trigger_id, r.state, r.unions) for r in a] == [
        (r.trigger_id, r.state, r.unions) for r in b
    ]


def test_nan_is_never_above(builders: dict[str, Callable[..., Any]], unions: Any) -> None:
    values = np.full((51, 15), np.nan)
    values[:46] = 90_000.0  # 46 valid members, all below the threshold
    states = _states(FLOOD, {"glofas": builders["glofas"]([0] * 15, values=values)}, unions)
    assert states["FLOOD_JAMUNA_READINESS"] == "not_met"
