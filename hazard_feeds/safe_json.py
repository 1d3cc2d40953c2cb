"""JSON from upstream, loaded defensively: a byte limit before parsing, no NaN/Infinity
literals, a nesting limit, no number a double cannot hold (1e400 is corrupt, not big) and no
key given twice in one object (json.loads would keep the last silently)."""

from __future__ import annotations

import json
import math
from typing import Any

from hazard_feeds.checks import check_bytes, refuse
from hazard_feeds.limits import current


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Repeats:
    """An object_pairs_hook that builds plain dicts and remembers those given a key twice."""

    def __init__(self) -> None:
        self.first: dict[int, str] = {}  # id(dict) -> the first key it was given twice

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) < len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.first[id(out)] = key
                    break
                seen.add(key)
        return out


def load_json(body: str | bytes, feed_id: str, what: str) -> Any:
    """Parse `body` or raise FeedError naming the response and, where it can, the field."""
    limits = current().json_limits
    check_bytes(body.encode() if isinstance(body, str) else body, limits.max_bytes, feed_id, what)
    repeats = _Repeats()
    try:
        doc = json.loads(body, parse_constant=_no_constant, object_pairs_hook=repeats)
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
    _check_tree(doc, feed_id, what, limits.max_depth, repeats.first)
    return doc


def _check_tree(
    doc: Any, feed_id: str, what: str, max_depth: int, repeated: dict[int, str]
) -> None:
    """Depth, finiteness of every number and keys given twice, iteratively (a deep document
    cannot recurse us), in document order."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(doc, ())]
    while stack:
        node, keys = stack.pop()
        if isinstance(node, dict | list):
            if len(keys) >= max_depth:
                where = _path(keys)
                where = where if len(where) <= 80 else f"{where[:40]}…{where[-20:]}"
                raise refuse(
                    feed_id, f"{what} {where or '(top)'}", f"nested deeper than {max_depth} levels"
                )
            if isinstance(node, dict) and id(node) in repeated:
                field = _dotted((*keys, repeated[id(node)]))
                raise refuse(feed_id, f"{what}: field {field}", "key given twice in one object")
            items = list(node.items() if isinstance(node, dict) else enumerate(node))
            stack.extend((value, (*keys, key)) for key, value in reversed(items))
        elif isinstance(node, float) and not math.isfinite(node):
            raise refuse(feed_id, f"{what} {_path(keys)}", "a number too large for a double")


def _path(keys: tuple[str | int, ...]) -> str:
    """`a.b[0].c`, for depth and number messages."""
    text = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys)
    return text.lstrip(".")


def _dotted(keys: tuple[str | int, ...]) -> str:
    """`model_winds.1.model` on one line: escaped unless printable, at most 120 characters."""
    field = ".".join(str(k) for k in keys)
    shown = field if field.isprintable() else json.dumps(field, ensure_ascii=True)
    return shown if len(shown) <= 120 else shown[:117] + "..."
