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
from typing import Any

from sqlalchemy.orm import Session

from agam.pipeline.context import AppContext
from allowances.lists import Prepared, Scope, prepare, propose
from allowances.policy import AllowancePolicy, load_policy
from store import alert_repo, list_repo
from store.models import AllowanceList

log = logging.getLogger(__name__)


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


def _scope(
    session: Session, alert_id: int, policy: AllowancePolicy, ctx: AppContext
) -> tuple[Scope, int]:
    """What the alert's list is proposed from now, and the evaluation that gives it."""
    alert = alert_repo.get_alert(session, alert_id)
    evaluation = alert_repo.get_evaluation(session, alert.last_evaluation_id)
    # The unions the current stage targets (e.g. the action stage's wind decay), not every
    # union an earlier stage touched; the alert's own set when the evaluation has none.
    picked = evaluation.affected_unions or alert.affected_unions
    unions = [u for u in picked if u.startswith(alert.district_pcode)]
    intensity, evidence = union_intensity(evaluation.observed, unions)
    scope = Scope(alert.id, alert.district_pcode, unions, intensity, policy, ctx.now(), evidence)
    return scope, evaluation.id


def prepare_for_alert(ctx: AppContext, alert_id: int, policy: AllowancePolicy) -> Prepared:
    """The lines of the alert's list as they would be written now, in a read transaction."""
    with ctx.store.read() as session:
        return prepare(session, _scope(session, alert_id, policy, ctx)[0])


def propose_for_alert(
    ctx: AppContext,
    alert_id: int,
    policy: AllowancePolicy | None = None,
    actor: str = "system",
    ahead: Prepared | None = None,
) -> AllowanceList:
    policy = policy or load_policy()
    with ctx.store.session() as session:
        scope, evaluation_id = _scope(session, alert_id, policy, ctx)
        row = propose(
            session,
            **vars(scope),  # the Scope's fields are propose's keywords
            prepared_by=actor,
            synthetic=list_repo.registry_is_synthetic(session),
            evaluation_id=evaluation_id,
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
        pending = worker.submit(prepare_for_alert, ctx, ids[0], policy)
        for alert_id, following in zip(ids, [*ids[1:], None], strict=True):
            ahead = _result(pending, alert_id)
            if following is not None:
                pending = worker.submit(prepare_for_alert, ctx, following, policy)
            propose_for_alert(ctx, alert_id, policy, ahead=ahead)


def _result(pending: Future[Prepared], alert_id: int) -> Prepared | None:
    """The prepared lines, or None (then read in the writing transaction) if preparing
    failed: the writing transaction reports a lasting fault itself."""
    try:
        return pending.result()
    except Exception as exc:  # any fault here costs only the read-ahead
        log.warning("alert %d: reading its households ahead failed (%s); reading them again "
                    "while writing", alert_id, type(exc).__name__)  # fmt: skip
        return None
