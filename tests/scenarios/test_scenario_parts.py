"""Scenario building blocks: the ATCF b-deck reader, the time-aware upstream server with
conditional GET, the GloFAS mirror fetch, and clear errors for bad scenario input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from agam.core.errors import ConfigError, FeedError, NotFound
from agam.core.timeutil import SteppedClock
from agam.scenarios import cyclone
from agam.scenarios.manifest import Manifest
from agam.scenarios.server import serving
from agam.scenarios.spec import DATA, load_scenario, scenario_names
from hazard_feeds.atcf import read_bdeck
from hazard_feeds.glofas import GlofasConfig, GlofasFeed
from hazard_feeds.http import HttpClient, HttpSettings

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def test_bdeck_is_read_one_fix_per_time() -> None:
    fixes = read_bdeck(DATA / "tracks" / "AMPHAN_2020__bio012020.dat")
    assert len(fixes) == 25  # 6-hourly, 15 May 06Z - 21 May 06Z; radii rows folded
    peak = max(fixes, key=lambda f: f.max_wind_kt)
    assert (peak.time, peak.max_wind_kt, peak.lat, peak.lon) == (
        datetime(2020, 5, 18, 12, tzinfo=UTC),
        145,
        14.1,
        86.4,
    )
    land = cyclone.landfall(fixes, 21.65)
    assert datetime(2020, 5, 20, 9, tzinfo=UTC) < land.time < datetime(2020, 5, 20, 11, tzinfo=UTC)
    assert land.max_wind_kt == 95


def test_bdeck_errors_name_file_line_and_field(tmp_path: Path) -> None:
    good = (DATA / "tracks" / "AMPHAN_2020__bio012020.dat").read_text().splitlines()
    bad = tmp_path / "bio012020.dat"
    bad.write_text("\n".join([good[0], good[1].replace(" 95N", " 9XN")]), encoding="ascii")
    with pytest.raises(FeedError, match=r"bio012020.dat line 2: field Lat: '9XN'"):
        read_bdeck(bad)
    bad.write_text(good[0].replace("2020051506", "2020133106"), encoding="ascii")
    with pytest.raises(FeedError, match=r"line 1: field YYYYMMDDHH"):
        read_bdeck(bad)


def test_a_time_whose_rows_disagree_is_refused_and_every_row_is_checked(tmp_path: Path) -> None:
    good = (DATA / "tracks" / "AMPHAN_2020__bio012020.dat").read_text().splitlines()
    first = good[0].split(",")
    bad = tmp_path / "bio012020.dat"
    stronger = ",".join([*first[:8], " 145", *first[9:]])  # the same time, another VMAX
    bad.write_text("\n".join([good[0], stronger, *good[1:]]), encoding="ascii")
    with pytest.raises(FeedError, match=r"line 2: the fix of 2020051506 differs from line 1's"):
        read_bdeck(bad)
    unreadable = ",".join([*first[:9], " 9X9", *first[10:]])  # a radii row, bad MSLP
    bad.write_text("\n".join([good[0], unreadable]), encoding="ascii")
    with pytest.raises(FeedError, match=r"line 2: field MSLP"):
        read_bdeck(bad)


def test_server_answers_as_upstream_did_at_scenario_time(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path, "t", "SYNTHETIC test")
    manifest.publish("/a/b/", T0, "a/1.json", b"[1]", "application/json")
    manifest.publish("/a/b/", T0 + timedelta(hours=6), "a/2.json", b"[2]", "application/json")
    manifest.save()
    loaded = Manifest.load(tmp_path)
    clock = SteppedClock(T0 - timedelta(minutes=1))
    with serving(loaded, clock) as base:
        assert requests.get(f"{base}/a/b/", timeout=5).status_code == 404  # not yet published
        clock.now = T0 + timedelta(hours=1)
        first = requests.get(f"{base}/a/b/", timeout=5)
        assert first.json() == [1]
        assert first.headers["X-Agam-Scenario"] == "SYNTHETIC test"  # every answer says so
        same = requests.get(
            f"{base}/a/b/", headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
        assert same.status_code == 304
        clock.now = T0 + timedelta(hours=7)
        newer = requests.get(
            f"{base}/a/b/", headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
        assert (newer.status_code, newer.json()) == (200, [2])
        assert newer.headers["Last-Modified"] == "Mon, 01 Jun 2026 06:00:00 GMT"


def test_glofas_mirror_is_fetched_for_the_clocks_day(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path, "t", "SYNTHETIC test")
    manifest.publish("/glofas/glofas_20260601.nc", T0, "g/1.nc", b"CDF-one", "application/x-netcdf")
    clock = SteppedClock(T0 + timedelta(hours=9))
    with serving(manifest, clock) as base:
        feed = GlofasFeed(
            GlofasConfig(enabled=False, mirror_url=base + "/glofas/glofas_{date:%Y%m%d}.nc")
        )
        feed.clock = clock
        http = HttpClient(HttpSettings(retries=0))
        raw = feed.fetch(http, None)
        assert raw.content == b"CDF-one"
        assert raw.etag
        assert feed.fetch(http, raw).not_modified  # conditional GET on the next run
        clock.now += timedelta(days=1)  # no run for 2 Jun on the mirror: a clear failure
        with pytest.raises(FeedError, match="404"):
            feed.fetch(http, None)
    file_feed = GlofasFeed(
        GlofasConfig(enabled=False, mirror_url=f"file://{tmp_path}/g/{{date:%d}}.nc")
    )
    (tmp_path / "g" / "01.nc").write_bytes(b"CDF-file")
    file_feed.clock = SteppedClock(T0)
    assert file_feed.fetch(None, None).content == b"CDF-file"


def test_scenario_choice_and_spec_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert scenario_names("both") == ["flood", "cyclone"]
    with pytest.raises(ConfigError, match="flood, cyclone or both"):
        scenario_names("earthquake")
    with pytest.raises(NotFound):
        load_scenario("earthquake")
    broken = tmp_path / "flood_jamuna.toml"
    text = (
        (DATA / "flood_jamuna.toml").read_text().replace("schema_version = 1", "schema_version = 9")
    )
    broken.write_text(text, encoding="utf-8")
    monkeypatch.setattr("agam.scenarios.spec.DATA", tmp_path)
    with pytest.raises(ConfigError, match=r"flood_jamuna.toml: \[schema_version\]"):
        load_scenario("flood")


def test_rendered_gdacs_episode_has_the_real_semantics() -> None:
    """The scenario's GDACS files mean what real ones mean (tests/feeds/test_gdacs_real.py):
    issued at the advisory, segment flags at their end points, swaths for the whole track."""
    from agam.scenarios.gdacs_render import Episode, episode_geometry
    from hazard_feeds.contract import RawArtifact
    from hazard_feeds.gdacs import GdacsConfig, GdacsFeed

    spec = load_scenario("cyclone")
    track = cyclone.shifted_track(cyclone.TrackPart.model_validate(spec.extra["track"]))
    part = cyclone.GdacsPart.model_validate(spec.extra["gdacs"])
    at = datetime(2026, 5, 19, 6, tzinfo=UTC)  # a synoptic time between best-track fixes
    ep = Episode(track, at, 12, part, "AMPHAN", "SYNTHETIC", cyclone.at_time)
    body = episode_geometry(ep)
    raw = RawArtifact("gdacs", "file://x", body, "0" * 64, at + timedelta(hours=9))
    out = GdacsFeed(GdacsConfig(interval_minutes=30)).to_json(
        GdacsFeed(GdacsConfig(interval_minutes=30)).parse(raw)
    )
    assert out["issued_at"] == "2026-05-19T06:00:00Z"  # the advisory, not datemodified
    flags = {p["valid_time"]: p["forecast"] for p in out["track"]}
    assert flags["2026-05-19T06:00:00Z"] is False  # the advisory position is observed
    assert flags["2026-05-19T12:00:00Z"] is True  # the next one is a forecast
    assert [t for t, f in flags.items() if f] == sorted(t for t in flags if t > out["issued_at"])
    kinds = {b["kind"] for b in out["wind_bands"]}
    assert kinds == {"wind_band", "wind_swath"}
    swaths = [b for b in out["wind_bands"] if b["kind"] == "wind_swath"]
    assert {b["valid_to"] for b in swaths} == {out["track"][-1]["valid_time"]}
