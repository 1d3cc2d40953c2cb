"""Per-request reads for the pages, scoped by the principal. Nothing here is cached across
users: personal data never enters a shared cache."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard import loaders
from store import alert_repo, list_repo
from store.user_repo import Principal

SCOPED_ROLES = ("district_admin", "officer")


def visible_districts(principal: Principal) -> list[str] | None:
    """None = all districts (committee, admin, officers without a district)."""
    if principal.role in SCOPED_ROLES and principal.districts:
        return list(principal.districts)
    return None


def lists_table(principal: Principal) -> pd.DataFrame:
    with loaders.store().session() as session:
        rows = list_repo.lists_for(session, visible_districts(principal))
        return pd.DataFrame(
            [
                {
                    "list_id": r.id,
                    "alert_id": r.alert_id,
                    "district": r.district_pcode,
                    "revision": r.revision,
                    "status": r.status,
                    "households": r.households,
                    "total_bdt": r.total_bdt,
                    "prepared_by": r.prepared_by,
                    "submitted_by": r.submitted_by,
                    "approved_by": r.approved_by,
                    "created_at": r.created_at,
                    "synthetic": r.synthetic,
                }
                for r in rows
            ]
        )


def list_lines(principal: Principal, list_id: int) -> pd.DataFrame:
    """Lines of one list; committee members get none (aggregates only)."""
    if principal.role == "committee":
        return pd.DataFrame()
    with loaders.store().session() as session:
        row = list_repo.get_list(session, list_id)
        scope = visible_districts(principal)
        if scope is not None and row.district_pcode not in scope:
            return pd.DataFrame()
        return list_repo.lines_frame(session, list_id).drop(columns=["id", "list_id"])


def alerts_table(principal: Principal) -> list[dict[str, Any]]:
    with loaders.store().session() as session:
        scope = visible_districts(principal)
        alerts = [
            a for a in alert_repo.all_alerts(session) if scope is None or a.district_pcode in scope
        ]
        out = []
        for a in alerts:
            out.append(
                {
                    "alert_id": a.id,
                    "rule_set": a.rule_set_id,
                    "district": a.district_pcode,
                    "stage": a.stage,
                    "status": a.status,
                    "opened_at": a.opened_at,
                    "updated_at": a.updated_at,
                    "unions": len(a.affected_unions),
                    "union_codes": list(a.affected_unions),
                    "events": [
                        {
                            "at": e.at,
                            "from": e.from_stage,
                            "to": e.to_stage,
                            "explanation": e.explanation,
                            "actor": e.actor,
                        }
                        for e in alert_repo.events(session, a.id)
                    ],
                }
            )
        return out
