"""The national map in a real browser: Leaflet from our own server, unions drawn, hover labels."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


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
    nav = page.get_by_role("link", name="Map")
    if nav.count():
        nav.first.click()
        wait_for_app(page)
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    container = frame.locator(".leaflet-container")
    container.wait_for(timeout=60_000)
    box = container.bounding_box()
    assert box is not None
    assert box["height"] > 300
    # Unions are drawn (canvas renderer) and a hover shows union / upazila / district.
    frame.locator("canvas.leaflet-zoom-animated").first.wait_for(timeout=30_000)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45)
    page.mouse.move(box["x"] + box["width"] * 0.5 + 3, box["y"] + box["height"] * 0.45 + 3)
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.first.wait_for(timeout=15_000)
    text = tooltip.first.inner_text()
    assert "Union" in text
    assert "Upazila" in text
    assert "District" in text
    assert not [u for u in outside if "leaflet" in u], outside
    assert page.get_by_text("bgd_adm_bbs_20201113", exact=False).count() >= 1
