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
# The evidence the engine stores for a met Jamuna action (what the pages rebuild explanations from).
OBSERVED = {
    "trigger_id": "FLOOD_JAMUNA_ACTION",
    "FLOOD_JAMUNA_ACTION": {
        "station": "SW46.9L",
        "station_name": "Bahadurabad",
        "danger_level_m": 19.5,
        "offset_m": 0.85,
        "trigger_level_m": 20.35,
        "comparison": "ge",
        "daily_max_level_m": {"2024-07-05": 20.41},
        "crossing_dates": ["2024-07-05"],
        "trend": {
            "station": "Bahadurabad",
            "tolerance_fraction": 0.02,
            "median_m3s": {"2024-07-05": 114916.0, "2024-07-06": 115501.0, "2024-07-07": 117792.0},
        },
    },
}
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

    def run(file: str, role: str | None, lang: str = "en", clear_caches: bool = True) -> AppTest:
        if clear_caches:  # pick up config changes made by the test
            st.cache_resource.clear()
            st.cache_data.clear()
        at = AppTest.from_file(str(VIEWS / file), default_timeout=90)
        if role is not None:
            at.session_state["test_username"] = ACCOUNTS[role][0]
        at.session_state["lang"] = lang
        at.run()
        return at

    return run


def make_alert(
    store: Store,
    district: str,
    stage: str,
    *,
    at: datetime,
    unions: tuple[str, ...] = (),
    explanation: str = "test evaluation: met.",
    observed: dict | None = None,
    rule_set: tuple[str, str] = ("ocha_cerf_flood_2025", "2025.2"),
    state: str = "met",
) -> int:
    """An open alert with one evaluation and its 'raised' event (what the pipeline stores)."""
    from store import alert_repo
    from store.models import Alert, Evaluation

    with store.session() as session:
        evaluation = Evaluation(
            input_key=f"{district}-{stage}-{at.isoformat()}",
            rule_set_id=rule_set[0],
            rule_set_version=rule_set[1],
            stage=stage,
            as_of=at,
            state=state,
            created_at=at,
            explanation=explanation,
            observed=observed or {},
        )
        session.add(evaluation)
        session.flush()
        alert = Alert(
            rule_set_id=rule_set[0],
            rule_set_version=rule_set[1],
            district_pcode=district,
            stage=stage,
            status="open",
            opened_at=at,
            updated_at=at,
            first_evaluation_id=evaluation.id,
            last_evaluation_id=evaluation.id,
            affected_unions=list(unions),
        )
        session.add(alert)
        session.flush()
        alert_repo.add_event(
            session,
            alert_id=alert.id,
            at=at,
            from_stage=None,
            to_stage=stage,
            evaluation_id=evaluation.id,
            explanation=explanation,
        )
        return int(alert.id)


def make_list(
    store: Store,
    alert_id: int,
    district: str,
    status: str,
    households: int,
    total_bdt: int,
    at: datetime,
    revision: int = 1,
) -> int:
    """A list with the given totals (no lines: aggregates only), taken to `status` through
    the real decisions: the database accepts no other way."""
    from store import list_repo
    from store.models import AllowanceList
    from store.user_repo import add_user, authenticate, get_user

    steps = {"draft": [], "submitted": ["submit"], "approved": ["submit", "approve"]}[status]
    approver = "dc.kurigram" if district == "BD5549" else f"dc.{district.lower()}"
    with store.session() as session:
        try:
            get_user(session, approver)
        except Exception:
            add_user(
                session,
                username=approver,
                role="district_admin",
                districts=[district],
                password="a long password",
                display_name=approver,
                at=at,
            )
    principals = {}
    for action, name in (("submit", "admin"), ("approve", approver)):
        with store.session() as session:
            principals[action] = authenticate(session, name, "a long password", at, "t").principal
    with store.session() as session:
        row = AllowanceList(
            alert_id=alert_id,
            district_pcode=district,
            revision=revision,
            status="draft",
            amount_per_household_bdt=5000,
            households=households,
            total_bdt=total_bdt,
            prepared_by="system",
            created_at=at,
            synthetic=True,
        )
        session.add(row)
        session.flush()
        for action in steps:
            list_repo.decide(session, row.id, principals[action], action, at)
        return int(row.id)
