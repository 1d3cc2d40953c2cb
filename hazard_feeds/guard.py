"""The last line of defence around every `Feed.parse`: whatever goes wrong becomes one FeedError
naming the file, and no forecast leaves a parser with an infinite number, a value outside its
physical bounds (hazard_feeds/limits.toml) or a time outside the years a forecast can have.

Parsers validate their own fields first (with better messages); this catches what slips by.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from agam.core.errors import FeedError
from agam.core.timeutil import iso_utc
from hazard_feeds.checks import refuse
from hazard_feeds.contract import HazardForecast, RawArtifact
from hazard_feeds.limits import Bound, current

log = logging.getLogger(__name__)

FeedT = TypeVar("FeedT")
Parse = Callable[[FeedT, RawArtifact], HazardForecast]
PARSER_FAULT = "parser fault"  # marks what only the net caught: a gap in validation
OUTPUT_CHECK = "parsed forecast rejected"  # likewise, caught by the check of the output


def with_source(message: str, feed_id: str, source: str) -> str:
    """`<feed>: <file>: <rest>`: the file named once, right after the feed."""
    if source in message:
        return message
    head = f"{feed_id}: "
    rest = message[len(head) :] if message.startswith(head) else message
    return f"{head}{source}: {rest}"


def guarded_parse(parse: Parse[FeedT]) -> Parse[FeedT]:
    """Decorate a feed's `parse`: FeedErrors get the file named, any other exception becomes a
    FeedError (never a traceback), and the forecast is checked before it is returned."""

    @functools.wraps(parse)
    def wrapper(feed: FeedT, raw: RawArtifact) -> HazardForecast:
        feed_id = str(getattr(feed, "feed_id", raw.feed_id))
        source = raw.source_uri or "(unnamed input)"
        try:
            forecast = parse(feed, raw)
            try:
                check_forecast(forecast)
            except FeedError as exc:
                raise FeedError(f"{OUTPUT_CHECK}: {exc}") from None
        except FeedError as exc:
            raise FeedError(with_source(str(exc), feed_id, source)) from None
        except (MemoryError, RecursionError, Exception) as exc:
            log.debug("%s: %s on %s", feed_id, PARSER_FAULT, source, exc_info=True)
            text = " ".join(str(exc).split())[:160]
            raise FeedError(
                f"{feed_id}: {source}: cannot be parsed ({PARSER_FAULT}: "
                f"{type(exc).__name__}{': ' + text if text else ''})"
            ) from None
        return forecast

    return wrapper


def check_forecast(forecast: HazardForecast) -> None:
    """Every number finite (NaN only where a value may be missing) and inside its bounds."""
    feed = forecast.feed_id
    _check_time(forecast.issued_at, feed, "issued_at")
    if forecast.data is not None:
        for name in [*forecast.data.data_vars, *forecast.data.coords]:
            _check_array(np.asarray(forecast.data[name].values), feed, f"forecast {name}", name)
    if forecast.footprints is not None and len(forecast.footprints):
        frame = forecast.footprints
        for name in frame.columns:
            column = frame[name]
            if name == frame.geometry.name:
                continue
            if isinstance(column.dtype, pd.DatetimeTZDtype):  # naive UTC for the check
                column = column.dt.tz_convert("UTC").dt.tz_localize(None)
            _check_array(column.to_numpy(), feed, f"footprints {name}", name)
        bounds = np.asarray(frame.geometry.bounds.values, dtype="float64")
        _check_array(bounds[:, [0, 2]], feed, "footprints geometry longitude", "lon")
        _check_array(bounds[:, [1, 3]], feed, "footprints geometry latitude", "lat")
    _check_tree(forecast.payload, feed)


def _quantity(name: str) -> Bound | None:
    found = current().bound_for_field(name)
    return found[1] if found else None


def _check_array(values: np.ndarray, feed: str, field: str, name: str) -> None:
    kind = values.dtype.kind
    if kind == "M":
        if np.isnat(values).any():
            raise refuse(feed, field, "a time is missing (NaT)")
        years = values.astype("datetime64[Y]").astype("int64") + 1970
        _check_years(years, feed, field)
        return
    if kind == "O":
        for index, item in enumerate(values.ravel()[:1_000_000]):
            _check_scalar(item, feed, f"{field}[{index}]", _quantity(name))
        return
    if kind not in "fiu" or values.size == 0:
        return
    numbers = values.astype("float64", copy=False)
    if np.isinf(numbers).any():
        raise refuse(feed, field, "an infinite value")
    bound = _quantity(name)
    if bound is None:
        return
    missing = np.isnan(numbers)
    if missing.any() and not bound.missing_allowed:
        raise refuse(feed, field, "a missing (NaN) value where one is required")
    present = numbers[~missing]
    if present.size and (present.min() < bound.min or present.max() > bound.max):
        worst = present.min() if present.min() < bound.min else present.max()
        raise refuse(feed, field, f"{worst:g} is outside {bound.min:g}..{bound.max:g}")


def _check_scalar(value: Any, feed: str, field: str, bound: Bound | None) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, datetime | date):
        _check_years(np.asarray([value.year]), feed, field)
        return
    if not isinstance(value, int | float | np.integer | np.floating):
        return
    number = float(value)
    if math.isinf(number):
        raise refuse(feed, field, "an infinite value")
    if bound is None:
        return
    if math.isnan(number):
        if not bound.missing_allowed:
            raise refuse(feed, field, "a missing (NaN) value where one is required")
        return
    if not bound.holds(number):
        raise refuse(feed, field, f"{number:g} is outside {bound.min:g}..{bound.max:g}")


def _check_tree(payload: Any, feed: str) -> None:
    """Walk the payload; a key such as `danger_level_m` bounds every number below it."""
    stack: list[tuple[Any, str, Bound | None]] = [(payload, "payload", None)]
    while stack:
        node, path, bound = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                stack.append((value, f"{path}.{key}", _quantity(str(key)) or bound))
        elif isinstance(node, list | tuple):
            stack.extend((value, f"{path}[{i}]", bound) for i, value in enumerate(node))
        elif isinstance(node, np.ndarray):
            _check_array(node, feed, path, path.rsplit(".", 1)[-1])
        else:
            _check_scalar(node, feed, path, bound)


def _check_time(value: datetime, feed: str, field: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise refuse(feed, field, "not a time with a zone")
    _check_years(np.asarray([value.year]), feed, field)


def _check_years(years: np.ndarray, feed: str, field: str) -> None:
    span = current().time
    if years.size and (years.min() < span.min_year or years.max() > span.max_year):
        bad = int(years.min() if years.min() < span.min_year else years.max())
        raise refuse(feed, field, f"year {bad} is outside {span.min_year}..{span.max_year}")


def json_ready(value: Any) -> Any:
    """A to_json result made strict JSON: ISO UTC times, NaN -> null, numpy scalars -> Python.
    An infinite number is a FeedError (never `Infinity` in output)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating) and not isinstance(value, bool):
        number = float(value)
        if math.isnan(number):
            return None
        if math.isinf(number):
            raise FeedError("output holds an infinite number; refusing to print it")
        return number
    return value
