"""Every page for every role, in both languages: it renders, or refuses a role it is not for."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.nav import ALL_PAGES, ROLE_PAGES

ROLES = ("committee", "officer", "district_admin", "admin")
CASES = [(page.file, role) for page in ALL_PAGES.values() for role in ROLES]


@pytest.mark.parametrize(("file", "role"), CASES)
def test_page_per_role(view: Callable[..., AppTest], file: str, role: str) -> None:
    key = file.removesuffix(".py")
    at = view(file, role)
    assert not at.exception, (file, role, at.exception)
    allowed = key in ROLE_PAGES[role]
    refused = any("does not give access" in e.value for e in at.error)
    assert refused is (not allowed), (file, role)
    if allowed:
        assert at.header, (file, role)


@pytest.mark.parametrize("file", [page.file for page in ALL_PAGES.values()])
def test_pages_in_bangla(view: Callable[..., AppTest], file: str) -> None:
    at = view(file, "admin", lang="bn")
    assert not at.exception, (file, at.exception)
    header = at.header[0].value
    assert any("\u0980" <= ch <= "\u09ff" for ch in header), (file, header)


def test_no_page_without_sign_in(view: Callable[..., AppTest]) -> None:
    for page in ALL_PAGES.values():
        at = view(page.file, None)
        assert not at.header, page.file
        assert at.warning, page.file


def test_scenario_data_is_announced_on_every_page(view: Callable[..., AppTest], accounts) -> None:
    from datetime import UTC, datetime

    from store import audit

    plain = view("overview.py", "officer")
    assert not [w for w in plain.sidebar.warning if "SYNTHETIC" in w.value]
    with accounts.session() as session:
        audit.append(
            session,
            at=datetime(2026, 7, 4, tzinfo=UTC),
            actor="demo",
            action="scenario.played",
            entity="scenario",
            entity_id="flood@test",
            payload={"title": "Jamuna monsoon flood (SYNTHETIC, test)"},
        )
    for file, lang in (("overview.py", "en"), ("map.py", "bn")):
        at = view(file, "officer", lang=lang)
        banner = [w.value for w in at.sidebar.warning]
        assert any("Jamuna monsoon flood (SYNTHETIC, test)" in b for b in banner), (file, banner)
