"""An address the menu does not have (a typo, an old bookmark, another role's page) is
answered in the dashboard's language, never by Streamlit's English "Page not found" box;
signed out, any address is the sign-in, and a bookmarked page opens once signed in."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.i18n import t

from .conftest import ARTIFACTS, PASSWORD

pytestmark = pytest.mark.browser


def _no_streamlit_box(page: Any) -> None:
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("dialog").count() == 0


def _sign_in_here(page: Any, username: str, wait_for_app: Any) -> None:
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {username}").wait_for(timeout=60_000)
    wait_for_app(page)


def test_signed_out_any_address_signs_in_and_a_bookmark_opens_after(
    page: Any, dashboard_url: str, wait_for_app: Any
) -> None:
    for address in ("signin", "no-such-page", "alerts"):
        page.goto(f"{dashboard_url}/{address}")
        wait_for_app(page)
        page.get_by_role("heading", name=t("signin_header", "en")).wait_for(timeout=30_000)
        _no_streamlit_box(page)
    _sign_in_here(page, "officer.kurigram", wait_for_app)  # still at /alerts
    assert page.url.endswith("/alerts")
    page.get_by_role("heading", name=t("nav_alerts", "en")).first.wait_for(timeout=30_000)
    _no_streamlit_box(page)


def test_signed_in_an_unknown_or_forbidden_address_says_so_in_bangla(
    page: Any, dashboard_url: str, wait_for_app: Any, sign_in: Any
) -> None:
    sign_in(page, dashboard_url, "committee.member")
    page.get_by_text("বাংলা", exact=True).click()
    page.get_by_role("heading", name=t("nav_overview", "bn")).wait_for(timeout=30_000)
    wait_for_app(page)
    for address in ("no-such-page", "stations", "admin"):  # the committee has neither page
        page.goto(f"{dashboard_url}/{address}")
        wait_for_app(page)
        page.get_by_role("heading", name=t("page_unknown_header", "bn")).wait_for(timeout=30_000)
        assert page.get_by_text(t("page_unknown_body", "bn")).count() == 1
        _no_streamlit_box(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "unknown-page-bn.png"))
    page.get_by_text(t("page_unknown_home", "bn")).click()
    page.get_by_role("heading", name=t("nav_overview", "bn")).wait_for(timeout=30_000)
    wait_for_app(page)
    assert page.get_by_role("heading", name=t("page_unknown_header", "bn")).count() == 0
    # the first page is served at the root; its own name opens it too
    page.goto(f"{dashboard_url}/overview")
    wait_for_app(page)
    page.get_by_role("heading", name=t("nav_overview", "bn")).wait_for(timeout=30_000)
    assert page.get_by_role("heading", name=t("page_unknown_header", "bn")).count() == 0
    _no_streamlit_box(page)
