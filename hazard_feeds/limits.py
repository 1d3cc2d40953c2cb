"""Size limits and physical bounds every parser enforces, read from the versioned
`hazard_feeds/limits.toml` (units in the key names). `current()` is what parsers use; tests
and special sites can swap in other limits for a block with `use_limits()`."""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

LIMITS_FILE = Path(__file__).with_name("limits.toml")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JsonLimits(_Section):
    max_bytes: int = Field(gt=0)
    max_depth: int = Field(gt=0)
    max_bundle_parts: int = Field(gt=0)


class CsvLimits(_Section):
    max_bytes: int = Field(gt=0)
    max_rows: int = Field(gt=0)
    max_field_chars: int = Field(gt=0)


class NetcdfLimits(_Section):
    max_bytes: int = Field(gt=0)
    max_values: int = Field(gt=0)
    max_members: int = Field(gt=0)
    max_valid_times: int = Field(gt=0)
    max_lead_hours: int = Field(gt=0)
    max_zip_entries: int = Field(gt=0)
    max_zip_uncompressed_bytes: int = Field(gt=0)


class RasterLimits(_Section):
    max_bytes: int = Field(gt=0)
    max_side_px: int = Field(gt=0)
    max_bands: int = Field(gt=0)
    max_read_cells: int = Field(gt=0)
    max_decimation: int = Field(ge=1)
    globe_margin_deg: float = Field(ge=0, le=10)


class GdacsLimits(_Section):
    max_features: int = Field(gt=0)
    max_vertices_per_geometry: int = Field(gt=0)
    max_vertices_total: int = Field(gt=0)


class FfwcLimits(_Section):
    max_records: int = Field(gt=0)


class BmdLimits(_Section):
    max_bytes: int = Field(gt=0)
    max_csv_rows: int = Field(gt=0)
    max_key_depth: int = Field(gt=0)
    max_list_index: int = Field(ge=0)
    max_wind_before_issue_hours: float = Field(gt=0)


class AtcfLimits(_Section):
    max_bytes: int = Field(gt=0)
    max_lines: int = Field(gt=0)


class TimeLimits(_Section):
    min_year: int = Field(ge=1900)
    max_year: int = Field(le=2261)  # datetime64[ns] ends in April 2262
    # how far a forecast's issue time may lie after the moment it was fetched
    max_issued_after_fetch_minutes: float = Field(ge=0, le=1440)


class Bound(_Section):
    min: float
    max: float
    missing_allowed: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> Bound:
        if not (math.isfinite(self.min) and math.isfinite(self.max) and self.min < self.max):
            raise ValueError(f"bounds must be finite with min < max, not [{self.min}, {self.max}]")
        return self

    def holds(self, value: float) -> bool:
        return self.min <= value <= self.max


class FeedLimits(_Section):
    version: int = Field(ge=1)
    json_limits: JsonLimits = Field(alias="json")
    csv: CsvLimits
    netcdf: NetcdfLimits
    raster: RasterLimits
    gdacs: GdacsLimits
    ffwc: FfwcLimits
    bmd: BmdLimits
    atcf: AtcfLimits
    time: TimeLimits
    bounds: dict[str, Bound]
    fields: dict[str, str]
    suffixes: dict[str, str]
    boxes: dict[str, tuple[float, float, float, float]]

    @model_validator(mode="after")
    def _known_quantities(self) -> FeedLimits:
        named = {**self.fields, **self.suffixes}
        unknown = sorted({q for q in named.values() if q not in self.bounds})
        if unknown:
            raise ValueError(f"fields/suffixes name unknown bounds: {', '.join(unknown)}")
        return self

    def bound(self, quantity: str) -> Bound:
        return self.bounds[quantity]

    def bound_for_field(self, name: str) -> tuple[str, Bound] | None:
        """(quantity, bound) for a forecast field such as `danger_level_m` or `rp5_m3s`."""
        quantity = self.fields.get(name) or next(
            (q for suffix, q in self.suffixes.items() if name.endswith(suffix)), None
        )
        return (quantity, self.bounds[quantity]) if quantity else None

    def in_box(self, box: str, lon: float, lat: float) -> bool:
        west, south, east, north = self.boxes[box]
        return west <= lon <= east and south <= lat <= north


@functools.cache
def _shipped() -> FeedLimits:
    with LIMITS_FILE.open("rb") as handle:
        return FeedLimits.model_validate(tomllib.load(handle))


_override: ContextVar[FeedLimits | None] = ContextVar("feed_limits", default=None)


def current() -> FeedLimits:
    """The limits in force: an override set by `use_limits`, else the shipped file."""
    return _override.get() or _shipped()


def largest_input_bytes() -> int:
    """The most bytes any parser accepts (a file larger than this is not read at all)."""
    limits = current()
    return max(
        limits.json_limits.max_bytes,
        limits.csv.max_bytes,
        limits.netcdf.max_bytes,
        limits.raster.max_bytes,
        limits.bmd.max_bytes,
        limits.atcf.max_bytes,
    )


@contextmanager
def use_limits(limits: FeedLimits) -> Iterator[FeedLimits]:
    """Parse with other limits inside the block (tests, a site with bigger rasters)."""
    token = _override.set(limits)
    try:
        yield limits
    finally:
        _override.reset(token)


def with_section(section: str, **values: float) -> FeedLimits:
    """The current limits with some keys of one section changed, e.g. ("gdacs", max_features=5)."""
    base = current()
    attr = "json_limits" if section == "json" else section
    changed = getattr(base, attr).model_copy(update=values)
    return base.model_copy(update={attr: changed})
