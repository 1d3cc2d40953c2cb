"""One cyclone is one activation: its alerts, stand-downs and re-raises pay each household
once, and the observational stage stays off once action fired in it. Driven through the real
pipeline: BMD bulletins in the drop folder -> ingest -> evaluate -> alerts -> lists, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import run_evaluation
from agam.pipeline.ingest import ingest
from boundaries.overlay import union_wind_decay
from store import alert_repo, list_repo
from store.models import Activation, Alert, Beneficiary, RegistryImport
from store.user_repo import add_user, authenticate

LANDFALL = (89.6, 21.8)  # the Barguna / Patuakhali coast
ISSUED = datetime(2025, 5, 25, 3, 0, tzinfo=UTC)
LANDS = ISSUED + timedelta(hours=30)
PASSWORD = "a long test password"
COAST = ["BD4087", "BD1078", "BD1009", "BD2075", "BD1004", "BD4047"]


def _bulletin(
    issued: datetime,
    *,
    forecast_kmh: float | None,
    observed: dict | None = None,
    lands: datetime = LANDS,
):
    doc = {
        "issued_at": issued.isoformat(),
        "serial": "TEST (CONSTRUCTED)",
        "system": {
            "type": "severe_cyclonic_storm",
            "name": "REMAL",
            "lat": 20.5,
            "lon": 89.5,
            "in_bay_of_bengal": True,
        },
        "port_signals": {"Mongla": 7},
        "landfall": {"lat": LANDFALL[1], "lon": LANDFALL[0], "time": lands.isoformat()},
        "model_winds": [
            {
                "model": m,
                "max_wind_kmh": forecast_kmh if forecast_kmh is not None else 95,
                "averaging_minutes": 3,
                "valid_time": lands.isoformat(),
            }
            for m in ("BMD", "IMD", "ECMWF", "GFS", "JTWC")
        ],
        "observed_landfall": [
            {"source": s, "max_wind_kmh": w} for s, w in (observed or {}).items()
        ],
    }
    return doc


@pytest.fixture
def site(tmp_path: Path, database_url: str, union_layer, monkeypatch) -> SimpleNamespace:
    monkeypatch.delenv("AGAM_DATABASE_URL", raising=False)
    drop = tmp_path / "bulletins"
    drop.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        '[app]\ndata_dir = "data"\nlog_level = "WARNING"\n'
        f'[database]\nurl = "{database_url}"\n'
        f"[feeds.bmd]\ninterval_minutes = 10\nmax_age_hours = 12\ndrop_folder = '{drop}'\n",
        encoding="utf-8",
    )
    clock = SimpleNamespace(now=ISSUED)
    ctx = AppContext(load_settings(config), clock=lambda: clock.now)
    ctx.store.upgrade()
    decay = union_wind_decay(union_layer.unions_in(COAST), *LANDFALL, 150.0, 0.9807, 0.003)
    hit = sorted(decay.loc[decay["wind_kmh"] >= 118, "adm4_pcode"])
    with ctx.store.session() as session:
        session.add(
            RegistryImport(
                file_name="synthetic",
                sha256="s" * 64,
                rows_total=3 * len(hit),
                rows_imported=3 * len(hit),
                imported_at=ISSUED,
                imported_by="test",
                synthetic=True,
            )
        )
        session.flush()
        for n, union in enumerate(hit * 3):
            session.add(
                Beneficiary(
                    beneficiary_id=f"SYN-B{n:05d}",
                    programme="old_age",
                    household_id=f"SYN-H{n:05d}",
                    sex="female",
                    birth_year=1950,
                    adm4_pcode=union,
                    payment_channel="mfs",
                    import_id=1,
                    row_sha256="x" * 64,
                    updated_at=ISSUED,
                )
            )
        for district in sorted({u[:6] for u in hit}):
            for role in ("officer", "district_admin"):
                add_user(
                    session,
                    username=f"{role}.{district.lower()}",
                    role=role,
                    districts=[district],
                    password=PASSWORD,
                    display_name=role,
                    at=ISSUED,
                )
    yield SimpleNamespace(ctx=ctx, drop=drop, clock=clock, hit=hit)
    ctx.store.dispose()


def _publish(site: SimpleNamespace, doc: dict, at: datetime) -> None:
    for old in site.drop.glob("*.json"):
        old.unlink()
    (site.drop / f"b-{at:%d%H}.json").write_text(json.dumps(doc), encoding="utf-8")
    site.clock.now = at
    assert ingest(site.ctx, "bmd").outcome == "success"


def _evaluate(site: SimpleNamespace, at: datetime):
    site.clock.now = at
    return run_evaluation(site.ctx, at)


def _approve_all(site: SimpleNamespace) -> set[str]:
    """Officers submit and administrators approve every draft list: those households are paid."""
    paid: set[str] = set()
    with site.ctx.store.read() as session:
        districts = {r.district_pcode for r in list_repo.lists_for(session) if r.status == "draft"}
    signed_in = {}
    for d in districts:  # signed in before the decisions' own write transaction
        for role in ("officer", "district_admin"):
            with site.ctx.store.session() as session:
                name = f"{role}.{d.lower()}"
                signed_in[name] = authenticate(
                    session, name, PASSWORD, site.clock.now, "t"
                ).principal
    with site.ctx.store.session() as session:
        drafts = [r for r in list_repo.lists_for(session) if r.status == "draft"]
        for row in drafts:
            d = row.district_pcode
            officer = signed_in[f"officer.{d.lower()}"]
            admin = signed_in[f"district_admin.{d.lower()}"]
            list_repo.decide(session, row.id, officer, "submit", site.clock.now)
            list_repo.decide(session, row.id, admin, "approve", site.clock.now)
            lines = list_repo.lines_frame(session, row.id)
            paid |= set(lines.loc[lines["included"].astype(bool), "household_id"])
    return paid


def _action_then_stand_down(site: SimpleNamespace) -> set[str]:
    _publish(site, _bulletin(ISSUED, forecast_kmh=150), ISSUED + timedelta(minutes=30))
    _, changes = _evaluate(site, ISSUED + timedelta(hours=1))
    assert {c.change for c in changes} == {"raised"}
    assert {c.stage for c in changes} == {"action"}
    paid = _approve_all(site)
    assert paid
    # No new bulletin: 24 h after the forecast landfall the alerts stand down by themselves,
    # although the last bulletin has gone stale (unknown) by then.
    _, quiet = _evaluate(site, LANDS + timedelta(hours=23))
    assert quiet == []
    _, down = _evaluate(site, LANDS + timedelta(hours=25))
    assert {c.change for c in down} == {"stood_down"}
    with site.ctx.store.session() as session:
        for alert in alert_repo.all_alerts(session):
            assert alert.status == "stood_down"
            last = alert_repo.events(session, alert.id)[-1]
            assert last.to_stage == "stood_down"
            assert "plus 24 h" in last.explanation
    return paid


def test_stand_down_then_observation_proposes_nobody_already_paid(site) -> None:
    paid = _action_then_stand_down(site)
    # The observed landfall is reported after the stand-down: the same storm (REMAL), so the
    # same activation, in which action fired: the observational stage does not apply.
    report = LANDS + timedelta(hours=26)
    _publish(site, _bulletin(report, forecast_kmh=None, observed={"BMD": 140}), report)
    results, changes = _evaluate(site, report + timedelta(minutes=10))
    observational = next(r for r in results if r.stage_id == "CYCLONE_OBSERVATIONAL")
    assert observational.rule_results[0].state == "met"  # 140 km/h was observed ...
    assert observational.state == "not_met"  # ... but action fired in this activation
    assert observational.suppressed_by == "CYCLONE_ACTION"
    assert changes == []
    with site.ctx.store.session() as session:
        activations = list(session.scalars(select(Activation)))
        assert [a.label for a in activations] == ["REMAL-2025"]
        assert activations[0].fired_stages["ocha_cerf_cyclone_2025"] == ["CYCLONE_ACTION"]
        drafts = [r for r in list_repo.lists_for(session) if r.status == "draft"]
        assert drafts == []  # nobody proposed again
    # A new qualifying forecast (the storm is forecast to turn back and cross the coast again)
    # re-raises action: a new alert in the same activation, whose list leaves out everybody
    # already paid.
    again = report + timedelta(hours=2)
    _publish(site, _bulletin(again, forecast_kmh=150, lands=again + timedelta(hours=30)), again)
    _, changes = _evaluate(site, again + timedelta(minutes=10))
    assert {c.change for c in changes} == {"raised"}
    with site.ctx.store.session() as session:
        raised = [session.get(Alert, c.alert_id) for c in changes]
        assert {a.activation_id for a in raised} == {activations[0].id}
        for row in [r for r in list_repo.lists_for(session) if r.status == "draft"]:
            lines = list_repo.lines_frame(session, row.id)
            included = set(lines.loc[lines["included"].astype(bool), "household_id"])
            assert not included & paid
            repeat = lines[lines["household_id"].isin(paid)]
            assert not repeat.empty
            assert set(repeat["exclusion_reason"]) == {"already paid in this activation"}


def test_a_second_observation_after_stand_down_pays_nobody_twice(site) -> None:
    """Observational without action: paid, stood down, raised again by a later report."""
    first = LANDS + timedelta(hours=1)
    _publish(site, _bulletin(first, forecast_kmh=None, observed={"BMD": 150}), first)
    _, changes = _evaluate(site, first + timedelta(minutes=10))
    assert {c.stage for c in changes} == {"observational"}
    paid = _approve_all(site)
    assert paid
    _, down = _evaluate(site, LANDS + timedelta(hours=26))  # the report is stale, +24 h passed
    assert {c.change for c in down} == {"stood_down"}
    later = LANDS + timedelta(hours=27)
    _publish(site, _bulletin(later, forecast_kmh=None, observed={"IMD": 150}), later)
    _, changes = _evaluate(site, later + timedelta(minutes=10))
    assert {c.change for c in changes} == {"raised"}
    with site.ctx.store.session() as session:
        ids = {session.get(Alert, c.alert_id).activation_id for c in changes}
        assert len(ids) == 1
        assert len(list(session.scalars(select(Activation)))) == 1
        drafts = [r for r in list_repo.lists_for(session) if r.status == "draft"]
        assert drafts
        for row in drafts:
            lines = list_repo.lines_frame(session, row.id)
            assert not set(lines.loc[lines["included"].astype(bool), "household_id"]) & paid
            assert row.households == 0  # every household here was paid in this activation


def test_event_identity_from_gdacs_and_bmd() -> None:
    from hazard_feeds.contract import HazardForecast
    from triggers.activation import ActivationSpec, compatible, event_identity

    at = datetime(2023, 5, 12, 9, tzinfo=UTC)
    gdacs = HazardForecast(
        "gdacs", "footprint", at, payload={"events": [{"event_id": 1000970, "name": "MOCHA-23"}]}
    )
    bmd = HazardForecast("bmd", "bulletin", at, payload={"system": {"name": "Mocha"}})
    cyclone = ActivationSpec(event="cyclone")
    both = event_identity(cyclone, "cyclone", {"gdacs": gdacs, "bmd": bmd}, at)
    assert both.keys == ("gdacs:1000970", "storm:MOCHA-2023")
    assert both.label == "MOCHA-2023"
    stale = event_identity(cyclone, "cyclone", {"bmd": bmd}, at + timedelta(hours=30))
    assert stale.keys == ()  # too old to name the event
    assert stale.label.startswith("unnamed cyclone")
    flood = event_identity(ActivationSpec(event="flood_season"), "jamuna", {}, at)
    assert flood.keys == ("flood:jamuna:2023",)
    # the same storm named by one source only is compatible; another storm is not
    assert compatible(("storm:MOCHA-2023",), ("gdacs:1000970", "storm:MOCHA-2023"))
    assert compatible(("gdacs:1000970",), ("storm:MOCHA-2023",))
    assert compatible((), ("storm:MOCHA-2023",))
    assert not compatible(("storm:REMAL-2024",), ("storm:MOCHA-2023",))


def test_the_database_refuses_one_event_in_two_activations(database_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from store.db import Store
    from store.models import ActivationKey

    store = Store(database_url)
    store.upgrade()
    with store.session() as session:
        for n in (1, 2):
            session.add(
                Activation(
                    id=n,
                    hazard="cyclone",
                    label="MOCHA-2023",
                    opened_at=ISSUED,
                    last_active_at=ISSUED,
                    fired_stages={},
                )
            )
        session.add(ActivationKey(key="gdacs:1000970", activation_id=1))
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(ActivationKey(key="gdacs:1000970", activation_id=2))
    store.dispose()
