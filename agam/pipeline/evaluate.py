"""Judge the latest forecasts with the active rule sets, store the evaluations, reconcile the
alerts, notify, and propose allowance lists. Re-running on the same inputs changes nothing.

Structure (issue 12): one writer at a time per store (pipeline_writer); alerts and their
outbox messages commit together; lists are proposed after, and any open alert left without
a list by an interrupted run is healed; the outbox is delivered after everything committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session

from agam.core.errors import AgamError
from agam.core.faults import crash_point
from agam.pipeline import activation, alert_follow
from agam.pipeline.cap_publish import publish_after_change
from agam.pipeline.context import AppContext
from agam.pipeline.delivery import deliver_due
from agam.pipeline.forecasts import current_forecast, load_forecast
from agam.pipeline.heal import heal_missing_lists
from agam.pipeline.ingest import FeedOutcome
from agam.pipeline.notify import enqueue_alert
from agam.pipeline.propose import propose_all
from agam.pipeline.versions_in_use import rule_set_fingerprints
from agam.pipeline.writer import pipeline_writer
from allowances.policy import load_policy
from hazard_feeds.catalog import SNAPSHOT_FEEDS
from hazard_feeds.contract import HazardForecast
from store import alert_repo, audit, config_versions, feed_repo
from store.models import Alert
from triggers.engine import TriggerEvaluation, active, district_stages, evaluate
from triggers.lifecycle import AlertState, Status, reconcile
from triggers.model import RuleSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertChange:
    alert_id: int
    rule_set_id: str
    district_pcode: str
    change: str
    stage: str | None


def latest_forecasts(ctx: AppContext, as_of: datetime) -> dict[str, HazardForecast]:
    """Newest stored forecast per feed issued at or before `as_of`, read back from its
    processed copy (parsed once at ingest: exactly what the live run saw)."""
    return {feed_id: forecast for feed_id, (_, forecast) in _latest(ctx, as_of).items()}


def _latest(ctx: AppContext, as_of: datetime) -> dict[str, tuple[int, HazardForecast]]:
    """`latest_forecasts` with each forecast's run id."""
    with ctx.store.read() as session:
        feed_ids = set(ctx.settings.feeds) | set(feed_repo.stored_feed_ids(session))
        runs = [current_forecast(session, f, as_of) for f in sorted(feed_ids)]
        refs = [(r.feed_id, r.id, r.raw_sha256, r.processed_path) for r in runs if r is not None]
    return {f: (i, load_forecast(ctx, f, sha, path)) for f, i, sha, path in refs}


def unjudged(ctx: AppContext) -> list[str]:
    """Each feed whose newest forecast no evaluation has judged yet, as "bmd run 12"."""
    with ctx.store.read() as session:
        runs = feed_repo.unjudged_latest(session, ctx.now(), SNAPSHOT_FEEDS)
        return [f"{r.feed_id} run {r.id}" for r in runs]


def after_feed_run(ctx: AppContext, outcome: FeedOutcome) -> list[AlertChange]:
    """The scheduler's follow-up: a new forecast is judged at once, and so is a forecast an
    earlier run stored without judging it; failures are logged. Returns the alert changes."""
    try:
        if not outcome.new_forecast:  # success or partial: a new forecast to judge
            return judge_unjudged(ctx)
        return run_evaluation(ctx)[1]
    except AgamError as exc:  # e.g. the store stayed locked: one line, the next run retries
        log.error("evaluation after %s failed: %s", outcome.feed_id, exc)
        return []
    except Exception:  # a bug: keep the traceback, but never stop the scheduler
        log.exception("evaluation after %s failed", outcome.feed_id)
        return []


def judge_unjudged(ctx: AppContext) -> list[AlertChange]:
    """Judge now if a feed's newest forecast was stored but never judged (the scheduler's
    catch-up job, and feed runs that bring nothing new). Returns the alert changes."""
    waiting = unjudged(ctx)
    if not waiting:
        return []
    log.warning("judging forecasts stored but not judged yet: %s", ", ".join(waiting))
    return run_evaluation(ctx, only_unjudged=True)[1]


