"""Per-request reads for the pages, scoped by the principal. Nothing here is cached across
users: personal data never enters a shared cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from agam.pipeline.briefing import APPROVED, PROPOSED
from dashboard import labels, loaders
from dashboard.i18n import fmt_date, t
from store import alert_repo, approval_policy, audit, frames, list_repo, payment_repo
from store.user_repo import Principal

SCOPED_ROLES = ("district_admin", "officer")
# Lists that count towards "households on lists" and the budget (proposed or decided for
# payment); rejected and superseded revisions never do (the same split as the briefing).
PROPOSED_STATUSES = PROPOSED
APPROVED_STATUSES = APPROVED
CURRENT_LIST_STATUSES = PROPOSED + APPROVED
# A feed whose newest data fall inside a played scenario's period (with this margin) is
# scenario data, not a stale feed.
SCENARIO_MARGIN = timedelta(days=2)


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
            ],
            columns=[
                "list_id",
                "alert_id",
                "district",
                "revision",
                "status",
                "households",
                "total_bdt",
                "prepared_by",
                "submitted_by",
                "approved_by",
                "created_at",
                "synthetic",
            ],
        )


def list_totals(lists: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(households, BDT) for proposed, approved and current (both) lists; rejected and
    superseded revisions are left out."""
    out = {}
    for name, statuses in (
        ("proposed", PROPOSED_STATUSES),
        ("approved", APPROVED_STATUSES),
        ("current", CURRENT_LIST_STATUSES),
    ):
        part = lists[lists["status"].isin(statuses)] if not lists.empty else lists
        out[name] = (
            int(part["households"].sum()) if not part.empty else 0,
            int(part["total_bdt"].sum()) if not part.empty else 0,
        )
    return out


def list_lines(
    principal: Principal, list_id: int, included_only: bool, limit: int
) -> tuple[pd.DataFrame, int]:
    """The first `limit` lines of one list (of its included lines only if asked) and how many
    of the whole list's payees the registry changed since; committee members get none
    (aggregates only). Only the lines shown are read, whatever the list's size."""
    if principal.role == "committee":
        return pd.DataFrame(), 0
    with loaders.store().session() as session:
        row = list_repo.get_list(session, list_id)
        scope = visible_districts(principal)
        if scope is not None and row.district_pcode not in scope:
            return pd.DataFrame(), 0
        changed = loaders.registry_changes(list_id, frames.registry_version(session))
        lines = list_repo.lines_frame(
            session, list_id, included_only=included_only, limit=limit, changed=changed
        )
        return lines.drop(columns=["id", "list_id"]), len(changed)


@dataclass(frozen=True)
class ExportHistory:
    """How often a list's payment files were written, and whether the provider answered."""

    count: int
    last_at: datetime | None
    last_by: str | None
    results_returned: int


def export_history(list_id: int) -> ExportHistory:
    with loaders.store().read() as session:
        done = list_repo.exports(session, list_id)
        returned = payment_repo.results_recorded(session, list_id)
    last = done[-1] if done else None
    return ExportHistory(
        len(done), last.at if last else None, last.username if last else None, returned
    )


def approvals_required() -> int:
    """How many administrators approve a list, as the store holds it."""
    with loaders.store().read() as session:
        return approval_policy.approvals_required(session)


def rejection(list_id: int) -> tuple[str, datetime, str] | None:
    """Who rejected a list, when, and why."""
    with loaders.store().read() as session:
        decision = list_repo.rejection(session, list_id)
        if decision is None:
            return None
        return decision.username, decision.at, decision.reason or ""


def allowed_actions(principal: Principal, list_id: int) -> list[str]:
    """The decisions this person may take on this list now (the store and the database check
    again, against the account as stored)."""
    from agam.core.transitions import LIST_ACTION_ROLES, NATIONAL_ROLES

    out = []
    with loaders.store().read() as session:
        row = list_repo.get_list(session, list_id)
        for action in ("submit", "approve", "reject"):
            if (row.status, action) not in list_repo.LIST_TRANSITIONS:
                continue
            if principal.role not in LIST_ACTION_ROLES.get(action, ()):
                continue
            if principal.role not in NATIONAL_ROLES and not principal.covers(row.district_pcode):
                continue
            if action in ("approve", "reject") and principal.username in (
                row.submitted_by,
                row.prepared_by,
            ):
                continue  # four eyes: the store would refuse it
            out.append(action)
    return out


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
                    "rule_set_version": a.rule_set_version,
                    "district": a.district_pcode,
                    "stage": a.stage,
                    "status": a.status,
                    "opened_at": a.opened_at,
                    "updated_at": a.updated_at,
                    "unions": len(a.affected_unions),
                    "union_codes": list(a.affected_unions),
                    "closed_reason": a.closed_reason,
                    "events": [
                        {
                            "at": e.at,
                            "from": e.from_stage,
                            "to": e.to_stage,
                            "explanation": e.explanation,
                            "actor": e.actor,
                            "evaluation_id": e.evaluation_id,
                            "reason": a.closed_reason,
                        }
                        for e in alert_repo.events(session, a.id)
                    ],
                }
            )
        return out


def explain_event(event: dict[str, Any], lang: str) -> tuple[str, bool]:
    """An alert event's explanation in `lang` (see dashboard.explain)."""
    from dashboard.explain import event_text, find_stage

    evaluation = stage = None
    if lang != "en" and event.get("evaluation_id"):
        with loaders.store().session() as session:
            row = alert_repo.get_evaluation(session, int(event["evaluation_id"]))
            session.expunge(row)
        evaluation = row
        stage = find_stage(
            loaders.rule_sets_as_used(),
            row.rule_set_id,
            row.rule_set_version,
            str((row.observed or {}).get("trigger_id", "")),
        )
    return event_text(event, evaluation, stage, lang)


def previous_sign_in(username: str) -> datetime | None:
    """When this person signed in before the current session (None: first visit)."""
    with loaders.store().session() as session:
        entries = audit.entries_for(session, "session.sign_in", username)
        times = [e.at for e in entries if e.actor == username]
    return times[-2] if len(times) >= 2 else None


def scenario_names(lang: str) -> list[str]:
    """'Jamuna monsoon flood (SYNTHETIC, …), played for 22 Jun 2026 – 4 Jul 2026'."""
    out = []
    for s in loaders.played_scenarios():
        title = labels.scenario_title(s["name"], s["title"], lang)
        if s["play_from"] is not None:
            title = t(
                "scenario_played_for",
                lang,
                title=title,
                start=fmt_date(s["play_from"], lang),
                end=fmt_date(s["play_to"], lang),
            )
        out.append(title)
    return out


def feed_state(health: Any) -> tuple[str, dict[str, Any] | None]:
    """fresh / stale / never, or "scenario" when the newest data belong to a played
    SYNTHETIC scenario (then that scenario is returned too)."""
    issued = health.latest_issued_at
    if health.state == "stale" and issued is not None:
        for s in loaders.played_scenarios():
            if s["play_from"] is None:
                continue
            if s["play_from"] - SCENARIO_MARGIN <= issued <= s["play_to"] + SCENARIO_MARGIN:
                return "scenario", s
    return str(health.state), None


def watched(health: Any) -> bool:
    """Feeds whose staleness matters: enabled, or holding data the triggers read."""
    return bool(health.enabled or health.latest_issued_at is not None)
