"""What every [feeds.<name>] table shares; each source extends it with its own fields.

Schedule and freshness keys (`enabled`, `cron`, `interval_*`, `max_age_hours`) come from
agam.core's FeedSettings, which the scheduler and the health report read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from agam.core.config_sections import FeedSettings

if TYPE_CHECKING:  # requests loads only where a feed fetches
    from hazard_feeds.http import HttpSettings


class FeedConfig(FeedSettings):
    """Common keys: upstream URL and HTTP limits, on top of schedule and freshness."""

    base_url: str = ""
    connect_timeout_s: float = Field(default=6.05, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    total_deadline_s: float = Field(default=300.0, gt=0)
    retries: int = Field(default=4, ge=0, le=10)
    backoff_factor_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    max_bytes: int = Field(default=256 * 1024 * 1024, gt=0)

    def http_settings(self) -> HttpSettings:
        from hazard_feeds.http import HttpSettings

        return HttpSettings(
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            total_deadline_s=self.total_deadline_s,
            retries=self.retries,
            backoff_factor_s=self.backoff_factor_s,
            backoff_max_s=self.backoff_max_s,
            max_bytes=self.max_bytes,
        )
