"""benchmarks.pages signs in with the demo's own accounts, one per role the menu knows."""

from __future__ import annotations

from agam.pipeline.demo import DEMO_ACCOUNTS
from benchmarks import pages
from dashboard.nav import ROLE_PAGES


def test_each_role_is_timed_with_a_demo_account_of_that_role() -> None:
    roles = {username: role for username, role, *_ in DEMO_ACCOUNTS}
    assert set(pages.ROLE_ACCOUNTS) == set(ROLE_PAGES)
    for role, username in pages.ROLE_ACCOUNTS.items():
        assert roles[username] == role
