"""The grievance page per role: the committee sees aggregates, handlers see the register
masked until they ask (audited), and move a grievance through the status table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from agam.core.settings import GrievanceSettings
from allowances import grievance_register as register
from allowances.grievances import MAX_TEXT, NewGrievance
from store import audit
from store.db import Store
from store.user_repo import authenticate

T0 = datetime(2026, 7, 4, 6, 0, tzinfo=UTC)


def signed_in(store: Store, username: str) -> Any:
    """A principal by password sign-in (never inside another write transaction)."""
    with store.session() as session:
        principal = authenticate(session, username, "a long password", T0, "test").principal
    assert principal is not None
    return principal


NAME, PHONE = "Secret Complainant", "01812345678"


@pytest.fixture
def with_grievance(accounts: Store) -> Store:
    officer = signed_in(accounts, "officer.kurigram")
    with accounts.session() as session:
        register.record(
            session,
            officer,
            NewGrievance(
                received_at=T0,
                channel="hotline",
                category="non_payment",
                adm4_pcode="BD55490911",
                description="Secret story of the complaint",
                complainant_name=NAME,
                complainant_phone=PHONE,
            ),
            T0,
            GrievanceSettings(),
        )
    return accounts


def page_text(at: AppTest) -> str:
    parts = [
        str(e.value)
        for kind in ("markdown", "text", "info", "dataframe")
        for e in getattr(at, kind)
    ]
    return "\n".join(parts)


def test_committee_sees_aggregates_only(
    view: Callable[..., AppTest], with_grievance: Store
) -> None:
    at = view("grievances.py", "committee")
    assert not at.exception
    assert "aggregates only" in at.info[0].value
    frame = at.dataframe[0].value
    assert list(frame["Received"]) == ["1"]
    assert NAME not in page_text(at)
    assert PHONE not in page_text(at)


def test_handler_reveals_details_and_moves_the_status(
    view: Callable[..., AppTest], with_grievance: Store
) -> None:
    at = view("grievances.py", "officer")
    assert not at.exception
    assert NAME not in page_text(at)
    assert "R*" not in page_text(at)  # the table has no personal columns at all
    at.button(key="g_reveal").click().run()
    assert NAME in page_text(at)
    with with_grievance.session() as session:
        viewed = audit.entries_for(session, "grievance.details_viewed")
    assert [e.actor for e in viewed] == ["officer.kurigram"]

    at.selectbox(key="g_action").select("start")
    at.button(key="FormSubmitter:update_grievance-Save").click().run()
    assert not at.error
    assert not at.exception
    admin = signed_in(with_grievance, "admin")
    with with_grievance.session() as session:
        rows = register.listing(session, admin, T0, GrievanceSettings())
    assert rows[0]["status"] == "in_progress"


def test_page_in_bangla(view: Callable[..., AppTest], with_grievance: Store) -> None:
    at = view("grievances.py", "district_admin", lang="bn")
    assert not at.exception
    assert at.header[0].value == "অভিযোগ নিবন্ধন"
    table = at.dataframe[0].value
    assert list(table.iloc[:, 0]) == ["১"]  # the number in Bengali digits
    assert "None" not in table.to_string()  # nobody assigned yet: a dash
    assert "None" not in at.dataframe[1].value.to_string()  # the history's empty cells too
    assert "১" in at.subheader[0].value


def test_a_refused_form_names_its_fields_not_the_validator(
    view: Callable[..., AppTest], accounts: Store
) -> None:
    at = view("grievances.py", "officer")
    at.text_input(key="g_union").input("BD55490911")
    at.text_input(key="g_phone").input("12345")
    at.button(key="FormSubmitter:record_grievance-Record").click().run()
    shown = at.error[0].value.replace("\\", "")
    assert "What the complainant says: required" in shown
    assert "Complainant phone (optional): not a Bangladesh mobile number" in shown
    assert "validation error" not in shown
    assert "pydantic" not in shown
    assert at.text_area(key="g_description").max_chars == MAX_TEXT


def test_typed_names_show_as_typed(view: Callable[..., AppTest], accounts: Store) -> None:
    """A name dictated to the hotline is text: no outside image, link or emphasis."""
    officer = signed_in(accounts, "officer.kurigram")
    hostile = "![x](http://127.0.0.1:9/n.png) [click](http://127.0.0.1:9/) **star**"
    with accounts.session() as session:
        register.record(
            session,
            officer,
            NewGrievance(
                received_at=T0, channel="hotline", category="non_payment",
                adm4_pcode="BD55490911", description="d", complainant_name=hostile,
            ),
            T0,
            GrievanceSettings(),
        )  # fmt: skip
    at = view("grievances.py", "officer")
    at.button(key="g_reveal").click().run()
    assert not [m for m in at.markdown if "star" in str(m.value)]  # never markdown
    [shown] = [e.value for e in at.text if "star" in str(e.value)]
    assert shown.endswith(hostile)
