"""Feed fixtures: real upstream files where they exist, constructed ones labelled as such."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agam.core.settings import load_settings
from agam.core.timeutil import SteppedClock
from agam.pipeline.context import AppContext
from hazard_feeds.bundle import Part, make_bundle
from hazard_feeds.contract import RawArtifact
from hazard_feeds.http import HttpClient, HttpSettings

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


def truncating_server(body: bytes, attempts: int = 8) -> tuple[int, threading.Event]:
    """A raw socket server announcing the whole body, sending a third, then closing."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(10)
    done = threading.Event()

    def serve() -> None:
        try:
            for _ in range(attempts):  # the client may retry; answer each attempt the same way
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                        + body[: len(body) // 3]
                    )
                if done.is_set():
                    return
        finally:
            sock.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(sock.getsockname()[1]), done


def fast_settings(**overrides: Any) -> HttpSettings:
    """Retries without waiting and short timeouts, so failure tests stay fast."""
    values: dict[str, Any] = {
        "connect_timeout_s": 2.0,
        "read_timeout_s": 0.5,
        "total_deadline_s": 20.0,
        "retries": 2,
        "backoff_factor_s": 0.0,
    }
    return HttpSettings(**(values | overrides))


@pytest.fixture
def http() -> Iterator[HttpClient]:
    client = HttpClient(fast_settings())
    yield client
    client.close()


@pytest.fixture
def truncating() -> Callable[..., tuple[int, threading.Event]]:
    return truncating_server


@pytest.fixture
def settings_for_tests() -> Callable[..., HttpSettings]:
    return fast_settings


BMD_JUDGED_AT = datetime(2026, 5, 20, 6, 0, tzinfo=UTC)  # the clock of `bmd_site`


@pytest.fixture
def bmd_site(
    config_path: Path, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[AppContext, Path]]:
    """A store (SQLite or PostgreSQL) whose bmd feed reads a drop folder, on a stepped clock
    set to BMD_JUDGED_AT."""
    drop = tmp_path / "bulletins"
    drop.mkdir()
    section = f"[feeds.bmd]\ninterval_minutes = 10\nmax_age_hours = 12\ndrop_folder = '{drop}'\n"
    ctx = site_context(config_path, database_url, monkeypatch, section, BMD_JUDGED_AT)
    yield ctx, drop
    ctx.store.dispose()


def site_context(
    config_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    feed_section: str,
    now: datetime,
) -> AppContext:
    """A migrated store (SQLite or PostgreSQL) with `feed_section` added to the config, on a
    stepped clock set to `now`; the caller disposes of its store."""
    monkeypatch.setenv("AGAM_DATABASE_URL", database_url)
    config_path.write_text(config_path.read_text() + "\n" + feed_section, encoding="utf-8")
    ctx = AppContext(load_settings(config_path), clock=SteppedClock(now))
    ctx.store.upgrade()
    return ctx


def drop_bulletin(drop: Path, name: str, text: str, mtime: int) -> None:
    """Put a bulletin in the drop folder as its newest file (the one the feed reads)."""
    path = drop / name
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
