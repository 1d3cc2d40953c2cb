"""Every page, in English and Bangla, for each role, on the demo, screenshotted for review:
test-artifacts/screenshots/<role>/<lang>-<page>.png. Chromium runs without any system font
that writes Bengali (browser_env), so Bangla on these pages comes from the web font the
dashboard serves. Each page must render its header, in Bengali script for Bangla, and no
error."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from dashboard.nav import ROLE_PAGES

from .conftest import ARTIFACTS, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = ARTIFACTS / "screenshots"
DEMO_USERS = {
    "committee": "committee.demo",
    "officer": "officer.kurigram",
    "district_admin": "dc.kurigram",
    "admin": "admin.demo",
}
BENGALI = re.compile(r"[\u0980-\u09ff]")
MAP_FRAME = 'iframe[title="dashboard.map_widget.agam_map"]'


def _settle(page: Any, key: str, wait_for_app: Any) -> None:
    wait_for_app(page)
    if key == "map":
        page.frame_locator(MAP_FRAME).locator("#map[data-ready='1']").wait_for(timeout=120_000)
    if key == "stations":
        page.wait_for_function(
            "document.querySelectorAll('[data-testid=stVegaLiteChart] canvas,"
            " [data-testid=stVegaLiteChart] svg').length >= 5",
            timeout=120_000,
        )
    time.sleep(1.5)  # fonts and charts finish drawing


def _full_page(page: Any, path: Any) -> None:
    """Streamlit scrolls inside its main block: grow the window to the content, then shoot."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=stMain]');"
        " return m ? m.scrollHeight : 1000 }"
    )
    page.set_viewport_size({"width": 1400, "height": min(max(int(height), 900), 8000)})
    time.sleep(0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1400, "height": 900})


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_screenshot_every_page_in_both_languages(
    page: Any, demo_site: Any, wait_for_app: Any, role: str
) -> None:
    url, passwords, _ = demo_site
    username = DEMO_USERS[role]
    sign_in_as(page, url, username, passwords[username], wait_for_app)
    for lang in ("en", "bn"):
        if lang == "bn":
            page.get_by_text("বাংলা").first.click()
            wait_for_app(page)
        for key in ROLE_PAGES[role]:
            href = f"{url}/" if key == ROLE_PAGES[role][0] else f"{url}/{key}"
            page.locator(f"a[href='{href}']").first.click()
            _settle(page, key, wait_for_app)
            header = page.locator("[data-testid='stHeading'] h2").first.inner_text()
            assert header.strip(), (role, lang, key)
            if lang == "bn":
                assert BENGALI.search(header), (role, key, header)
            assert page.locator("[data-testid='stException']").count() == 0, (role, lang, key)
            _full_page(page, SHOTS / role / f"{lang}-{key}.png")
