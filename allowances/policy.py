"""The allowance policy: amount, caps and priority weights, from versioned TOML."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agam.core.errors import ConfigError
from store import config_versions


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cap(_Frozen):
    households_per_district: int = Field(ge=0)
    budget_bdt_per_district: int = Field(ge=0)


class Weights(_Frozen):
    female_headed: float = Field(ge=0)
    disability: float = Field(ge=0)
    elderly: float = Field(ge=0)
    pregnant_lactating: float = Field(ge=0)
    children_under5: float = Field(ge=0)
    char_resident: float = Field(ge=0)
    hazard_intensity: float = Field(ge=0)


class Thresholds(_Frozen):
    elderly_age_years: int = Field(ge=50, le=100)


class AllowancePolicy(_Frozen):
    id: str
    version: str
    effective_from: date
    source_document: str
    amount_per_household_bdt: int = Field(gt=0)
    propose_at_stages: tuple[str, ...]
    one_payment_per_household: bool
    eligible_programmes: tuple[str, ...]
    payable_channels: tuple[str, ...]
    cap: Cap
    weights: Weights
    thresholds: Thresholds

    def household_limit(self) -> int | None:
        """Households a district list may pay: the tighter of the two caps, None = no cap."""
        limits = []
        if self.cap.households_per_district:
            limits.append(self.cap.households_per_district)
        if self.cap.budget_bdt_per_district:
            limits.append(self.cap.budget_bdt_per_district // self.amount_per_household_bdt)
        return min(limits) if limits else None


def load_policy(path: Path | None = None) -> AllowancePolicy:
    if path is None:
        text = resources.files("allowances").joinpath("policies", "default.toml").read_text("utf-8")
        label = "allowances/policies/default.toml"
    else:
        text, label = path.read_text("utf-8"), str(path)
    try:
        return AllowancePolicy.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"{label}: invalid allowance policy ({exc})") from exc


def policy_fingerprint(policy: AllowancePolicy) -> config_versions.Fingerprint:
    """What the store records for this policy version when a list first uses it."""
    content = policy.model_dump(mode="json")
    return config_versions.fingerprint("allowance_policy", policy.id, policy.version, content)
