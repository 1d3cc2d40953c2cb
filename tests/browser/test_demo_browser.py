"""The README's run command, end to end: `agam demo` on an empty data dir plays both bundled
scenarios offline and serves a dashboard where each scenario's district administrator finds
an action alert and a proposed list, signing in with the passwords the demo printed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import sign_in_as

pytestmark = pytest.mark.browser


def test_the_closing_summary_repeats_the_passwords(demo_site: Any) -> None:
    _, passwords, log = demo_site
    summary = log[log.index("Sign in at http://localhost:") :]
    for username, password in passwords.items():
        assert re.search(rf"^  {re.escape(username)} +{re.escape(password)}$", summary, re.M)
    assert "agam users reset-password" in summary
    assert "BST" not in log  # Bangladesh time is written UTC+6, never British Summer Time


@pytest.mark.parametrize(
    ("username", "district", "next_step"),
    [
        # the demo's payment round takes Kurigram's list through approval and export
        ("dc.kurigram", "Kurigram", "Payment files prepared: nothing more to do here"),
        ("dc.satkhira", "Satkhira", "Waiting for the officer to check and submit it"),
    ],
)
def test_each_scenario_reaches_an_action_alert_and_a_proposed_list(
    page: Any, demo_site: Any, wait_for_app: Any, username: str, district: str, next_step: str
) -> None:
    url, passwords, log = demo_site
    assert "alert escalated" in log  # the play's progress was on the terminal
    sign_in_as(page, url, username, passwords[username], wait_for_app)
    page.get_by_text("Demo data: this store holds SYNTHETIC scenarios").wait_for(timeout=60_000)
    page.get_by_role("link", name="Alerts").click()
    wait_for_app(page)
    expander = re.compile(rf"{district} · action · OCHA/CERF [\w ]+\(2025\) · open")
    page.get_by_text(expander).first.wait_for(timeout=60_000)
    page.get_by_role("link", name="Allowance lists").click()
    wait_for_app(page)
    page.get_by_text("SYNTHETIC registry").wait_for(timeout=60_000)
    page.get_by_text(re.compile(rf"List \d+ · {district}")).first.wait_for(timeout=60_000)
    # the page says who acts next
    markdown = page.locator("[data-testid='stMarkdownContainer']")  # not hidden grid cells
    markdown.get_by_text(next_step).first.wait_for()
