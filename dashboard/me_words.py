"""The M&E report's stored English (activation labels, the peak's basis, table columns) in the
reader's language, rebuilt from the parts the report keeps."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pandas as pd

from agam.core.timeutil import parse_utc
from dashboard import labels
from dashboard.i18n import digits, fmt_date, fmt_int, fmt_num, fmt_time, missing, t

_FLOOD_SEASON = re.compile(r"^(?P<track>.+) flood season (?P<year>\d{4})$")
_UNNAMED = re.compile(r"^unnamed cyclone of ")


def activation_title(hazard: str, label: str, opened_at: datetime, lang: str) -> str:
    """'jamuna flood season 2024' -> 'যমুনা বন্যা মৌসুম ২০২৪'; a storm keeps its name."""
    season = _FLOOD_SEASON.match(label)
    if season is not None:
        track = season["track"]
        river = t(f"river_{track}", lang) if labels.known(f"river_{track}") else track
        name = t("me_flood_season", lang, river=river, year=digits(season["year"], lang))
    elif _UNNAMED.match(label):
        name = t("me_unnamed_cyclone", lang, date=fmt_date(opened_at, lang))
    else:
        name = label
    hazard_word = t(f"hazard_{hazard}", lang) if labels.known(f"hazard_{hazard}") else hazard
    return f"{name} ({hazard_word}, {fmt_time(opened_at, lang, zone=False)})"


def peak_basis(peak: dict[str, Any], lang: str) -> str:
    """Which peak the lead times are measured against, in words."""
    facts, source = peak.get("facts") or {}, peak.get("source")
    if source == "observed":
        text = t("me_peak_observed", lang, value=fmt_num(facts["value"], lang, 2),
                 series=facts["series"])  # fmt: skip
    elif source == "forecast_landfall":
        text = t("me_peak_landfall", lang, feed=labels.feed(facts["feed"], lang),
                 issued=fmt_time(parse_utc(facts["issued_at"]), lang))  # fmt: skip
    elif source == "final_forecast_peak":
        variable = facts["variable"]
        what = _word("me_variable", variable, lang)
        text = t(
            "me_peak_final_forecast",
            lang,
            variable=what,
            value=fmt_num(facts["value"], lang, 2),
            station=labels.station(station_called(facts["station"]), lang),
            feed=labels.feed(facts["feed"], lang),
            issued=fmt_time(parse_utc(facts["issued_at"]), lang),
        )
    elif facts.get("why") in ("no_landfall", "no_forecast_peak"):
        text = t(f"me_peak_none_{facts['why']}", lang)
    else:  # a report stored before the facts were kept
        text = str(peak.get("basis") or "–")
    return t("me_peak_basis", lang, basis=text)


def station_called(code: str) -> str:
    """A BWDB station code (SW46.9L) by the name FFWC gives it, where the feed follows it."""
    from dashboard import loaders
    from hazard_feeds.feed_configs import ffwc_station_name

    return ffwc_station_name(loaders.settings().feeds.get("ffwc"), code) or code


def localized_table(
    rows: list[dict[str, Any]], lang: str, places: dict[str, str] | None = None
) -> pd.DataFrame:
    """Report rows with translated column headers, coded values in words, district names
    beside their P-codes and numbers written as `lang` writes them."""
    frame = pd.DataFrame(rows)
    if places is not None and "district_pcode" in frame:
        frame.insert(0, "district", frame["district_pcode"].map(lambda c: places.get(c, c)))
    for column in frame.columns:
        if pd.api.types.is_bool_dtype(frame[column]):
            continue
        if pd.api.types.is_integer_dtype(frame[column]):
            frame[column] = frame[column].map(lambda v: fmt_int(int(v), lang))
        elif pd.api.types.is_float_dtype(frame[column]) and column != "coverage":
            frame[column] = frame[column].map(
                lambda v: "–" if pd.isna(v) else fmt_num(float(v), lang, 1)
            )
    if "category" in frame:
        frame["category"] = frame["category"].map(
            lambda v: (
                t(f"grievance_category_{v}", lang) if labels.known(f"grievance_category_{v}") else v
            )
        )
    if "period" in frame:  # "all" or a Dhaka month "2026-07"
        frame["period"] = frame["period"].map(
            lambda v: t("me_period_all", lang) if v == "all" else digits(str(v), lang)
        )
    if "coverage" in frame:
        frame["coverage"] = frame["coverage"].map(
            lambda v: "–" if v is None or pd.isna(v) else fmt_num(100 * v, lang, 1) + "%"
        )
    return _headers(frame, lang)


def grievance_history(steps: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A grievance's steps: times in Dhaka, roles, actions and statuses in words."""

    view = steps.assign(
        at=steps["at"].map(lambda v: fmt_time(v, lang)),
        role=steps["role"].map(lambda v: labels.role(v, lang)),
        action=steps["action"].map(lambda v: _word("grievance_action", v, lang)),
        from_status=steps["from_status"].map(lambda v: _word("grievance_status", v, lang)),
        to_status=steps["to_status"].map(lambda v: _word("grievance_status", v, lang)),
        note=steps["note"].map(
            lambda v: t("grievance_note_restricted", lang) if v == "(restricted)" else _or_dash(v)
        ),
        assigned_to=steps["assigned_to"].map(_or_dash),
    )
    return _headers(view, lang)


def _or_dash(value: Any) -> Any:
    """An empty cell as a dash, not the table's grey "None"."""
    return "—" if missing(value) else value


def _word(prefix: str, value: Any, lang: str) -> Any:
    if missing(value):  # None, or NaN in a pandas text column
        return ""
    key = f"{prefix}_{value}"
    return t(key, lang) if labels.known(key) else value


def _headers(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    names = {c: t(f"col_{c}", lang) for c in frame.columns if labels.known(f"col_{c}")}
    return frame.rename(columns=names)
