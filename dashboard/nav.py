"""Which pages each role sees. Hiding a page is a convenience; the store enforces access."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    key: str
    file: str
    title_key: str
    icon: str


ALL_PAGES = {
    "overview": PageSpec("overview", "overview.py", "nav_overview", "📋"),
    "map": PageSpec("map", "map.py", "nav_map", "🗺️"),
    "stations": PageSpec("stations", "stations.py", "nav_stations", "📈"),
    "alerts": PageSpec("alerts", "alerts.py", "nav_alerts", "🚨"),
    "lists": PageSpec("lists", "lists.py", "nav_lists", "🧾"),
    "briefing": PageSpec("briefing", "briefing.py", "nav_briefing", "📄"),
    "bulletin": PageSpec("bulletin", "bulletin.py", "nav_bulletin", "🌀"),
    "health": PageSpec("health", "health.py", "nav_health", "🩺"),
}

ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "committee": ("overview", "map", "alerts", "lists", "briefing", "health"),
    "officer": ("overview", "map", "stations", "alerts", "lists", "bulletin", "briefing", "health"),
    "district_admin": ("overview", "map", "stations", "alerts", "lists", "briefing", "health"),
    "admin": ("overview", "map", "stations", "alerts", "lists", "bulletin", "briefing", "health"),
}


def pages_for(role: str, available: set[str] | None = None) -> list[PageSpec]:
    """Pages of a role, in menu order; `available` limits them to files that exist."""
    keys = ROLE_PAGES.get(role, ())
    return [ALL_PAGES[k] for k in keys if available is None or ALL_PAGES[k].file in available]
