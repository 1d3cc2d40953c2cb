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
    "overview": PageSpec("overview", "overview.py", "nav_overview", ":material/dashboard:"),
    "map": PageSpec("map", "map.py", "nav_map", ":material/map:"),
    "stations": PageSpec("stations", "stations.py", "nav_stations", ":material/show_chart:"),
    "alerts": PageSpec("alerts", "alerts.py", "nav_alerts", ":material/warning:"),
    "lists": PageSpec("lists", "lists.py", "nav_lists", ":material/receipt_long:"),
    "grievances": PageSpec(
        "grievances", "grievances.py", "nav_grievances", ":material/support_agent:"
    ),
    "me": PageSpec("me", "me.py", "nav_me", ":material/insights:"),
    "briefing": PageSpec("briefing", "briefing.py", "nav_briefing", ":material/description:"),
    "bulletin": PageSpec("bulletin", "bulletin.py", "nav_bulletin", ":material/cyclone:"),
    "health": PageSpec("health", "health.py", "nav_health", ":material/monitor_heart:"),
    "admin": PageSpec("admin", "admin.py", "nav_admin", ":material/admin_panel_settings:"),
}

ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "committee": ("overview", "map", "alerts", "lists", "grievances", "me", "briefing", "health"),
    "officer": (
        "overview",
        "map",
        "stations",
        "alerts",
        "lists",
        "grievances",
        "me",
        "bulletin",
        "briefing",
        "health",
    ),
    "district_admin": (
        "overview",
        "map",
        "stations",
        "alerts",
        "lists",
        "grievances",
        "me",
        "briefing",
        "health",
    ),
    "admin": (
        "overview",
        "map",
        "stations",
        "alerts",
        "lists",
        "grievances",
        "me",
        "bulletin",
        "briefing",
        "health",
        "admin",
    ),
}


def pages_for(role: str, available: set[str] | None = None) -> list[PageSpec]:
    """Pages of a role, in menu order; `available` limits them to files that exist."""
    keys = ROLE_PAGES.get(role, ())
    return [ALL_PAGES[k] for k in keys if available is None or ALL_PAGES[k].file in available]