def run_evaluation(
    ctx: AppContext,
    as_of: datetime | None = None,
    *,
    propose_lists: bool = True,
    only_unjudged: bool = False,
) -> tuple[list[TriggerEvaluation], list[AlertChange]]:
    """Judge, reconcile alerts, propose lists - one writer at a time - then deliver the
    outbox. A notification problem never blocks or undoes an alert. With `only_unjudged`,
    nothing is done when another writer judged every newest forecast while this one waited."""
    as_of = as_of or ctx.now()
    with pipeline_writer(ctx):
        if only_unjudged and not unjudged(ctx):
            return [], []
        results, changes = judge_and_reconcile(ctx, as_of)
        crash_point("after_alert_commit")  # fault-injection tests kill the process here
        if changes:  # after the alert transaction committed: the CAP files and Atom feed
            publish_after_change(ctx)
        if propose_lists:
            propose_changed(ctx, changes)
            heal_missing_lists(ctx)
    deliver_due(ctx)
    return results, changes


def judge_and_reconcile(
    ctx: AppContext, as_of: datetime
) -> tuple[list[TriggerEvaluation], list[AlertChange]]:
    """Evaluate the active rule sets and reconcile the alerts in one transaction (alerts,
    their events, audit entries and outbox messages commit together)."""
    enabled = ctx.settings.triggers.enabled_rule_sets
    rule_sets = active(ctx.rule_sets(), as_of.date(), enabled)
    latest = _latest(ctx, as_of)
    forecasts = {feed_id: forecast for feed_id, (_, forecast) in latest.items()}
    with ctx.store.read() as session:  # the activation each track belongs to (if any)
        fired = activation.already_fired(activation.find(session, rule_sets, forecasts, as_of))
    results = evaluate(rule_sets, forecasts, ctx.union_context(), as_of, already_fired=fired)
    by_id = {s.id: s for s in rule_sets}
    changes: list[AlertChange] = []
    with ctx.store.session() as session:
        # first: a version edited without a new version number is refused, nothing stored
        config_versions.record(session, rule_set_fingerprints(rule_sets), ctx.now())
        found = activation.find(session, rule_sets, forecasts, as_of)
        stored = {r.input_key: _store(session, r, ctx.now()) for r in results}
        linked = activation.record(session, found, results, as_of)
        for (rule_set_id, district), (stage, unknown, items) in district_stages(results).items():
            change = _reconcile(
                ctx, session, by_id[rule_set_id], district, stage, unknown, items, stored, as_of
            )
            if change is not None:
                changes.append(change)
        activation.attach(session, [c.alert_id for c in changes], linked)
        judged = {feed_id: run_id for feed_id, (run_id, _) in latest.items()}
        feed_repo.record_judged(session, judged, ctx.now())
    return results, changes


def propose_changed(ctx: AppContext, changes: list[AlertChange]) -> None:
    """Lists for alerts raised or escalated to a proposing stage, or whose unions followed a
    new forecast (each its own transaction; the next read ahead while one is written)."""
    if not changes:
        return
    policy = load_policy()
    due = [
        change.alert_id
        for change in changes
        if change.change in ("raised", "escalated", "updated")
        and change.stage in policy.propose_at_stages
    ]
    propose_all(ctx, due, policy)


def _store(session: Session, r: TriggerEvaluation, now: datetime) -> int:
    observed = dict(r.observed) | {
        "trigger_id": r.trigger_id,
        "window_end": r.window_end.isoformat() if r.window_end else None,
    }
    row = alert_repo.add_evaluation(
        session,
        input_key=r.input_key,
        rule_set_id=r.rule_set_id,
        rule_set_version=r.rule_set_version,
        stage=r.stage,
        as_of=r.as_of,
        state=r.state,
        explanation=r.explanation,
        observed=observed,
        forecast_run_ids=[list(i) for i in r.inputs],
        affected_districts=list(r.districts),
        affected_unions=list(r.unions),
        created_at=now,
    )
    return int(row.id)


