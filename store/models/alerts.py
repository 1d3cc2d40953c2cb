"""Trigger evaluations, the rule set and policy versions they used, activations and alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base


class Evaluation(Base):
    """A stage of a rule set judged on given inputs; idempotent on input_key."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    input_key: Mapped[str] = mapped_column(String(64), unique=True)
    rule_set_id: Mapped[str] = mapped_column(String(64), index=True)
    rule_set_version: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # met|not_met|unknown
    explanation: Mapped[str] = mapped_column(Text)
    observed: Mapped[dict[str, Any]] = mapped_column(default=dict)
    forecast_run_ids: Mapped[list[Any]] = mapped_column(default=list)
    affected_districts: Mapped[list[Any]] = mapped_column(default=list)
    affected_unions: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]


class ConfigVersion(Base):
    """A rule set or allowance policy version as first used, with its content: a version is
    never used with other content (`store.config_versions`; migration 0020 guards the rows)."""

    __tablename__ = "config_versions"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # rule_set|allowance_policy
    config_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)  # canonical JSON of the loaded, resolved file
    first_used_at: Mapped[datetime]


OPEN_ALERT = text("status = 'open'")


class Activation(Base):
    """One hazard event (a cyclone, a flood season per basin) grouping its alerts: one payment
    per household per activation, across stage changes, stand-downs and re-raises."""

    __tablename__ = "activations"

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard: Mapped[str] = mapped_column(String(16))  # flood | cyclone
    label: Mapped[str] = mapped_column(String(128))  # e.g. "AMPHAN-2026", "jamuna 2026"
    opened_at: Mapped[datetime]
    last_active_at: Mapped[datetime]  # the last evaluation that met a stage or had an alert open
    # rule set id -> stage ids met in this activation (the engine's `already_fired`)
    fired_stages: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ActivationKey(Base):
    """An identity of the event (a GDACS event id, a storm name and year, a basin and season).
    Unique: the database will not let one event open two activations."""

    __tablename__ = "activation_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    activation_id: Mapped[int] = mapped_column(ForeignKey("activations.id"), index=True)


class Alert(Base):
    """Per rule set and district: none -> readiness -> action (-> observational) -> closed.
    At most one open alert per rule set and district (a partial unique index)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_open", "rule_set_id", "district_pcode", "status"),
        Index(
            "uq_alerts_one_open",
            "rule_set_id",
            "district_pcode",
            unique=True,
            sqlite_where=OPEN_ALERT,
            postgresql_where=OPEN_ALERT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[str] = mapped_column(String(64))
    rule_set_version: Mapped[str] = mapped_column(String(32))
    district_pcode: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # open|stood_down|closed
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"))
    last_evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"))
    affected_unions: Mapped[list[Any]] = mapped_column(default=list)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    activation_id: Mapped[int | None] = mapped_column(ForeignKey("activations.id"), index=True)
    # When an open alert with nothing met stands down: the newest qualifying forecast's window
    # end (cyclone: forecast landfall) plus the rule set's stand-down hours.
    stand_down_at: Mapped[datetime | None]


class AlertEvent(Base):
    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime]
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))
    explanation: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64), default="system")
