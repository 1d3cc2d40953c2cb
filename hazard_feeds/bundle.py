"""Several upstream responses kept as one raw artifact, each body verbatim (as text).

Some feeds need more than one request per run (GDACS: event list + geometry; FFWC: station
list + observed + forecasts). The bundle keeps every body exactly as received, with its URL,
so the artifact stays the upstream truth and parse stays pure.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hazard_feeds import safe_json
from hazard_feeds.checks import a_kind, check_count, refuse
from hazard_feeds.contract import RawArtifact
from hazard_feeds.limits import current

FORMAT = "agam-bundle/1"


@dataclass(frozen=True)
class Part:
    name: str
    url: str
    body: str
    # Why this response could not be fetched (e.g. "HTTP 404 from …"); `body` is then empty and
    # parse reports the part's subject as missing instead of failing the whole run.
    error: str | None = None


def make_bundle(
    feed_id: str,
    parts: list[Part],
    fetched_at: datetime,
    etag: str | None = None,
    last_modified: str | None = None,
    source_uri: str | None = None,
) -> RawArtifact:
    """The parts as one artifact; its source is `source_uri`, else the first part's URL."""
    doc = {
        "format": FORMAT,
        "feed": feed_id,
        "parts": [_part_json(p) for p in parts],
    }
    content = json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    return RawArtifact(
        feed_id=feed_id,
        source_uri=source_uri or (parts[0].url if parts else ""),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        fetched_at=fetched_at,
        content_type="application/json",
        etag=etag,
        last_modified=last_modified,
    )


def _part_json(part: Part) -> dict[str, str]:
    doc = {"name": part.name, "url": part.url, "body": part.body}
    return doc | ({"error": part.error} if part.error is not None else {})


def is_bundle(content: bytes) -> bool:
    return content.lstrip()[:200].find(FORMAT.encode()) >= 0


def read_bundle(content: bytes, feed_id: str) -> list[Part]:
    """The parts of a bundle; a damaged envelope is a FeedError naming the part and key."""
    doc = load_json(content, feed_id, "bundle")
    if not isinstance(doc, dict):
        raise refuse(feed_id, "bundle", f"{a_kind(doc)}, not an object")
    if doc.get("format") != FORMAT:
        raise refuse(feed_id, "bundle format", f"unknown bundle format {str(doc.get('format'))!r}")
    parts = doc.get("parts")
    if not isinstance(parts, list):
        raise refuse(feed_id, "bundle parts", "missing or not a list")
    check_count(
        len(parts), current().json_limits.max_bundle_parts, feed_id, "bundle parts", "parts"
    )
    out: list[Part] = []
    for index, part in enumerate(parts):
        if not isinstance(part, dict):
            raise refuse(feed_id, f"bundle parts[{index}]", "not an object")
        for key in ("name", "url", "body"):
            if not isinstance(part.get(key), str):
                raise refuse(feed_id, f"bundle parts[{index}].{key}", "missing or not text")
        error = part.get("error")
        if error is not None and not isinstance(error, str):
            raise refuse(feed_id, f"bundle parts[{index}].error", "not text")
        if any(p.name == part["name"] for p in out):  # a dict of parts would keep the last
            raise refuse(feed_id, f"bundle parts[{index}].name", f"{part['name']!r:.60} twice")
        out.append(Part(part["name"], part["url"], part["body"], error))
    return out


def load_json(body: str | bytes, feed_id: str, what: str) -> Any:
    """Parse JSON or fail naming the feed and the response it came from (size, nesting and
    number limits included: see hazard_feeds.safe_json)."""
    return safe_json.load_json(body, feed_id, what)
