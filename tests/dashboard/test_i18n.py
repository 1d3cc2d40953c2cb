"""Every string in both languages; numbers and times as each language writes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from dashboard.i18n import LANGUAGES, catalog, fmt_bdt, fmt_int, fmt_time, group_south_asian, t

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_every_key_has_english_and_bangla() -> None:
    for key, entry in catalog().items():
        for lang in LANGUAGES:
            assert entry.get(lang, "").strip(), f"{key} lacks {lang}"
        placeholders = {lang: set(re.findall(r"{(\w+)}", entry[lang])) for lang in LANGUAGES}
        assert placeholders["en"] == placeholders["bn"], key


def test_every_key_used_in_the_dashboard_exists() -> None:
    used = set()
    for path in DASHBOARD.rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""", path.read_text("utf-8")))
    assert used, "the dashboard uses the catalog"
    assert used <= set(catalog()), sorted(used - set(catalog()))


def test_south_asian_grouping_and_bengali_digits() -> None:
    assert group_south_asian(12345678) == "1,23,45,678"
    assert group_south_asian(999) == "999"
    assert group_south_asian(-100000) == "-1,00,000"
    assert fmt_int(1234567, "bn") == "১২,৩৪,৫৬৭"
    assert fmt_bdt(5000, "en") == "BDT 5,000"
    assert fmt_bdt(5000, "bn") == "৫,০০০ টাকা"


def test_times_are_shown_in_dhaka() -> None:
    at = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
    assert fmt_time(at, "en") == "4 Jul 2024, 12:00 BST"
    assert fmt_time(at, "bn") == "৪ জুলাই ২০২৪, ১২:০০ বাংলাদেশ সময়"
    assert t("map_caption", "bn", count="৫,১৬০").startswith("৫,১৬০টি")
