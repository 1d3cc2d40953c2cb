"""The names of the known feeds and the kind of forecast each produces.

Plain data with no imports, so rule sets (triggers/) can refuse a rule that reads a feed
that does not exist without pulling in the HTTP layer. hazard_feeds.registry checks that
every feed it registers is listed here (and lists feeds registered at run time).
"""

from __future__ import annotations

FEED_KINDS: dict[str, str] = {
    "bmd": "bulletin",
    "ffwc": "station_series",
    "ffwc_logsheet": "station_series",
    "gdacs": "footprint",
    "glofas": "station_series",
    "raster": "grid",
}

# Feeds whose every fetch is the upstream's whole current state rather than one issue's
# forecast: the content fetched last is current, whatever the issue times inside it. GDACS
# stamps a list without a Bay of Bengal cyclone with the newest advisory anywhere in the
# world, so a cyclone entering the list with an older advisory would otherwise sort before it.
SNAPSHOT_FEEDS: frozenset[str] = frozenset({"gdacs"})


def known_feed(name: str) -> str:
    """`name` if it is a known feed; ValueError naming the known ones otherwise."""
    if name not in FEED_KINDS:
        raise ValueError(f"unknown feed {name!r}; known: {', '.join(sorted(FEED_KINDS))}")
    return name
