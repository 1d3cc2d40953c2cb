"""The M&E report's stored parts in each language: the peak's basis, activation titles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dashboard import loaders
from dashboard.me_words import activation_title, peak_basis

PEAK = {
    "at": "2026-07-07T12:00:00Z",
    "source": "final_forecast_peak",
    "basis": "peak water_level_m 20.86 at SW46.9L in the final ffwc forecast …",
    "facts": {
        "variable": "water_level_m",
        "value": 20.86,
        "station": "SW46.9L",
        "feed": "ffwc",
        "issued_at": "2026-07-04T06:00:00Z",
    },
}


@pytest.fixture(autouse=True)
def configured(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "settings", lambda: settings)


def test_final_forecast_peak_names_the_station_in_each_language(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = peak_basis(PEAK, "en")
    assert "Bahadurabad" in english
    assert "20.86" in english
    assert "SW46.9L" not in english
    bangla = peak_basis(PEAK, "bn")
    assert "বাহাদুরাবাদ" in bangla
    assert "২০.৮৬" in bangla
    assert "SW46.9L" not in bangla
    assert "water" not in bangla
    # a store whose config has no [feeds.ffwc] still names the feed's default stations
    monkeypatch.setattr(loaders, "settings", lambda: settings.model_copy(update={"feeds": {}}))
    assert "বাহাদুরাবাদ" in peak_basis(PEAK, "bn")


def test_no_peak_says_why_in_bangla() -> None:
    none = {"source": "none", "basis": "…", "facts": {"why": "no_landfall"}}
    assert "ভূমিতে আঘাতের সময় নেই" in peak_basis(none, "bn")
    old = {"source": "none", "basis": "an older report's sentence"}  # before facts were kept
    assert "an older report's sentence" in peak_basis(old, "en")


def test_activation_titles() -> None:
    at = datetime(2026, 6, 27, 9, 0, tzinfo=UTC)
    assert activation_title("flood", "jamuna flood season 2026", at, "bn").startswith(
        "যমুনা বন্যা মৌসুম ২০২৬ (বন্যা, "
    )
    assert activation_title("cyclone", "REMAL-2024", at, "bn").startswith("REMAL-2024 (ঘূর্ণিঝড়, ")
    unnamed = activation_title("cyclone", "unnamed cyclone of 27 Jun 2026", at, "bn")
    assert unnamed.startswith("২৭ জুন ২০২৬-এর নামহীন ঘূর্ণিঝড়")
