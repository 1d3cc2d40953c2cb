"""English and Bangla for every visible string; numbers and dates as each language writes them.

One gettext catalogue, `locales/bn/LC_MESSAGES/agam.po`: each entry's `msgctxt` is the stable
key the code asks for, `msgid` the English text, `msgstr` the Bangla (plural entries carry
`msgid_plural` and `msgstr[n]`, chosen by the catalogue's Plural-Forms). It is compiled when
first used (`dashboard.i18n_catalog`). `t(key, lang, **values)` and `tn(key, n, lang, ...)`
are the whole API. Numbers follow CLDR through Babel: South Asian grouping (12,34,567) in
both languages and, in Bangla (`bn_BD`), the Bengali digits of its `beng` numbering system.
Times are shown in Asia/Dhaka and say so: "Bangladesh time (UTC+6)". Storage and exports
stay ASCII.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from babel.dates import get_month_names
from babel.numbers import format_decimal, format_percent

from agam.core.bengali import digits
from agam.core.timeutil import to_dhaka
from dashboard.i18n_catalog import Entry, catalog, plural_index

LANGUAGES = ("en", "bn")
BABEL_LOCALE = {"en": "en_IN", "bn": "bn_BD"}  # both group digits 12,34,567
CRORE, LAKH = 10_000_000, 100_000

__all__ = [
    "LANGUAGES",
    "catalog",
    "digits",
    "fmt_bdt",
    "fmt_bdt_short",
    "fmt_date",
    "fmt_day",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "fmt_time",
    "group_south_asian",
    "t",
    "tn",
    "zone_label",
]


def _entry(key: str) -> Entry:
    entry = catalog().get(key)
    if entry is None:  # a missing key is a bug: fail loudly, in tests first
        raise KeyError(key)
    return entry


def t(key: str, lang: str = "en", **values: Any) -> str:
    """The string for `key` in `lang` (English if the Bangla is still empty)."""
    entry = _entry(key)
    text = entry.bn[0] if lang == "bn" and entry.bn and entry.bn[0] else entry.en[0]
    return text.format(**values) if values else text


def tn(key: str, n: int, lang: str = "en", **values: Any) -> str:
    """A plural entry: the form for `n` in `lang`; `{n}` is offered, written as `lang` does."""
    entry = _entry(key)
    forms = entry.bn if lang == "bn" and entry.bn and all(entry.bn) else entry.en
    index = plural_index(n) if forms is entry.bn else (0 if n == 1 else 1)
    text = forms[min(index, len(forms) - 1)]
    return text.format(n=fmt_int(n, lang), **values)


def group_south_asian(number: int) -> str:
    """12345678 -> 1,23,45,678 (lakh and crore grouping)."""
    return format_decimal(int(number), locale=BABEL_LOCALE["en"])


def fmt_int(number: int, lang: str = "en") -> str:
    """Integers as each language writes them: 1,23,456 in English, ১,২৩,৪৫৬ in Bangla."""
    return digits(format_decimal(int(number), locale=BABEL_LOCALE[lang]), lang)


def fmt_num(value: float, lang: str = "en", decimals: int = 2) -> str:
    """A measurement with fixed decimals: 20.35 / ২০.৩৫; 1,00,000 m³/s for decimals=0."""
    pattern = "#,##,##0" + ("." + "0" * decimals if decimals else "")
    return digits(format_decimal(value, format=pattern, locale=BABEL_LOCALE[lang]), lang)


def fmt_pct(share: float, lang: str = "en") -> str:
    """0.52 -> 52% / ৫২%."""
    return digits(format_percent(share, locale=BABEL_LOCALE[lang]), lang)


def fmt_bdt(amount_bdt: int, lang: str = "en") -> str:
    """The full amount: BDT 7,46,35,000 / ৭,৪৬,৩৫,০০০ টাকা."""
    return t("money_bdt", lang, amount=fmt_int(amount_bdt, lang))


def fmt_bdt_short(amount_bdt: int, lang: str = "en") -> str:
    """For headline figures that must not be cut: BDT 7.46 crore / ৭.৪৬ কোটি টাকা."""
    for size, key in ((CRORE, "money_crore"), (LAKH, "money_lakh")):
        if abs(amount_bdt) >= size:
            value = amount_bdt / size
            decimals = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
            return t(key, lang, amount=fmt_num(value, lang, decimals))
    return fmt_bdt(amount_bdt, lang)


def zone_label(lang: str = "en", short: bool = False) -> str:
    """'Bangladesh time (UTC+6)' / 'বাংলাদেশ সময় (ইউটিসি+৬)'; short: 'Bangladesh time,
    UTC+6' for inside parentheses (table headers)."""
    return t("zone_dhaka_short" if short else "zone_dhaka", lang)


def _month(month: int, lang: str) -> str:
    names = get_month_names("wide" if lang == "bn" else "abbreviated", locale=BABEL_LOCALE[lang])
    return str(names[month])


def missing(value: Any) -> bool:
    """None, or what pandas puts in a missing cell (NaN, NaT, NA)."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def fmt_date(value: datetime | None, lang: str = "en") -> str:
    """The Bangladesh calendar day of a UTC time: '2 Jul 2026' / '২ জুলাই ২০২৬'."""
    if value is None or missing(value):  # None narrows the type for mypy
        return "—"
    local = to_dhaka(value)
    return digits(f"{local.day} {_month(local.month, lang)} {local.year}", lang)


def fmt_day(local: Any, lang: str = "en", hours: bool = False) -> str:
    """A Bangladesh wall-clock time (naive) as '6 Jul' or '6 Jul 12:00' (chart labels)."""
    text = f"{local.day} {_month(local.month, lang)}"
    return digits(f"{text} {local:%H:%M}" if hours else text, lang)


def fmt_time(value: datetime | None, lang: str = "en", zone: bool = True) -> str:
    """A UTC time in Asia/Dhaka: '4 Jul 2024, 12:00 Bangladesh time (UTC+6)'; zone=False
    for table cells whose header names the zone."""
    if value is None or missing(value):  # None narrows the type for mypy
        return "—"
    text = f"{fmt_date(value, lang)}, {digits(f'{to_dhaka(value):%H:%M}', lang)}"
    return f"{text} {zone_label(lang)}" if zone else text
