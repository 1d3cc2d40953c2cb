"""The Atom feed of current alerts: well-formed Atom per RFC 4287, each entry linking a CAP
file that exists and validates, written after alert changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from lxml import etree

from agam.pipeline.cap_publish import cap_dir, publish, publish_after_change
from agam.pipeline.context import AppContext

from .conftest import CAP, T0

ATOM = "http://www.w3.org/2005/Atom"
A = {"a": ATOM}


def rfc3339(value: str) -> datetime:
    """RFC 3339 date-time (RFC 4287 §3.3): 'T', seconds, an offset or Z."""
    assert "T" in value, value
    assert value.endswith("Z") or value[-6] in "+-", value
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    return parsed


def check_atom(path: Path) -> etree._Element:
    """The MUST rules of RFC 4287 §4.1.1 (feed) and §4.1.2 (entry) that apply here."""
    root = etree.parse(str(path)).getroot()  # well-formed XML or it raises
    assert root.tag == f"{{{ATOM}}}feed"
    for name in ("id", "title", "updated"):  # exactly one each
        assert len(root.findall(f"a:{name}", A)) == 1, name
    assert urlparse(root.findtext("a:id", namespaces=A)).scheme  # an absolute IRI
    rfc3339(root.findtext("a:updated", namespaces=A))
    entries = root.findall("a:entry", A)
    feed_author = root.findall("a:author", A)
    assert feed_author or all(e.findall("a:author", A) for e in entries)
    for author in feed_author:
        assert author.findtext("a:name", namespaces=A)
    seen = set()
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{name}", A)) == 1, name
        ident = entry.findtext("a:id", namespaces=A)
        assert urlparse(ident).scheme
        updated = entry.findtext("a:updated", namespaces=A)
        rfc3339(updated)
        assert (ident, updated) not in seen  # no two entries with the same id and updated
        seen.add((ident, updated))
        alternates = [
            link
            for link in entry.findall("a:link", A)
            if link.get("rel", "alternate") == "alternate"
        ]
        assert entry.find("a:content", A) is not None or alternates
        assert entry.find("a:content", A) is not None or entry.findtext("a:summary", namespaces=A)
        keys = [(link.get("type"), link.get("hreflang")) for link in alternates]
        assert len(keys) == len(set(keys))  # one alternate per type and language
    for link in root.iter(f"{{{ATOM}}}link"):
        assert link.get("href")
    return root


def test_feed_is_atom_and_links_valid_cap(
    cap_site: Callable[..., AppContext], cap_schema: etree.XMLSchema
) -> None:
    ctx = cap_site()
    result = publish(ctx)
    assert result.feed == cap_dir(ctx) / "alerts.atom"
    root = check_atom(result.feed)
    [entry] = root.findall("a:entry", A)  # one alert, its newest message (the stand-down)
    link = entry.find("a:link", A)
    assert link.get("type") == "application/cap+xml"
    target = result.feed.parent / link.get("href")
    cap = etree.parse(str(target)).getroot()
    assert cap_schema.validate(cap)
    assert cap.findtext("cap:msgType", namespaces=CAP) == "Update"
    assert entry.findtext("a:title", namespaces=A) == "Flood alert stood down: Kurigram district"
    assert {c.get("term") for c in entry.findall("a:category", A)} == {"Actual", "Update"}
    assert len(list((result.feed.parent / "messages").glob("*.xml"))) == 3
    assert not list(result.feed.parent.rglob("*.tmp"))  # atomic writes leave no temp files


def test_ended_alerts_leave_the_feed_after_the_keep_time(
    cap_site: Callable[..., AppContext],
) -> None:
    ctx = cap_site()
    ctx.clock = lambda: T0 + timedelta(days=6) + timedelta(hours=47)
    assert publish(ctx).entries == 1  # stood down 47 h ago: gateways still see the all-clear
    ctx.clock = lambda: T0 + timedelta(days=6) + timedelta(hours=49)
    result = publish(ctx)
    assert result.entries == 0
    assert check_atom(result.feed).findall("a:entry", A) == []


def test_a_failing_feed_never_breaks_the_caller(
    cap_site: Callable[..., AppContext], caplog
) -> None:
    ctx = cap_site()
    cap_dir(ctx).parent.mkdir(parents=True, exist_ok=True)
    cap_dir(ctx).write_text("a file where the folder should be")
    assert publish_after_change(ctx) is None
    assert "writing the CAP feed failed" in caplog.text
