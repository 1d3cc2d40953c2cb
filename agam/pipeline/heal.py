"""Reconcile what must exist, so a crash between two steps heals on the next run.

An evaluation commits its alerts, then proposes lists in later transactions. Killed in
between, an open alert at a proposing stage would have no list forever; every evaluation
and every scheduler heartbeat therefore proposes the list of any such alert. A list a
person rejected is a decision, not a gap: only alerts with no list at all are healed.
"""

from __future__ import annotations

import logging

from agam.pipeline.context import AppContext
from agam.pipeline.propose import propose_for_alert
from allowances.policy import AllowancePolicy, load_policy
from store import alert_repo, list_repo

log = logging.getLogger(__name__)


def alerts_missing_lists(ctx: AppContext, policy: AllowancePolicy) -> list[int]:
    with ctx.store.read() as session:
        return [
            a.id
            for a in alert_repo.open_alerts(session)
            if a.stage in policy.propose_at_stages
            and list_repo.latest_revision(session, a.id, a.district_pcode) is None
        ]


def heal_missing_lists(ctx: AppContext, policy: AllowancePolicy | None = None) -> list[int]:
    """Propose the missing lists; returns the alert ids healed. Call under pipeline_writer."""
    policy = policy or load_policy()
    healed = alerts_missing_lists(ctx, policy)
    for alert_id in healed:
        log.warning("alert %d had no proposed list (interrupted run?); proposing it now", alert_id)
        propose_for_alert(ctx, alert_id, policy)
    return healed
