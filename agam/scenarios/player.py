"""Play a scenario through the scheduler's feed jobs on an accelerated (virtual) clock.

The jobs, their triggers (config cron / interval) and the job body are the scheduler's own
(`agam.scheduler.feed_trigger`, `run_feed_job`): fetch from the local scenario server ->
keep raw -> parse -> evaluate -> alerts -> proposed lists. Only time is simulated: the clock
jumps to each job's next fire time instead of waiting for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agam.core.settings import Settings
from agam.core.timeutil import SteppedClock, format_dhaka
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import AlertChange, latest_forecasts
from agam.scenarios import cyclone, flood
from agam.scenarios.headlines import headline
from agam.scenarios.manifest import Manifest
from agam.scenarios.server import serving
from agam.scenarios.spec import DATA, SCENARIOS, ScenarioSpec, load_scenario
from agam.scheduler import feed_trigger, run_feed_job
from store import audit

log = logging.getLogger(__name__)
RENDERERS = {"flood": flood.render, "cyclone": cyclone.render}


@dataclass(frozen=True)
class PlayStep:
    scenario: str
    at: datetime
    feed_id: str
    outcome: str
    changes: tuple[AlertChange, ...] = ()
    error: str | None = None
    headline: str | None = None  # what a new forecast said

    def line(self) -> str:
        text = f"{format_dhaka(self.at)}  {self.feed_id:7} {self.outcome}"
        if self.error:
            text += f" ({self.error})"
        if self.headline:
            text += f": {self.headline}"
        for c in self.changes:
            text += f"\n    alert {c.change}: {c.rule_set_id} {c.district_pcode} -> {c.stage}"
        return text


@dataclass
class PlayResult:
    scenario: str
    title: str
    played: bool  # False: already played into this store (re-run)
    steps: list[PlayStep] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        outcomes: dict[str, int] = {}
        for s in self.steps:
            outcomes[s.outcome] = outcomes.get(s.outcome, 0) + 1
        return {
            "scenario": self.scenario,
            "title": self.title,
            "played": self.played,
            "feed_runs": len(self.steps),
            "outcomes": outcomes,
            "alert_changes": sum(len(s.changes) for s in self.steps),
        }


def spec_digest(name: str) -> str:
    return hashlib.sha256((DATA / SCENARIOS[name]).read_bytes()).hexdigest()[:16]


def prepare_files(spec: ScenarioSpec, folder: Path) -> Manifest:
    """Render the scenario's upstream files once per spec version (deterministic)."""
    marker = folder / f".rendered-{spec_digest(spec.id)}"
    if marker.exists():
        return Manifest.load(folder)
    manifest = RENDERERS[spec.id](spec, folder)
    marker.touch()
    return manifest


def _played(ctx: AppContext, key: str) -> bool:
    with ctx.store.session() as session:
        return bool(audit.entries_for(session, "scenario.played", key))


def _drop_bulletins(manifest: Manifest, now: datetime, drop: Path) -> None:
    """Officers drop BMD bulletins into the feed's folder as they arrive."""
    drop.mkdir(parents=True, exist_ok=True)
    for item in manifest.items:
        if item.route != "drop/bmd" or item.published_at > now:
            continue
        target = drop / Path(item.path).name
        if not target.exists():
            target.write_bytes((manifest.folder / item.path).read_bytes())
            stamp = item.published_at.timestamp()
            os.utime(target, (stamp, stamp))


def play(
    settings: Settings,
    name: str,
    *,
    progress: Callable[[PlayStep], None] | None = None,
    speed: float | None = None,
    force: bool = False,
) -> PlayResult:
    """Play scenario `name` into the store of `settings`; safe to re-run (a scenario already
    played into this store is not played again unless `force`)."""
    spec = load_scenario(name)
    folder = settings.data_dir / "scenarios" / spec.id
    key = f"{spec.id}@{spec_digest(name)}"
    check = AppContext(settings)
    check.store.upgrade()
    played = _played(check, key)
    check.store.dispose()
    if played and not force:
        return PlayResult(spec.id, spec.title, played=False)
    manifest = prepare_files(spec, folder)
    clock = SteppedClock(spec.play_from)
    drop = folder / "bmd-drop"
    result = PlayResult(spec.id, spec.title, played=True)
    with serving(manifest, clock) as base_url:
        work = settings.with_feed_tables(spec.feed_tables(base_url, drop))
        ctx = AppContext(work, clock=clock)
        triggers = {f: feed_trigger(t, start=spec.play_from) for f, t in work.feeds.items()}
        due = {f: tr.get_next_fire_time(None, spec.play_from) for f, tr in triggers.items()}
        while True:
            feed_id, at = min(((f, t) for f, t in due.items() if t), key=lambda x: (x[1], x[0]))
            if at > spec.play_to:
                break
            if speed:
                time.sleep(min(5.0, (at - clock.now).total_seconds() / speed))
            clock.now = at
            _drop_bulletins(manifest, at, drop)
            outcome, changes = run_feed_job(ctx, feed_id, trigger=f"scenario:{spec.id}")
            said = None
            if outcome.new_forecast:
                said = headline(feed_id, latest_forecasts(ctx, at)[feed_id])
            step = PlayStep(
                spec.id, at, feed_id, outcome.outcome, tuple(changes), outcome.error, said
            )
            result.steps.append(step)
            if progress is not None:
                progress(step)
            due[feed_id] = triggers[feed_id].get_next_fire_time(at, at + timedelta(seconds=1))
        with ctx.store.session() as session:
            audit.append(
                session,
                at=clock.now,
                actor="demo",
                action="scenario.played",
                entity="scenario",
                entity_id=key,
                payload=result.to_dict() | {"label": manifest.label},
            )
        ctx.store.dispose()
    return result
