"""Rules and station names in the reader's language (templates from the catalogue)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from dashboard.i18n import digits, fmt_num, fmt_pct, t

_SLUG = re.compile(r"[^a-z0-9]+")


def _known(key: str) -> bool:
    from dashboard.i18n import catalog

    return key in catalog()


def station_name(name: str, lang: str) -> str:
    """'Bahadurabad' -> 'বাহাদুরাবাদ' where the catalogue has it (FFWC spellings included)."""
    key = "station_" + _SLUG.sub("_", name.lower()).strip("_")
    return t(key, lang) if _known(key) else name


def system_name(kind: str, lang: str) -> str:
    """A BMD system type (`severe_cyclonic_storm`) in words."""
    key = f"system_{kind}"
    return t(key, lang) if _known(key) else kind.replace("_", " ")


def cmp_words(comparison: str, lang: str) -> str:
    """'reach or exceed' (ge) / 'exceed' (gt)."""
    return t(f"cmp_{comparison}", lang)


def cmp_symbol(comparison: str) -> str:
    return "≥" if comparison == "ge" else ">"


def probability_words(comparison: str, share: float, lang: str) -> str:
    """'more than 50%' (gt) / 'at least 50%' (ge)."""
    return t(f"prob_{comparison}", lang, share=fmt_pct(share, lang))


def day_label(iso_day: str, lang: str) -> str:
    """'2026-07-02' -> '2 Jul' / '২ জুলাই'."""
    from babel.dates import format_date

    day = date.fromisoformat(iso_day[:10])
    width = "d MMMM" if lang == "bn" else "d MMM"
    return digits(format_date(day, width, locale="bn_BD" if lang == "bn" else "en_IN"), lang)


def lead_days(rule: Any, lang: str) -> str:
    return t(
        "rule_lead_days",
        lang,
        first=fmt_num(rule.min_lead_days, lang, 0),
        last=fmt_num(rule.max_lead_days, lang, 0),
    )


def describe_rule(rule: Any, stage: str | None, lang: str, danger_m: float | None = None) -> str:
    """One sentence for the station rules the Stations page draws."""
    stage_word = t(f"stage_{stage}", lang) if stage else ""
    if rule.kind == "ensemble_exceedance":
        return t(
            "rule_ensemble",
            lang,
            stage=stage_word,
            probability=probability_words(rule.probability_comparison, rule.min_probability, lang),
            cmp=cmp_words(rule.comparison, lang),
            threshold=fmt_num(rule.threshold_m3s, lang, 0),
            days=fmt_num(rule.consecutive_days, lang, 0),
            window=lead_days(rule, lang),
            quorum=fmt_num(rule.min_members, lang, 0),
        )
    if rule.kind == "water_level_crossing":
        level = (
            fmt_num(round(danger_m + rule.offset_m, rule.level_decimals), lang, 2)
            if danger_m is not None
            else "—"
        )
        text = t(
            "rule_level",
            lang,
            stage=stage_word,
            above=t(f"above_{rule.comparison}", lang),
            offset=fmt_num(rule.offset_m, lang, 2),
            level=level,
            days=fmt_num(rule.consecutive_days_above, lang, 0),
            window=lead_days(rule, lang),
        )
        if rule.trend is not None:
            text += " " + t(
                "rule_trend",
                lang,
                station=station_name(rule.trend.station, lang),
                days=fmt_num(rule.trend.consecutive_days, lang, 0),
                keep=fmt_pct(1 - rule.trend.tolerance_fraction, lang),
            )
        return text
    return str(rule.describe())
