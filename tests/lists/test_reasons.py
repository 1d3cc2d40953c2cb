"""A line's reasons are stored as compact codes and put into words when shown: English on
the CLI, the reader's language on the dashboard; older lines' English sentences still read."""

from __future__ import annotations

import pytest

from allowances.reasons import HAZARD, Reason, english, flag_code, hazard_code, parse
from dashboard import labels

OLD_SENTENCES = {  # what lines proposed before codes stored
    "person with disability (+3)": Reason("disability", 3.0),
    "hazard intensity 0.50 in the union (+2.00)": Reason(HAZARD, 2.0, 0.5),
    "hazard intensity 0.88 in the union, from 160.0 km/h (+3.50)": Reason(
        HAZARD, 3.5, 0.88, "160.0 km/h"
    ),
}


def test_codes_are_short_and_read_back() -> None:
    assert flag_code("disability", 3) == "disability:3"
    assert flag_code("elderly", 1.5) == "elderly:1.5"
    code = hazard_code(0.875, 3.5, "60% of members at SW46.9L")
    assert code == "hazard:3.50:0.88:60% of members at SW46.9L"
    assert parse(code) == Reason(HAZARD, 3.5, 0.88, "60% of members at SW46.9L")
    assert parse(hazard_code(0.5, 2.0, None)) == Reason(HAZARD, 2.0, 0.5)
    assert parse("elderly:1.5") == Reason("elderly", 1.5)


@pytest.mark.parametrize(("sentence", "reason"), OLD_SENTENCES.items())
def test_older_lines_sentences_read_as_the_same_reasons(sentence: str, reason: Reason) -> None:
    assert parse(sentence) == reason
    assert english(sentence) == sentence  # and are shown as they were


@pytest.mark.parametrize(
    "text", ["", "anything else", "unknownflag:3", "hazard:x:y", "disability:3:extra", "ঘর (+1)"]
)
def test_text_that_is_not_a_reason_is_shown_unchanged(text: str) -> None:
    assert parse(text) == Reason("", text=text)
    assert english(text) == text
    assert labels.reason(text, "bn") == text


def test_the_dashboard_shows_reasons_in_bangla_with_their_evidence() -> None:
    assert labels.reason("disability:3", "bn") == "প্রতিবন্ধী ব্যক্তি (+৩)"
    assert labels.reason("person with disability (+3)", "bn") == "প্রতিবন্ধী ব্যক্তি (+৩)"
    assert labels.reason("disability:3", "en") == "person with disability (+3)"
    assert labels.reason("hazard:2.00:0.50", "bn") == "ইউনিয়নে ঝুঁকির মাত্রা ০.৫০ (+২)"
    wind = "hazard:3.50:0.88:160.0 km/h"
    assert labels.reason(wind, "bn") == "ইউনিয়নে ঝুঁকির মাত্রা ০.৮৮, ১৬০.০ কিমি/ঘণ্টা থেকে (+৩.৫)"
    assert labels.reason(wind, "en") == (
        "hazard intensity 0.88 in the union, from 160.0 km/h (+3.5)"
    )
    old = "hazard intensity 0.30 in the union, from 45% of the area flooded (+1.20)"
    assert labels.reason(old, "bn") == "ইউনিয়নে ঝুঁকির মাত্রা ০.৩০, এলাকার ৪৫% প্লাবিত থেকে (+১.২)"
    members = labels.evidence("60% of members at SW46.9L", "bn")
    assert members == "SW46.9L-এ ৬০% এনসেম্বল সদস্য"  # a station with no Bangla name
    named = labels.evidence("96% of members at Hardinge Bridge", "bn")
    assert named == f"{labels.station('Hardinge Bridge', 'bn')}-এ ৯৬% এনসেম্বল সদস্য"
    assert "Hardinge" not in named
    assert labels.evidence("from somewhere else", "bn") == "from somewhere else"
