"""Backtest a rule set against observed events, on the forecasts a season actually stored.

The rule set is judged (read-only: nothing is written) at every time a new forecast of one of
its feeds arrived, with the forecasts the store held then. Per observed event and stage: HIT
when the stage was met in one of the event's districts between `lead_window_days` before
onset and the event's last day, with the lead time from the first such firing to onset; MISS
otherwise. Each run of consecutive firing evaluations that touches no event is a FALSE ALARM.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

from agam.core.errors import RuleError
from agam.core.reference import vocabulary
from agam.core.timeutil import DHAKA, ensure_utc, iso_utc, to_dhaka
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import latest_forecasts
from boundaries.context import LayerUnionContext
from store import feed_sightings
from triggers.engine import district_stages, evaluate
from triggers.model import RuleSet, walk

COLUMNS = ("event_id", "start", "end", "districts", "description")
DISTRICT_CODE = re.compile(r"^BD\d{4}$")


@dataclass(frozen=True)
class ObservedEvent:
    event_id: str
    start: date  # first day, Asia/Dhaka calendar
    end: date  # last day (inclusive)
    districts: tuple[str, ...]  # ADM2 P-codes; empty = every district of the rule set
    description: str = ""

    @property
    def onset(self) -> datetime:
        """00:00 Asia/Dhaka on the first day, in UTC."""
        return datetime.combine(self.start, time(0), DHAKA).astimezone(UTC)

    def window(self, lead_window_days: int) -> tuple[datetime, datetime]:
        """[onset - lead window, end of the last Dhaka day) in UTC."""
        close = datetime.combine(self.end + timedelta(days=1), time(0), DHAKA).astimezone(UTC)
        return self.onset - timedelta(days=lead_window_days), close


@dataclass(frozen=True)
class SeasonFirings:
    rule_set_id: str
    evaluated: tuple[datetime, ...]  # every as_of judged, in order
    met: dict[tuple[str, str], list[datetime]]  # (district, stage) -> as_of times it was met


@dataclass(frozen=True)
class StageOutcome:
    stage: str
    hit: bool
    first_fired: datetime | None = None
    lead_days: float | None = None  # onset - first firing; negative = after onset
    districts: tuple[str, ...] = ()


@dataclass(frozen=True)
class FalseAlarm:
    stage: str
    first: datetime
    last: datetime
    evaluations: int
    districts: tuple[str, ...]


@dataclass(frozen=True)
class BacktestScore:
    rule_set_id: str
    lead_window_days: int
    stages: tuple[str, ...]
    evaluations: int
    events: list[tuple[ObservedEvent, list[StageOutcome]]]
    false_alarms: list[FalseAlarm]
    totals: dict[str, dict[str, Any]]


def _bad(path: Path, row: int, name: str, message: str) -> RuleError:
    return RuleError(f"{path}: row {row}: field {name}: {message}")


def _date(path: Path, row: int, name: str, text: str | None) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise _bad(path, row, name, f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def read_observed(path: Path) -> list[ObservedEvent]:
    """Observed events from CSV `event_id,start,end,districts,description` (row 1 = header;
    districts separated by ';'). Any bad value is an error naming file, row and field."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read observed events ({exc})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _events(path, reader)
    except csv.Error as exc:  # a NUL byte, a field over the csv module's limit
        where = f"after row {reader.line_num}"
        raise RuleError(f"{path}: {where}: not a readable CSV ({exc})") from None


def _events(path: Path, reader: csv.DictReader[str]) -> list[ObservedEvent]:
    header = tuple(reader.fieldnames or ())
    for name in COLUMNS:
        if name not in header:
            raise _bad(path, 1, name, "missing column (header: " + ",".join(COLUMNS) + ")")
    extra = [h for h in header if h not in COLUMNS]
    if extra:
        raise _bad(path, 1, extra[0], "unknown column")
    events: list[ObservedEvent] = []
    seen: set[str] = set()
    for number, record in enumerate(reader, 2):
        if None in record:
            raise _bad(path, number, "description", "more fields than the header has")
        event_id = (record["event_id"] or "").strip()
        if not event_id:
            raise _bad(path, number, "event_id", "empty")
        if event_id in seen:
            raise _bad(path, number, "event_id", f"duplicate event id {event_id!r}")
        seen.add(event_id)
        start = _date(path, number, "start", record["start"])
        end = _date(path, number, "end", record["end"])
        if end < start:
            raise _bad(path, number, "end", f"{end} is before start {start}")
        districts = tuple(d.strip() for d in (record["districts"] or "").split(";") if d.strip())
        wrong = [d for d in districts if not DISTRICT_CODE.match(d)]
        if wrong:
            raise _bad(path, number, "districts", f"not an ADM2 P-code (BD####): {wrong[0]!r}")
        description = (record["description"] or "").strip()
        events.append(ObservedEvent(event_id, start, end, districts, description))
    return events


def rule_set_feeds(rule_set: RuleSet) -> set[str]:
    """Feed ids read by any rule (or targeting rule) of the rule set."""
    rules = [r for s in rule_set.stages for r in (s.rule, s.targeting) if r is not None]
    feeds = {getattr(node, "feed", None) for rule in rules for node in walk(rule)}
    return {str(f) for f in feeds if f}


