"""Replaying a stored season into a separate store reproduces its alerts, on its times."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from agam.core.errors import ConfigError, RuleError
from agam.pipeline.context import AppContext
from agam.pipeline.replay import ReplayStep, alert_overview, replay, replay_settings
from store.models import Alert, AlertEvent, AuditEntry, Evaluation, FeedRun, ForecastRun

START = datetime(2026, 5, 1, tzinfo=UTC)
END = datetime(2026, 5, 31, 23, 59, tzinfo=UTC)
RULE_SET = "ocha_cerf_cyclone_2025"
HIT = ("BD1004", "BD1078", "BD4047", "BD4087")  # the districts the winds reach


def _target(season: SimpleNamespace, folder: Path) -> AppContext:
    return AppContext(replay_settings(season.ctx.settings, folder))


def _row_counts(ctx: AppContext) -> dict[str, int]:
    tables = (ForecastRun, FeedRun, Evaluation, Alert, AlertEvent, AuditEntry)
    with ctx.store.session() as session:
        return {
            t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in tables
        }


def test_replay_reproduces_alerts_and_first_stage_times(
    season: SimpleNamespace, tmp_path: Path
) -> None:
    before = _row_counts(season.ctx)
    target = _target(season, tmp_path / "replay")
    steps: list[ReplayStep] = []
    summary = replay(season.ctx, target, START, END, on_step=steps.append)
    assert _row_counts(season.ctx) == before  # the source is only read
    original_alerts, original_first = alert_overview(season.ctx)
    assert alert_overview(target) == (original_alerts, original_first)
    assert summary.alerts == original_alerts
    assert summary.first_reached == original_first
    # Each alert stands down 24 h after its forecast landfall with nothing met: the May 1
    # false alarm on May 10, the May 20-21 event on May 26.
    assert original_alerts == {
        (RULE_SET, d, stage, "stood_down"): 1 for d in HIT for stage in ("readiness", "action")
    }
    assert original_first[(RULE_SET, "BD1004", "readiness")] == datetime(2026, 5, 1, 6, tzinfo=UTC)
    assert original_first[(RULE_SET, "BD1004", "action")] == datetime(2026, 5, 21, 6, tzinfo=UTC)
    assert summary.steps == 6
    assert summary.by_feed == {"bmd": {"success": 6}}
    assert [s.index for s in steps] == [1, 2, 3, 4, 5, 6]
    assert {s.total for s in steps} == {6}
    assert [s.alert_changes for s in steps] == [4, 0, 4, 4, 4, 4]
    assert steps[0].issued_at == datetime(2026, 5, 1, 5, tzinfo=UTC)
    assert steps[0].fetched_at == datetime(2026, 5, 1, 6, tzinfo=UTC)
    assert summary.data_dir == (tmp_path / "replay").resolve()
    replayed = _row_counts(target)
    assert replayed["forecast_runs"] == before["forecast_runs"]
    assert replayed["alert_events"] == before["alert_events"]
    with target.store.session() as session:
        triggers = set(session.scalars(select(FeedRun.trigger)))
    assert triggers == {"replay"}
    out = summary.to_dict()
    assert out["first_reached"][0]["at"].endswith("Z")
    assert out["steps"] == 6


def test_replay_refuses_the_source_store_and_a_used_target(
    season: SimpleNamespace, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="source's database"):
        replay(season.ctx, AppContext(season.ctx.settings), START, END)
    target = _target(season, tmp_path / "once")
    replay(season.ctx, target, datetime(2026, 5, 20, tzinfo=UTC), END)
    with pytest.raises(ConfigError, match="already holds forecasts"):
        replay(season.ctx, _target(season, tmp_path / "once"), START, END)
    with pytest.raises(ConfigError, match="before it starts"):
        replay(season.ctx, _target(season, tmp_path / "other"), END, START)


def test_replay_window_and_rule_set_choice(season: SimpleNamespace, tmp_path: Path) -> None:
    late = replay(
        season.ctx, _target(season, tmp_path / "late"), datetime(2026, 5, 15, tzinfo=UTC), END
    )
    assert late.steps == 3
    assert late.first_reached[(RULE_SET, "BD4087", "readiness")] == datetime(
        2026, 5, 20, 6, tzinfo=UTC
    )
    other = replay(
        season.ctx,
        _target(season, tmp_path / "bdrcs"),
        START,
        END,
        rule_sets=["bdrcs_cyclone_eap_2021"],
    )
    assert other.steps == 6
    assert all(key[0] != RULE_SET for key in other.alerts)
    with pytest.raises(RuleError, match="no_such_set"):
        replay(season.ctx, _target(season, tmp_path / "x"), START, END, rule_sets=["no_such_set"])


@pytest.mark.parametrize(
    ("speed", "expected"),
    [
        # gaps between fetches: 1, 8, 10, 1, 5 days; one scenario day per second, at most 5 s
        (86_400.0, [1.0, 5.0, 5.0, 1.0, 5.0]),
        (864_000.0, [0.1, 0.8, 1.0, 0.1, 0.5]),
        (None, []),
        (0.0, []),
    ],
)
def test_replay_speed_sleeps_are_bounded(
    season: SimpleNamespace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    speed: float | None,
    expected: list[float],
) -> None:
    slept: list[float] = []
    real_sleep, this_thread = time.sleep, threading.current_thread()

    def sleep(seconds: float) -> None:
        # time.sleep is process-wide: threads other tests left running keep their real sleep
        if threading.current_thread() is this_thread:
            slept.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr("agam.pipeline.replay.time.sleep", sleep)
    replay(season.ctx, _target(season, tmp_path / "paced"), START, END, speed=speed)
    assert slept == pytest.approx(expected)
