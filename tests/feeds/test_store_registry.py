"""The raw-artifact folder (atomic, by hash, verified) and the feed registry."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from agam.core.errors import ConfigError, FeedError, StoreError
from hazard_feeds.contract import RawArtifact
from hazard_feeds.registry import build_feed, feed_names, parse_file, parse_file_forecast
from store.raw_artifacts import RawArtifactStore

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def test_store_once_by_hash_and_read_back(
    tmp_path: Path, raw_of: Callable[..., RawArtifact]
) -> None:
    store = RawArtifactStore(tmp_path)
    raw = RawArtifact(
        "gdacs",
        "https://gdacs/api/list?key=x",
        b'{"a": 1}',
        hashlib.sha256(b'{"a": 1}').hexdigest(),
        raw_of("gdacs", b"").fetched_at,
        content_type="application/json; charset=utf-8",
        etag='"v1"',
        parts={"geometry": b"{}"},
    )
    first = store.put(raw)
    assert not first.already_stored
    assert first.path == tmp_path / "gdacs" / raw.sha256[:2] / f"{raw.sha256}.json"
    again = store.put(raw)
    assert again.already_stored
    assert again.path == first.path
    assert not list(first.path.parent.glob(".*.part"))  # no temp files left behind
    back = store.get("gdacs", raw.sha256)
    assert (back.content, back.etag, back.parts) == (raw.content, '"v1"', {"geometry": b"{}"})
    assert back.fetched_at == raw.fetched_at
    assert store.exists("gdacs", raw.sha256)


def test_store_detects_corruption_and_bad_input(
    tmp_path: Path, raw_of: Callable[..., RawArtifact]
) -> None:
    store = RawArtifactStore(tmp_path)
    raw = raw_of("ffwc", b"[1, 2, 3]")
    path = store.put(raw).path
    path.chmod(0o644)
    path.write_bytes(b"[1, 2, 4]")
    with pytest.raises(StoreError, match="checksum mismatch"):
        store.get("ffwc", raw.sha256)
    with pytest.raises(StoreError, match="no raw artifact"):
        store.get("ffwc", "0" * 64)
    with pytest.raises(StoreError, match="does not match its sha256"):
        store.put(RawArtifact("ffwc", "u", b"x", "0" * 64, raw.fetched_at))
    with pytest.raises(StoreError, match="invalid feed id"):
        store.get("../etc", "0" * 64)
    with pytest.raises(StoreError, match="invalid sha256"):
        store.get("ffwc", "../../x")


def test_registry_names() -> None:
    assert feed_names() == ["bmd", "ffwc", "ffwc_logsheet", "gdacs", "glofas", "raster"]


@pytest.mark.parametrize(
    ("name", "table", "key"),
    [
        ("gdacs", {"interval_minutes": 30, "max_events": 0}, "feeds.gdacs.max_events"),
        ("ffwc", {"interval_minutes": 30, "bogus": 1}, "feeds.ffwc.bogus"),
        ("gdacs", {"enabled": True}, "feeds.gdacs"),  # no schedule
        (
            "glofas",
            {"cron": "0 9 * * *", "points": {"X": [2.3, 48.8]}},
            "feeds.glofas.points",
        ),
        ("glofas", {"cron": "0 9 * * *", "data_format": "zarr"}, "feeds.glofas.data_format"),
    ],
)
def test_config_errors_name_the_key(name: str, table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_feed(name, table)
    assert f"[{key}" in str(caught.value)


def test_unknown_feed() -> None:
    with pytest.raises(FeedError, match="unknown feed 'nosuch'"):
        build_feed("nosuch", {})


def test_absent_table_still_parses_offline() -> None:
    forecast, feed = parse_file("gdacs", FEEDS / "gdacs" / "geometry-TC.json", None)
    assert feed.to_json(forecast)["name"] == "GENEVIEVE-26"
    forecast = parse_file_forecast("glofas", FEEDS / "glofas" / "glofas_fc_20200625.nc", {})
    assert forecast.data.sizes["member"] == 51
