"""The cyclone scenario: real Amphan positions in GDACS episodes, SYNTHETIC BMD bulletins
with rising signals and model winds -> readiness in the six CERF districts, then action
where the wind decay from the forecast landfall reaches 118 km/h."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from agam.core.timeutil import to_dhaka
from agam.pipeline.evaluate import latest_forecasts
from store import alert_repo, list_repo
from store.models import ForecastRun

SIX = ["BD1004", "BD1009", "BD1078", "BD2075", "BD4047", "BD4087"]


def test_readiness_then_action_where_the_wind_reaches(cyclone_site) -> None:
    ctx = cyclone_site.ctx
    with ctx.store.session() as session:
        alerts = [a for a in alert_repo.all_alerts(session) if a.rule_set_id.startswith("ocha")]
        history = {  # stage changes (an alert following newer forecasts keeps its stage)
            a.district_pcode: [
                (e.to_stage, to_dhaka(e.at).date())
                for e in alert_repo.events(session, a.id)
                if e.from_stage != e.to_stage
            ]
            for a in alerts
        }
    assert sorted(history) == SIX
    for district in SIX:
        assert history[district][0] == ("readiness", date(2026, 5, 15)), district
    assert history["BD4087"][1:] == [("action", date(2026, 5, 17))]  # Satkhira first
    assert history["BD4047"][1:] == [("action", date(2026, 5, 18))]  # then Khulna
    assert all(len(history[d]) == 1 for d in ("BD1004", "BD1009", "BD1078", "BD2075"))


def _current_lists(session):
    return [row for row in list_repo.lists_for(session) if row.status != "superseded"]


def test_lists_only_for_the_unions_the_wind_decay_picks(cyclone_site) -> None:
    ctx = cyclone_site.ctx
    with ctx.store.session() as session:
        lists = _current_lists(session)
        assert sorted(row.district_pcode for row in lists) == ["BD4047", "BD4087"]
        for row in lists:
            alert = alert_repo.get_alert(session, row.alert_id)
            evaluation = alert_repo.get_evaluation(session, alert.last_evaluation_id)
            picked = {u for u in evaluation.affected_unions if u.startswith(row.district_pcode)}
            district_unions = set(ctx.union_layer().unions_in([row.district_pcode])["adm4_pcode"])
            assert picked, "the action stage names its unions"
            assert picked < district_unions  # a subset: not the whole district
            # The alert, its list and the map show the evaluation that caused them.
            assert set(alert.affected_unions) == picked
            assert row.evaluation_id == alert.last_evaluation_id
            lines = list_repo.lines_frame(session, row.id)
            assert set(lines["adm4_pcode"]) <= picked
            assert "118 km/h" in evaluation.explanation


def test_gdacs_episodes_carry_the_real_best_track(cyclone_site) -> None:
    ctx = cyclone_site.ctx
    with ctx.store.session() as session:
        episodes = session.scalars(select(ForecastRun).where(ForecastRun.feed_id == "gdacs")).all()
    assert len(episodes) >= 15  # one every 6 h from tropical-storm strength
    last = max(e.fetched_at for e in episodes)
    track = latest_forecasts(ctx, last)["gdacs"].payload["track"]
    fixes = {(p["valid_time"].strftime("%m%d%H"), p["lat"], p["lon"]) for p in track}
    # JTWC b-deck 01B (2020): 20 May 06Z 20.5N 87.9E, 12Z 22.2N 88.3E (moved to 2026)
    assert ("052006", 20.5, 87.9) in fixes
    assert ("052012", 22.2, 88.3) in fixes


def test_satkhira_follows_the_evaluation_that_caused_it(cyclone_site) -> None:
    """The Satkhira discrepancy (CHANGELOG): the action alert was raised on bulletin SL 9
    (landfall wind 171 km/h: 8 Satkhira unions) and then stayed at 8 while SL 10 (173 km/h)
    put 11 Satkhira unions, 12 across the target area with Khulna's 1, at 118 km/h or more;
    `agam cyclone landfall --lon 88.17 --lat 21.65 --wind-kmh 173` gives those same 11."""
    from boundaries.overlay import union_wind_decay

    ctx = cyclone_site.ctx
    with ctx.store.session() as session:
        alert = next(
            a
            for a in alert_repo.all_alerts(session)
            if a.district_pcode == "BD4087" and a.rule_set_id.startswith("ocha")
        )
        steps = []
        for event in alert_repo.events(session, alert.id):
            evaluation = alert_repo.get_evaluation(session, event.evaluation_id)
            unions = [u for u in evaluation.affected_unions if u.startswith("BD4087")]
            steps.append((event.to_stage, event.at.isoformat(), len(unions), event.explanation))
        action = [s for s in steps if s[0] == "action"]
        assert action[0][1:3] == ("2026-05-17T13:00:00+00:00", 8)  # SL 9, 171 km/h
        assert action[1][1:3] == ("2026-05-17T19:00:00+00:00", 11)  # SL 10, 173 km/h
        assert action[1][3].endswith("Satkhira: 11 of 81 target unions.")
        assert action[1][3].startswith("Unions updated (8 -> 11)")
        # the same 11 unions as the landfall tool at 173 km/h
        satkhira = ctx.union_layer().unions_in(["BD4087"])
        tool = union_wind_decay(satkhira, 88.17, 21.65, 173.0, 0.9807, 0.003)
        assert int((tool["wind_kmh"] >= 118).sum()) == 11
        # Khulna's alert says what it means for Khulna, not only the area-wide 12 of 477.
        khulna = next(
            a
            for a in alert_repo.all_alerts(session)
            if a.district_pcode == "BD4047" and a.rule_set_id.startswith("ocha")
        )
        raised = next(e for e in alert_repo.events(session, khulna.id) if e.to_stage == "action")
        assert "12 of 477 target unions" in raised.explanation
        assert raised.explanation.endswith("Khulna: 1 of 104 target unions.")
        # At the end of the scenario the alert, its current list and the map agree.
        last = alert_repo.get_evaluation(session, alert.last_evaluation_id)
        final = sorted(u for u in last.affected_unions if u.startswith("BD4087"))
        assert sorted(alert.affected_unions) == final
        assert len(final) == 61  # SL 20, 192 km/h: the last forecast before landfall
        current = next(r for r in _current_lists(session) if r.district_pcode == "BD4087")
        assert current.evaluation_id == alert.last_evaluation_id


def test_list_reasons_show_each_unions_hazard_intensity(cyclone_site) -> None:
    """Households in unions at different decayed winds carry different hazard intensities,
    and a union at a stronger wind scores higher."""
    from allowances.reasons import HAZARD, parse

    with cyclone_site.ctx.store.session() as session:
        row = next(r for r in _current_lists(session) if r.district_pcode == "BD4087")
        lines = list_repo.lines_frame(session, row.id)
    found = {}
    for union, reasons in zip(lines["adm4_pcode"], lines["reasons"], strict=True):
        hazard = [parse(r) for r in reasons if parse(r).term == HAZARD]
        assert len(hazard) == 1, reasons
        wind = hazard[0].evidence or ""
        assert wind.endswith(" km/h"), reasons
        found[union] = (float(wind.removesuffix(" km/h")), hazard[0].intensity)
    assert len({v for _, v in found.values()}) >= 5  # unions at different winds differ
    by_wind = sorted(found.values())
    assert [v for _, v in by_wind] == sorted(v for _, v in by_wind)  # stronger wind, higher
    assert all(0.0 <= v <= 1.0 for _, v in by_wind)


def test_one_activation_for_the_storm(cyclone_site) -> None:
    from sqlalchemy import select as sql_select

    from store.models import Activation, ActivationKey

    with cyclone_site.ctx.store.session() as session:
        activations = list(session.scalars(sql_select(Activation)))
        keys = set(session.scalars(sql_select(ActivationKey.key)))
        alerts = alert_repo.all_alerts(session)
    assert [a.label for a in activations] == ["AMPHAN-2026"]
    assert keys == {"gdacs:1000999", "storm:AMPHAN-2026"}  # GDACS and BMD name the same storm
    assert {a.activation_id for a in alerts} == {activations[0].id}
