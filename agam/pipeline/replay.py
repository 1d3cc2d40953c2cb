"""Replay a stored season into a separate store, through the same code as the live pipeline.

Each stored forecast of the source whose issue time lies in [start, end] is "fetched" again
(its raw artifact, read back by hash) with the target's clock set to the time the live system
fetched it, then ingested and judged by `ingest` + `after_feed_run`, exactly as the scheduler
does, in the order the live system was served them: a feed that went back to content it had
served before (a correction taken back, GDACS's list after a cyclone left it) goes back in the
replay too, at the same time (`feed_sightings.sightings`). The source is only read. Notifications
are switched off in the target: a replay never e-mails anyone about the past.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agam.core.errors import ConfigError, RuleError
from agam.core.settings import Settings, validate_feed_table
from agam.core.timeutil import SteppedClock, ensure_utc, iso_utc
from agam.pipeline.context import AppContext, configured_rule_sets
from agam.pipeline.evaluate import after_feed_run
from agam.pipeline.ingest import ingest
from hazard_feeds.contract import HazardForecast, RawArtifact
from store import alert_repo, feed_repo, feed_sightings
from store.db import require_current_schema
from store.models import ForecastRun

log = logging.getLogger(__name__)
MAX_SLEEP_S = 5.0
ALERT_STAGES = ("readiness", "action", "observational")


class StoredArtifactFeed:
    """Fetch returns one stored raw artifact; parsing and config are the real feed's."""

    def __init__(self, real_feed: Any, raw: RawArtifact) -> None:
        self.real_feed = real_feed
        self.raw = raw
        self.feed_id = raw.feed_id
        self.config = real_feed.config

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact:
        del http, since
        return self.raw

    def parse(self, raw: RawArtifact) -> Any:
        return self.real_feed.parse(raw)

    def to_json(self, forecast: HazardForecast) -> Any:
        return self.real_feed.to_json(forecast)


@dataclass(frozen=True)
class ReplayStep:
    index: int  # 1-based
    total: int
    feed_id: str
    issued_at: datetime
    fetched_at: datetime
    outcome: str
    alert_changes: int


@dataclass
class ReplaySummary:
    start: datetime
    end: datetime
    data_dir: Path
    steps: int = 0
    by_feed: dict[str, dict[str, int]] = field(default_factory=dict)
    # (rule set, district, stage, status) -> number of alerts, read from the target store
    alerts: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    # (rule set, district, stage) -> first time an alert event reached that stage
    first_reached: dict[tuple[str, str, str], datetime] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": iso_utc(self.start),
            "end": iso_utc(self.end),
            "data_dir": str(self.data_dir),
            "steps": self.steps,
            "by_feed": self.by_feed,
            "alerts": [
                {"rule_set": r, "district": d, "stage": s, "status": st, "count": n}
                for (r, d, s, st), n in sorted(self.alerts.items())
            ],
            "first_reached": [
                {"rule_set": r, "district": d, "stage": s, "at": iso_utc(at)}
                for (r, d, s), at in sorted(self.first_reached.items())
            ],
        }


def replay_settings(settings: Settings, data_dir: Path) -> Settings:
    """The same configuration on another data dir, with SQLite in that dir."""
    return settings.model_copy(
        update={
            "app": settings.app.model_copy(update={"data_dir": data_dir.resolve()}),
            "database": settings.database.model_copy(update={"url": ""}),
        }
    )


def stored_sightings(
    ctx: AppContext, start: datetime, end: datetime
) -> list[tuple[ForecastRun, datetime]]:
    with ctx.store.read() as session:
        return feed_sightings.sightings(session, start, end)


