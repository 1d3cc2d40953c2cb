"""Alert -> proposed allowance list for its district (draft, waiting for an officer)."""

from __future__ import annotations

from typing import Any

from agam.pipeline.context import AppContext
from allowances.lists import propose
from allowances.policy import AllowancePolicy, load_policy
from store import alert_repo, list_repo
from store.models import AllowanceList


def union_intensity(observed: dict[str, Any], unions: list[str]) -> dict[str, float]:
    """Hazard intensity per union in [0, 1] from the evaluation evidence, else 1 for affected."""
    per_union = observed.get("union_intensity") or {}
    return {u: float(per_union.get(u, 1.0)) for u in unions}


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
        row = propose(
            session,
            alert_id=alert.id,
            district_pcode=alert.district_pcode,
            union_codes=unions,
            union_intensity=union_intensity(evaluation.observed, unions),
            policy=policy,
            prepared_by=actor,
            at=ctx.now(),
            synthetic=list_repo.registry_is_synthetic(session),
        )
        session.expunge(row)
        return row
