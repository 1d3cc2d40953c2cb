"""Activations in the store: which one the current forecasts belong to, the stages fired in
it (the engine's `already_fired`), and linking alerts to it. One payment per household per
activation follows from there (store.list_repo.paid_households).

An event's identities are unique keys in `activation_keys`, so the database itself refuses a
second activation for an event it already knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hazard_feeds.contract import HazardForecast
from store.models import Activation, ActivationKey, Alert
from triggers.activation import compatible, event_identity
from triggers.engine import StageEvaluation
from triggers.model import RuleSet

Track = tuple[str, str]  # (rule set id, stage track)


@dataclass
class Current:
    """The activation a rule set's track belongs to now (None until a stage is met)."""

    rule_set: RuleSet
    track: str
    keys: tuple[str, ...]
    label: str
    activation: Activation | None


def _keys_of(session: Session, activation_id: int) -> tuple[str, ...]:
    stmt = select(ActivationKey.key).where(ActivationKey.activation_id == activation_id)
    return tuple(sorted(session.scalars(stmt)))


def _match(
    session: Session, rule_set: RuleSet, keys: tuple[str, ...], as_of: datetime
) -> Activation | None:
    """By any key first; a storm not yet named (or named only in part) joins the most
    recently active compatible cyclone activation within the rule set's gap."""
    if keys:
        owner = session.scalars(
            select(ActivationKey.activation_id).where(ActivationKey.key.in_(keys)).limit(1)
        ).first()
        if owner is not None:
            return session.get(Activation, owner)
    if rule_set.activation.event != "cyclone":
        return None
    since = as_of - timedelta(hours=rule_set.activation.unnamed_gap_hours)
    live = session.scalars(
        select(Activation)
        .where(Activation.hazard == "cyclone", Activation.last_active_at >= since)
        .order_by(Activation.last_active_at.desc(), Activation.id.desc())
    )
    return next((a for a in live if compatible(keys, _keys_of(session, a.id))), None)


def find(
    session: Session,
    rule_sets: Iterable[RuleSet],
    forecasts: Mapping[str, HazardForecast],
    as_of: datetime,
) -> dict[Track, Current]:
    out: dict[Track, Current] = {}
    for rule_set in rule_sets:
        for track in sorted({s.track for s in rule_set.stages}):
            identity = event_identity(rule_set.activation, track, forecasts, as_of)
            found = _match(session, rule_set, identity.keys, as_of)
            out[(rule_set.id, track)] = Current(
                rule_set, track, identity.keys, identity.label, found
            )
    return out


def already_fired(found: Mapping[Track, Current]) -> dict[str, set[str]]:
    """Rule set id -> stage ids that fired earlier in the current activations."""
    fired: dict[str, set[str]] = {}
    for (rule_set_id, _), current in found.items():
        if current.activation is not None:
            stages = (current.activation.fired_stages or {}).get(rule_set_id) or []
            fired.setdefault(rule_set_id, set()).update(stages)
    return fired


def _open_alert_activations(session: Session) -> set[int]:
    stmt = select(Alert.activation_id).where(
        Alert.status == "open", Alert.activation_id.is_not(None)
    )
    return {int(a) for a in session.scalars(stmt) if a is not None}


def record(
    session: Session,
    found: Mapping[Track, Current],
    results: Iterable[StageEvaluation],
    as_of: datetime,
) -> dict[tuple[str, str], int]:
    """After an evaluation: open or continue the activation of every track with a met stage,
    keep its identities and fired stages, and keep it live while its alerts are open.
    Returns (rule set id, district) -> activation id for the districts met now."""
    met: dict[Track, list[StageEvaluation]] = {}
    for r in results:
        if r.state == "met":
            met.setdefault((r.rule_set_id, r.track), []).append(r)
    live = _open_alert_activations(session)
    by_district: dict[tuple[str, str], int] = {}
    for key, current in sorted(found.items()):
        hits = met.get(key, [])
        activation = current.activation
        if hits and activation is None:
            activation = Activation(
                hazard=current.rule_set.hazard,
                label=current.label,
                opened_at=as_of,
                last_active_at=as_of,
                fired_stages={},
            )
            session.add(activation)
            session.flush()
            current.activation = activation
        if activation is None:
            continue
        if hits or activation.id in live:
            activation.last_active_at = max(activation.last_active_at, as_of)
        if hits:
            _remember(session, activation, current, {r.stage_id for r in hits})
        for r in hits:
            for district in r.affected_districts:
                by_district[(r.rule_set_id, district)] = activation.id
    session.flush()
    return by_district


def _remember(
    session: Session, activation: Activation, current: Current, stage_ids: set[str]
) -> None:
    fired = dict(activation.fired_stages or {})
    mine = set(fired.get(current.rule_set.id) or []) | stage_ids
    fired[current.rule_set.id] = sorted(mine)
    activation.fired_stages = fired  # a new dict: JSON columns track assignment only
    known = set(_keys_of(session, activation.id))
    for key in current.keys:
        taken = session.get(ActivationKey, key)
        if key not in known and taken is None:
            session.add(ActivationKey(key=key, activation_id=activation.id))
    if activation.label.startswith("unnamed") and not current.label.startswith("unnamed"):
        activation.label = current.label


def attach(session: Session, alert_ids: Iterable[int], by_district: Mapping[Any, int]) -> None:
    """Alerts without an activation (newly raised) join the activation of their district."""
    for alert_id in alert_ids:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.activation_id is not None:
            continue
        activation_id = by_district.get((alert.rule_set_id, alert.district_pcode))
        if activation_id is not None:
            alert.activation_id = activation_id
