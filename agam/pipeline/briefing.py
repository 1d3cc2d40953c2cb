"""What the committee briefing says, for one scope (all Bangladesh or some districts): open
alerts with their evidence, allowance lists with proposed, approved and rejected totals kept
apart, data freshness, and what changed since the last briefing issued for that scope.

Aggregates only: no household lines, no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agam.core.reference import vocabulary
from agam.pipeline.context import AppContext
from agam.pipeline.health import feed_health
from store import alert_repo, audit, list_repo

# Which list statuses count as what. Superseded revisions are never counted.
PROPOSED = ("draft", "submitted")
APPROVED = ("approved", "exported")
REJECTED = ("rejected",)
STAGE_RANK: dict[str, int] = {str(k): v for k, v in vocabulary().stages.rank.items()}
ISSUED_ACTION = "briefing.issued"


def scope_key(districts: Sequence[str] | None) -> str:
    return "national" if not districts else ",".join(sorted(districts))


@dataclass(frozen=True)
class Totals:
    households: int = 0
    total_bdt: int = 0
    lists: int = 0


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
    scope: tuple[str, ...] = ()  # district P-codes; empty = all Bangladesh
    changes: list[dict[str, Any]] = field(default_factory=list)
    last_briefing_at: datetime | None = None
    # M&E of the activations with payment results (aggregates per activation, in scope)
    me: list[dict[str, Any]] = field(default_factory=list)

    def totals(self, statuses: Sequence[str], district: str | None = None) -> Totals:
        rows = [
            r
            for r in self.lists
            if r["status"] in statuses and (district is None or r["district_pcode"] == district)
        ]
        return Totals(
            sum(int(r["households"]) for r in rows),
            sum(int(r["total_bdt"]) for r in rows),
            len(rows),
        )

    @property
    def proposed(self) -> Totals:
        return self.totals(PROPOSED)

    @property
    def approved(self) -> Totals:
        return self.totals(APPROVED)

    @property
    def rejected(self) -> Totals:
        return self.totals(REJECTED)

    def district_rows(self) -> list[dict[str, Any]]:
        """One row per district with an open alert or a list: its highest open stage and its
        proposed and approved households and BDT, most severe first."""
        codes = {a["district_pcode"] for a in self.alerts} | {
            r["district_pcode"] for r in self.lists
        }
        rows = []
        for code in codes:
            stages = [a["stage"] for a in self.alerts if a["district_pcode"] == code]
            rows.append(
                {
                    "district_pcode": code,
                    "district": self.district_names.get(code, code),
                    "stage": max(stages, key=lambda s: STAGE_RANK.get(s, 0), default=None),
                    "proposed": self.totals(PROPOSED, code),
                    "approved": self.totals(APPROVED, code),
                }
            )
        return sorted(rows, key=lambda r: (-STAGE_RANK.get(r["stage"] or "", 0), r["district"]))


def _last_issued(session: Any, key: str, before: datetime) -> datetime | None:
    times = [
        e.at
        for e in audit.entries_for(session, ISSUED_ACTION)
        if isinstance(e.payload, dict) and e.payload.get("scope") == key and e.at <= before
    ]
    return max(times, default=None)


def _evaluation(session: Any, evaluation_id: int | None) -> dict[str, Any] | None:
    if evaluation_id is None:
        return None
    row = alert_repo.get_evaluation(session, evaluation_id)
    return {
        "rule_set_id": row.rule_set_id,
        "rule_set_version": row.rule_set_version,
        "state": row.state,
        "observed": dict(row.observed or {}),
        "explanation": row.explanation,
    }


def gather(ctx: AppContext, districts: Sequence[str] | None = None) -> BriefingData:
    """The briefing for `districts` (None: all Bangladesh), as of now."""
    layer = ctx.union_layer()
    names = dict(zip(layer.frame["adm2_pcode"], layer.frame["adm2_en"], strict=False))
    scope = list(districts) if districts else None
    now = ctx.now()
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
                "evaluation": _evaluation(session, a.last_evaluation_id),
            }
            for a in alert_repo.open_alerts(session, scope)
        ]
        lists = [
            {
                "list_id": r.id,
                "district_pcode": r.district_pcode,
                "district": names.get(r.district_pcode, r.district_pcode),
                "status": r.status,
                "approved_by": r.approved_by,
                "households": r.households,
                "total_bdt": r.total_bdt,
                "synthetic": r.synthetic,
            }
            for r in list_repo.lists_for(session, scope)
            if r.status != "superseded"
        ]
        since = _last_issued(session, scope_key(scope), now)
        events = alert_repo.events_since(session, since, scope)
        if since is None:  # a first briefing reports what is open now, not all history
            open_ids = {a["alert_id"] for a in alerts}
            latest: dict[int, Any] = {}
            for e, a in events:
                if a.id in open_ids and a.id not in latest:
                    latest[a.id] = (e, a)  # events come newest first
            events = list(latest.values())
        changes = [
            {
                "at": e.at,
                "district_pcode": a.district_pcode,
                "district": names.get(a.district_pcode, a.district_pcode),
                "from": e.from_stage,
                "to": e.to_stage,
                "explanation": e.explanation,
                "actor": e.actor,
                "reason": a.closed_reason,
                "evaluation": _evaluation(session, e.evaluation_id),
            }
            for e, a in events
        ]
        chain = audit.verify(session)
    feeds = [
        {"feed": h.feed_id, "state": h.state, "issued_at": h.latest_issued_at, "failing": h.failing}
        for h in feed_health(ctx)
        if h.enabled or h.latest_issued_at is not None
    ]
    source = layer.info()["source"]
    return BriefingData(
        generated_at=now,
        alerts=alerts,
        lists=lists,
        feeds=feeds,
        boundary_source=f"{source['name']} ({source['version']})",
        audit_head=chain.head,
        audit_entries=chain.entries,
        synthetic=any(r["synthetic"] for r in lists),
        district_names=names,
        scope=tuple(scope or ()),
        changes=changes,
        last_briefing_at=since,
        me=me_lines(ctx, scope),
    )


def me_lines(ctx: AppContext, scope: Sequence[str] | None) -> list[dict[str, Any]]:
    """One M&E line per activation whose lists have payment results: households paid, of
    the rolls, paid before the peak, lead time of the first payment, failed and reversed."""
    from agam.pipeline.me_report import activation_report, activations_paid

    out = []
    for activation_id in activations_paid(ctx):
        report = activation_report(ctx, activation_id)
        rows = [d for d in report["by_district"] if not scope or d["district_pcode"] in scope]
        if not rows:
            continue
        paid = sum(d["households_paid"] for d in rows)
        on_rolls = sum(d["households_on_rolls"] for d in rows)
        out.append(
            {
                "activation_id": activation_id,
                "label": report["label"],
                "hazard": report["hazard"],
                "households_paid": paid,
                "households_on_rolls": on_rolls,
                "paid_bdt": sum(d["paid_bdt"] for d in rows),
                "failed": sum(d["failed"] for d in rows),
                "reversed": sum(d["reversed"] for d in rows),
                "share_paid_before_peak": report["timeline"]["share_paid_before_peak"],
                "lead_hours_first_payment": report["timeline"]["lead_hours_first_payment"],
                "peak_source": report["peak"]["source"],
                "synthetic": report["synthetic"],
            }
        )
    return out


def record_issued(ctx: Any, data: BriefingData, actor: str, lang: str) -> None:
    """A briefing was handed out: the next one reports changes since this moment."""
    with ctx.store.session() as session:
        audit.append(
            session,
            at=ctx.now(),
            actor=actor,
            action=ISSUED_ACTION,
            entity="briefing",
            entity_id=scope_key(data.scope)[:64],
            payload={
                "scope": scope_key(data.scope),
                "lang": lang,
                "generated_at": data.generated_at.isoformat(),
                "open_alerts": len(data.alerts),
                "proposed_bdt": data.proposed.total_bdt,
                "approved_bdt": data.approved.total_bdt,
            },
        )
