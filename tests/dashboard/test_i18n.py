"""The message catalogue: every key in both languages; numbers and times as each language
writes them (Babel, CLDR); the migration path from the old strings.toml."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard import i18n_catalog
from dashboard.i18n import (
    catalog,
    fmt_bdt,
    fmt_bdt_short,
    fmt_date,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_time,
    group_south_asian,
    t,
    tn,
)

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_every_key_has_english_and_bangla_with_the_same_placeholders() -> None:
    assert len(catalog()) > 300
    assert i18n_catalog.problems(catalog()) == []


def test_no_strings_are_left_outside_the_catalogue() -> None:
    """Keys added to the old strings.toml are served, but must be folded in before merging:
    `python -m dashboard.i18n_catalog migrate` (docs/i18n.md)."""
    assert not i18n_catalog.LEGACY_TOML.exists()


def test_every_key_used_in_the_dashboard_exists() -> None:
    used = set()
    pattern = re.compile(r"""\btn?\(\s*["']([a-z0-9_]+)["']\s*[,)]""")
    for path in DASHBOARD.rglob("*.py"):
        used |= set(pattern.findall(path.read_text("utf-8")))
    assert len(used) > 200, "the dashboard uses the catalogue"
    assert used <= set(catalog()), sorted(used - set(catalog()))


def test_south_asian_grouping_and_bengali_digits() -> None:
    assert group_south_asian(12345678) == "1,23,45,678"
    assert group_south_asian(999) == "999"
    assert group_south_asian(-100000) == "-1,00,000"
    assert fmt_int(1234567, "bn") == "১২,৩৪,৫৬৭"
    assert fmt_bdt(5000, "en") == "BDT 5,000"
    assert fmt_bdt(5000, "bn") == "৫,০০০ টাকা"
    assert fmt_num(20.35, "bn") == "২০.৩৫"
    assert fmt_num(100000, "en", 0) == "1,00,000"
    assert fmt_pct(0.5, "bn") == "৫০%"


def test_headline_money_is_never_cut() -> None:
    assert fmt_bdt_short(74_635_000, "en") == "BDT 7.46 crore"
    assert fmt_bdt_short(74_635_000, "bn") == "৭.৪৬ কোটি টাকা"
    assert fmt_bdt_short(1_100_000, "bn") == "১১.০ লাখ টাকা"
    assert fmt_bdt_short(60_000, "en") == "BDT 60,000"


def test_times_say_bangladesh_time() -> None:
    at = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
    assert fmt_time(at, "en") == "4 Jul 2024, 12:00 Bangladesh time (UTC+6)"
    assert fmt_time(at, "bn") == "৪ জুলাই ২০২৪, ১২:০০ বাংলাদেশ সময় (ইউটিসি+৬)"
    assert fmt_time(at, "en", zone=False) == "4 Jul 2024, 12:00"
    assert "BST" not in fmt_time(at, "en")
    assert t("map_caption", "bn", count="৫,১৬০").startswith("৫,১৬০টি")


def test_a_missing_time_reads_as_a_dash() -> None:
    """A frame's missing time is pandas' NaT, not None; both read as a dash."""
    import pandas as pd

    for missing in (None, pd.NaT):
        assert fmt_time(missing, "bn") == fmt_date(missing, "en") == "—"


def test_plural_forms_follow_the_catalogue(tmp_path: Path) -> None:
    from babel.messages.catalog import Catalog

    po = tmp_path / "agam.po"
    source = i18n_catalog.read_catalog()
    source.add(("{n} union", "{n} unions"), ("{n}টি ইউনিয়ন", "{n}টি ইউনিয়ন"), context="x_unions")
    i18n_catalog.write_catalog(source, po)
    reread = i18n_catalog.read_catalog(po)
    assert isinstance(reread, Catalog)
    entries = {str(m.context): m for m in reread if m.context}
    assert entries["x_unions"].id == ("{n} union", "{n} unions")
    assert i18n_catalog.plural_index(1) == 0
    assert i18n_catalog.plural_index(0) == 0  # CLDR Bangla: 0 and 1 are "one"
    assert i18n_catalog.plural_index(5) == 1


def test_tn_picks_the_form(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = dict(catalog())
    entries["x_unions"] = i18n_catalog.Entry(
        ("{n} union", "{n} unions"), ("{n}টি ইউনিয়ন", "{n}টি ইউনিয়ন")
    )
    monkeypatch.setattr("dashboard.i18n.catalog", lambda: entries)
    assert tn("x_unions", 1, "en") == "1 union"
    assert tn("x_unions", 5160, "en") == "5,160 unions"
    assert tn("x_unions", 5160, "bn") == "৫,১৬০টি ইউনিয়ন"


def test_migrate_folds_strings_toml_into_the_po_file(tmp_path: Path) -> None:
    po = tmp_path / "agam.po"
    i18n_catalog.write_catalog(i18n_catalog.read_catalog(), po)
    toml = tmp_path / "strings.toml"
    toml.write_text(
        '[new_key]\nen = "New {x}"\nbn = "নতুন {x}"\n'
        '[nav_map]\nen = "Map of unions"\nbn = "ইউনিয়নের মানচিত্র"\n',
        encoding="utf-8",
    )
    done = i18n_catalog.migrate(po, toml)
    assert done == ["nav_map: updated", "new_key: added"]
    assert not toml.exists()
    merged = {str(m.context): m for m in i18n_catalog.read_catalog(po) if m.context}
    assert merged["new_key"].id == "New {x}"
    assert merged["new_key"].string == "নতুন {x}"
    assert merged["nav_map"].string == "ইউনিয়নের মানচিত্র"
    assert len(merged) == len(catalog()) + 1
    keys = re.findall(r'^msgctxt "(.*)"$', po.read_text("utf-8"), flags=re.MULTILINE)
    assert keys == sorted(keys)


def test_missing_cells_are_told_from_values() -> None:
    import numpy as np
    import pandas as pd

    from dashboard.i18n import fmt_date, missing

    for value in (None, float("nan"), np.nan, pd.NaT, pd.NA):
        assert missing(value), value
    for value in ("", "nan", 0, 0.0, False, datetime(2026, 7, 2, tzinfo=UTC)):
        assert not missing(value), value
    assert fmt_date(pd.NaT, "bn") == fmt_date(None, "en") == "—"
