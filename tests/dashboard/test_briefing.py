"""The briefing PDF renders in both languages (checked by extracting its text)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pypdf
from streamlit.testing.v1 import AppTest

from agam.pipeline.briefing import BriefingData
from dashboard.briefing_pdf import build_briefing_pdf

DATA = BriefingData(
    generated_at=datetime(2024, 7, 4, 6, 0, tzinfo=UTC),
    alerts=[
        {
            "alert_id": 1,
            "rule_set": "ocha_cerf_flood_2025",
            "district_pcode": "BD4539",
            "district": "Jamalpur",
            "stage": "action",
            "status": "open",
            "opened_at": datetime(2024, 7, 3, tzinfo=UTC),
            "unions": 67,
            "explanation": "FFWC forecasts 20.41 m at Bahadurabad (DL 19.50 + 0.85): action.",
        }
    ],
    lists=[
        {
            "district_pcode": "BD4539",
            "district": "Jamalpur",
            "status": "submitted",
            "households": 12345,
            "total_bdt": 61725000,
            "synthetic": True,
        }
    ],
    feeds=[
        {
            "feed": "ffwc",
            "state": "fresh",
            "issued_at": datetime(2024, 7, 4, tzinfo=UTC),
            "failing": False,
        }
    ],
    boundary_source="OCHA COD-AB bgd_adm_bbs_20201113",
    audit_head="ab" * 32,
    audit_entries=9,
    synthetic=True,
)


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\x00-\x1f\s]+", "", text)  # shaping leaves control marks and spaces


def test_english_briefing() -> None:
    text = _text(build_briefing_pdf(DATA, "en"))
    assert "Openalerts" in text
    assert "Jamalpur(BD4539)—action" in text
    assert "12,345households" in text
    assert "BDT6,17,25,000" in text
    assert "SYNTHETIC" in text
    assert "20.41matBahadurabad" in text


def test_bangla_briefing() -> None:
    text = _text(build_briefing_pdf(DATA, "bn"))
    assert "চলমান" in text
    assert "১২,৩৪৫" in text
    assert "৬,১৭,২৫,০০০টাকা" in text
    assert "ব্রিফিং" in text


def test_briefing_page_offers_both_languages(view: Callable[..., AppTest]) -> None:
    at = view("briefing.py", "committee", lang="bn")
    assert not at.exception, at.exception
    assert at.header[0].value == "কমিটি ব্রিফিং"
