"""CAP messages and the Atom feed from the store: what `agam alerts cap` prints and what is
written into <data_dir>/cap/ after every alert change (a step of its own, after the alert
transaction commits: a full disk or a bad polygon never undoes an alert).

Layout: cap/alerts.atom (current alerts: open ones, and ended ones for [cap] keep_ended_hours)
and cap/messages/<identifier>.xml, one file per message, each written atomically.
cap/.published.json records what the feed was written from (the current alerts and their
newest events, and the [cap] settings): the scheduler's heartbeat writes the feed again
when that no longer matches the store (a publication that failed or never ran, an ended
alert past its keep time, changed settings).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agam.core.errors import AgamError
from agam.core.files import atomic_write_bytes
from agam.core.timeutil import iso_utc
from agam.pipeline.cap import (
    CapInput,
    Change,
    MessageRef,
    Status,
    build_cap,
    load_mapping,
    message_identifier,
    texts,
)
from agam.pipeline.cap_feed import FEED_FILE, FeedEntry, build_atom
from boundaries.outline import outline_rings
from store import alert_repo
from store.models import Alert, AlertEvent

log = logging.getLogger(__name__)
MESSAGES_DIR = "messages"
STATE_FILE = ".published.json"
_PUBLISHING = threading.Lock()


def cap_dir(ctx: Any) -> Path:
    return Path(ctx.settings.data_dir) / "cap"


def status_from_triggers(triggers: set[str]) -> Status:
    """A drill never looks like a real alert: any SYNTHETIC scenario input -> Exercise; any
    replayed input -> Test; only live feed runs give Actual."""
    if any(t.startswith("scenario:") for t in triggers):
        return "Exercise"
    if "replay" in triggers:
        return "Test"
    return "Actual"


def change_of(event: AlertEvent) -> Change:
    if event.from_stage is None and event.to_stage not in ("stood_down", "closed"):
        return "raised"
    if event.to_stage in ("stood_down", "closed"):
        return "stood_down" if event.to_stage == "stood_down" else "closed"
    return "escalated"


def _hazards(ctx: Any) -> dict[str, str]:
    return {r.id: r.hazard for r in ctx.rule_sets()}  # loaded once per context


def _frame(ctx: Any) -> Any:
    if "_cap_unions" not in ctx.__dict__:
        ctx.__dict__["_cap_unions"] = ctx.union_layer().frame.set_index("adm4_pcode")
    return ctx.__dict__["_cap_unions"]


def cap_inputs(ctx: Any, session: Any, alert: Alert) -> list[CapInput]:
    """One CapInput per event of `alert`, oldest first, each referencing those before it."""
    settings, frame = ctx.settings.cap, _frame(ctx)
    status = status_from_triggers(alert_repo.input_run_triggers(session, alert.id))
    hazard = _hazards(ctx).get(alert.rule_set_id, "flood")
    in_layer = [u for u in alert.affected_unions if u in frame.index]
    district = frame[frame["adm2_pcode"] == alert.district_pcode].head(1)
    district_en = str(district["adm2_en"].iloc[0]) if len(district) else alert.district_pcode
    district_bn = str(district["adm2_bn"].iloc[0]) if len(district) else district_en
    out: list[CapInput] = []
    stage = alert.stage
    for event in alert_repo.events(session, alert.id):
        change = change_of(event)
        evaluation = (
            alert_repo.get_evaluation(session, event.evaluation_id) if event.evaluation_id else None
        )
        unions = in_layer
        if evaluation is not None and change not in ("stood_down", "closed"):
            own = [u for u in evaluation.affected_unions if u in frame.index]
            unions = [u for u in own if u.startswith(alert.district_pcode)] or in_layer
        stage = event.to_stage if change in ("raised", "escalated") else (event.from_stage or stage)
        window = (evaluation.observed or {}).get("window_end") if evaluation else None
        rows = frame.loc[sorted(unions)]
        out.append(
            CapInput(
                alert_id=alert.id,
                identifier=message_identifier(settings.identifier_prefix, alert.id, event.id),
                sent=event.at,
                change=change,
                stage=stage,
                hazard=hazard,
                rule_set_id=alert.rule_set_id,
                rule_set_version=alert.rule_set_version,
                status=status,
                explanation=event.explanation,
                district_en=district_en,
                district_bn=district_bn,
                union_codes=tuple(rows.index),
                union_names_en=tuple(rows["adm4_en"]),
                union_names_bn=_bangla_names(rows),
                rings=tuple(
                    tuple(r) for r in outline_rings(rows.geometry, settings.max_polygon_vertices)
                ),
                window_end=datetime.fromisoformat(window) if window else None,
                earlier=tuple(MessageRef(m.identifier, m.sent) for m in out),
            )
        )
    return out


def _bangla_names(rows: Any) -> tuple[str, ...]:
    """Bangla union names; the English one where the layer has none."""
    pairs = zip(rows["adm4_bn"], rows["adm4_en"], strict=True)
    return tuple(bn if isinstance(bn, str) and bn.strip() else str(en) for bn, en in pairs)


def alert_messages(ctx: Any, alert_id: int) -> list[tuple[CapInput, bytes]]:
    """Every CAP message of one alert, oldest first."""
    with ctx.store.read() as session:
        inputs = cap_inputs(ctx, session, alert_repo.get_alert(session, alert_id))
    return [(i, build_cap(i, ctx.settings.cap)) for i in inputs]


@dataclass
class Published:
    feed: Path
    entries: int = 0
    messages: list[Path] = field(default_factory=list)


def _current(session: Any, now: datetime, keep_hours: int) -> list[Alert]:
    cutoff = now - timedelta(hours=keep_hours)
    return [
        a for a in alert_repo.all_alerts(session) if a.status == "open" or a.updated_at >= cutoff
    ]


def publish(ctx: Any) -> Published:
    """Write the messages of current alerts and the feed listing each one's newest message.
    One writer at a time per process, so the feed written last was read last (the heartbeat
    and a feed job may publish at once; across processes the next heartbeat corrects)."""
    with _PUBLISHING:
        return _publish(ctx)


def _publish(ctx: Any) -> Published:
    settings = ctx.settings.cap
    folder = cap_dir(ctx)
    result = Published(folder / FEED_FILE)
    entries: list[FeedEntry] = []
    newest: datetime | None = None
    with ctx.store.read() as session:
        alerts = _current(session, ctx.now(), settings.keep_ended_hours)
        state = _state(ctx, session, alerts)
        per_alert = [cap_inputs(ctx, session, a) for a in alerts]
    mapping = load_mapping()
    for inputs in per_alert:
        for item in inputs:
            path = folder / MESSAGES_DIR / f"{item.identifier}.xml"
            atomic_write_bytes(path, build_cap(item, settings, mapping))
            result.messages.append(path)
        if not inputs:
            continue
        last = inputs[-1]
        title, summary = texts(last, mapping, "en")
        href = f"{MESSAGES_DIR}/{last.identifier}.xml"
        entries.append(
            FeedEntry(
                identifier=last.identifier,
                sent=last.sent,
                title=title,
                summary=summary,
                status=last.status,
                msg_type=mapping.message_types[last.change],
                href=settings.feed_base_url + href,
            )
        )
        newest = max(newest or last.sent, last.sent)
    atomic_write_bytes(result.feed, build_atom(entries, settings, newest or ctx.now()))
    record = {"state": state, "written_at": iso_utc(ctx.now()), "entries": len(entries)}
    atomic_write_bytes(folder / STATE_FILE, json.dumps(record).encode())
    result.entries = len(entries)
    log.info("CAP feed written: %d current alert(s)", len(entries))
    return result


def publish_after_change(ctx: Any) -> Published | None:
    """The step run after an alert change is committed; failures are logged, never raised."""
    try:
        return publish(ctx)
    except AgamError as exc:  # e.g. the store stayed locked: one line, the next change rewrites
        log.error("CAP feed not written (alerts are stored, the feed is stale): %s", exc)
        return None
    except Exception:  # the feed is a by-product: it must never break the pipeline
        log.exception("writing the CAP feed failed; alerts are stored, the feed is stale")
        return None


def _state(ctx: Any, session: Any, alerts: list[Alert]) -> str:
    """What a feed written now would be made of: the current alerts with their newest events,
    and the [cap] settings."""
    newest = alert_repo.newest_event_ids(session, [a.id for a in alerts])
    made_of = {
        "alerts": sorted((a.id, newest.get(a.id)) for a in alerts),
        "settings": ctx.settings.cap.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()


def _recorded_state(ctx: Any) -> str | None:
    try:
        record = json.loads((cap_dir(ctx) / STATE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return str(record.get("state")) if isinstance(record, dict) else None


def republish_if_stale(ctx: Any) -> Published | None:
    """The heartbeat's check: write the feed again when it no longer matches the store (the
    publication after a change failed or never ran, an ended alert passed its keep time, the
    settings changed). Failures are logged, never raised."""
    try:
        with ctx.store.read() as session:
            alerts = _current(session, ctx.now(), ctx.settings.cap.keep_ended_hours)
            state = _state(ctx, session, alerts)
    except AgamError as exc:
        log.error("CAP feed not checked (trying again next heartbeat): %s", exc)
        return None
    if state == _recorded_state(ctx):
        return None
    log.warning("CAP feed does not match the stored alerts; writing it again")
    return publish_after_change(ctx)
