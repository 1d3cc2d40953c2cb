"""What the Map page costs a district office's connection, measured in Chromium through the
DevTools protocol on the demo: the bytes of every HTTP response (as transferred, compressed)
and of every websocket frame (payload as delivered, so an upper bound when the socket is
compressed). Budgets: 1 MB for the first Map view, 200 KB for a district pick. No times are
asserted; the ones measured are printed."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from .conftest import sign_in_as

pytestmark = pytest.mark.browser
MAP_FRAME = 'iframe[title="dashboard.map_widget.agam_map"]'
FIRST_VIEW_BUDGET = 1_000_000
DISTRICT_PICK_BUDGET = 200_000


class Meter:
    def __init__(self, cdp: Any) -> None:
        self.http = self.ws = 0
        self.last = time.monotonic()
        self.urls: dict[str, str] = {}
        self.sizes: list[tuple[int, str]] = []
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.webSocketFrameReceived", self._frame)

    def _request(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.last = time.monotonic()
        size = int(event["encodedDataLength"])
        self.http += size
        self.sizes.append((size, self.urls.get(event["requestId"], "?")))

    def _frame(self, event: dict[str, Any]) -> None:
        payload = event["response"]["payloadData"]
        binary = event["response"]["opcode"] == 2
        self.ws += len(base64.b64decode(payload)) if binary else len(payload.encode())

    def settle(self, page: Any, quiet_s: float = 3.0, limit_s: float = 60.0) -> None:
        """Wait until no HTTP response has finished for quiet_s (lazy scripts, fonts)."""
        self.last = time.monotonic()
        deadline = self.last + limit_s
        while time.monotonic() < deadline and time.monotonic() - self.last < quiet_s:
            page.wait_for_timeout(250)  # lets Playwright deliver the DevTools events

    def reset(self) -> None:
        self.http = self.ws = 0
        self.sizes = []

    @property
    def total(self) -> int:
        return self.http + self.ws


def test_map_view_and_district_pick_stay_within_budget(
    page: Any, demo_site: Any, wait_for_app: Any
) -> None:
    url, passwords, _ = demo_site
    meter = Meter(page.context.new_cdp_session(page))
    sign_in_as(page, url, "dc.kurigram", passwords["dc.kurigram"], wait_for_app)
    meter.settle(page)  # the Overview's own scripts and fonts are done
    meter.reset()
    started = time.monotonic()
    page.get_by_role("link", name="Map").click()
    frame = page.frame_locator(MAP_FRAME)
    frame.locator("#map[data-ready='1']").wait_for(timeout=120_000)
    drawn = time.monotonic() - started
    wait_for_app(page)
    meter.settle(page)  # late responses (fonts, lazy scripts) are counted too
    first = meter.total
    geometry = [s for s, u in meter.sizes if u.endswith("/national.json")]
    print(f"first Map view: {first:,} bytes (HTTP {meter.http:,}, websocket {meter.ws:,});"
          f" polygons drawn {drawn:.1f} s after the click")  # fmt: skip
    assert geometry, "the union geometry was not fetched: not a first view"
    assert first <= FIRST_VIEW_BUDGET, sorted(meter.sizes, reverse=True)[:10]

    meter.reset()
    page.locator("[data-testid='stSelectbox']").first.click()
    page.keyboard.type("Kurigram")
    page.keyboard.press("Enter")
    frame.locator("#map[data-focus='BD5549']").wait_for(timeout=120_000)
    wait_for_app(page)
    meter.settle(page)
    pick = meter.total
    print(f"district pick: {pick:,} bytes (HTTP {meter.http:,}, websocket {meter.ws:,})")
    assert not [u for _, u in meter.sizes if u.endswith("/national.json")]
    assert pick <= DISTRICT_PICK_BUDGET, sorted(meter.sizes, reverse=True)[:10]
