"""What the committee briefing says: alerts, caseload and budget, data sources and freshness.

Aggregates only: no household lines, no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agam.pipeline.context import AppContext
from agam.pipeline.health import feed_health
from store import alert_repo, audit, list_repo


@dataclass(frozen=True)
class BriefingData:
    generated_at: datetime
    alerts: list[dict[str, Any]]
    lists: list[dict[str, Any]]
    feeds: list[dict[str, Any]]
    boundary_source: str
    audit_head: str
    audit_entries: int
    synthetic: bool
    district_names: dict[str, str] = field(default_factory=dict)

    @property
    def households(self) -> int:
        return sum(r["households"] for r in self.lists if r["status"] != "superseded")

    @property
    def total_bdt(self) -> int:
        return sum(r["total_bdt"] for r in self.lists if r["status"] != "superseded")


def gather(ctx: AppContext) -> BriefingData:
    layer = ctx.union_layer()
    names = dict(zip(layer.frame["adm2_pcode"], layer.frame["adm2_en"], strict=False))
    with ctx.store.read() as session:
        alerts = [
            {
                "alert_id": a.id,
                "rule_set": a.rule_set_id,
                "district_pcode": a.district_pcode,
                "district": names.get(a.district_pcode, a.district_pcode),
                "stage": a.stage,
                "status": a.status,
                "opened_at": a.opened_at,
                "unions": len(a.affected_unions),
                "explanation": alert_repo.get_evaluation(session, a.last_evaluation_id).explanation,
            }
            for a in alert_repo.all_alerts(session)
            if a.status == "open"
        ]
        lists = [
            {
                "district_pcode": r.district_pcode,
                "district": names.get(r.district_pcode, ""),
                "status": r.status,
                "households": r.households,
                "total_bdt": r.total_bdt,
                "synthetic": r.synthetic,
            }
            for r in list_repo.lists_for(session)
        ]
        chain = audit.verify(session)
    feeds = [
        {"feed": h.feed_id, "state": h.state, "issued_at": h.latest_issued_at, "failing": h.failing}
        for h in feed_health(ctx)
    ]
    source = layer.info()["source"]
    return BriefingData(
        generated_at=ctx.now(),
        alerts=alerts,
        lists=lists,
        feeds=feeds,
        boundary_source=f"{source['name']} ({source['version']})",
        audit_head=chain.head,
        audit_entries=chain.entries,
        synthetic=any(r["synthetic"] for r in lists),
        district_names=names,
    )
