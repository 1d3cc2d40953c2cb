"""JSON from upstream, loaded defensively: a byte limit before parsing, no NaN/Infinity
literals, a nesting limit, and no number a double cannot hold (1e400 is corrupt, not big)."""

from __future__ import annotations

import json
import math
from typing import Any

from hazard_feeds.checks import check_bytes, refuse
from hazard_feeds.limits import current


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(body: str | bytes, feed_id: str, what: str) -> Any:
    """Parse `body` or raise FeedError naming the response and, where it can, the field."""
    limits = current().json_limits
    check_bytes(body.encode() if isinstance(body, str) else body, limits.max_bytes, feed_id, what)
    try:
        doc = json.loads(body, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise refuse(feed_id, what, f"not valid JSON ({exc.msg} at char {exc.pos})") from None
    except UnicodeDecodeError:
        raise refuse(feed_id, what, "not UTF-8 text") from None
    except RecursionError:
        raise refuse(
            feed_id, what, f"not valid JSON (nested deeper than the limit of {limits.max_depth})"
        ) from None
    except ValueError as exc:  # NaN / Infinity literals
        raise refuse(feed_id, what, f"not valid JSON ({exc})") from None
    _check_tree(doc, feed_id, what, limits.max_depth)
    return doc


def _check_tree(doc: Any, feed_id: str, what: str, max_depth: int) -> None:
    """Depth and finiteness of every number, iteratively (a deep document cannot recurse us)."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= max_depth:
                where = path if len(path) <= 80 else f"{path[:40]}…{path[-20:]}"
                raise refuse(
                    feed_id, f"{what} {where or '(top)'}", f"nested deeper than {max_depth} levels"
                )
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                child = f"{path}.{key}" if isinstance(node, dict) else f"{path}[{key}]"
                stack.append((value, child.lstrip("."), depth + 1))
        elif isinstance(node, float) and not math.isfinite(node):
            raise refuse(feed_id, f"{what} {path}", "a number too large for a double")