def _district_explanation(
    ctx: AppContext,
    top: TriggerEvaluation,
    district: str,
    items: list[TriggerEvaluation],
    stage: str | None,
) -> str:
    """The stage's sentence (area-wide) and what it means for this district's unions."""
    if top.state != "met":
        return top.explanation
    unions = ctx.union_context()
    picked = alert_follow.district_unions(items, str(stage), district)
    judged = top.intensity.values if top.intensity is not None else {}
    area = [u for u in judged if u.startswith(district)] or unions.district_unions([district])
    names = unions.district_names([district])
    sentence = alert_follow.district_sentence(names, district, len(picked), len(area))
    return f"{top.explanation} {sentence}"


def _window_end(session: Session, alert: Alert) -> datetime | None:
    text = alert_repo.get_evaluation(session, alert.last_evaluation_id).observed.get("window_end")
    return datetime.fromisoformat(text) if text else None


def _reconcile(
    ctx: AppContext,
    session: Session,
    rule_set: RuleSet,
    district: str,
    stage: str | None,
    unknown: bool,
    items: list[TriggerEvaluation],
    stored: dict[str, int],
    as_of: datetime,
) -> AlertChange | None:
    rule_set_id = rule_set.id
    alert = alert_repo.current_alert(session, rule_set_id, district)
    state = (
        AlertState(
            alert.stage,
            cast(Status, alert.status),
            alert.stand_down_at or _window_end(session, alert),
        )
        if alert
        else AlertState(None, None)
    )  # type: ignore[arg-type]
    lifecycle = rule_set.lifecycle
    decision = reconcile(state, stage, unknown, as_of, lifecycle.stand_down_when_unknown)
    now = ctx.now()
    top = next((r for r in items if r.state == "met" and r.stage == stage), items[0])
    evaluation_id = stored[top.input_key]
    explanation = _district_explanation(ctx, top, district, items, stage)
    if decision.change == "unchanged":
        if alert is None or alert.status != "open" or stage != alert.stage:
            return None
        followed = alert_follow.district_unions(items, str(stage), district)
        if not alert_follow.follow(
            session, alert, rule_set, top, followed, evaluation_id, explanation, now
        ):
            return None
        return AlertChange(alert.id, rule_set_id, district, "updated", alert.stage)
    unions = sorted(
        {u for r in items if r.state == "met" for u in r.unions if u.startswith(district)}
    )
    if decision.change == "raised" or alert is None or alert.status != "open":
        alert = Alert(
            rule_set_id=rule_set_id,
            rule_set_version=top.rule_set_version,
            district_pcode=district,
            stage=str(decision.stage),
            status="open",
            opened_at=now,
            updated_at=now,
            first_evaluation_id=evaluation_id,
            last_evaluation_id=evaluation_id,
            affected_unions=unions,
        )
        session.add(alert)
        session.flush()
    previous = state.stage if decision.change != "raised" else None
    alert.stage = str(decision.stage)
    alert.status = str(decision.status)
    alert.updated_at = now
    if decision.change != "stood_down":
        # The alert shows the evaluation that caused it: its unions, and its stand-down time.
        alert.last_evaluation_id = evaluation_id
        alert.affected_unions = alert_follow.district_unions(items, str(stage), district) or unions
        alert.stand_down_at = alert_follow.stand_down_at(rule_set, top)
    else:
        hours = lifecycle.stand_down_after_hours
        explanation = alert_follow.stood_down_text(alert, as_of, hours)
    event = alert_repo.add_event(
        session,
        alert_id=alert.id,
        at=now,
        from_stage=previous,
        to_stage=f"{decision.stage}" if decision.change != "stood_down" else "stood_down",
        evaluation_id=evaluation_id,
        explanation=explanation,
    )
    audit.append(
        session,
        at=now,
        actor="system",
        action=f"alert.{decision.change}",
        entity="alert",
        entity_id=alert.id,
        payload={
            "rule_set": rule_set_id,
            "district": district,
            "stage": decision.stage,
            "evaluation_id": evaluation_id,
            "unions": len(alert.affected_unions),
        },
    )
    enqueue_alert(
        session, ctx.settings.notifications, alert, decision.change, explanation, now, event.id
    )
    log.info("alert %s %s: %s %s", alert.id, decision.change, district, decision.stage)
    return AlertChange(alert.id, rule_set_id, district, decision.change, decision.stage)
