"""Judge the latest forecasts with the active rule sets, store the evaluations, reconcile the
alerts, notify, and propose allowance lists. Re-running on the same inputs changes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from agam.pipeline.cap_publish import publish_after_change
from agam.pipeline.notify import notify_alert
from agam.pipeline.propose import propose_for_alert
from allowances.policy import load_policy
from boundaries.context import LayerUnionContext
from hazard_feeds.contract import HazardForecast, RawArtifact
from store import alert_repo, audit, feed_repo
from store.models import Alert
from triggers.engine import (
    TriggerEvaluation,
    active,
    builtin_rule_set_dir,
    district_stages,
    evaluate,
    load_rule_sets,
    newest_versions,
)
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


def configured_rule_sets(settings: Any) -> list[RuleSet]:
    """The shipped rule sets plus [triggers] rule_set_files (files or folders, relative to
    config.toml); where an id comes twice, the newest version is used."""
    extra = [
        p if (p := Path(str(item))).is_absolute() else settings.config_path.parent / p
        for item in settings.triggers.get("rule_set_files") or []
    ]
    return newest_versions(load_rule_sets([builtin_rule_set_dir(), *extra]))


def latest_forecasts(ctx: Any, as_of: datetime) -> dict[str, HazardForecast]:
    """Newest stored forecast per feed issued at or before `as_of`, re-parsed from its raw
    artifact (parse is pure, so this is exactly what the live run saw)."""
    out: dict[str, HazardForecast] = {}
    with ctx.store.session() as session:
        feed_ids = set(ctx.settings.feeds) | set(feed_repo.stored_feed_ids(session))
        runs = [feed_repo.latest_forecast(session, f, as_of) for f in sorted(feed_ids)]
        refs = [(r.feed_id, r.raw_sha256) for r in runs if r is not None]
    for feed_id, sha in refs:
        cache = ctx.__dict__.setdefault("_parsed", {})
        if sha not in cache:
            stored = ctx.raw_store.get(feed_id, sha)
            raw = RawArtifact(
                feed_id,
                stored.source_uri,
                stored.content,
                stored.sha256,
                stored.fetched_at,
                stored.content_type,
                stored.etag,
                stored.last_modified,
                parts=stored.parts,
            )
            cache[sha] = ctx.feed(feed_id).parse(raw)
        out[feed_id] = cache[sha]
    return out


def after_feed_run(ctx: Any, outcome: Any) -> list[AlertChange]:
    """The scheduler's follow-up: a new forecast is judged at once; failures are logged.
    Returns the alert changes it made."""
    if outcome.outcome != "success":
        return []
    try:
        return run_evaluation(ctx)[1]
    except Exception:  # evaluation trouble must not stop the scheduler
        log.exception("evaluation after %s failed", outcome.feed_id)
        return []


def run_evaluation(
    ctx: Any, as_of: datetime | None = None, *, propose_lists: bool = True
) -> tuple[list[TriggerEvaluation], list[AlertChange]]:
    as_of = as_of or ctx.now()
    enabled = ctx.settings.triggers.get("enabled_rule_sets")
    if "_rule_sets" not in ctx.__dict__:
        ctx.__dict__["_rule_sets"] = configured_rule_sets(ctx.settings)
    rule_sets = active(ctx.__dict__["_rule_sets"], as_of.date(), enabled)
    results = evaluate(rule_sets, latest_forecasts(ctx, as_of), _unions(ctx), as_of)
    changes: list[AlertChange] = []
    with ctx.store.session() as session:
        stored = {r.input_key: _store(session, r, ctx.now()) for r in results}
        for (rule_set_id, district), (stage, unknown, items) in district_stages(results).items():
            change = _reconcile(
                ctx, session, rule_set_id, district, stage, unknown, items, stored, as_of
            )
            if change is not None:
                changes.append(change)
    if changes:  # after the alert transaction committed: the CAP files and Atom feed
        publish_after_change(ctx)
    if propose_lists and changes:
        policy = load_policy()
        for change in changes:
            if change.change in ("raised", "escalated") and change.stage in (
                policy.propose_at_stages
            ):
                propose_for_alert(ctx, change.alert_id, policy)
    return results, changes


def _unions(ctx: Any) -> LayerUnionContext:
    if "_union_ctx" not in ctx.__dict__:
        ctx.__dict__["_union_ctx"] = LayerUnionContext(ctx.union_layer())
    return ctx.__dict__["_union_ctx"]  # type: ignore[no-any-return]


def _store(session: Any, r: TriggerEvaluation, now: datetime) -> int:
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


def _window_end(session: Any, alert: Alert) -> datetime | None:
    text = alert_repo.get_evaluation(session, alert.last_evaluation_id).observed.get("window_end")
    return datetime.fromisoformat(text) if text else None


def _reconcile(
    ctx: Any,
    session: Any,
    rule_set_id: str,
    district: str,
    stage: str | None,
    unknown: bool,
    items: list[TriggerEvaluation],
    stored: dict[str, int],
    as_of: datetime,
) -> AlertChange | None:
    alert = alert_repo.current_alert(session, rule_set_id, district)
    state = (
        AlertState(alert.stage, cast(Status, alert.status), _window_end(session, alert))
        if alert
        else AlertState(None, None)
    )  # type: ignore[arg-type]
    decision = reconcile(state, stage, unknown, as_of)
    if decision.change == "unchanged":
        return None
    now = ctx.now()
    top = next((r for r in items if r.state == "met" and r.stage == stage), items[0])
    evaluation_id = stored[top.input_key]
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
    alert.last_evaluation_id = evaluation_id
    if unions and decision.change == "escalated":
        alert.affected_unions = unions  # the new stage's own targeting (e.g. wind decay)
    elif unions:
        alert.affected_unions = sorted(set(alert.affected_unions or []) | set(unions))
    explanation = (
        top.explanation
        if decision.change != "stood_down"
        else f"Stood down: nothing met and the forecast window ended ({as_of:%d %b %H:%M} UTC)."
    )
    alert_repo.add_event(
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
    notify_alert(ctx, session, alert, decision.change, explanation)
    log.info("alert %s %s: %s %s", alert.id, decision.change, district, decision.stage)
    return AlertChange(alert.id, rule_set_id, district, decision.change, decision.stage)