def season_firings(
    ctx: AppContext, rule_set: RuleSet, start: datetime | None, end: datetime | None
) -> SeasonFirings:
    """Judge the rule set at each forecast arrival (None bounds: the whole store)."""
    unions = LayerUnionContext(ctx.union_layer())
    first = ensure_utc(start) if start is not None else None
    last = ensure_utc(end) if end is not None else None
    with ctx.store.session() as session:
        arrived = feed_sightings.arrival_times(session, rule_set_feeds(rule_set), first, last)
    evaluated = [ensure_utc(t) for t in arrived]
    met: dict[tuple[str, str], list[datetime]] = {}
    for as_of in evaluated:
        results = evaluate([rule_set], latest_forecasts(ctx, as_of), unions, as_of)
        for (_, district), (_, _, items) in district_stages(results).items():
            # Every stage met, not only the highest: each stage is scored on its own.
            for stage in sorted({r.stage for r in items if r.state == "met"}):
                met.setdefault((district, stage), []).append(as_of)
    return SeasonFirings(rule_set.id, tuple(evaluated), met)


def _outcome(
    stage: str,
    event: ObservedEvent,
    districts: tuple[str, ...],
    fired: dict[datetime, set[str]],
    lead_window_days: int,
) -> StageOutcome:
    opens, closes = event.window(lead_window_days)
    times = sorted(t for t, ds in fired.items() if opens <= t < closes and ds & set(districts))
    if not times:
        return StageOutcome(stage, False)
    lead_days = round((event.onset - times[0]).total_seconds() / 86400, 1) + 0.0
    hit_districts = set(districts) & set().union(*(fired[t] for t in times))
    return StageOutcome(stage, True, times[0], lead_days, tuple(sorted(hit_districts)))


def score(
    events: list[ObservedEvent],
    firings: SeasonFirings,
    rule_set: RuleSet,
    lead_window_days: int,
) -> BacktestScore:
    stages = tuple(s for s in vocabulary().stages.order if s in {x.stage for x in rule_set.stages})
    # stage -> as_of -> districts where it was met
    fired: dict[str, dict[datetime, set[str]]] = {s: {} for s in stages}
    for (district, stage), times in firings.met.items():
        for t in times:
            fired.setdefault(stage, {}).setdefault(t, set()).add(district)
    areas = {e.event_id: e.districts or tuple(rule_set.districts) for e in events}
    rows = [
        (e, [_outcome(s, e, areas[e.event_id], fired[s], lead_window_days) for s in stages])
        for e in events
    ]

    windows = [(*e.window(lead_window_days), set(areas[e.event_id])) for e in events]

    def touches(t: datetime, districts: set[str]) -> bool:
        return any(opens <= t < closes and districts & area for opens, closes, area in windows)

    alarms: list[FalseAlarm] = []
    for stage in stages:
        run: list[datetime] = []
        for as_of in (*firings.evaluated, None):  # None closes the last run
            if as_of is not None and as_of in fired[stage]:
                run.append(as_of)
                continue
            if run and not any(touches(t, fired[stage][t]) for t in run):
                districts = tuple(sorted(set().union(*(fired[stage][t] for t in run))))
                alarms.append(FalseAlarm(stage, run[0], run[-1], len(run), districts))
            run = []
    totals: dict[str, dict[str, Any]] = {}
    for i, stage in enumerate(stages):
        leads = [d for _, o in rows if (d := o[i].lead_days) is not None]
        totals[stage] = {
            "hits": sum(1 for _, o in rows if o[i].hit),
            "misses": sum(1 for _, o in rows if not o[i].hit),
            "false_alarms": sum(1 for a in alarms if a.stage == stage),
            "mean_lead_days": round(mean(leads), 1) if leads else None,
        }
    return BacktestScore(
        rule_set.id, lead_window_days, stages, len(firings.evaluated), rows, alarms, totals
    )


def _time(value: datetime | None) -> dict[str, str | None]:
    if value is None:
        return {"utc": None, "dhaka_date": None}
    return {"utc": iso_utc(value), "dhaka_date": to_dhaka(value).date().isoformat()}


def as_table_rows(result: BacktestScore) -> list[dict[str, str]]:
    """One flat row per event: event, districts, window, then one cell per stage."""
    return [
        {
            "event": event.event_id,
            "districts": ", ".join(event.districts) or "all",
            "window": f"{event.start.isoformat()} – {event.end.isoformat()}",
        }
        | {o.stage: f"hit ({o.lead_days:g} d)" if o.hit else "miss" for o in outcomes}
        for event, outcomes in result.events
    ]


def to_json(result: BacktestScore) -> dict[str, Any]:
    """The whole score: times ISO-8601 UTC ('Z') with their Asia/Dhaka date."""
    return {
        "rule_set": result.rule_set_id,
        "lead_window_days": result.lead_window_days,
        "stages": list(result.stages),
        "evaluations": result.evaluations,
        "events": [
            {
                "event_id": event.event_id,
                "start": event.start.isoformat(),
                "end": event.end.isoformat(),
                "districts": list(event.districts),
                "description": event.description,
                "stages": {
                    o.stage: {
                        "result": "hit" if o.hit else "miss",
                        "first_fired": _time(o.first_fired),
                        "lead_days": o.lead_days,
                        "districts": list(o.districts),
                    }
                    for o in outcomes
                },
            }
            for event, outcomes in result.events
        ],
        "false_alarms": [
            {
                "stage": a.stage,
                "first": _time(a.first),
                "last": _time(a.last),
                "evaluations": a.evaluations,
                "districts": list(a.districts),
            }
            for a in result.false_alarms
        ],
        "totals": result.totals,
    }
