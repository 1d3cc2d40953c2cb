"""Overview and alerts pages per role: scope by district, explanations shown as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from store import alert_repo
from store.db import Store
from store.models import Alert, Evaluation

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)


@pytest.fixture
def alerts(accounts: Store) -> None:
    with accounts.session() as session:
        for district, stage in (("BD5549", "action"), ("BD4539", "readiness")):
            ev = Evaluation(
                input_key=f"k{district}",
                rule_set_id="ocha_cerf_flood_2025",
                rule_set_version="2025.1",
                stage=stage,
                as_of=T0,
                state="met",
                explanation=f"<b>{stage}</b> met for {district}",
                created_at=T0,
            )
            session.add(ev)
            session.flush()
            alert = Alert(
                rule_set_id="ocha_cerf_flood_2025",
                rule_set_version="2025.1",
                district_pcode=district,
                stage=stage,
                status="open",
                opened_at=T0,
                updated_at=T0,
                first_evaluation_id=ev.id,
                last_evaluation_id=ev.id,
                affected_unions=[f"{district}0911"],
            )
            session.add(alert)
            session.flush()
            alert_repo.add_event(
                session,
                alert_id=alert.id,
                at=T0,
                from_stage=None,
                to_stage=stage,
                evaluation_id=ev.id,
                explanation=ev.explanation,
            )


def test_overview_for_the_committee_sees_every_district(
    view: Callable[..., AppTest], alerts: None
) -> None:
    at = view("overview.py", "committee")
    assert not at.exception, at.exception
    assert [m.value for m in at.metric][:2] == ["1", "1"]
    districts = set(at.dataframe[0].value["District"])
    assert districts == {"Kurigram", "Jamalpur"}


def test_district_admin_sees_only_their_district(
    view: Callable[..., AppTest], alerts: None
) -> None:
    at = view("alerts.py", "district_admin")
    assert not at.exception, at.exception
    assert len(at.expander) == 1
    assert "Kurigram" in at.expander[0].label
    assert "<b>action</b> met for BD5549" in at.text[0].value  # shown as text, not HTML


def test_overview_in_bangla(view: Callable[..., AppTest], alerts: None) -> None:
    at = view("overview.py", "officer", lang="bn")
    assert not at.exception, at.exception
    assert at.header[0].value == "সারসংক্ষেপ"
    assert "কুড়িগ্রাম" in set(at.dataframe[0].value["জেলা"])
