"""The briefing: one summary page then details, in both languages (checked by extracting the
PDF's text); totals that keep proposed, approved and rejected apart; scope by role; what
changed since the last briefing of the same scope."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pypdf
from streamlit.testing.v1 import AppTest

from agam.core.settings import Settings
from agam.pipeline.briefing import BriefingData, gather, record_issued
from agam.pipeline.context import AppContext
from dashboard.briefing_pdf import build_briefing_pdf
from store import alert_repo
from store.db import Store
from triggers.engine import load_rule_sets

from .conftest import OBSERVED, make_alert, make_list

AT = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)


def _list(status: str, households: int, total: int, list_id: int) -> dict[str, Any]:
    return {
        "list_id": list_id,
        "district_pcode": "BD4539",
        "district": "Jamalpur",
        "status": status,
        "approved_by": None,
        "households": households,
        "total_bdt": total,
        "synthetic": True,
    }


DATA = BriefingData(
    generated_at=AT,
    alerts=[
        {
            "alert_id": 1,
            "rule_set": "ocha_cerf_flood_2025",
            "district_pcode": "BD4539",
            "district": "Jamalpur",
            "stage": "action",
            "status": "open",
            "opened_at": AT - timedelta(days=1),
            "unions": 67,
            "explanation": "FFWC forecasts 20.41 m at Bahadurabad on 5 Jul (≥ danger level "
            "19.50 m + 0.85 m = 20.35 m), and the trend holds (114,916 → 115,501 m³/s): "
            "action met.",
            "evaluation": {
                "rule_set_id": "ocha_cerf_flood_2025",
                "rule_set_version": "2025.2",
                "state": "met",
                "observed": OBSERVED,
                "explanation": "…",
            },
        }
    ],
    lists=[
        _list("submitted", 12345, 61725000, 1),
        _list("approved", 100, 500000, 2),
        _list("rejected", 50, 250000, 3),
    ],
    feeds=[{"feed": "ffwc", "state": "fresh", "issued_at": AT, "failing": False}],
    boundary_source="OCHA COD-AB bgd_adm_bbs_20201113",
    audit_head="ab" * 32,
    audit_entries=9,
    synthetic=True,
    district_names={"BD4539": "Jamalpur"},
)


def _pages(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    # shaping leaves control marks and spaces between glyph runs
    return [re.sub(r"[\x00-\x1f\s]+", "", page.extract_text()) for page in reader.pages]


def test_english_briefing_keeps_proposed_approved_and_rejected_apart() -> None:
    pages = _pages(build_briefing_pdf(DATA, "en", rule_sets=load_rule_sets()))
    summary = pages[0]
    assert "Openalerts:1districtsataction,0atreadiness" in summary
    assert "Proposed,waitingfordecisions:12,345household(s),BDT6,17,25,000(1list(s))" in summary
    assert "Approvedforpayment:100household(s),BDT5,00,000(1list(s))" in summary
    assert "Rejectedlists(notcountedabove):1" in summary
    assert "6,20,25,000" not in summary  # rejected money never added in
    assert "6,22,25,000" not in summary  # nor proposed and approved mixed in one total
    assert "Firstbriefingforthisscope" in summary
    assert "Datafreshness" in summary
    assert "SYNTHETIC" in summary
    assert "Bangladeshtime(UTC+6)" in summary
    details = "".join(pages[1:])
    assert "≥dangerlevel19.50m+0.85m=20.35m" in details  # ≥ survives (it used to vanish)
    assert "114,916→115,501" in details
    assert "Waitingforthedistrictadministratortoapproveorrejectit" in details
    assert "page1" in summary


def test_bangla_briefing_has_bangla_names_digits_and_explanations() -> None:
    pdf = build_briefing_pdf(DATA, "bn", names={"BD4539": "জামালপুর"}, rule_sets=load_rule_sets())
    pages = _pages(pdf)
    summary, details = pages[0], "".join(pages[1:])
    assert "জামালপুর" in summary
    assert "১২,৩৪৫" in summary
    assert "৬,১৭,২৫,০০০টাকা" in summary
    assert "পৃষ্ঠা১" in summary
    assert "পৃষ্ঠা1" not in summary
    assert "পৃষ্ঠা২" in pages[1]
    assert "বাহাদুরাবাদ" in details  # the explanation is rebuilt in Bangla
    assert "২০.৩৫" in details
    assert "১৯.৫০" in details
    assert "১,১৪,৯১৬→১,১৫,৫০১" in details
    assert "Jamalpur" not in "".join(pages)
    assert "FFWCforecasts" not in details


def test_briefing_text_is_left_aligned_not_justified() -> None:
    """Justified lines stretch word gaps: the content stream must not set word spacing."""
    pdf = build_briefing_pdf(DATA, "en", rule_sets=load_rule_sets())
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        content = page.get_contents()
        assert content is not None
        assert b" Tw" not in content.get_data()


def test_scope_and_changes_since_the_last_briefing(accounts: Store, settings: Settings) -> None:
    ctx = AppContext(settings)
    now = ctx.now()
    kurigram = make_alert(accounts, "BD5549", "readiness", at=now - timedelta(hours=5))
    jamalpur = make_alert(accounts, "BD4539", "action", at=now - timedelta(hours=5))
    make_list(accounts, kurigram, "BD5549", "draft", 10, 50_000, now)
    make_list(accounts, jamalpur, "BD4539", "approved", 20, 100_000, now)
    national = gather(ctx)
    assert {a["district_pcode"] for a in national.alerts} == {"BD5549", "BD4539"}
    assert (national.proposed.total_bdt, national.approved.total_bdt) == (50_000, 100_000)
    scoped = gather(ctx, ["BD5549"])
    assert [a["district_pcode"] for a in scoped.alerts] == ["BD5549"]
    assert scoped.approved.total_bdt == 0
    assert scoped.proposed.households == 10
    assert scoped.last_briefing_at is None  # first briefing: what is open now
    assert [c["district_pcode"] for c in scoped.changes] == ["BD5549"]

    record_issued(ctx, scoped, "officer.kurigram", "bn")
    with accounts.session() as session:
        alert_repo.add_event(
            session,
            alert_id=kurigram,
            at=ctx.now() + timedelta(seconds=1),
            from_stage="readiness",
            to_stage="action",
            evaluation_id=None,
            explanation="escalated",
        )
    later = gather(ctx, ["BD5549"])
    assert later.last_briefing_at is not None
    assert [(c["from"], c["to"]) for c in later.changes] == [("readiness", "action")]
    assert gather(ctx).last_briefing_at is None  # another scope has had no briefing


def test_briefing_page_is_scoped_by_role(view: Callable[..., AppTest], accounts: Store) -> None:
    now = datetime.now(UTC)
    make_alert(accounts, "BD4539", "action", at=now)
    at = view("briefing.py", "officer", lang="bn")  # officer of Kurigram only
    assert not at.exception, at.exception
    assert at.header[0].value == "কমিটি ব্রিফিং"
    assert at.metric[0].value == "০"  # Jamalpur's alert is not theirs
    committee = view("briefing.py", "committee")
    assert committee.metric[0].value == "1"
    assert "Proposed" in committee.metric[1].label
