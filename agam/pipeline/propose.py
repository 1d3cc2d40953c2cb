"""Alert -> proposed allowance list for its district (draft, waiting for an officer)."""

from __future__ import annotations

from typing import Any

from agam.pipeline.context import AppContext
from allowances.lists import propose
from allowances.policy import AllowancePolicy, load_policy
from store import alert_repo, list_repo
from store.models import AllowanceList


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


def propose_for_alert(
    ctx: AppContext, alert_id: int, policy: AllowancePolicy | None = None, actor: str = "system"
) -> AllowanceList:
    policy = policy or load_policy()
    with ctx.store.session() as session:
        alert = alert_repo.get_alert(session, alert_id)
        evaluation = alert_repo.get_evaluation(session, alert.last_evaluation_id)
        # The unions the current stage targets (e.g. the action stage's wind decay), not every
        # union an earlier stage touched; the alert's own set when the evaluation has none.
        picked = evaluation.affected_unions or alert.affected_unions
        unions = [u for u in picked if u.startswith(alert.district_pcode)]
        intensity, evidence = union_intensity(evaluation.observed, unions)
        row = propose(
            session,
            alert_id=alert.id,
            district_pcode=alert.district_pcode,
            union_codes=unions,
            union_intensity=intensity,
            intensity_evidence=evidence,
            policy=policy,
            prepared_by=actor,
            at=ctx.now(),
            synthetic=list_repo.registry_is_synthetic(session),
            evaluation_id=evaluation.id,
        )
        session.expunge(row)
        return row
