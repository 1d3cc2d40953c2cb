"""Bounded number types for rule kinds, from triggers/limits.toml, and the nesting check.

Every number a rule set gives is finite and inside a plausible physical range (a rule with
`consecutive_days = 9999999999999` could never fire; `offset_m = 1e400` is infinity), and a
rule set's document may nest only so deep (400 nested `all_of` would exhaust the stack).
A rule's `feed` must be a known feed (hazard_feeds.catalog).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from hazard_feeds.catalog import known_feed

LIMITS: dict[str, Any] = tomllib.loads(
    resources.files("triggers").joinpath("limits.toml").read_text("utf-8")
)
MAX_DEPTH: int = int(LIMITS["nesting"]["max_depth"])


def _within(name: str) -> Any:
    limit = LIMITS[name]
    return Field(ge=limit["min"], le=limit["max"], allow_inf_nan=False)


LeadDays = Annotated[float, _within("lead_days")]
LeadHours = Annotated[float, _within("lead_hours")]
Days = Annotated[int, _within("days")]
AgeHours = Annotated[float, _within("age_hours")]
Probability = Annotated[float, _within("probability")]
OffsetM = Annotated[float, _within("offset_m")]
DischargeM3s = Annotated[float, _within("discharge_m3s")]
WindKmh = Annotated[float, _within("wind_kmh")]
Members = Annotated[int, _within("members")]
Sources = Annotated[int, _within("sources")]
ReturnPeriodYears = Annotated[float, _within("return_period_years")]
WindFactor = Annotated[float, _within("wind_factor")]
DecayPerKm = Annotated[float, _within("decay_per_km")]
FeedName = Annotated[str, AfterValidator(known_feed)]


def deepest(data: Any, limit: int = MAX_DEPTH) -> str | None:
    """The path of the first place nested deeper than `limit`, or None (no recursion)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > limit:
            return path or "(top level)"
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in node.items())
        elif isinstance(node, list | tuple):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))
    return None
