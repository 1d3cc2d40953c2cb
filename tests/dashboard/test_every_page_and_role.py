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
