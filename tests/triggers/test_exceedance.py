"""The Stations page's numbers are the engine's: `station_exceedance` gives, per lead day of the
rule's window, exactly what the ensemble rule judged (quorum, lead window, comparisons)."""

from __future__ import annotations

import numpy as np

from triggers.engine import evaluate, station_rules
from triggers.exceedance import station_exceedance


def test_daily_exceedance_is_what_the_rule_judged(fx, rule_sets) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    values = fx.members_matrix([10, 30, 40, 45, 20] + [0] * 10)
    values[:8, 2] = np.nan  # day 3: 43 valid members, under the quorum of 46
    forecast = fx.glofas({"Bahadurabad": values, "Goalundo": values})
    results = evaluate([flood], {"glofas": forecast}, fx.FakeUnions(), fx.AS_OF)
    for stage_id, station in (
        ("FLOOD_JAMUNA_READINESS", "Bahadurabad"),
        ("FLOOD_PADMA_READINESS", "Goalundo"),
    ):
        stage = next(r for r in results if r.stage_id == stage_id)
        judged = stage.rule_results[0].observed["days"]
        rule = next(r for r in station_rules([flood])[station] if r.kind == "ensemble_exceedance")
        days, _ = station_exceedance(rule, forecast)
        assert [d.as_dict() for d in days] == judged
    jamuna, _ = station_exceedance(flood.ensemble_rule("FLOOD_JAMUNA_READINESS"), forecast)
    assert jamuna[2].day_state == "unknown"  # under the quorum, whatever its share
    assert (jamuna[2].valid_members, jamuna[2].members_above) == (43, 32)
    assert [d.day_state for d in jamuna[:5]] == ["below", "above", "unknown", "above", "below"]
    padma, _ = station_exceedance(flood.ensemble_rule("FLOOD_PADMA_READINESS"), forecast)
    assert [d.lead_day for d in padma] == [12, 13, 14, 15]  # the Padma 12-15 day window only
