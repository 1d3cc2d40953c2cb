"""A store with one Kurigram flood alert that was raised (readiness), escalated (action) and
stood down, its forecasts brought by feed runs of a chosen kind (live or scenario)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from agam.core.settings import Settings
from agam.pipeline.context import AppContext
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Alert, AlertEvent, Evaluation, FeedRun, ForecastRun
from store.user_repo import add_user

T0 = datetime(2026, 7, 4, 6, 0, tzinfo=UTC)
KURIGRAM = "BD5549"
XSD = Path(__file__).resolve().parents[1] / "fixtures" / "cap" / "CAP-v1.2.xsd"
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


@pytest.fixture(scope="session")
def cap_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def kurigram_unions(layer: UnionLayer, n: int) -> list[str]:
    return sorted(layer.unions_in([KURIGRAM])["adm4_pcode"])[:n]


def seed_alert(store: Store, unions: list[str], trigger: str) -> int:
    """Returns the alert id; events: raised (readiness), escalated (action), stood down."""
    with store.session() as session:
        add_user(
            session,
            username="officer.kurigram",
            role="officer",
            districts=[KURIGRAM],
            password="a long test password",
            display_name="Officer",
            at=T0,
        )
        run = ForecastRun(
            feed_id="ffwc",
            kind="station_series",
            issued_at=T0,
            fetched_at=T0,
            source_uri="https://example.test/ffwc",
            raw_sha256="a" * 64,
            raw_path="x",
        )
        session.add(run)
        session.flush()
        session.add(
            FeedRun(
                feed_id="ffwc",
                started_at=T0,
                finished_at=T0,
                outcome="success",
                forecast_run_id=run.id,
                trigger=trigger,
            )
        )
        evaluations = []
        for i, (stage, union_set) in enumerate((("readiness", unions[:3]), ("action", unions))):
            ev = Evaluation(
                input_key=f"k{i}",
                rule_set_id="ocha_cerf_flood_2025",
                rule_set_version="2025.1",
                stage=stage,
                as_of=T0 + timedelta(days=i),
                state="met",
                explanation=f"Bahadurabad water level forecast above danger level ({stage}).",
                observed={"window_end": (T0 + timedelta(days=5)).isoformat()},
                forecast_run_ids=[["ffwc", "2026-07-04T06:00:00Z", "a" * 64]],
                affected_districts=[KURIGRAM],
                affected_unions=union_set,
                created_at=T0,
            )
            session.add(ev)
            session.flush()
            evaluations.append(ev)
        alert = Alert(
            rule_set_id="ocha_cerf_flood_2025",
            rule_set_version="2025.1",
            district_pcode=KURIGRAM,
            stage="action",
            status="stood_down",
            opened_at=T0,
            updated_at=T0 + timedelta(days=6),
            first_evaluation_id=evaluations[0].id,
            last_evaluation_id=evaluations[1].id,
            affected_unions=unions,
        )
        session.add(alert)
        session.flush()
        for at, frm, to, ev in (
            (T0, None, "readiness", evaluations[0]),
            (T0 + timedelta(days=1), "readiness", "action", evaluations[1]),
            (T0 + timedelta(days=6), "action", "stood_down", evaluations[1]),
        ):
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=at,
                    from_stage=frm,
                    to_stage=to,
                    evaluation_id=ev.id,
                    explanation=ev.explanation if to != "stood_down" else "Stood down.",
                )
            )
        return alert.id


@pytest.fixture
def cap_site(settings: Settings, union_layer: UnionLayer) -> Callable[..., AppContext]:
    """cap_site(trigger="scheduler", unions=12) -> an AppContext with the alert stored."""

    def make(trigger: str = "scheduler", unions: int = 12) -> AppContext:
        ctx = AppContext(settings, clock=lambda: T0 + timedelta(days=6, hours=1))
        ctx.store.upgrade()
        seed_alert(ctx.store, kurigram_unions(union_layer, unions), trigger)
        return ctx

    return make
