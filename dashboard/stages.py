"""Stage and status colours and badges: the one place every page, map, chart and PDF reads.

Readiness amber, action red, observational purple (the OCHA/CERF convention); neutral grey
for "no alert". Badges use Streamlit's built-in Material icons and colours, never emoji,
which render as empty boxes on machines without an emoji font.
"""

from __future__ import annotations

from agam.core.reference import vocabulary

# Which stage outranks which: the shared vocabulary (agam/core/data/vocabulary.toml).
STAGE_ORDER: dict[str, int] = {str(k): v for k, v in vocabulary().stages.rank.items()}
STAGE_COLOURS = {"readiness": "#d97706", "action": "#dc2626", "observational": "#7c3aed"}
STAGE_FILLS = {"readiness": "#fbbf24", "action": "#ef4444", "observational": "#a78bfa"}
STAGE_TINTS = {"readiness": "#fef3c7", "action": "#fee2e2", "observational": "#ede9fe"}
NO_ALERT = "#e5e7eb"
# Streamlit markdown colour names for badges (":orange-badge[…]").
STAGE_BADGE = {"readiness": "orange", "action": "red", "observational": "violet"}
FEED_BADGE = {
    "fresh": ("green", ":material/check_circle:"),
    "stale": ("red", ":material/error:"),
    "scenario": ("blue", ":material/history:"),
    "never": ("gray", ":material/radio_button_unchecked:"),
}
LIST_BADGE = {
    "draft": "gray",
    "submitted": "blue",
    "approved": "green",
    "exported": "green",
    "rejected": "red",
    "superseded": "gray",
}
# Chart colours that are not stages.
DANGER_LEVEL = "#92400e"
OBSERVED = "#1e3a8a"
FORECAST = "#0891b2"
FAN_SHADES = ("#dbeafe", "#93c5fd", "#3b82f6")  # min–max, 10–90 %, 25–75 %


def highest(stages: list[str]) -> str | None:
    """The most severe of several stages (action > observational > readiness)."""
    return max(stages, key=lambda s: STAGE_ORDER.get(s, 0), default=None)


def badge(colour: str, text: str, icon: str = "") -> str:
    """Streamlit markdown for a coloured badge; `text` must already be escaped."""
    return f":{colour}-badge[{icon + ' ' if icon else ''}{text}]"
