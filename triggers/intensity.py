"""Hazard intensity per union, 0-1, defined in the rule-set data of every stage.

It feeds the "hazard intensity" term of a list's priority score (allowances/targeting.py) and
is stored with the evaluation as evidence. Two definitions:
- `decayed_wind`: the union's wind from the stage's union wind decay, placed on a band:
  0 at `zero_at_kmh`, 1 at `one_at_kmh` and above, linear between.
- `exceedance_probability`: the peak daily probability that the ensemble at a station
  exceeds its threshold (read from an ensemble stage of the same rule set, judged exactly as
  that stage judges it); where a fresh flood-depth raster exists, each union's share of area
  whose depth compares to `min_value` replaces it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from triggers.exceedance import peak_probability, station_exceedance
from triggers.results import Comparison, EvalContext, RuleResult, symbol, usable


@dataclass(frozen=True)
class UnionIntensity:
    """What a stage says about its unions' hazard intensity, as stored evidence."""

    definition: str
    values: dict[str, float] = field(default_factory=dict)  # union -> 0..1
    evidence: dict[str, str] = field(default_factory=dict)  # union -> the value it came from

    def as_observed(self) -> dict[str, Any]:
        return {
            "definition": self.definition,
            "union_intensity": dict(sorted(self.values.items())),
            "evidence": dict(sorted(self.evidence.items())),
        }


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DecayedWind(_Spec):
    kind: Literal["decayed_wind"]
    zero_at_kmh: float = Field(ge=0)
    one_at_kmh: float = Field(gt=0)

    @model_validator(mode="after")
    def _band(self) -> Self:
        if self.one_at_kmh <= self.zero_at_kmh:
            raise ValueError("one_at_kmh must be above zero_at_kmh")
        return self

    def describe(self) -> str:
        return (
            f"the union's decayed wind on the {self.zero_at_kmh:g}–{self.one_at_kmh:g} km/h "
            f"band (0 at {self.zero_at_kmh:g}, 1 at {self.one_at_kmh:g} km/h and above)"
        )

    def compute(self, results: Sequence[RuleResult]) -> UnionIntensity:
        """From the last union wind decay of the stage (its targeting, else its rule)."""
        decays = [r for r in results if r.kind == "union_wind_decay" and r.state != "unknown"]
        winds: Mapping[str, float] = decays[-1].observed.get("union_wind_kmh", {}) if decays else {}
        span = self.one_at_kmh - self.zero_at_kmh
        values = {u: min(1.0, max(0.0, (w - self.zero_at_kmh) / span)) for u, w in winds.items()}
        return UnionIntensity(
            self.describe(),
            {u: round(v, 4) for u, v in values.items()},
            {u: f"{w:.1f} km/h" for u, w in winds.items()},
        )


class RasterShare(_Spec):
    """Share of a union's raster cells whose value compares to `min_value`."""

    feed: str
    variable: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    min_value: float
    comparison: Comparison
    max_age_hours: float = Field(gt=0)

    def describe(self) -> str:
        return (
            f"the share of the union's area with {self.variable} {symbol(self.comparison)} "
            f"{self.min_value:g} ({self.feed} raster)"
        )


class ExceedanceProbability(_Spec):
    kind: Literal["exceedance_probability"]
    stage: str  # an ensemble_exceedance stage of the same rule set
    raster: RasterShare | None = None

    def describe(self) -> str:
        text = f"the peak daily exceedance probability of {self.stage}"
        if self.raster is not None:
            text += f", or where a raster exists {self.raster.describe()}"
        return text

    def compute(self, ctx: EvalContext, rule: Any) -> UnionIntensity:
        """Every target union: the raster share where a fresh raster gives one, else the peak
        probability of `rule` (an EnsembleExceedance) on the current forecast."""
        shares = self._raster_shares(ctx)
        probability = _peak(ctx, rule)
        values: dict[str, float] = {}
        evidence: dict[str, str] = {}
        for union in ctx.area_unions:
            share = shares.get(union)
            if share is not None and math.isfinite(share):
                values[union], evidence[union] = share, f"{share:.0%} of the area flooded"
            elif probability is not None:
                values[union] = probability
                evidence[union] = f"{probability:.0%} of members at {rule.station}"
        return UnionIntensity(
            self.describe(), {u: round(v, 4) for u, v in values.items()}, evidence
        )

    def _raster_shares(self, ctx: EvalContext) -> Mapping[str, float]:
        if self.raster is None:
            return {}
        forecast, _ = usable(ctx, self.raster.feed, self.raster.max_age_hours)
        if forecast is None or forecast.data is None or self.raster.variable not in forecast.data:
            return {}
        spec = self.raster
        return ctx.unions.raster_share(
            forecast.data, ctx.area_unions, spec.variable, spec.min_value, spec.comparison
        )


def _peak(ctx: EvalContext, rule: Any) -> float | None:
    forecast, _ = usable(ctx, rule.feed, rule.max_age_hours)
    if forecast is None:
        return None
    try:
        days, _ = station_exceedance(rule, forecast)
    except KeyError:
        return None
    return peak_probability(days)


IntensitySpec = Annotated[DecayedWind | ExceedanceProbability, Field(discriminator="kind")]


def stage_intensity(
    spec: DecayedWind | ExceedanceProbability,
    ctx: EvalContext,
    results: Sequence[RuleResult],
    ensemble_of: Callable[[str], Any],
) -> UnionIntensity:
    """The stage's union intensity; `ensemble_of(stage_id)` gives that stage's ensemble rule."""
    if isinstance(spec, DecayedWind):
        return spec.compute(results)
    return spec.compute(ctx, ensemble_of(spec.stage))
