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

from agam.core.errors import FeedError
from hazard_feeds.contract import RawArtifact

FORMAT = "agam-bundle/1"


@dataclass(frozen=True)
class Part:
    name: str
    url: str
    body: str


def make_bundle(
    feed_id: str,
    parts: list[Part],
    fetched_at: datetime,
    etag: str | None = None,
    last_modified: str | None = None,
) -> RawArtifact:
    doc = {
        "format": FORMAT,
        "feed": feed_id,
        "parts": [{"name": p.name, "url": p.url, "body": p.body} for p in parts],
    }
    content = json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    return RawArtifact(
        feed_id=feed_id,
        source_uri=parts[0].url if parts else "",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        fetched_at=fetched_at,
        content_type="application/json",
        etag=etag,
        last_modified=last_modified,
    )


def is_bundle(content: bytes) -> bool:
    return content.lstrip()[:200].find(FORMAT.encode()) >= 0


def read_bundle(content: bytes, feed_id: str) -> list[Part]:
    try:
        doc = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"{feed_id}: bundle is not valid JSON ({exc})") from exc
    if doc.get("format") != FORMAT:
        raise FeedError(f"{feed_id}: unknown bundle format {doc.get('format')!r}")
    return [Part(p["name"], p["url"], p["body"]) for p in doc["parts"]]


def load_json(body: str | bytes, feed_id: str, what: str) -> Any:
    """Parse JSON or fail naming the feed and the response it came from."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise FeedError(
            f"{feed_id}: {what} is not valid JSON ({exc.msg} at char {exc.pos})"
        ) from None
    except UnicodeDecodeError:
        raise FeedError(f"{feed_id}: {what} is not UTF-8 text") from None
