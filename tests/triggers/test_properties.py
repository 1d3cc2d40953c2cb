"""Rule invariants with Hypothesis: monotonicity, order and time-zone
independence, NaN never counted, and "N consecutive days" against a brute-force oracle."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from triggers.engine import StageEvaluation, evaluate
from triggers.model import RuleSet
from triggers.results import STATE_RANK

NAN = float("nan")
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DISCHARGE = st.sampled_from([90_000.0, 99_999.0, 100_000.0, 100_001.0, 120_000.0, NAN])
RAISE_BY = st.sampled_from([0.0, 0.0, 1.0, 2_000.0, 30_000.0])
MODELS = ("BMD", "IMD", "ECMWF", "GFS", "JTWC")


def states(results: list[StageEvaluation]) -> dict[str, int]:
    return {r.stage_id: STATE_RANK[r.state] for r in results}


def judge(rule_set: RuleSet, forecasts: dict[str, Any], fx: Any, **kw: Any) -> Any:
    return evaluate([rule_set], forecasts, kw.pop("unions", fx.FakeUnions()), fx.AS_OF, **kw)


@FAST
@given(
    values=arrays(np.float64, (51, 15), elements=DISCHARGE),
    rise=arrays(np.float64, (51, 15), elements=RAISE_BY),
)
def test_raising_discharge_never_lowers_readiness(
    values: np.ndarray, rise: np.ndarray, rule_sets: dict[str, RuleSet], fx: Any
) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    before = states(judge(flood, {"glofas": fx.glofas(values)}, fx))
    after = states(judge(flood, {"glofas": fx.glofas(values + rise)}, fx))
    assert after["FLOOD_JAMUNA_READINESS"] >= before["FLOOD_JAMUNA_READINESS"]


@FAST
@given(
    levels=st.lists(st.integers(1_900, 2_100), min_size=5, max_size=5),
    rise=st.lists(st.integers(0, 60), min_size=5, max_size=5),
    gap=st.sampled_from([None, 0, 2, 4]),
)
def test_raising_water_level_never_lowers_action(
    levels: list[int], rise: list[int], gap: int | None, rule_sets: dict[str, RuleSet], fx: Any
) -> None:
    """Water levels in cm; the GloFAS trend input is held fixed (a falling trend is meant to
    block action, so discharge is not monotone for the trend condition: ADR 0002)."""
    flood = rule_sets["ocha_cerf_flood_2025"]
    low = [v / 100 for v in levels]
    high = [(v + r) / 100 for v, r in zip(levels, rise, strict=True)]
    if gap is not None:
        low[gap] = high[gap] = NAN
    glofas = fx.glofas({"Bahadurabad": fx.sustained()})
    before = states(judge(flood, {"ffwc": fx.ffwc(low), "glofas": glofas}, fx))
    after = states(judge(flood, {"ffwc": fx.ffwc(high), "glofas": glofas}, fx))
    assert after["FLOOD_JAMUNA_ACTION"] >= before["FLOOD_JAMUNA_ACTION"]


WINDS = st.fixed_dictionaries({}, optional={m: st.floats(0, 250) for m in MODELS})


@FAST
@given(
    winds=WINDS,
    rise=st.lists(st.floats(0, 40), min_size=5, max_size=5),
    lead=st.sampled_from([12.0, 48.0, 72.0, 96.0, 130.0]),
    system=st.sampled_from(["low", "well_marked_low", "depression", "cyclonic_storm"]),
)
def test_raising_model_winds_never_lowers_cyclone_stages(
    winds: dict[str, float],
    rise: list[float],
    lead: float,
    system: str,
    rule_sets: dict[str, RuleSet],
    fx: Any,
) -> None:
    cyclone = rule_sets["ocha_cerf_cyclone_2025"]
    unions = fx.FakeUnions({"BD40870001": 0.0, "BD10780001": 40.0, "BD20750001": 120.0})
    higher = {m: w + rise[i] for i, (m, w) in enumerate(sorted(winds.items()))}
    low = judge(
        cyclone, {"bmd": fx.bulletin(winds, lead_hours=lead, system=system)}, fx, unions=unions
    )
    high = judge(
        cyclone, {"bmd": fx.bulletin(higher, lead_hours=lead, system=system)}, fx, unions=unions
    )
    for before, after in zip(low, high, strict=True):
        if before.stage in ("readiness", "action"):
            assert STATE_RANK[after.state] >= STATE_RANK[before.state], before.stage_id
            if before.state == "met":
                assert set(after.affected_unions) >= set(before.affected_unions)


@FAST
@given(
    values=arrays(np.float64, (51, 15), elements=DISCHARGE),
    levels=st.lists(st.integers(1_900, 2_100), min_size=5, max_size=5),
    winds=WINDS,
    seed=st.integers(0, 2**32 - 1),
)
def test_evaluation_is_independent_of_member_station_and_model_order(
    values: np.ndarray,
    levels: list[int],
    winds: dict[str, float],
    seed: int,
    rule_sets: dict[str, RuleSet],
    fx: Any,
) -> None:
    rng = np.random.default_rng(seed)
    sets = list(rule_sets.values())
    other = np.full((51, 15), 50_000.0)
    wl = [v / 100 for v in levels]
    plain = {
        "glofas": fx.glofas({"Bahadurabad": values, "Goalundo": other}),
        "ffwc": fx.ffwc({"SW46.9L": wl, "SW93.5L": [6.0] * 5}, danger_m=19.5),
        "bmd": fx.bulletin(winds, lead_hours=48, signals={"Mongla": 7, "Payra": 4}),
    }
    order = rng.permutation(51)
    shuffled = {
        "bmd": fx.bulletin(
            winds,
            lead_hours=48,
            signals={"Payra": 4, "Mongla": 7},
            model_order=list(rng.permutation(sorted(winds))),
        ),
        "ffwc": fx.ffwc({"SW93.5L": [6.0] * 5, "SW46.9L": wl}, danger_m=19.5),
        "glofas": fx.glofas(
            {"Goalundo": other[order], "Bahadurabad": values[order]},
            member_ids=[int(i) for i in order],
        ),
    }
    first = evaluate(sets, plain, fx.FakeUnions(), fx.AS_OF)
    again = evaluate(list(reversed(sets)), shuffled, fx.FakeUnions(), fx.AS_OF)
    in_dhaka = evaluate(sets, plain, fx.FakeUnions(), fx.AS_OF.astimezone(ZoneInfo("Asia/Dhaka")))
    assert first == again
    assert [(r.state, r.explanation) for r in first] == [(r.state, r.explanation) for r in in_dhaka]


@FAST
@given(values=arrays(np.float64, (51, 15), elements=DISCHARGE))
def test_nan_never_counts_as_above(
    values: np.ndarray, rule_sets: dict[str, RuleSet], fx: Any
) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    stage = judge(flood, {"glofas": fx.glofas(values)}, fx)[0]
    for day in stage.result.observed["days"]:
        column = values[:, day["lead_day"] - 1]
        assert day["valid_members"] == int(np.isfinite(column).sum())
        assert day["members_above"] == int((column >= fx.THRESHOLD).sum())
    only_nan_above = np.where(values >= fx.THRESHOLD, NAN, values)
    assert judge(flood, {"glofas": fx.glofas(only_nan_above)}, fx)[0].state != "met"


@FAST
@given(days=st.lists(st.booleans(), min_size=15, max_size=15))
def test_three_consecutive_days_matches_an_oracle(
    days: list[bool], rule_sets: dict[str, RuleSet], fx: Any
) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    matrix = fx.members_matrix([26 if d else 25 for d in days])
    stage = judge(flood, {"glofas": fx.glofas(matrix)}, fx)[0]
    oracle = any(all(days[i : i + 3]) for i in range(13))
    assert stage.state == ("met" if oracle else "not_met")
