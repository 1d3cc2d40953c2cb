"""Alert -> proposed allowance list for its district (draft, waiting for an officer).

A tick that proposes for several districts on PostgreSQL reads and scores the next district's
households on a second thread while it writes this one's lines (`propose_all`): the server
does much of both in its own processes. A list is written from what was read ahead only if
nothing it depends on changed since (`allowances.lists.Prepared`); otherwise it is read again
in the writing transaction. On SQLite both halves run in this process and mostly hold the GIL
(binding rows, building frames), so side by side they took longer than one after the other
(10 M households: 18.8 s instead of 15.8 s) and SQLite proposes one after the other.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agam.pipeline.context import AppContext
from allowances.lists import Prepared, Scope, prepare, propose
from allowances.policy import AllowancePolicy, load_policy
from store import alert_repo, list_repo
from store.models import AllowanceList

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Target:
    """What an alert's list is proposed from: its district, the unions its current stage
    targets and their hazard intensity, and the evaluation they come from."""

    alert_id: int
    district_pcode: str
    unions: list[str]
    intensity: dict[str, float]
    evidence: dict[str, str]
    evaluation_id: int


def union_intensity(
    observed: dict[str, Any], unions: list[str]
) -> tuple[dict[str, float], dict[str, str]]:
    """Hazard intensity per union in [0, 1] and what it was measured from, as the evaluation
    recorded it (its `intensity` evidence). A union it does not cover gets no hazard term."""
    stored = observed.get("intensity") or {}
    values = stored.get("union_intensity") or {}
    evidence = stored.get("evidence") or {}
    picked = [u for u in unions if u in values]
    return {u: float(values[u]) for u in picked}, {
        u: str(evidence[u]) for u in picked if u in evidence
    }


def _target(session: Session, alert_id: int) -> _Target:
    alert = alert_repo.get_alert(session, alert_id)
    evaluation = alert_repo.get_evaluation(session, alert.last_evaluation_id)
    # The unions the current stage targets (e.g. the action stage's wind decay), not every
    # union an earlier stage touched; the alert's own set when the evaluation has none.
    picked = evaluation.affected_unions or alert.affected_unions
    unions = [u for u in picked if u.startswith(alert.district_pcode)]
    intensity, evidence = union_intensity(evaluation.observed, unions)
    return _Target(alert.id, alert.district_pcode, unions, intensity, evidence, evaluation.id)


def _scope(target: _Target, policy: AllowancePolicy, ctx: AppContext) -> Scope:
    return Scope(target.alert_id, target.district_pcode, target.unions, target.intensity,
                 policy, ctx.now(), target.evidence)  # fmt: skip


def prepare_for_alert(ctx: AppContext, alert_id: int, policy: AllowancePolicy) -> Prepared:
    """The lines of the alert's list as they would be written now, in a read transaction."""
    with ctx.store.read() as session:
        return prepare(session, _scope(_target(session, alert_id), policy, ctx))


def propose_for_alert(
    ctx: AppContext,
    alert_id: int,
    policy: AllowancePolicy | None = None,
    actor: str = "system",
    ahead: Prepared | None = None,
) -> AllowanceList:
    policy = policy or load_policy()
    with ctx.store.session() as session:
        target = _target(session, alert_id)
        row = propose(
            session,
            **vars(_scope(target, policy, ctx)),  # the Scope's fields are propose's keywords
            prepared_by=actor,
            synthetic=list_repo.registry_is_synthetic(session),
            evaluation_id=target.evaluation_id,
            ahead=ahead,
        )
        session.expunge(row)
        return row


def propose_all(ctx: AppContext, alert_ids: list[int], policy: AllowancePolicy) -> None:
    """Each alert's list in its own transaction, in order; on PostgreSQL the next one's lines
    prepared on a second thread meanwhile."""
    ids = list(dict.fromkeys(alert_ids))
    if len(ids) < 2 or ctx.store.engine.dialect.name == "sqlite":
        for alert_id in ids:
            propose_for_alert(ctx, alert_id, policy)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="agam-read-ahead") as worker:
        pending: Future[Prepared] | None = worker.submit(prepare_for_alert, ctx, ids[0], policy)
        for i, alert_id in enumerate(ids):
            ahead = _result(pending, alert_id)
            following = ids[i + 1] if i + 1 < len(ids) else None
            pending = (
                None
                if following is None
                else worker.submit(prepare_for_alert, ctx, following, policy)
            )
            propose_for_alert(ctx, alert_id, policy, ahead=ahead)


def _result(pending: Future[Prepared] | None, alert_id: int) -> Prepared | None:
    """The prepared lines, or None (then read in the writing transaction) if preparing
    failed: the writing transaction reports a lasting fault itself."""
    if pending is None:
        return None
    try:
        return pending.result()
    except Exception as exc:  # any fault here costs only the read-ahead
        log.warning("alert %d: reading its households ahead failed (%s); reading them again "
                    "while writing", alert_id, type(exc).__name__)  # fmt: skip
        return None
