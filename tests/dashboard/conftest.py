"""Dashboard tests sign users in through the one identity seam (AGAM_TEST_IDENTITY)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from agam.core.settings import Settings
from store.db import Store
from store.user_repo import add_user

VIEWS = Path(__file__).resolve().parents[2] / "dashboard" / "views"
APP = VIEWS.parent / "app.py"
ACCOUNTS = {
    "committee": ("committee.member", []),
    "officer": ("officer.kurigram", ["BD5549"]),
    "district_admin": ("dc.kurigram", ["BD5549"]),
    "admin": ("admin", []),
}


@pytest.fixture
def accounts(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("AGAM_TEST_IDENTITY", "1")
    monkeypatch.setenv("AGAM_TEST_PASSWORD", "a long password")  # the seam signs in with it
    # Streamlit caches live for the process: each test gets its own config and store.
    st.cache_resource.clear()
    st.cache_data.clear()
    store = Store(settings.database_url)
    store.upgrade()
    with store.session() as session:
        for role, (username, districts) in ACCOUNTS.items():
            add_user(
                session,
                username=username,
                role=role,
                districts=districts,
                password="a long password",
                display_name=username,
                at=datetime(2024, 7, 1, tzinfo=UTC),
            )
    return store


@pytest.fixture
def view(accounts: Store) -> Callable[..., AppTest]:
    """Run one view as a signed-in role: view("map.py", "officer", lang="bn")."""

    def run(file: str, role: str | None, lang: str = "en") -> AppTest:
        st.cache_resource.clear()  # pick up config changes made by the test
        st.cache_data.clear()
        at = AppTest.from_file(str(VIEWS / file), default_timeout=90)
        if role is not None:
            at.session_state["test_username"] = ACCOUNTS[role][0]
        at.session_state["lang"] = lang
        at.run()
        return at

    return run
