"""Stations page: the GloFAS fan from a stored forecast (the flood demo's thresholds, 50 %
line and FFWC crossing: tests/scenarios/test_stations_demo.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from agam.core.settings import load_settings
from agam.pipeline.context import AppContext
from agam.pipeline.ingest import ingest

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def test_stations_page_shows_the_plume(
    view: Callable[..., AppTest], config_path: Path, tmp_path: Path
) -> None:
    empty = view("stations.py", "officer")
    assert not empty.exception, empty.exception
    assert empty.info  # nothing stored yet: says so
    raster_like = tmp_path / "glofas.nc"
    shutil.copy(FEEDS / "glofas" / "glofas_fc_20200625.nc", raster_like)
    config_path.write_text(
        config_path.read_text() + ("\n[feeds.glofas]\ninterval_minutes = 60\nmax_age_hours = 36\n"),
        encoding="utf-8",
    )
    ctx = AppContext(load_settings(config_path))
    ctx.store.upgrade()
    feed = ctx.feed("glofas")
    from hazard_feeds.registry import raw_from_file

    raw = raw_from_file("glofas", raster_like)
    feed.fetch = lambda http, since: raw  # the EWDS request itself is not under test here
    # Goalundo, Mawa and Hardinge Bridge lie outside the fixture's small grid: a partial run.
    assert ingest(ctx, "glofas").outcome == "partial"
    at = view("stations.py", "district_admin")
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "51 ensemble members" in captions
    # a June 2020 forecast: no rule set in force then reads it (the 2025 frameworks start
    # on 25 Apr 2025), so the fan is drawn for context, without a trigger threshold
    assert "No trigger rule reads Bahadurabad" in captions
    assert at.selectbox(key="glofas_station").value == "Bahadurabad"
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1  # the fan (no exceedance without a rule; no FFWC stored)
    spec = charts[0].proto.spec  # type: ignore[attr-defined]
    assert '"q10"' in spec
    assert '"q90"' in spec
    assert '"median"' in spec
    assert '"m0"' not in spec  # no longer one line per member


def test_stations_page_reads_the_configured_rule_sets(
    view: Callable[..., AppTest], config_path: Path, tmp_path: Path
) -> None:
    """A site's own rule-set version (config [triggers] rule_set_files) is what the page
    shows, as the engine uses it; not the shipped file."""
    from triggers.engine import builtin_rule_set_dir

    shipped = (builtin_rule_set_dir() / "ocha_cerf_flood_2025.toml").read_text(encoding="utf-8")
    draft = tmp_path / "flood_site.toml"
    draft.write_text(
        shipped.replace('version = "2025.2"', 'version = "2099.1"')
        # in force on the fixture's issue day (June 2020), as the page judges a forecast
        .replace("effective_from = 2025-04-25", "effective_from = 2020-01-01")
        .replace("effective_to = 2026-12-31\n", "")
        .replace('threshold_ref = "bahadurabad_rp5"', 'threshold_ref = "bahadurabad_site"')
        + """
[thresholds.bahadurabad_site]
station = "Bahadurabad"
variable = "discharge_m3s"
value = 90000
method = "a site's own recomputation (test)"
source = "test"
provisional = true
""",
        encoding="utf-8",
    )
    glofas = tmp_path / "glofas.nc"
    shutil.copy(FEEDS / "glofas" / "glofas_fc_20200625.nc", glofas)
    config_path.write_text(
        config_path.read_text()
        + "\n[feeds.glofas]\ninterval_minutes = 60\nmax_age_hours = 36\n"
        + f"\n[triggers]\nrule_set_files = [{str(draft)!r}]\n",
        encoding="utf-8",
    )
    ctx = AppContext(load_settings(config_path))
    ctx.store.upgrade()
    from hazard_feeds.registry import raw_from_file

    raw = raw_from_file("glofas", glofas)
    ctx.feed("glofas").fetch = lambda http, since: raw
    assert ingest(ctx, "glofas").outcome == "partial"  # three stations off the fixture's grid
    at = view("stations.py", "district_admin")
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "90,000" in captions
    assert "100,000" not in captions
