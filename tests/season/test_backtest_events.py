"""Backtesting the cyclone rule set on the stored season against observed events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from agam.core.errors import AgamError
from agam.pipeline.backtest_events import (
    ObservedEvent,
    as_table_rows,
    read_observed,
    score,
    season_firings,
    to_json,
)
from store.models import Alert, Evaluation
from triggers.engine import load_rule_sets
from triggers.model import RuleSet

HEADER = "event_id,start,end,districts,description\n"
HIT = ("BD1004", "BD1078", "BD4047", "BD4087")


@pytest.fixture(scope="module")
def cyclone() -> RuleSet:
    return next(s for s in load_rule_sets() if s.id == "ocha_cerf_cyclone_2025")


def _csv(tmp_path: Path, body: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_season_firings_read_only(season: SimpleNamespace, cyclone: RuleSet) -> None:
    def counts() -> tuple[int, int]:
        with season.ctx.store.session() as session:
            evaluations = session.scalar(select(func.count()).select_from(Evaluation))
            alerts = session.scalar(select(func.count()).select_from(Alert))
        return evaluations or 0, alerts or 0

    before = counts()
    firings = season_firings(season.ctx, cyclone, None, None)
    assert counts() == before
    assert len(firings.evaluated) == 6
    readiness = [datetime(2026, 5, 1, 6, tzinfo=UTC), datetime(2026, 5, 20, 6, tzinfo=UTC)]
    for district in HIT:
        assert firings.met[(district, "readiness")] == readiness
        assert firings.met[(district, "action")] == [datetime(2026, 5, 21, 6, tzinfo=UTC)]
    assert ("BD2075", "readiness") not in firings.met  # Noakhali is out of the winds' reach
    later = season_firings(season.ctx, cyclone, datetime(2026, 5, 15, tzinfo=UTC), None)
    assert len(later.evaluated) == 3


def test_hit_miss_and_false_alarm(
    season: SimpleNamespace, cyclone: RuleSet, tmp_path: Path
) -> None:
    events = read_observed(
        _csv(
            tmp_path,
            "cyclone-may,2026-05-23,2026-05-24,,landfall on the Khulna coast (CONSTRUCTED)\n"
            "surge-sep,2026-09-10,2026-09-12,BD2075;BD1009,nothing forecast (CONSTRUCTED)\n",
        )
    )
    result = score(events, season_firings(season.ctx, cyclone, None, None), cyclone, 15)
    out = to_json(result)
    may, sep = out["events"]
    # Onset 23 May 00:00 Asia/Dhaka = 22 May 18:00 UTC; readiness first fired in the window on
    # 20 May 06:00 UTC (2.5 days before), action on 21 May 06:00 UTC (1.5 days before).
    assert may["stages"]["readiness"]["result"] == "hit"
    assert may["stages"]["readiness"]["lead_days"] == 2.5
    assert may["stages"]["readiness"]["first_fired"] == {
        "utc": "2026-05-20T06:00:00Z",
        "dhaka_date": "2026-05-20",
    }
    assert may["stages"]["action"]["lead_days"] == 1.5
    assert may["stages"]["action"]["districts"] == list(HIT)
    assert may["stages"]["observational"]["result"] == "miss"
    assert {s["result"] for s in sep["stages"].values()} == {"miss"}
    # The 1 May readiness lies before the 15-day lead window: one false alarm.
    assert out["false_alarms"] == [
        {
            "stage": "readiness",
            "first": {"utc": "2026-05-01T06:00:00Z", "dhaka_date": "2026-05-01"},
            "last": {"utc": "2026-05-01T06:00:00Z", "dhaka_date": "2026-05-01"},
            "evaluations": 1,
            "districts": list(HIT),
        }
    ]
    assert out["totals"] == {
        "readiness": {"hits": 1, "misses": 1, "false_alarms": 1, "mean_lead_days": 2.5},
        "action": {"hits": 1, "misses": 1, "false_alarms": 0, "mean_lead_days": 1.5},
        "observational": {"hits": 0, "misses": 2, "false_alarms": 0, "mean_lead_days": None},
    }
    assert out["evaluations"] == 6
    rows = as_table_rows(result)
    assert rows[0] == {
        "event": "cyclone-may",
        "districts": "all",
        "window": "2026-05-23 – 2026-05-24",
        "readiness": "hit (2.5 d)",
        "action": "hit (1.5 d)",
        "observational": "miss",
    }
    assert rows[1]["districts"] == "BD2075, BD1009"


def test_lead_window_districts_and_late_firing(season: SimpleNamespace, cyclone: RuleSet) -> None:
    firings = season_firings(season.ctx, cyclone, None, None)
    # A wide lead window reaches back to the 1 May firing: no false alarm, lead 21.5 days.
    wide = score(
        [ObservedEvent("may", date(2026, 5, 23), date(2026, 5, 24), ())], firings, cyclone, 30
    )
    assert wide.events[0][1][0].lead_days == 21.5
    assert wide.totals["readiness"]["false_alarms"] == 0
    # Onset 21 May (20 May 18:00 UTC): action fired 12 h after onset -> negative lead.
    late = score(
        [ObservedEvent("late", date(2026, 5, 21), date(2026, 5, 21), ())], firings, cyclone, 15
    )
    assert late.events[0][1][1].lead_days == -0.5
    # An event in a district the winds never reached is a miss, and both readiness runs are
    # then false alarms.
    elsewhere = score(
        [ObservedEvent("bhola", date(2026, 5, 23), date(2026, 5, 24), ("BD1009",))],
        firings,
        cyclone,
        15,
    )
    assert [o.hit for o in elsewhere.events[0][1]] == [False, False, False]
    assert [a.first.day for a in elsewhere.false_alarms if a.stage == "readiness"] == [1, 20]
    assert elsewhere.totals["action"]["false_alarms"] == 1


@pytest.mark.parametrize(
    ("body", "row", "field", "why"),
    [
        ("e1,2026-05-23,2026-05-2x,,\n", 2, "end", "not an ISO date"),
        ("e1,23/05/2026,2026-05-24,,\n", 2, "start", "not an ISO date"),
        ("e1,2026-05-24,2026-05-23,,\n", 2, "end", "before start"),
        ("e1,2026-05-23,2026-05-24,BD10;BD1009,\n", 2, "districts", "'BD10'"),
        ("e1,2026-05-23,2026-05-24,Khulna,\n", 2, "districts", "'Khulna'"),
        ("e1,2026-05-23,2026-05-24,,\ne1,2026-06-01,2026-06-02,,\n", 3, "event_id", "duplicate"),
        (",2026-05-23,2026-05-24,,\n", 2, "event_id", "empty"),
        ("e1,2026-05-23,2026-05-24,,a,b\n", 2, "description", "more fields"),
    ],
)
def test_bad_rows_name_file_row_and_field(
    tmp_path: Path, body: str, row: int, field: str, why: str
) -> None:
    path = _csv(tmp_path, body)
    with pytest.raises(AgamError) as caught:
        read_observed(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"row {row}: field {field}:" in message
    assert why in message


def test_bad_header_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("event_id,start,end,description\n", encoding="utf-8")
    with pytest.raises(AgamError, match="row 1: field districts: missing column"):
        read_observed(path)
    with pytest.raises(AgamError, match="cannot read"):
        read_observed(tmp_path / "absent.csv")
    assert read_observed(_csv(tmp_path, "", "empty.csv")) == []


def test_a_field_over_the_csv_limit_is_one_error(tmp_path: Path) -> None:
    """An unclosed quote makes the rest of the file one field: the csv module's refusal was a
    traceback."""
    path = _csv(tmp_path, 'e1,2026-05-23,2026-05-24,,"' + "storm " * 40_000 + "\n")
    with pytest.raises(AgamError, match=r"after row \d+: not a readable CSV \(field larger"):
        read_observed(path)
