"""The Jamuna flood scenario end to end: local HTTP server -> real GloFAS / FFWC fetchers ->
raw store -> parsers -> trigger engine -> alerts -> proposed lists."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from agam.core.timeutil import to_dhaka
from agam.scenarios.player import play
from store import alert_repo, list_repo
from store.models import FeedRun, ForecastRun

JAMUNA = ["BD4539", "BD5010", "BD5088", "BD5532", "BD5549"]


def stage_history(ctx, rule_set: str) -> dict[str, list[tuple[str, date]]]:
    out: dict[str, list[tuple[str, date]]] = {}
    with ctx.store.session() as session:
        for alert in alert_repo.all_alerts(session):
            if alert.rule_set_id != rule_set:
                continue
            out[alert.district_pcode] = [
                (e.to_stage, to_dhaka(e.at).date()) for e in alert_repo.events(session, alert.id)
            ]
    return out


def test_stage_sequence_and_action_day(flood_site) -> None:
    history = stage_history(flood_site.ctx, "ocha_cerf_flood_2025")
    assert sorted(history) == JAMUNA
    for district in JAMUNA:
        assert history[district] == [
            ("readiness", date(2026, 6, 27)),  # GloFAS > 50 % for 3 lead days
            ("action", date(2026, 7, 2)),  # FFWC forecast reaches DL + 0.85 m, GloFAS rising
        ], district
    # The Padma track never triggers: its stations stay below their levels.
    assert not {"BD3054", "BD3056", "BD3086"} & set(history)


def test_each_step_went_through_the_real_fetchers(flood_site) -> None:
    outcomes = {s.outcome for s in flood_site.steps}
    assert outcomes <= {"success", "unchanged", "not_modified"}
    with flood_site.ctx.store.session() as session:
        runs = session.scalars(select(FeedRun)).all()
        forecasts = session.scalars(select(ForecastRun)).all()
    assert {r.trigger for r in runs} == {"scenario:flood"}
    assert {f.feed_id for f in forecasts} == {"glofas", "ffwc"}
    assert all(f.source_uri.startswith("http://127.0.0.1:") for f in forecasts)
    glofas = sorted(f.issued_at for f in forecasts if f.feed_id == "glofas")
    assert len(glofas) == 13  # one run a day, 22 Jun - 4 Jul
    for f in forecasts:  # raw bytes kept and parsable again
        assert flood_site.ctx.raw_store.get(f.feed_id, f.raw_sha256).content


def test_a_list_is_proposed_per_action_district(flood_site) -> None:
    with flood_site.ctx.store.session() as session:
        lists = [row for row in list_repo.lists_for(session) if row.status == "draft"]
        alerts = {a.id: a for a in alert_repo.all_alerts(session)}
    assert sorted(row.district_pcode for row in lists) == JAMUNA
    for row in lists:
        assert alerts[row.alert_id].stage == "action"
        assert row.households > 0
        assert row.total_bdt == row.households * row.amount_per_household_bdt


def test_playing_again_changes_nothing(flood_site) -> None:
    before = stage_history(flood_site.ctx, "ocha_cerf_flood_2025")
    again = play(flood_site.settings, "flood")
    assert not again.played
    assert stage_history(flood_site.ctx, "ocha_cerf_flood_2025") == before


def test_the_played_alerts_reach_the_cap_feed_as_exercises(flood_site) -> None:
    """Written after each alert change by the pipeline itself; a drill is never Actual."""
    from pathlib import Path

    from lxml import etree

    xsd = Path(__file__).resolve().parents[1] / "fixtures" / "cap" / "CAP-v1.2.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    feed = flood_site.settings.data_dir / "cap" / "alerts.atom"
    root = etree.parse(str(feed)).getroot()
    atom = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", atom)
    with flood_site.ctx.store.session() as session:
        alerts = alert_repo.all_alerts(session)
        events = sum(len(alert_repo.events(session, a.id)) for a in alerts)
    assert len(entries) == len(alerts) > 0
    assert {c.get("term") for e in entries for c in e.findall("a:category", atom)} >= {"Exercise"}
    assert "Actual" not in {c.get("term") for e in entries for c in e.findall("a:category", atom)}
    messages = sorted((feed.parent / "messages").glob("*.xml"))
    assert len(messages) == events
    for path in messages:
        cap = etree.parse(str(path)).getroot()
        assert schema.validate(cap), (path.name, schema.error_log)
        status = cap.findtext("{urn:oasis:names:tc:emergency:cap:1.2}status")
        assert status == "Exercise"
