"""A stored cyclone season built offline: CONSTRUCTED BMD bulletins dropped one at a time into
the bmd drop folder, each ingested and judged on its own scenario time, like the scheduler."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agam.core.settings import load_settings
from agam.core.timeutil import SteppedClock, iso_utc
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import after_feed_run
from agam.pipeline.ingest import ingest

RULE_SET = "ocha_cerf_cyclone_2025"
MODELS = ("BMD", "IMD", "ECMWF", "GFS", "JTWC")
# (fetched at, UTC; max wind km/h of every model; lead hours of the winds). Bulletins are
# issued one hour before they are fetched. 150 km/h at 96 h = readiness, at 48 h = action
# (with a depression in the Bay); 60 km/h = nothing met.
SEASON = (
    (datetime(2026, 5, 1, 6, tzinfo=UTC), 150.0, 96),  # readiness, no event: false alarm
    (datetime(2026, 5, 2, 6, tzinfo=UTC), 60.0, 48),
    (datetime(2026, 5, 10, 6, tzinfo=UTC), 60.0, 48),  # the May 1 alert stands down
    (datetime(2026, 5, 20, 6, tzinfo=UTC), 150.0, 96),  # readiness again
    (datetime(2026, 5, 21, 6, tzinfo=UTC), 150.0, 48),  # action
    (datetime(2026, 5, 26, 6, tzinfo=UTC), 60.0, 48),
)


def constructed_bulletin(number: int, issued: datetime, wind_kmh: float, lead_h: int) -> str:
    """CONSTRUCTED: not a real BMD bulletin; the schema of bulletin_remal_like.json."""
    valid = iso_utc(issued + timedelta(hours=lead_h))
    doc: dict[str, Any] = {
        "issued_at": iso_utc(issued),
        "serial": f"SL. NO. {number} (CONSTRUCTED)",
        "system": {"type": "depression", "lat": 18.0, "lon": 89.5, "in_bay_of_bengal": True},
        "landfall": {"lat": 21.8, "lon": 89.6, "time": valid},
        "model_winds": [
            {"model": m, "max_wind_kmh": wind_kmh, "averaging_minutes": 3, "valid_time": valid}
            for m in MODELS
        ],
    }
    return json.dumps(doc)


def write_site(folder: Path, drop: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        '[app]\ndata_dir = "data"\nlog_level = "WARNING"\n\n[dashboard]\ntiles = ""\n\n'
        f"[feeds.bmd]\ninterval_minutes = 10\nmax_age_hours = 12\ndrop_folder = '{drop}'\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def season(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The source store: six bulletins ingested and judged at their fetch times."""
    root = tmp_path_factory.mktemp("season")
    drop = root / "bulletins"
    drop.mkdir()
    config = write_site(root / "site", drop)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("AGAM_DATA_DIR", raising=False)
        mp.delenv("AGAM_DATABASE_URL", raising=False)
        clock = SteppedClock(SEASON[0][0])
        # fetched_at must be scenario time, whether the feed or ingest stamps it.
        mp.setattr("hazard_feeds.bmd.utc_now", clock)
        ctx = AppContext(load_settings(config), clock=clock)
        ctx.prepare()
        outcomes = []
        for number, (fetched, wind, lead) in enumerate(SEASON, 1):
            for old in drop.iterdir():
                old.unlink()
            path = drop / f"bulletin-{number:02d}.json"
            path.write_text(constructed_bulletin(number, fetched - timedelta(hours=1), wind, lead))
            os.utime(path, (fetched.timestamp(), fetched.timestamp()))
            clock.now = fetched
            outcome = ingest(ctx, "bmd")
            after_feed_run(ctx, outcome)
            outcomes.append(outcome)
        yield SimpleNamespace(ctx=ctx, config=config, root=root, outcomes=outcomes)
        ctx.store.dispose()
