"""The national map in a real browser: drawn offline from Agam's own files (Leaflet, the
cached union TopoJSON, the Natural Earth basemap), with Bangla hover labels."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser
MAP_FRAME = 'iframe[title="dashboard.map_widget.agam_map"]'


def test_national_map_draws_offline_with_hover(
    page: Any, dashboard_url: str, wait_for_app: Any, sign_in: Any
) -> None:
    outside: list[str] = []

    def block_outside(route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", block_outside)
    sign_in(page, dashboard_url, "officer.kurigram")
    page.get_by_text("বাংলা").first.click()
    wait_for_app(page)
    page.get_by_role("link", name="মানচিত্র").click()
    wait_for_app(page)
    frame = page.frame_locator(MAP_FRAME)
    container = frame.locator("#map[data-ready='1']")
    container.wait_for(timeout=60_000)
    assert container.get_attribute("data-unions") == "5160"
    credit = frame.locator(".leaflet-control-attribution").inner_text()
    assert "সীমানা: বিবিএস ২০২০" in credit, credit  # the shipped layers' credit, in Bangla
    box = container.bounding_box()
    assert box is not None
    assert box["height"] > 300
    # Hover a union in the middle of the country: union / upazila / district, in Bangla.
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45)
    page.mouse.move(box["x"] + box["width"] * 0.5 + 3, box["y"] + box["height"] * 0.45 + 3)
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.first.wait_for(timeout=15_000)
    text = tooltip.first.inner_text()
    for label in ("ইউনিয়ন", "উপজেলা", "জেলা"):
        assert label in text, text
    # A click on a union shows its details below the map (names from the layer, in Bangla).
    page.mouse.click(box["x"] + box["width"] * 0.5 + 3, box["y"] + box["height"] * 0.45 + 3)
    page.get_by_text("ইউনিয়নের বিবরণ").wait_for(timeout=30_000)
    assert not outside, outside  # nothing was fetched from the internet
    assert page.get_by_text("bgd_adm_bbs_20201113", exact=False).count() >= 1
