"""An Atom (RFC 4287) feed of current alerts, each entry linking its newest CAP message, for a
web server or an SMS / cell-broadcast gateway to poll. Pure: entries in, XML bytes out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

from agam.core.settings import CapSettings
from agam.core.timeutil import to_dhaka

ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
FEED_FILE = "alerts.atom"


@dataclass(frozen=True)
class FeedEntry:
    identifier: str
    sent: datetime
    title: str
    summary: str
    status: str  # CAP status: Actual / Exercise / Test
    msg_type: str
    href: str  # the CAP file, relative to the feed or absolute


def rfc3339(value: datetime) -> str:
    return to_dhaka(value).isoformat(timespec="seconds")


def entry_id(sender: str, identifier: str) -> str:
    """A stable IRI per message (RFC 4287 atom:id), from the CAP sender and identifier."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'cap:{sender},{identifier}')}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def build_atom(entries: list[FeedEntry], settings: CapSettings, updated: datetime) -> bytes:
    """The feed document; `updated` is when the feed last changed (the newest change)."""
    # Plain tags under a literal xmlns: ElementTree's default_namespace refuses attributes.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    _sub(feed, "id", entry_id(settings.sender, f"{settings.identifier_prefix}.feed"))
    _sub(feed, "title", f"{settings.sender_name}: current alerts (CAP 1.2)")
    _sub(feed, "updated", rfc3339(updated))
    author = _sub(feed, "author")
    _sub(author, "name", settings.sender_name)
    _sub(feed, "generator", "Agam")
    if settings.feed_base_url:
        _sub(feed, "link", rel="self", href=settings.feed_base_url + FEED_FILE)
    _sub(feed, "link", rel="related", href=settings.web)
    for e in sorted(entries, key=lambda x: (x.sent, x.identifier), reverse=True):
        entry = _sub(feed, "entry")
        _sub(entry, "id", entry_id(settings.sender, e.identifier))
        _sub(entry, "title", e.title)
        _sub(entry, "updated", rfc3339(e.sent))
        _sub(entry, "published", rfc3339(e.sent))
        _sub(entry, "link", rel="alternate", type=CAP_MIME, href=e.href)
        _sub(entry, "summary", e.summary)
        _sub(entry, "category", term=e.status, label=f"CAP status {e.status}")
        _sub(entry, "category", term=e.msg_type, label=f"CAP msgType {e.msg_type}")
    ET.indent(feed, space="  ")
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document
