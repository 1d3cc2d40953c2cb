"""A signed-in session survives a browser reload (a signed, expiring, revocable token in a
cookie) and ends on sign-out and when an admin disables the account, wherever the cookie is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
USER = "dmo.session"


def _session_cookie(page: Any) -> dict[str, Any]:
    page.wait_for_function("document.cookie.includes('agam_session=')", timeout=30_000)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "agam_session"]
    return cookie


def _signed_in(page: Any, wait_for_app: Any) -> bool:
    wait_for_app(page)
    page.locator("[data-testid='stSidebar']").wait_for(timeout=30_000)
    return page.get_by_text(f"Signed in as {USER}").count() > 0


def test_reload_keeps_the_session_sign_out_and_disable_end_it(
    page: Any, dashboard_url: str, dashboard_site: Path, wait_for_app: Any, sign_in: Any
) -> None:
    sign_in(page, dashboard_url, USER)
    cookie = _session_cookie(page)
    assert cookie["sameSite"] == "Strict"
    assert USER not in cookie["value"]  # an opaque token, not the user name
    page.reload()
    assert _signed_in(page, wait_for_app)
    page.goto(dashboard_url)  # a new tab of the same browser, same cookie
    assert _signed_in(page, wait_for_app)

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.reload()
    assert not _signed_in(page, wait_for_app)
    # the old cookie, replayed, is dead: sign-out revoked it in the store
    page.context.add_cookies([cookie])
    page.reload()
    assert not _signed_in(page, wait_for_app)
    page.get_by_role("button", name="Sign in").wait_for()

    sign_in(page, dashboard_url, USER)
    from store.db import Store
    from store.user_repo import authenticate, set_disabled

    store = Store(f"sqlite:///{dashboard_site / 'data' / 'agam.sqlite3'}")
    at = datetime.now(UTC)
    with store.session() as session:
        admin = authenticate(session, "admin.browser", "browser test password", at, "t").principal
        set_disabled(session, admin, USER, True, at)
    store.dispose()
    page.reload()
    assert not _signed_in(page, wait_for_app)
    page.get_by_role("button", name="Sign in").wait_for()


def test_the_chosen_language_survives_a_reload(
    page: Any, dashboard_url: str, wait_for_app: Any
) -> None:
    """Bangla chosen once stays chosen: a reload or a new tab started in English again."""
    from dashboard.i18n import t

    page.goto(dashboard_url)
    wait_for_app(page)
    page.get_by_text("বাংলা", exact=True).click()
    bangla = page.get_by_role("heading", name=t("signin_header", "bn"))
    bangla.wait_for(timeout=30_000)
    wait_for_app(page)
    # the browser runs the cookie's script after it draws the page: wait for it, not a guess
    page.wait_for_function("document.cookie.includes('agam_lang=bn')", timeout=30_000)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "agam_lang"]
    assert (cookie["value"], cookie["sameSite"]) == ("bn", "Strict")
    page.reload()
    wait_for_app(page)
    bangla.wait_for(timeout=30_000)
    page.goto(dashboard_url)  # a new tab of the same browser
    wait_for_app(page)
    bangla.wait_for(timeout=30_000)
    assert page.get_by_label(t("signin_username", "bn"), exact=True).count() == 1

    page.get_by_text("English", exact=True).click()
    page.get_by_role("heading", name=t("signin_header", "en")).wait_for(timeout=30_000)
    wait_for_app(page)
    page.wait_for_function("document.cookie.includes('agam_lang=en')", timeout=30_000)
    page.reload()
    wait_for_app(page)
    page.get_by_role("heading", name=t("signin_header", "en")).wait_for(timeout=30_000)