def alert_overview(
    ctx: AppContext,
) -> tuple[dict[tuple[str, str, str, str], int], dict[tuple[str, str, str], datetime]]:
    """Alerts counted by (rule set, district, stage, status), and the first time each
    (rule set, district) reached each stage, from the alert events."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    first: dict[tuple[str, str, str], datetime] = {}
    with ctx.store.session() as session:
        for alert in alert_repo.all_alerts(session):
            counts[(alert.rule_set_id, alert.district_pcode, alert.stage, alert.status)] += 1
            for event in alert_repo.events(session, alert.id):
                if event.to_stage in ALERT_STAGES:
                    key = (alert.rule_set_id, alert.district_pcode, event.to_stage)
                    first[key] = min(first.get(key, event.at), ensure_utc(event.at))
    return dict(counts), first


def _stored_raw(source: AppContext, run: ForecastRun, at: datetime) -> RawArtifact:
    """The raw artifact as fetched, stamped with when the live system was served it."""
    stored = source.raw_store.get(run.feed_id, run.raw_sha256)
    return RawArtifact(**(vars(stored) | {"fetched_at": ensure_utc(at)}))


def _working_context(
    source: AppContext,
    target: AppContext,
    feed_ids: set[str],
    rule_sets: list[str] | None,
    clock: SteppedClock,
    rule_set_files: list[Path] | None = None,
) -> AppContext:
    """The target's settings with the replayed feeds known, notifications off, any extra
    rule set files (e.g. a draft new version) and, if asked, only the given rule sets; on a
    stepped clock."""
    settings = target.settings
    feeds = dict(settings.feeds)
    for feed_id in sorted(feed_ids - set(feeds)):
        known = source.settings.feeds.get(feed_id)
        feeds[feed_id] = known or validate_feed_table(feed_id, None, settings.config_path.parent)
    triggers = settings.triggers
    if rule_set_files:
        extra = tuple(p.resolve() for p in rule_set_files)
        triggers = triggers.model_copy(update={"rule_set_files": triggers.rule_set_files + extra})
    probe = settings.model_copy(update={"triggers": triggers})
    loaded = configured_rule_sets(probe)  # a bad file fails here, naming it
    if rule_sets is not None:
        known_ids = {s.id for s in loaded}
        unknown = sorted(set(rule_sets) - known_ids)
        if unknown:
            raise RuleError(f"unknown rule set(s): {', '.join(unknown)}")
        triggers = triggers.model_copy(update={"enabled_rule_sets": tuple(rule_sets)})
    notifications = settings.notifications.model_copy(
        update={"enabled": False, "sms_enabled": False}
    )
    work_settings = settings.model_copy(
        update={"feeds": feeds, "triggers": triggers, "notifications": notifications}
    )
    return AppContext(work_settings, clock=clock)


def replay(
    source: AppContext,
    target: AppContext,
    start: datetime,
    end: datetime,
    *,
    speed: float | None = None,
    rule_sets: list[str] | None = None,
    on_step: Callable[[ReplayStep], None] | None = None,
    rule_set_files: list[Path] | None = None,
) -> ReplaySummary:
    """Re-run the source's stored forecasts issued in [start, end] into the target store."""
    start, end = ensure_utc(start), ensure_utc(end)
    if end < start:
        raise ConfigError(f"replay window ends ({iso_utc(end)}) before it starts")
    if speed is not None and speed < 0:
        raise ConfigError(f"replay speed cannot be negative ({speed:g})")
    if target.settings.database_url == source.settings.database_url:
        raise ConfigError("replay target uses the source's database; choose another data dir")
    if target.settings.data_dir.resolve() == source.settings.data_dir.resolve():
        raise ConfigError("replay target is the source's data dir; choose another one")
    require_current_schema(source.store.engine)
    runs = stored_sightings(source, start, end)
    clock = SteppedClock(start)
    feed_ids = {r.feed_id for r, _ in runs}
    work = _working_context(source, target, feed_ids, rule_sets, clock, rule_set_files)
    for folder in (work.settings.data_dir, work.settings.raw_dir, work.settings.cache_dir):
        folder.mkdir(parents=True, exist_ok=True)
    work.store.upgrade()
    with work.store.session() as session:
        holds = bool(feed_repo.stored_feed_ids(session))
    if holds:
        raise ConfigError(f"replay target {work.settings.data_dir} already holds forecasts")
    by_feed: dict[str, Counter[str]] = {}
    previous: datetime | None = None
    for index, (run, seen_at) in enumerate(runs, 1):
        raw = _stored_raw(source, run, seen_at)
        if speed and previous is not None:
            gap_s = (raw.fetched_at - previous).total_seconds() / speed
            if gap_s > 0:
                time.sleep(min(gap_s, MAX_SLEEP_S))
        previous = raw.fetched_at
        clock.now = raw.fetched_at
        work.use_feed(run.feed_id, StoredArtifactFeed(source.feed(run.feed_id), raw))
        outcome = ingest(work, run.feed_id, trigger="replay")
        changes = len(after_feed_run(work, outcome))
        by_feed.setdefault(run.feed_id, Counter())[outcome.outcome] += 1
        log.info("replay %d/%d %s: %s", index, len(runs), run.feed_id, outcome.outcome)
        issued = ensure_utc(run.issued_at)
        step = ReplayStep(
            index, len(runs), run.feed_id, issued, raw.fetched_at, outcome.outcome, changes
        )
        if on_step is not None:
            on_step(step)
    alerts, first_reached = alert_overview(work)
    feeds = {f: dict(sorted(c.items())) for f, c in sorted(by_feed.items())}
    return ReplaySummary(
        start, end, work.settings.data_dir, len(runs), feeds, alerts, first_reached
    )
