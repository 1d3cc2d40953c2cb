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
        history = {
            a.district_pcode: [
                (e.to_stage, to_dhaka(e.at).date()) for e in alert_repo.events(session, a.id)
            ]
            for a in alerts
        }
    assert sorted(history) == SIX
    for district in SIX:
        assert history[district][0] == ("readiness", date(2026, 5, 15)), district
    assert history["BD4087"][1:] == [("action", date(2026, 5, 17))]  # Satkhira first
    assert history["BD4047"][1:] == [("action", date(2026, 5, 18))]  # then Khulna
    assert all(len(history[d]) == 1 for d in ("BD1004", "BD1009", "BD1078", "BD2075"))


def test_lists_only_for_the_unions_the_wind_decay_picks(cyclone_site) -> None:
    ctx = cyclone_site.ctx
    with ctx.store.session() as session:
        lists = list_repo.lists_for(session)
        assert sorted(row.district_pcode for row in lists) == ["BD4047", "BD4087"]
        for row in lists:
            alert = alert_repo.get_alert(session, row.alert_id)
            evaluation = alert_repo.get_evaluation(session, alert.last_evaluation_id)
            picked = {u for u in evaluation.affected_unions if u.startswith(row.district_pcode)}
            district_unions = set(ctx.union_layer().unions_in([row.district_pcode])["adm4_pcode"])
            assert picked, "the action stage names its unions"
            assert picked < district_unions  # a subset: not the whole district
            assert set(alert.affected_unions) == picked  # the map shows what action targets
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
