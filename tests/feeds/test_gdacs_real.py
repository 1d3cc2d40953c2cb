"""GDACS semantics on the real MOCHA-23 payloads (Bay of Bengal, May 2023): the advisory time,
segment flags at their end points, whole-track swaths, and an event list given on its own."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from agam.cli.main import app
from hazard_feeds.contract import RawArtifact
from hazard_feeds.gdacs import GdacsConfig, GdacsFeed

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "gdacs"
GEOMETRY = FOLDER / "mocha-23_geometry_ep6.json"
SEARCH = FOLDER / "search_tc_2023-05.json"
FEED = GdacsFeed(GdacsConfig(interval_minutes=30))


def _mocha(raw_of: Callable[..., RawArtifact]) -> dict:
    return FEED.to_json(FEED.parse(raw_of("gdacs", GEOMETRY.read_bytes())))


def test_issue_time_is_the_advisory_not_the_record_edit(
    raw_of: Callable[..., RawArtifact],
) -> None:
    out = _mocha(raw_of)
    assert (out["name"], out["event_id"], out["episode_id"]) == ("MOCHA-23", 1000970, 6)
    # polygondate 2023-05-12T06:00; datemodified (2023-06-13T17:03:10) is a later edit.
    assert out["issued_at"] == "2023-05-12T06:00:00Z"


def test_six_observed_and_five_forecast_points(raw_of: Callable[..., RawArtifact]) -> None:
    track = _mocha(raw_of)["track"]
    observed = [p["valid_time"] for p in track if not p["forecast"]]
    ahead = [p["valid_time"] for p in track if p["forecast"]]
    assert observed == [
        "2023-05-11T00:00:00Z",
        "2023-05-11T06:00:00Z",
        "2023-05-11T12:00:00Z",
        "2023-05-11T18:00:00Z",
        "2023-05-12T00:00:00Z",
        "2023-05-12T06:00:00Z",  # the advisory position is observed, not a forecast
    ]
    assert ahead == [
        "2023-05-12T18:00:00Z",
        "2023-05-13T06:00:00Z",
        "2023-05-13T18:00:00Z",
        "2023-05-14T06:00:00Z",
        "2023-05-15T06:00:00Z",  # the last forecast point is a forecast, not observed
    ]


def test_category_is_the_segment_end_point(raw_of: Callable[..., RawArtifact]) -> None:
    by_time = {p["valid_time"][5:16]: p for p in _mocha(raw_of)["track"]}
    assert by_time["05-11T00:00"]["category"] is None  # no segment ends at the first point
    assert by_time["05-11T06:00"]["category"] == "TS"  # 11.1 N -> 11.4 N is listed last
    assert by_time["05-12T00:00"]["category"] == "HU"
    assert (by_time["05-12T06:00"]["lat"], by_time["05-12T06:00"]["lon"]) == (14.0, 88.3)
    assert by_time["05-15T06:00"]["category"] == "TD"  # inland over Myanmar / China


def test_archived_bands_are_whole_track_swaths(raw_of: Callable[..., RawArtifact]) -> None:
    out = _mocha(raw_of)
    swaths = {b["wind_kmh"]: b for b in out["wind_bands"]}
    assert sorted(swaths) == [60.0, 90.0, 120.0]
    assert len(out["wind_bands"]) == 3  # one per colour, not one per timestep
    for band in swaths.values():
        assert band["kind"] == "wind_swath"
        assert band["valid_time"] == "2023-05-12T06:00:00Z"  # from the advisory ...
        assert band["valid_to"] == "2023-05-15T06:00:00Z"  # ... to the last forecast time


def test_event_list_takes_only_the_bay_of_bengal_event(
    raw_of: Callable[..., RawArtifact],
) -> None:
    forecast = FEED.parse(raw_of("gdacs", SEARCH.read_bytes()))
    events = forecast.payload["events"]
    assert [e["name"] for e in events] == ["MOCHA-23"]  # not MAWAR-23, not FABIEN-23
    assert (events[0]["event_id"], events[0]["episode_id"]) == (1000970, 15)
    assert forecast.payload["track"] == []  # an event list has no geometry: none invented
    assert len(forecast.footprints) == 0
    # Its latest advisory (todate), not the record's edit of 2023-06-13.
    assert forecast.issued_at.isoformat() == "2023-05-14T12:00:00+00:00"
    assert any("fetch polygons/getgeometry" in q.message for q in forecast.quality)


def test_event_list_from_the_command_line(config_path: Path) -> None:
    result = CliRunner().invoke(app, ["feeds", "parse", "gdacs", str(SEARCH), "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["name"] == "MOCHA-23"
    assert [e["name"] for e in out["events"]] == ["MOCHA-23"]
    assert out["track"] == []


def test_a_geometry_without_an_advisory_time_is_refused(
    raw_of: Callable[..., RawArtifact],
) -> None:
    import pytest

    from agam.core.errors import FeedError

    doc = json.loads(GEOMETRY.read_text())
    for feature in doc["features"]:
        feature["properties"].pop("polygondate", None)
    with pytest.raises(FeedError, match="no advisory time"):
        FEED.parse(raw_of("gdacs", json.dumps(doc).encode()))
