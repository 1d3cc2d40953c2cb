"""What every [feeds.<name>] table shares; each source extends it with its own fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hazard_feeds.http import HttpSettings


class FeedConfig(BaseModel):
    """Common keys: schedule (cron or interval), freshness, upstream URL, HTTP limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    cron: str | None = None  # UTC crontab, e.g. "15 */6 * * *"
    interval_minutes: float | None = Field(default=None, gt=0)
    interval_seconds: float | None = Field(default=None, gt=0)  # for tests and demos
    misfire_grace_s: int = Field(default=3600, ge=1)
    max_age_hours: float = Field(default=36.0, gt=0)
    base_url: str = ""
    connect_timeout_s: float = Field(default=6.05, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    total_deadline_s: float = Field(default=300.0, gt=0)
    retries: int = Field(default=4, ge=0, le=10)
    backoff_factor_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    max_bytes: int = Field(default=256 * 1024 * 1024, gt=0)

    @model_validator(mode="after")
    def _one_schedule(self) -> FeedConfig:
        if self.enabled and not (self.cron or self.interval_minutes or self.interval_seconds):
            raise ValueError("needs cron, interval_minutes or interval_seconds")
        return self

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            total_deadline_s=self.total_deadline_s,
            retries=self.retries,
            backoff_factor_s=self.backoff_factor_s,
            backoff_max_s=self.backoff_max_s,
            max_bytes=self.max_bytes,
        )
