"""Small Streamlit pieces several pages share: feed freshness lines and warnings, badges."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, labels
from dashboard.i18n import fmt_date, fmt_time, t
from dashboard.stages import FEED_BADGE, STAGE_BADGE, STAGE_COLOURS, STAGE_TINTS, badge


def stage_table(frame: pd.DataFrame, column: str, stages: list[str]) -> Any:
    """The table with its stage column tinted in the stage's colours (same order as rows)."""

    def tint(values: pd.Series) -> list[str]:
        return [
            f"background-color: {STAGE_TINTS.get(s, '')}; color: {STAGE_COLOURS.get(s, '')};"
            " font-weight: 600"
            for s in stages[: len(values)]
        ]

    return frame.style.apply(tint, subset=[column])


def stage_badge(stage: str, lang: str) -> str:
    return badge(STAGE_BADGE.get(stage, "gray"), labels.stage(stage, lang))


def feed_state_word(health: Any, lang: str) -> tuple[str, str]:
    """(state, words): 'stale', or 'scenario data (played for 22 Jun – 4 Jul 2026)'."""
    state, scenario = data.feed_state(health)
    if scenario is not None:
        word = t(
            "feed_scenario",
            lang,
            start=fmt_date(scenario["play_from"], lang),
            end=fmt_date(scenario["play_to"], lang),
        )
    else:
        word = t(f"health_state_{state}", lang)
    if health.failing:
        word += " · " + t("health_failing", lang)
    if getattr(health, "unjudged", False):
        word += " · " + t("health_unjudged", lang)
    return state, word


def feed_line(health: Any, lang: str) -> str:
    """One markdown line: badge, feed name, state, newest data."""
    state, word = feed_state_word(health, lang)
    colour, icon = FEED_BADGE[state]
    issued = t("feed_issued", lang, at=fmt_time(health.latest_issued_at, lang))
    return f"{badge(colour, word, icon)} **{labels.feed(health.feed_id, lang)}** · {issued}"


def stale_warning(rows: list[Any], lang: str) -> None:
    """Warn about every watched feed that is stale or has no data (GloFAS included);
    scenario data are announced, not alarmed."""
    stale = [
        labels.feed(r.feed_id, lang)
        for r in rows
        if data.watched(r) and data.feed_state(r)[0] in ("stale", "never")
    ]
    if stale:
        st.warning(
            t("health_unknown_downstream", lang, feeds=", ".join(stale)), icon=":material/error:"
        )
    if any(data.feed_state(r)[0] == "scenario" for r in rows):
        st.info(t("feed_scenario_note", lang), icon=":material/history:")
