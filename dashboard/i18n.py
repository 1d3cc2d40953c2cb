"""English and Bangla for every UI string; numbers and dates as each language writes them.

Strings live in locales/strings.toml ([key] en = "…", bn = "…"); `t(key, lang, **values)`.
Numbers use the South Asian grouping (12,34,567) and, in Bangla, Bengali digits; times are
shown in Asia/Dhaka. Storage and exports always stay ASCII.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from agam.core.timeutil import to_dhaka

LANGUAGES = ("en", "bn")
BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    text = resources.files("dashboard").joinpath("locales", "strings.toml").read_text("utf-8")
    return {key: dict(value) for key, value in tomllib.loads(text).items()}


def t(key: str, lang: str = "en", **values: Any) -> str:
    """The string for `key` in `lang`; a missing key is a bug and raises KeyError."""
    entry = catalog()[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def group_south_asian(number: int) -> str:
    """12345678 -> 1,23,45,678 (lakh and crore grouping)."""
    sign, digits = ("-", str(-number)) if number < 0 else ("", str(number))
    if len(digits) <= 3:
        return sign + digits
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return sign + ",".join([head, *pairs, tail])


def fmt_int(number: int, lang: str = "en") -> str:
    """Integers as each language writes them: 1,23,456 in English, ১,২৩,৪৫৬ in Bangla."""
    text = group_south_asian(int(number))
    return text.translate(BENGALI_DIGITS) if lang == "bn" else text


def fmt_bdt(amount_bdt: int, lang: str = "en") -> str:
    return t("money_bdt", lang, amount=fmt_int(amount_bdt, lang))


def fmt_time(value: datetime | None, lang: str = "en") -> str:
    """A UTC time shown in Asia/Dhaka, e.g. '4 Jul 2024, 12:00 BST' / '৪ জুলাই ২০২৪, ১২:০০'."""
    if value is None:
        return "—"
    local = to_dhaka(value)
    month = t(f"month_{local.month}", lang)
    text = f"{local.day} {month} {local.year}, {local:%H:%M} {t('zone_dhaka', lang)}"
    return text.translate(BENGALI_DIGITS) if lang == "bn" else text
