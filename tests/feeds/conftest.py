"""Feed fixtures: real upstream files where they exist, constructed ones labelled as such."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hazard_feeds.bundle import Part, make_bundle
from hazard_feeds.contract import RawArtifact

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
FETCHED = datetime(2020, 6, 7, 4, 0, tzinfo=UTC)


def _raw_of(feed_id: str, content: bytes, uri: str = "file://fixture") -> RawArtifact:
    return RawArtifact(feed_id, uri, content, hashlib.sha256(content).hexdigest(), FETCHED)


def _ffwc_bundle(stations_file: str = "stations-2025.json", **overrides: str) -> RawArtifact:
    folder = FEEDS / "ffwc"
    parts = [
        Part(
            "stations",
            "https://api.ffwc.gov.bd/data_load/stations-2025/?format=json",
            overrides.get("stations", (folder / stations_file).read_text()),
        ),
        Part(
            "observed",
            "https://api.ffwc.gov.bd/data_load/observed/",
            overrides.get("observed", (folder / "observed.json").read_text()),
        ),
        Part(
            "forecast-SW46.9L",
            "https://api.ffwc.gov.bd/data_load/seven-days-forecast-waterlevel-by-station/46/",
            overrides.get("forecast", (folder / "forecast-SW46.9L.json").read_text()),
        ),
    ]
    return make_bundle("ffwc", parts, FETCHED)


@pytest.fixture
def gdacs_geometry() -> bytes:
    return (FEEDS / "gdacs" / "geometry-TC.json").read_bytes()


@pytest.fixture
def gdacs_eventlist() -> dict[str, object]:
    return json.loads((FEEDS / "gdacs" / "eventlist-TC.json").read_text())


@pytest.fixture
def raw_of() -> Callable[..., RawArtifact]:
    return _raw_of


@pytest.fixture
def ffwc_bundle() -> Callable[..., RawArtifact]:
    return _ffwc_bundle


@pytest.fixture
def feeds_dir() -> Path:
    return FEEDS
