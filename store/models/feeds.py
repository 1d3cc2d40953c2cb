"""Feed runs and the forecasts they stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base


class ForecastRun(Base):
    """One parsed upstream forecast; idempotent on (feed_id, issued_at, raw_sha256)."""

    __tablename__ = "forecast_runs"
    __table_args__ = (
        UniqueConstraint("feed_id", "issued_at", "raw_sha256", name="feed_issued_content"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime]
    fetched_at: Mapped[datetime]
    source_uri: Mapped[str] = mapped_column(Text)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    raw_path: Mapped[str] = mapped_column(Text)
    processed_path: Mapped[str | None] = mapped_column(Text)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    quality: Mapped[list[Any]] = mapped_column(default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class FeedRun(Base):
    """Each scheduled or manual attempt, whatever its outcome."""

    __tablename__ = "feed_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # success|unchanged|not_modified|failed
    error: Mapped[str | None] = mapped_column(Text)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    forecast_run_id: Mapped[int | None] = mapped_column(ForeignKey("forecast_runs.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="scheduler")
    # False: the run stored or found a forecast older than the one in force (migration 0019)
    in_force: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class FeedStatus(Base):
    __tablename__ = "feed_status"

    feed_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    latest_forecast_run_id: Mapped[int | None] = mapped_column(ForeignKey("forecast_runs.id"))
    latest_issued_at: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # The forecast run the newest evaluation judged for this feed, and when (migration 0017).
    judged_forecast_run_id: Mapped[int | None] = mapped_column(ForeignKey("forecast_runs.id"))
    judged_at: Mapped[datetime | None]
