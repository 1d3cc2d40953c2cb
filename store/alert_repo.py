"""Evaluations, alerts and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agam.core.errors import NotFound
from store import feed_repo
from store.identity import Principal, require_active
from store.models import Alert, AlertEvent, Evaluation, ForecastRun
from store.row_locks import reread_locked

CLOSE_ROLES = ("officer", "district_admin", "admin")


def get_alert(session: Session, alert_id: int) -> Alert:
    row = session.get(Alert, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    return row


def get_evaluation(session: Session, evaluation_id: int) -> Evaluation:
    row = session.get(Evaluation, evaluation_id)
    if row is None:
        raise NotFound(f"no evaluation {evaluation_id}")
    return row


def find_evaluation(session: Session, input_key: str) -> Evaluation | None:
    return session.scalars(select(Evaluation).where(Evaluation.input_key == input_key)).first()


def add_evaluation(session: Session, **fields: Any) -> Evaluation:
    """Insert once per input key: re-evaluating the same inputs returns the stored row."""
    existing = find_evaluation(session, fields["input_key"])
    if existing is not None:
        return existing
    row = Evaluation(**fields)
    session.add(row)
    session.flush()
    return row


def current_alert(session: Session, rule_set_id: str, district_pcode: str) -> Alert | None:
    """The newest alert of a rule set for a district, whatever its status; locked for the
    caller's transaction on PostgreSQL (a person closing it waits, no lost update)."""
    stmt = (
        select(Alert)
        .where(Alert.rule_set_id == rule_set_id, Alert.district_pcode == district_pcode)
        .order_by(Alert.id.desc())
        .limit(1)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: a list may still refer to it
    )
    return session.scalars(stmt).first()


def open_alerts(session: Session, district_pcodes: list[str] | None = None) -> list[Alert]:
    stmt = select(Alert).where(Alert.status == "open")
    if district_pcodes is not None:
        stmt = stmt.where(Alert.district_pcode.in_(district_pcodes))
    return list(session.scalars(stmt.order_by(Alert.district_pcode, Alert.rule_set_id)))


def all_alerts(session: Session) -> list[Alert]:
    return list(session.scalars(select(Alert).order_by(Alert.id)))


def add_event(
    session: Session,
    *,
    alert_id: int,
    at: datetime,
    from_stage: str | None,
    to_stage: str,
    evaluation_id: int | None,
    explanation: str,
    actor: str = "system",
) -> AlertEvent:
    row = AlertEvent(
        alert_id=alert_id,
        at=at,
        from_stage=from_stage,
        to_stage=to_stage,
        evaluation_id=evaluation_id,
        explanation=explanation,
        actor=actor,
    )
    session.add(row)
    session.flush()
    return row


def events(session: Session, alert_id: int) -> list[AlertEvent]:
    stmt = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    return list(session.scalars(stmt))


def newest_event_ids(session: Session, alert_ids: list[int]) -> dict[int, int]:
    """alert id -> the id of its newest event, for the given alerts."""
    if not alert_ids:
        return {}
    stmt = (
        select(AlertEvent.alert_id, func.max(AlertEvent.id))
        .where(AlertEvent.alert_id.in_(alert_ids))
        .group_by(AlertEvent.alert_id)
    )
    return {int(a): int(e) for a, e in session.execute(stmt)}


def events_since(
    session: Session, since: datetime | None, district_pcodes: list[str] | None = None
) -> list[tuple[AlertEvent, Alert]]:
    stmt = select(AlertEvent, Alert).join(Alert, Alert.id == AlertEvent.alert_id)
    if since is not None:
        stmt = stmt.where(AlertEvent.at > since)
    if district_pcodes is not None:
        stmt = stmt.where(Alert.district_pcode.in_(district_pcodes))
    return [(e, a) for e, a in session.execute(stmt.order_by(AlertEvent.at.desc()).limit(200))]


def close_alert(
    session: Session, alert_id: int, principal: Principal, reason: str, at: datetime
) -> Alert:
    """A person closes an open alert with a reason (officers and administrators of the
    district, or an admin, as the account is stored now); the decision is an event like any
    other."""
    from agam.core.errors import InvalidTransition
    from agam.core.typed_text import unfit_text

    alert = reread_locked(session, Alert, alert_id) or get_alert(session, alert_id)
    user = require_active(
        session, principal, CLOSE_ROLES, district=alert.district_pcode, doing="close alerts"
    )
    if alert.status != "open":
        raise InvalidTransition(f"alert {alert_id} is {alert.status}; only open alerts close")
    if not reason.strip():
        raise InvalidTransition("closing an alert needs a reason")
    if why := unfit_text(reason):
        raise InvalidTransition(f"a reason is {why}")
    alert.status = "closed"
    alert.closed_reason = reason
    alert.closed_by = user.username
    alert.updated_at = at
    add_event(
        session,
        alert_id=alert.id,
        at=at,
        from_stage=alert.stage,
        to_stage="closed",
        evaluation_id=None,
        explanation=f"Closed by {user.username}: {reason}",
        actor=user.username,
    )
    return alert


def input_run_triggers(session: Session, alert_id: int) -> set[str]:
    """How the forecasts behind an alert arrived: the `trigger` of every feed run that
    brought one ("scheduler", "cli", "replay", "scenario:<id>" …)."""
    evaluation_ids = {e.evaluation_id for e in events(session, alert_id) if e.evaluation_id}
    alert = get_alert(session, alert_id)
    evaluation_ids |= {alert.first_evaluation_id, alert.last_evaluation_id}
    refs = {
        (str(ref[0]), str(ref[2]))
        for ev in session.scalars(select(Evaluation).where(Evaluation.id.in_(evaluation_ids)))
        for ref in ev.forecast_run_ids
        if len(ref) >= 3 and ref[2]
    }
    run_ids = [
        run.id
        for run in session.scalars(
            select(ForecastRun).where(ForecastRun.raw_sha256.in_({sha for _, sha in refs}))
        )
        if (run.feed_id, run.raw_sha256) in refs
    ]
    return feed_repo.brought_by(session, run_ids)
