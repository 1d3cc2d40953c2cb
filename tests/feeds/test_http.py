"""HttpClient and feed fetches against a real local HTTP server (pytest-httpserver).

Every failure mode ends in FeedError (or not_modified) with a message naming what went wrong
and a URL whose secrets are redacted. No test asserts wall-clock durations.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses as responses_lib
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agam.core.errors import FeedError
from hazard_feeds.contract import RawArtifact
from hazard_feeds.ffwc import FfwcConfig, FfwcFeed
from hazard_feeds.gdacs import GdacsConfig, GdacsFeed
from hazard_feeds.http import HttpClient, redact

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
EVENTLIST = (FEEDS / "gdacs" / "eventlist-TC.json").read_bytes()
GEOMETRY = (FEEDS / "gdacs" / "geometry-TC.json").read_bytes()


def _since(etag: str | None = None, last_modified: str | None = None) -> RawArtifact:
    return RawArtifact("gdacs", "", b"", "", time_now(), etag=etag, last_modified=last_modified)


def time_now() -> Any:
    from agam.core.timeutil import utc_now

    return utc_now()


def test_success_streams_sha256_and_keeps_validators(
    http: HttpClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/list", headers={"Accept": "application/json"}).respond_with_data(
        EVENTLIST,
        content_type="application/json",
        headers={"ETag": '"v1"', "Last-Modified": "Tue, 28 Jul 2026 03:23:23 GMT"},
    )
    raw = http.get(httpserver.url_for("/list"), feed_id="gdacs", accept="application/json")
    assert raw.content == EVENTLIST
    assert raw.sha256 == hashlib.sha256(EVENTLIST).hexdigest()
    assert (raw.etag, raw.last_modified) == ('"v1"', "Tue, 28 Jul 2026 03:23:23 GMT")
    assert raw.fetched_at.utcoffset() is not None
    assert not raw.not_modified
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith("Agam/")


def test_304_sends_conditional_headers(http: HttpClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/list",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Tue, 28 Jul 2026 03:23:23 GMT"},
    ).respond_with_data("", status=304)
    since = _since('"v1"', "Tue, 28 Jul 2026 03:23:23 GMT")
    raw = http.get(httpserver.url_for("/list"), feed_id="gdacs", since=since)
    assert raw.not_modified
    assert raw.content == b""
    assert raw.etag == '"v1"'


def test_429_with_retry_after_then_success(http: HttpClient, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/list").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/list").respond_with_data(b"[]", content_type="text/json")
    raw = http.get(httpserver.url_for("/list"), feed_id="gdacs")
    assert raw.content == b"[]"
    assert len(httpserver.log) == 2


def test_500_until_give_up(http: HttpClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/list").respond_with_data("boom", status=500)
    with pytest.raises(FeedError, match=r"gdacs: HTTP 500 from http://.*/list, still failing"):
        http.get(httpserver.url_for("/list"), feed_id="gdacs")
    assert len(httpserver.log) == 3  # first try + 2 retries, bounded


def test_404_is_not_retried(http: HttpClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/list").respond_with_data("no", status=404)
    with pytest.raises(FeedError, match="HTTP 404"):
        http.get(httpserver.url_for("/list"), feed_id="gdacs")
    assert len(httpserver.log) == 1


def test_read_timeout(httpserver: HTTPServer, settings_for_tests: Callable[..., Any]) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(0.6)
        return Response(b"[]", content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    client = HttpClient(settings_for_tests(read_timeout_s=0.2, retries=0))
    try:
        with pytest.raises(FeedError, match="timed out"):
            client.get(httpserver.url_for("/slow"), feed_id="ffwc")
    finally:
        client.close()


def test_truncated_body(http: HttpClient, truncating: Callable[..., Any]) -> None:
    port, done = truncating(EVENTLIST)
    try:
        with pytest.raises(FeedError, match="truncated"):
            http.get(f"http://127.0.0.1:{port}/list?token=s3cret", feed_id="gdacs")
    finally:
        done.set()


def test_size_limit_declared_and_streamed(
    httpserver: HTTPServer, settings_for_tests: Callable[..., Any]
) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)

    def chunked(_request: Request) -> Response:
        return Response((b"y" * 1000 for _ in range(5)), content_type="text/plain")

    httpserver.expect_request("/stream").respond_with_handler(chunked)
    client = HttpClient(settings_for_tests(max_bytes=2000))
    try:
        with pytest.raises(FeedError, match="5,000 bytes, over the 2,000 limit"):
            client.get(httpserver.url_for("/big"), feed_id="raster")
        with pytest.raises(FeedError, match="exceeds the 2,000-byte limit"):
            client.get(httpserver.url_for("/stream"), feed_id="raster")
    finally:
        client.close()


def test_unreachable_names_redacted_url(settings_for_tests: Callable[..., Any]) -> None:
    client = HttpClient(settings_for_tests(retries=0, connect_timeout_s=0.5))
    try:
        with pytest.raises(FeedError) as caught:
            client.get("http://127.0.0.1:9/x?key=SECRET&x=1", feed_id="glofas")
    finally:
        client.close()
    assert "SECRET" not in str(caught.value)
    assert "key=***" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://h/p?key=abc&x=1", "https://h/p?key=***&x=1"),
        ("https://h/p?x=1&api_key=abc#f", "https://h/p?x=1&api_key=***#f"),
        ("https://h/p?access_token=abc", "https://h/p?access_token=***"),
        ("https://user:pw@h/p", "https://***@h/p"),
        ("https://h/p?eventid=12", "https://h/p?eventid=12"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown


# --- whole fetches: GDACS (event list + geometry) and FFWC (station list + observed + forecast)


def _gdacs(httpserver: HTTPServer) -> GdacsFeed:
    return GdacsFeed(GdacsConfig(interval_minutes=30, base_url=httpserver.url_for("/api/")))


def _bay_eventlist() -> bytes:
    """The real event list with GENEVIEVE-26 moved into the Bay of Bengal (derived fixture)."""
    doc = json.loads(EVENTLIST)
    for feature in doc["features"]:
        if feature["properties"]["eventname"] == "GENEVIEVE-26":
            feature["geometry"]["coordinates"] = [89.5, 20.0]
            feature["properties"]["iscurrent"] = "true"
    return json.dumps(doc).encode()


def test_gdacs_fetch_bundles_list_and_geometry(http: HttpClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/events/geteventlist/EVENTS4APP").respond_with_data(
        _bay_eventlist(), content_type="application/json", headers={"ETag": '"e1"'}
    )
    httpserver.expect_request(
        "/api/polygons/getgeometry",
        query_string={"eventtype": "TC", "eventid": "1001296", "episodeid": "15"},
    ).respond_with_data(GEOMETRY, content_type="application/json")
    httpserver.expect_request("/api/polygons/getgeometry").respond_with_data(
        b'{"type": "FeatureCollection", "features": []}', content_type="application/json"
    )
    feed = _gdacs(httpserver)
    raw = feed.fetch(http, None)
    assert raw.etag == '"e1"'
    forecast = feed.parse(raw)
    assert forecast.payload["name"] == "GENEVIEVE-26"  # the current event comes first
    # The two Bay of Bengal events without geometry are reported, not silently dropped.
    assert [q.subject for q in forecast.quality if q.code == "partial"][-2:] == [
        "1001238",
        "1001232",
    ]


def test_gdacs_fetch_304(http: HttpClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/api/events/geteventlist/EVENTS4APP", headers={"If-None-Match": '"e1"'}
    ).respond_with_data("", status=304)
    raw = _gdacs(httpserver).fetch(http, _since('"e1"'))
    assert raw.not_modified


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (EVENTLIST[:-40], "gdacs: event list: not valid JSON"),
        (b'{"events": []}', "gdacs: event list has an unknown schema"),
        (b"\xff\xfe not utf-8", "not valid JSON|not UTF-8"),
    ],
)
def test_gdacs_fetch_bad_event_list(
    http: HttpClient, httpserver: HTTPServer, body: bytes, message: str
) -> None:
    httpserver.expect_request("/api/events/geteventlist/EVENTS4APP").respond_with_data(
        body, content_type="application/json"
    )
    with pytest.raises(FeedError, match=message):
        _gdacs(httpserver).fetch(http, None)


def _serve_ffwc(httpserver: HTTPServer, stations: bytes | None = None) -> None:
    folder = FEEDS / "ffwc"
    httpserver.expect_request(
        "/data_load/stations-2025/", query_string="format=json"
    ).respond_with_data(
        stations or (folder / "stations-2025.json").read_bytes(), content_type="application/json"
    )
    httpserver.expect_request("/data_load/observed/").respond_with_data(
        (folder / "observed.json").read_bytes(), content_type="application/json"
    )
    httpserver.expect_request(
        "/data_load/seven-days-forecast-waterlevel-by-station/46/"
    ).respond_with_data((folder / "forecast-SW46.9L.json").read_bytes())
    httpserver.expect_request(
        "/data_load/seven-days-forecast-waterlevel-by-station/93/"
    ).respond_with_data(b"[]")
    httpserver.expect_request(
        "/data_load/seven-days-forecast-waterlevel-by-station/95/"
    ).respond_with_data("upstream error", status=503)


def _ffwc(httpserver: HTTPServer) -> FfwcFeed:
    return FfwcFeed(FfwcConfig(interval_minutes=60, base_url=httpserver.url_for("/data_load/")))


def test_ffwc_fetch_bundles_every_response(
    httpserver: HTTPServer, settings_for_tests: Callable[..., Any]
) -> None:
    folder = FEEDS / "ffwc"
    _serve_ffwc(httpserver)
    client = HttpClient(settings_for_tests(retries=0))
    feed = FfwcFeed(
        FfwcConfig(
            interval_minutes=60,
            base_url=httpserver.url_for("/data_load/"),
            stations=(
                {"code": "SW46.9L", "name": "Bahadurabad"},
                {"code": "SW91.9R", "name": "Goalundo", "aliases": ["Goalondo"]},
            ),
        )
    )
    try:
        raw = feed.fetch(client, None)
    finally:
        client.close()
    bundle = json.loads(raw.content)
    assert [p["name"] for p in bundle["parts"]] == [
        "stations",
        "observed",
        "forecast-SW46.9L",
        "forecast-SW91.9R",
    ]
    assert bundle["parts"][2]["body"] == (folder / "forecast-SW46.9L.json").read_text()
    forecast = feed.parse(raw)
    assert forecast.data.sizes["station"] == 2
    assert [q.code for q in forecast.quality] == ["missing_timestep"]  # Goalundo: empty forecast


def test_ffwc_fetch_keeps_going_past_a_failing_station(
    httpserver: HTTPServer, settings_for_tests: Callable[..., Any]
) -> None:
    """Mawa (id 95) answers 503 after retries: Mawa becomes missing, the run is partial."""
    _serve_ffwc(httpserver)
    client = HttpClient(settings_for_tests(retries=1))
    feed = _ffwc(httpserver)
    try:
        raw = feed.fetch(client, None)
    finally:
        client.close()
    parts = {p["name"]: p for p in json.loads(raw.content)["parts"]}
    assert "HTTP 503" in parts["forecast-SW93.5L"]["error"]
    assert parts["forecast-SW93.5L"]["body"] == ""
    forecast = feed.parse(raw)
    assert list(forecast.data["station"].values) == ["SW46.9L", "SW91.9R"]
    mawa = next(q for q in forecast.quality if q.subject == "SW93.5L")
    assert mawa.code == "missing_station"
    assert "HTTP 503" in mawa.message
    assert "by-station/95/" in mawa.message


def test_ffwc_fetch_rejects_unknown_station_schema(
    http: HttpClient, httpserver: HTTPServer
) -> None:
    _serve_ffwc(httpserver, stations=b'{"detail": "Not found."}')
    with pytest.raises(FeedError, match=r"ffwc: stations-2025/\?format=json has an unknown schema"):
        _ffwc(httpserver).fetch(http, None)


@responses_lib.activate
def test_a_redirect_from_https_to_plain_http_is_refused_before_it_is_followed(
    http: HttpClient,
) -> None:
    """Anyone on the path of a plain-HTTP request could change the forecast."""
    responses_lib.get(
        "https://gdacs.example/gdacsapi/events?key=s3cret",
        status=302,
        headers={"Location": "http://gdacs.example/events?key=s3cret"},
    )
    responses_lib.get("http://gdacs.example/events", body=EVENTLIST)
    with pytest.raises(FeedError, match="redirected from HTTPS to http://") as refused:
        http.get("https://gdacs.example/gdacsapi/events?key=s3cret", feed_id="gdacs")
    assert "s3cret" not in str(refused.value)
    assert [c.request.url for c in responses_lib.calls] == [
        "https://gdacs.example/gdacsapi/events?key=s3cret"
    ]


@responses_lib.activate
def test_https_redirects_and_plain_http_feeds_are_still_followed(http: HttpClient) -> None:
    responses_lib.get(
        "https://www.gdacs.example/list", status=301, headers={"Location": "/v2/list"}
    )
    responses_lib.get(
        "https://www.gdacs.example/v2/list",
        status=302,
        headers={"Location": "https://mirror.gdacs.example/list"},
    )
    responses_lib.get("https://mirror.gdacs.example/list", body=EVENTLIST)
    raw = http.get("https://www.gdacs.example/list", feed_id="gdacs")
    assert raw.content == EVENTLIST
    assert raw.source_uri == "https://mirror.gdacs.example/list"
    responses_lib.get("http://ffwc.example/a", status=302, headers={"Location": "/b"})
    responses_lib.get("http://ffwc.example/b", body=b"{}")
    assert http.get("http://ffwc.example/a", feed_id="ffwc").content == b"{}"


@responses_lib.activate
def test_a_redirect_loop_ends_in_one_clear_error(http: HttpClient) -> None:
    for hop in range(10):
        responses_lib.get(
            f"https://loop.example/{hop}",
            status=302,
            headers={"Location": f"https://loop.example/{hop + 1}"},
        )
    with pytest.raises(FeedError, match="redirected more than 5 times"):
        http.get("https://loop.example/0", feed_id="glofas")
    assert len(responses_lib.calls) == 6
