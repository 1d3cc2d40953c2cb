"""Which stored forecast is current: the content seen last, not only the newest stamp.

Two ways the newest issue time picked the wrong one:
- a correction taken back (A, then B, then A again at one issue time): the third fetch found
  A stored, said "unchanged", and B went on being judged;
- GDACS stamps a list without a Bay of Bengal cyclone with the newest advisory anywhere in the
  world, so a cyclone entering the list with an older advisory sorted before that list and was
  not judged until its next advisory, six hours on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agam.pipeline.context import AppContext
from agam.pipeline.replay import ReplayStep, replay, replay_settings
from agam.scheduler import run_feed_job
from store import feed_repo, feed_sightings
from tests.feeds.conftest import BMD_JUDGED_AT, FEEDS, drop_bulletin, site_context
from tests.season.conftest import constructed_bulletin

ISSUED = datetime(2026, 5, 20, 5, 0, tzinfo=UTC)
MOCHA_ADVISORY = datetime(2023, 5, 12, 6, 0, tzinfo=UTC)  # episode 6's polygondate
GDACS_NOW = datetime(2023, 5, 12, 9, 0, tzinfo=UTC)


def judged_and_latest(ctx: AppContext, feed_id: str) -> tuple[int | None, int | None]:
    with ctx.store.read() as session:
        row = feed_repo.status_row(session, feed_id)
        return row.judged_forecast_run_id, row.latest_forecast_run_id


def test_a_correction_taken_back_is_judged_again(bmd_site: tuple[AppContext, Path]) -> None:
    ctx, drop = bmd_site
    drop_bulletin(drop, "a.json", constructed_bulletin(7, ISSUED, 60.0, 48), 1_000)
    first = run_feed_job(ctx, "bmd")[0].forecast_run_id
    drop_bulletin(drop, "b.json", constructed_bulletin(7, ISSUED, 150.0, 48), 2_000)
    outcome, raised = run_feed_job(ctx, "bmd")
    assert {c.change for c in raised} == {"raised"}
    corrected = outcome.forecast_run_id

    drop_bulletin(drop, "c.json", constructed_bulletin(7, ISSUED, 60.0, 48), 3_000)  # A again
    outcome, _ = run_feed_job(ctx, "bmd")
    assert outcome.outcome == "unchanged"
    assert outcome.forecast_run_id == first
    with ctx.store.read() as session:
        current = feed_repo.latest_forecast(session, "bmd", BMD_JUDGED_AT, snapshot=False)
    assert (current.id if current else None) == first
    assert judged_and_latest(ctx, "bmd") == (first, first)  # before: the correction, B

    drop_bulletin(drop, "d.json", constructed_bulletin(7, ISSUED, 150.0, 48), 4_000)  # B again
    outcome, _ = run_feed_job(ctx, "bmd")
    assert (outcome.outcome, outcome.forecast_run_id) == ("unchanged", corrected)
    assert judged_and_latest(ctx, "bmd") == (corrected, corrected)


def test_a_backtest_judges_when_a_feed_went_back(bmd_site: tuple[AppContext, Path]) -> None:
    """Backtests judge at every arrival: a return to earlier content is one, a re-fetch of
    the content served last is not."""
    ctx, drop = bmd_site
    served = [("a.json", 60.0), ("b.json", 150.0), ("c.json", 60.0), (None, 0.0)]
    for step, (name, wind_kmh) in enumerate(served):
        ctx.clock.now = BMD_JUDGED_AT + timedelta(minutes=10 * step)  # type: ignore[attr-defined]
        if name is not None:
            bulletin = constructed_bulletin(7, ISSUED, wind_kmh, 48)
            drop_bulletin(drop, name, bulletin, 1_000 * (step + 1))
        run_feed_job(ctx, "bmd")
    with ctx.store.read() as session:
        times = feed_sightings.arrival_times(session, {"bmd"}, None, None)
        later = feed_sightings.arrival_times(session, {"bmd"}, times[1], None)
    assert [int((t - BMD_JUDGED_AT).total_seconds() // 60) for t in times] == [0, 10, 20]
    assert later == times[1:]


def test_an_older_issue_fetched_again_does_not_replace_a_newer_one(
    bmd_site: tuple[AppContext, Path],
) -> None:
    ctx, drop = bmd_site
    older = ISSUED.replace(hour=2)
    drop_bulletin(drop, "old.json", constructed_bulletin(6, older, 60.0, 48), 1_000)
    old = run_feed_job(ctx, "bmd")[0].forecast_run_id
    drop_bulletin(drop, "new.json", constructed_bulletin(7, ISSUED, 60.0, 48), 2_000)
    new = run_feed_job(ctx, "bmd")[0].forecast_run_id
    drop_bulletin(drop, "old-again.json", constructed_bulletin(6, older, 60.0, 48), 3_000)
    outcome, changes = run_feed_job(ctx, "bmd")
    assert (outcome.outcome, outcome.forecast_run_id, changes) == ("unchanged", old, [])
    assert judged_and_latest(ctx, "bmd") == (new, new)


def test_an_older_bulletin_dropped_later_is_stored_and_said_unused(
    bmd_site: tuple[AppContext, Path],
) -> None:
    ctx, drop = bmd_site
    drop_bulletin(drop, "sl7.json", constructed_bulletin(7, ISSUED, 60.0, 48), 1_000)
    in_force = run_feed_job(ctx, "bmd")[0].forecast_run_id
    older = ISSUED.replace(hour=2)  # yesterday's file, or a date typed wrong
    drop_bulletin(drop, "sl6.json", constructed_bulletin(6, older, 150.0, 48), 2_000)
    outcome, changes = run_feed_job(ctx, "bmd")
    assert (outcome.outcome, changes) == ("success", [])
    assert outcome.error == (
        "issued 2026-05-20 08:00 UTC+6, before the forecast in force (issued 2026-05-20 "
        "11:00 UTC+6): stored, not used"
    )
    assert judged_and_latest(ctx, "bmd") == (in_force, in_force)
    with ctx.store.read() as session:
        run = feed_repo.recent_runs(session, "bmd", limit=1)[0]
    assert run.error == outcome.error  # the health page's recent runs show it


def _search_list() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FEEDS / "gdacs" / "search_tc_2023-05.json").read_bytes())
    return doc


def gdacs_lists() -> tuple[bytes, bytes]:
    """DERIVED from the real May 2023 search list, dated to the morning of 12 May 2023:
    without MOCHA-23 (FABIEN-23's advisory at 08:00, the newest in the world), and with
    MOCHA-23 at episode 6 (advisory 06:00, older than that)."""
    doc = _search_list()
    features = {f["properties"]["eventname"]: f for f in doc["features"]}
    fabien = features["FABIEN-23"]["properties"]
    fabien["fromdate"], fabien["todate"] = "2023-05-11T00:00:00", "2023-05-12T08:00:00"
    mawar = features["MAWAR-23"]["properties"]
    mawar["fromdate"], mawar["todate"] = "2023-05-10T00:00:00", "2023-05-12T00:00:00"
    mocha = features["MOCHA-23"]["properties"]
    mocha["episodeid"], mocha["iscurrent"] = 6, "true"
    mocha["fromdate"], mocha["todate"] = "2023-05-11T00:00:00", "2023-05-12T06:00:00"
    with_mocha = json.dumps(doc).encode()
    doc["features"] = [f for name, f in features.items() if name != "MOCHA-23"]
    return json.dumps(doc).encode(), with_mocha


def episode_seven(doc: bytes) -> bytes:
    """DERIVED from the real MOCHA-23 list or geometry (episode 6): the same content
    renumbered as episode 7, the advisory after it."""
    for six, seven in ((b'"episodeid":6', b'"episodeid":7'), (b'"episodeid": 6', b'"episodeid": 7'),
                       (b"episodeid=6", b"episodeid=7")):  # fmt: skip
        doc = doc.replace(six, seven)
    return doc


@pytest.fixture
def gdacs_site(
    config_path: Path,
    database_url: str,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[AppContext, list[bytes]]]:
    """A store whose gdacs feed reads a local server; the test sets the event list served
    (MOCHA-23 at episode 6, or at the episode 7 derived from it)."""
    served: list[bytes] = []
    httpserver.expect_request("/api/events/geteventlist/EVENTS4APP").respond_with_handler(
        lambda _r: Response(served[-1], content_type="application/json")
    )

    real = (FEEDS / "gdacs" / "mocha-23_geometry_ep6.json").read_bytes()

    def geometry(request: Request) -> Response:
        assert request.args["eventid"] == "1000970"
        assert request.args["episodeid"] in ("6", "7")
        body = real if request.args["episodeid"] == "6" else episode_seven(real)
        return Response(body, content_type="application/json")

    httpserver.expect_request("/api/polygons/getgeometry").respond_with_handler(geometry)
    section = (
        "[feeds.gdacs]\ninterval_minutes = 15\nmax_age_hours = 12\nretries = 0\n"
        f"base_url = '{httpserver.url_for('/api/')}'\n"
    )
    ctx = site_context(config_path, database_url, monkeypatch, section, GDACS_NOW)
    yield ctx, served
    ctx.store.dispose()


def test_a_cyclone_entering_gdacs_with_an_older_advisory_is_judged(
    gdacs_site: tuple[AppContext, list[bytes]],
) -> None:
    ctx, served = gdacs_site
    without, with_mocha = gdacs_lists()
    served.append(without)
    quiet = run_feed_job(ctx, "gdacs")[0]
    assert quiet.outcome == "success"
    assert quiet.issued_at == datetime(2023, 5, 12, 8, 0, tzinfo=UTC)  # FABIEN-23's advisory

    ctx.clock.now = GDACS_NOW.replace(minute=15)  # type: ignore[attr-defined]
    served.append(with_mocha)
    outcome, _ = run_feed_job(ctx, "gdacs")
    assert outcome.outcome in ("success", "partial")
    assert outcome.issued_at == MOCHA_ADVISORY  # older than the quiet list's stamp
    cyclone = outcome.forecast_run_id
    with ctx.store.read() as session:
        current = feed_repo.latest_forecast(session, "gdacs", snapshot=True)
        by_issue = feed_repo.latest_forecast(session, "gdacs", snapshot=False)  # the old rule
    assert (current.id if current else None) == cyclone
    assert (by_issue.id if by_issue else None) == quiet.forecast_run_id
    assert judged_and_latest(ctx, "gdacs") == (cyclone, cyclone)  # before: the quiet list

    ctx.clock.now = GDACS_NOW.replace(minute=30)  # type: ignore[attr-defined]
    served.append(without)  # the cyclone leaves the list: the quiet list is current again
    outcome, _ = run_feed_job(ctx, "gdacs")
    assert (outcome.outcome, outcome.forecast_run_id) == ("unchanged", quiet.forecast_run_id)
    assert judged_and_latest(ctx, "gdacs") == (quiet.forecast_run_id,) * 2
    with ctx.store.read() as session:  # replays see what was current at the time
        at = {m: GDACS_NOW.replace(minute=m) for m in (0, 15, 20, 30)}
        current = {
            m: feed_repo.latest_forecast(session, "gdacs", t, snapshot=True) for m, t in at.items()
        }
        assert {m: r.id if r else None for m, r in current.items()} == {
            0: quiet.forecast_run_id,
            15: cyclone,
            20: cyclone,
            30: quiet.forecast_run_id,
        }


def test_a_replay_is_served_what_the_live_system_was(
    gdacs_site: tuple[AppContext, list[bytes]], tmp_path: Path
) -> None:
    """The replay went by issue time: the cyclone (issued 06:00, fetched 09:15) before the
    quiet list (issued 08:00, fetched 09:00), the clock going back, and the quiet list
    served again at 09:30 left out, so the replay ended on the cyclone and live on the
    quiet list."""
    ctx, served = gdacs_site
    without, with_mocha = gdacs_lists()
    for minute, listing in ((0, without), (15, with_mocha), (30, without)):
        ctx.clock.now = GDACS_NOW.replace(minute=minute)  # type: ignore[attr-defined]
        served.append(listing)
        run_feed_job(ctx, "gdacs")
    live = judged_and_latest(ctx, "gdacs")

    target = AppContext(replay_settings(ctx.settings, tmp_path / "replay"))
    steps: list[ReplayStep] = []
    may = (datetime(2023, 5, 1, tzinfo=UTC), datetime(2023, 5, 31, tzinfo=UTC))
    summary = replay(ctx, target, *may, on_step=steps.append)
    assert [(s.fetched_at.minute, s.outcome) for s in steps] == [
        (0, "success"),
        (15, "partial"),  # GDACS gives no per-point wind
        (30, "unchanged"),
    ]
    assert summary.by_feed == {"gdacs": {"partial": 1, "success": 1, "unchanged": 1}}
    with ctx.store.read() as session, target.store.read() as copy:
        live_current = feed_repo.latest_forecast(session, "gdacs", snapshot=True)
        replayed = feed_repo.latest_forecast(copy, "gdacs", snapshot=True)
    assert live_current is not None
    assert replayed is not None
    assert replayed.raw_sha256 == live_current.raw_sha256
    assert live == (live_current.id,) * 2
    assert judged_and_latest(target, "gdacs") == (replayed.id,) * 2
    target.store.dispose()


def test_a_lagging_mirror_serving_an_older_episode_does_not_roll_the_cyclone_back(
    gdacs_site: tuple[AppContext, list[bytes]], tmp_path: Path
) -> None:
    """Episode 7 of MOCHA-23, then a mirror serving episode 6 again (new content, then the
    same content once more): stored, said, not put in force, not judged; a replay does the
    same. A list without the cyclone cannot be told older and stands."""
    ctx, served = gdacs_site
    quiet, ep6 = gdacs_lists()
    ep7 = episode_seven(ep6)
    plays: list[tuple[int, bytes]] = [(0, ep6), (15, ep7), (30, ep6), (45, ep6), (60, quiet)]
    outcomes = []
    for minute, listing in plays:
        ctx.clock.now = GDACS_NOW + timedelta(minutes=minute)  # type: ignore[attr-defined]
        served.append(listing)
        outcomes.append(run_feed_job(ctx, "gdacs")[0])
    first, newer, lagging, again, calm = outcomes
    assert [o.outcome for o in outcomes] == ["partial", "partial", "unchanged", "unchanged",
                                             "success"]  # fmt: skip
    note = (
        "an older list than the one in force (MOCHA-23, event 1000970, at episode 6, not 7): "
        "stored, not used"
    )
    assert (lagging.forecast_run_id, again.forecast_run_id) == (first.forecast_run_id,) * 2
    assert note in (lagging.error or "")
    assert note in (again.error or "")
    with ctx.store.read() as session:
        at = {m: GDACS_NOW + timedelta(minutes=m) for m, _ in plays}
        current = {
            m: feed_repo.latest_forecast(session, "gdacs", t, snapshot=True) for m, t in at.items()
        }
        runs = {r.id: r.in_force for r in feed_repo.recent_runs(session, "gdacs", limit=10)}
        times = feed_sightings.arrival_times(session, {"gdacs"}, None, None)
    assert {m: r.id if r else None for m, r in current.items()} == {
        0: first.forecast_run_id,
        15: newer.forecast_run_id,
        30: newer.forecast_run_id,  # before: episode 6 again, the track rolled back
        45: newer.forecast_run_id,
        60: calm.forecast_run_id,
    }
    assert [runs[o.run_id] for o in outcomes] == [True, True, False, False, True]
    assert at[30] not in times  # a backtest does not judge at the held-back list
    assert judged_and_latest(ctx, "gdacs") == (calm.forecast_run_id,) * 2

    target = AppContext(replay_settings(ctx.settings, tmp_path / "replay"))
    may = (datetime(2023, 5, 1, tzinfo=UTC), datetime(2023, 5, 31, tzinfo=UTC))
    replay(ctx, target, *may)
    with target.store.read() as copy:
        replayed = feed_repo.latest_forecast(copy, "gdacs", snapshot=True)
    assert replayed is not None
    assert replayed.raw_sha256 == calm.artifact_sha256
    target.store.dispose()


def test_a_lagging_list_first_seen_is_stored_but_not_put_in_force(
    gdacs_site: tuple[AppContext, list[bytes]],
) -> None:
    """Episode 7 first, then episode 6, never seen before: a new forecast, held back in the
    transaction that stores it."""
    ctx, served = gdacs_site
    _, ep6 = gdacs_lists()
    served.append(episode_seven(ep6))
    newer = run_feed_job(ctx, "gdacs")[0]
    ctx.clock.now = GDACS_NOW.replace(minute=15)  # type: ignore[attr-defined]
    served.append(ep6)
    lagging, changes = run_feed_job(ctx, "gdacs")
    assert lagging.outcome == "partial"
    assert lagging.forecast_run_id != newer.forecast_run_id
    assert "at episode 6, not 7" in (lagging.error or "")
    assert changes == []
    assert judged_and_latest(ctx, "gdacs") == (newer.forecast_run_id,) * 2
    with ctx.store.read() as session:
        current = feed_repo.latest_forecast(session, "gdacs", snapshot=True)
        times = feed_sightings.arrival_times(session, {"gdacs"}, None, None)
    assert (current.id if current else None) == newer.forecast_run_id
    assert times == [GDACS_NOW]  # a backtest does not judge at the held-back list


def test_a_list_in_force_that_cannot_be_read_does_not_block_the_next(
    gdacs_site: tuple[AppContext, list[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    """With the in-force list's stored copies gone, nothing can be compared: the list
    fetched is put in force (and the log says why it was not compared), not refused."""
    import shutil

    ctx, served = gdacs_site
    _, ep6 = gdacs_lists()
    served.append(episode_seven(ep6))
    newer = run_feed_job(ctx, "gdacs")[0]
    with ctx.store.read() as session:
        stored = feed_repo.get_forecast(session, newer.forecast_run_id or 0)
        paths = [Path(stored.raw_path), Path(stored.processed_path or "")]
    shutil.rmtree(paths[1])
    for part in paths[0].parent.glob(paths[0].name + "*"):
        part.unlink() if part.is_file() else shutil.rmtree(part)
    ctx.forget_forecasts()  # as a new process would start
    ctx.clock.now = GDACS_NOW.replace(minute=15)  # type: ignore[attr-defined]
    served.append(ep6)
    fetched = run_feed_job(ctx, "gdacs")[0]
    assert fetched.outcome == "partial"
    assert "older list" not in (fetched.error or "")
    assert "cannot be read to compare" in caplog.text
    assert judged_and_latest(ctx, "gdacs") == (fetched.forecast_run_id,) * 2
