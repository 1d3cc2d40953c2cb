"""An open alert follows the evaluations of its district: when it stands down, and which
unions it covers.

- Stand-down time: the newest qualifying evaluation's window end (cyclone: the forecast
  landfall) plus the rule set's `lifecycle.stand_down_after_hours`, renewed by every
  evaluation that meets the alert's stage.
- Unions: a newer evaluation that meets the alert's stage with a different union set for the
  district moves the alert to that evaluation ("updated", recorded as any transition), so the
  alert, its list and the map always show the evaluation that caused them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from store import alert_repo, audit
from store.models import Alert
from triggers.engine import StageEvaluation
from triggers.model import RuleSet


def stand_down_at(rule_set: RuleSet, evaluation: StageEvaluation) -> datetime | None:
    end = evaluation.window_end
    if end is None:
        return None
    return end + timedelta(hours=rule_set.lifecycle.stand_down_after_hours)


def district_unions(items: list[StageEvaluation], stage: str, district: str) -> list[str]:
    """The unions of `district` the met evaluations of `stage` affect."""
    return sorted(
        {
            u
            for r in items
            if r.state == "met" and r.stage == stage
            for u in r.unions
            if u.startswith(district)
        }
    )


def district_sentence(names: dict[str, str], district: str, picked: int, area: int) -> str:
    """e.g. "Satkhira: 11 of 79 target unions." (the stage's sentence is area-wide)."""
    name = names.get(district, district)
    return f"{name}: {picked} of {area} target union{'s' * (area != 1)}."


def stood_down_text(alert: Alert, as_of: datetime, hours: float) -> str:
    when = alert.stand_down_at
    if when is None:
        return f"Stood down: nothing met and the forecast window ended ({as_of:%d %b %H:%M} UTC)."
    return (
        f"Stood down: no qualifying forecast since the last one's window ended "
        f"({when - timedelta(hours=hours):%d %b %H:%M} UTC) plus {hours:g} h."
    )


def follow(
    session: Any,
    alert: Alert,
    rule_set: RuleSet,
    top: StageEvaluation,
    unions: list[str],
    evaluation_id: int,
    explanation: str,
    at: datetime,
) -> bool:
    """An evaluation met the open alert's own stage again: renew the stand-down time and, if
    the district's unions changed, move the alert to this evaluation. True when updated."""
    renewed = stand_down_at(rule_set, top)
    if renewed is not None:
        alert.stand_down_at = renewed
    if not unions or sorted(alert.affected_unions or []) == unions:
        return False
    before = len(alert.affected_unions or [])
    alert.affected_unions = unions
    alert.last_evaluation_id = evaluation_id
    alert.updated_at = at
    alert_repo.add_event(
        session,
        alert_id=alert.id,
        at=at,
        from_stage=alert.stage,
        to_stage=alert.stage,
        evaluation_id=evaluation_id,
        explanation=f"Unions updated ({before} -> {len(unions)}): {explanation}",
    )
    audit.append(
        session,
        at=at,
        actor="system",
        action="alert.updated",
        entity="alert",
        entity_id=alert.id,
        payload={
            "rule_set": alert.rule_set_id,
            "district": alert.district_pcode,
            "stage": alert.stage,
            "evaluation_id": evaluation_id,
            "unions": len(unions),
        },
    )
    return True
